"""Properties of the draw over random populations, strata and pools (hypothesis).

The checks re-derive what the result must be from the inputs by their own means (the
population, the windows, the keyed hash written with the standard json module) rather than
calling the engine's helpers: they are the verification someone else would write."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import math
import random
from fractions import Fraction
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rounds.draws import DrawInputs, DrawResult, check_spec, draw, verify
from rounds.draws.draw import Inspector, OrgUnit, PastDraw, Service, Site

START = datetime.date(2026, 3, 1)
KINDS = ["shop", "factory", "market"]
GRADES = ["A", "B", "C"]
ROLES = ["inspector", "lead", "clerk"]
SHARES = [0.05, 0.1, 0.25, 1 / 3, 0.5, 0.999, 1.0]


def H(seed: bytes, *parts: str | int) -> bytes:  # the docstring's name
    message = json.dumps(list(parts), separators=(",", ":"), ensure_ascii=False)
    return hmac.new(seed, message.encode("utf-8"), hashlib.sha256).digest()


@st.composite
def draw_inputs(draw_: st.DrawFn) -> DrawInputs:
    n_units = draw_(st.integers(1, 6))
    units = [OrgUnit(id=u, parent=draw_(st.one_of(st.none(), st.integers(1, u - 1)))
                     if u > 1 else None) for u in range(1, n_units + 1)]
    unit = st.integers(1, n_units)
    # Sizes first, then the ids: lists of hypothesis's own choosing stay short.
    site_ids = draw_(st.permutations(range(1, 61)))[:draw_(st.integers(0, 40))]
    sites = [Site(id=i, code=f"S{i}", org_unit=draw_(unit), kind=draw_(st.sampled_from(KINDS)),
                  grade=draw_(st.sampled_from([None, *GRADES]))) for i in site_ids]
    inspector_ids = draw_(st.permutations(range(1000, 1012)))[:draw_(st.integers(0, 8))]
    inspectors = [Inspector(id=i, org_unit=draw_(unit), roles=draw_(
        st.lists(st.sampled_from(ROLES), unique=True, min_size=1, max_size=2)))
        for i in inspector_ids]
    day = st.integers(-500, 30).map(lambda d: START + datetime.timedelta(days=d))
    services = ([Service(inspector=draw_(st.sampled_from(inspector_ids)),
                         site=draw_(st.sampled_from(site_ids)),
                         until=draw_(st.one_of(st.none(), day)))
                 for _ in range(draw_(st.integers(0, 20)))]
                if site_ids and inspector_ids else [])
    past = ([PastDraw(site=draw_(st.sampled_from(site_ids)), drawn_on=draw_(day))
             for _ in range(draw_(st.integers(0, 10)))] if site_ids else [])
    stratify = draw_(st.sampled_from([None, "org_unit", "grade"]))
    sample: dict[str, Any] = (
        {"count": draw_(st.integers(1, 50))} if draw_(st.booleans())
        else {"share": draw_(st.sampled_from(SHARES))})
    if stratify:
        sample["stratify_by"] = stratify
        if draw_(st.booleans()):
            sample["min_per_stratum"] = draw_(st.integers(1, 4))
    def subset(xs: list[Any]) -> st.SearchStrategy[list[Any]]:
        # Most often no filter at all, so that most populations are not empty.
        return st.one_of(st.just([]), st.just([]),
                         st.lists(st.sampled_from(xs), unique=True, min_size=1, max_size=2))

    population: dict[str, Any] = {"site_kinds": draw_(subset(KINDS)),
                                  "org_units": draw_(subset(list(range(1, n_units + 1)))),
                                  "grades": draw_(subset(GRADES))}
    if site_ids and draw_(st.integers(0, 3)) == 0:
        population["site_ids"] = draw_(st.lists(st.sampled_from(site_ids), min_size=1,
                                                unique=True))
    spec = check_spec({
        "standard": "s", "population": population, "sample": sample,
        "pool": {"roles": draw_(st.lists(st.sampled_from(ROLES), min_size=2, unique=True)),
                 "org_units": draw_(subset(list(range(1, n_units + 1))))},
        "team_size": draw_(st.sampled_from([1, 2])),
        "exclusions": {"served_within_days": draw_(st.integers(0, 400)),
                       "redraw_within_days": draw_(st.integers(0, 400)),
                       "allow_repeat": draw_(st.booleans())},
        "period": {"start": START.isoformat(), "end": "2026-06-01"}})
    return DrawInputs(spec=spec, org_units=units, sites=sites, inspectors=inspectors,
                      services=services, past_draws=past)


def lineage(inp: DrawInputs, unit: int) -> list[int]:
    parent = {u.id: u.parent for u in inp.org_units}
    line: list[int] = []
    at: int | None = unit
    while at is not None:
        line.append(at)
        at = parent[at]
    return line


def expected_eligible(inp: DrawInputs) -> dict[int, Site]:
    spec, pop = inp.spec, inp.spec.population
    since = START - datetime.timedelta(days=spec.exclusions.redraw_within_days)
    recent = {d.site for d in inp.past_draws if d.drawn_on >= since}
    return {s.id: s for s in inp.sites
            if (not pop.site_kinds or s.kind in pop.site_kinds)
            and (not pop.org_units or set(lineage(inp, s.org_unit)) & set(pop.org_units))
            and (not pop.grades or s.grade in pop.grades)
            and (pop.site_ids is None or s.id in pop.site_ids)
            and (spec.exclusions.allow_repeat or s.id not in recent)}


def expected_stratum(inp: DrawInputs, site: Site) -> str:
    by, listed = inp.spec.sample.stratify_by, inp.spec.population.org_units
    if by == "grade":
        return site.grade or ""
    if by == "org_unit":
        line = lineage(inp, site.org_unit)
        return str(next(u for u in line if u in listed) if listed else line[0])
    return "all"


def check(inp: DrawInputs, seed: bytes, result: DrawResult) -> None:
    spec = inp.spec
    eligible = expected_eligible(inp)
    drawn = [d for s in result.strata for d in s.drawn]
    ids = [d.site for d in drawn]
    assert len(ids) == len(set(ids)), "a site drawn twice"
    assert set(ids) <= set(eligible), "a site outside the population or drawn too recently"
    assert result.eligible == len(eligible)

    # Strata and the sample size.
    sizes: dict[str, int] = {}
    for site in eligible.values():
        key = expected_stratum(inp, site)
        sizes[key] = sizes.get(key, 0) + 1
    assert {s.key: s.eligible for s in result.strata} == sizes
    n = len(eligible)
    k = (min(spec.sample.count, n) if spec.sample.count is not None
         else math.ceil(Fraction(str(spec.sample.share)) * n))
    assert result.sample_size == k
    m = spec.sample.min_per_stratum or 0
    floors = sum(min(m, size) for size in sizes.values())
    assert result.drawn == len(drawn) == (max(k, floors) if n else 0)
    for stratum in result.strata:
        assert len(stratum.drawn) == stratum.allocated <= stratum.eligible
        assert stratum.allocated >= min(m, stratum.eligible), "a minimum not met"
        assert stratum.allocated <= max(min(m, stratum.eligible),
                                        math.ceil(Fraction(k * stratum.eligible, n)))
        if stratum.eligible < m:
            assert any(note.code == "stratum_below_minimum" and repr(stratum.key)
                       in note.message for note in result.notes)
        # The drawn sites are the stratum's lowest keyed hashes, in rank order.
        ranked = sorted((s for s in eligible.values()
                         if expected_stratum(inp, s) == stratum.key),
                        key=lambda s: (H(seed, "site", s.id), s.id))
        assert [d.site for d in stratum.drawn] == [s.id for s in ranked[:stratum.allocated]]
        assert all(d.rank == H(seed, "site", d.site).hex() for d in stratum.drawn)

    # Inspectors: in the pool, never one who serves the site, teams of distinct people.
    units = set(spec.pool.org_units)
    pool = {i.id for i in inp.inspectors if set(i.roles) & set(spec.pool.roles)
            and (not units or set(lineage(inp, i.org_unit)) & units)}
    since = START - datetime.timedelta(days=spec.exclusions.served_within_days)
    serving = {(v.inspector, v.site) for v in inp.services
               if v.until is None or v.until >= since}
    unassigned = {u.site: u for u in result.unassigned}
    assert set(unassigned) <= set(ids)
    for d in drawn:
        free = {i for i in pool if (i, d.site) not in serving}
        if d.site in unassigned:
            assert d.team == [] and len(free) < spec.team_size
            assert unassigned[d.site].reason in ("no_pool", "all_serve", "team_short")
            assert unassigned[d.site].message
        else:
            assert len(d.team) == len(set(d.team)) == spec.team_size
            assert set(d.team) <= free, "an inspector given a site they serve or served"
    # Step 7 replayed: the least loaded first, then the keyed hash.
    replayed = dict.fromkeys(pool, 0)
    for d in sorted(drawn, key=lambda d: (H(seed, "site", d.site), d.site)):
        free_in_order = sorted((i for i in pool if (i, d.site) not in serving),
                               key=lambda i: (replayed[i], H(seed, "assign", d.site, i), i))
        if len(free_in_order) >= spec.team_size:
            assert d.team == free_in_order[:spec.team_size]
            for i in d.team:
                replayed[i] += 1
    if not serving and result.drawn and pool and len(pool) >= spec.team_size:
        load = dict.fromkeys(pool, 0)
        for d in drawn:
            for i in d.team:
                load[i] += 1
        assert max(load.values()) - min(load.values()) <= 1, "work not spread"


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(inp=draw_inputs(), seed=st.binary(min_size=1, max_size=40), order=st.randoms())
def test_exclusions_strata_and_teams_hold(inp: DrawInputs, seed: bytes,
                                          order: random.Random) -> None:
    result = draw(inp, seed)
    check(inp, seed, result)
    mixed = msgspec.structs.replace(
        inp, sites=order.sample(inp.sites, len(inp.sites)),
        inspectors=order.sample(inp.inspectors, len(inp.inspectors)),
        services=order.sample(inp.services, len(inp.services)),
        org_units=order.sample(inp.org_units, len(inp.org_units)))
    assert draw(mixed, seed) == result
    back = msgspec.json.decode(msgspec.json.encode(result), type=DrawResult)
    assert verify(msgspec.json.decode(msgspec.json.encode(mixed), type=DrawInputs), seed,
                  back)
