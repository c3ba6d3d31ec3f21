"""The fair, reproducible draw of a check campaign (双随机: random sites, random inspectors).

Pure: plain data in (:class:`DrawInputs`), plain data out (:class:`DrawResult`), both msgspec
Structs that round-trip through JSON. Anyone holding the published inputs and the seed can
re-run the draw, in any language, by following the algorithm below (docs/draws.md too).

Algorithm ``rounds-draw/1``
---------------------------
Notation: ``H(x) = HMAC-SHA256(key=seed, message=J(x))`` where ``J(x)`` is the compact JSON
of the array ``x`` in UTF-8 (no spaces, non-ASCII as is, integers in decimal), e.g.
``J(["site", 17]) = b'["site",17]'``. Hashes compare as 32-byte strings, byte by byte
(that is, as big-endian unsigned integers). Ids are integers; "sorted" means ascending.

1. *Digest.* ``inputs_digest`` is the SHA-256 (hex) of the canonical JSON of the inputs:
   every object's keys sorted, every field present (defaults included; of the spec's
   ``standard`` and ``survey``, only the one it names), the lists sorted
   (``org_units``, ``sites``, ``inspectors`` by ``id``; ``services`` by
   ``(inspector, site, until)`` with a null ``until`` first; ``past_draws`` by
   ``(site, drawn_on)``; a site's and an inspector's lists and the spec's lists sorted
   too), no spaces. The order the rows came in changes nothing.
2. *Population.* A site is in the population when every filter the spec gives holds: its
   ``kind`` is in ``population.site_kinds``; its org unit or one of that unit's ancestors
   (following ``parent``) is in ``population.org_units``; its ``grade`` is in
   ``population.grades``; its id is in ``population.site_ids``. An empty list (or a null
   ``site_ids``) does not filter. Unless ``exclusions.allow_repeat``, a site of the
   population with a past draw on or after ``period.start - redraw_within_days`` days is
   left out (listed in ``excluded_recently_drawn``). The rest are the *eligible* sites.
3. *Strata.* Without ``stratify_by`` there is one stratum, ``"all"``. With ``"grade"`` a
   site's stratum is its grade (``""`` for none). With ``"org_unit"`` it is the decimal id
   of the nearest unit, from the site's own unit up, that is in ``population.org_units``,
   or of the site's own unit when that list is empty. Strata are ordered by key.
4. *Sample size.* ``k = min(count, N)`` for a count, ``k = ceil(share * N)`` for a share,
   where ``N`` is the number of eligible sites and ``share`` is taken exactly as its
   shortest decimal writing (0.1 is 1/10).
5. *Allocation* (largest remainder with minimums). ``m`` is ``min_per_stratum`` (0 when
   not given); stratum ``h`` of ``N_h`` sites has the floor ``b_h = min(m, N_h)``. Every
   stratum starts *free*. Repeat: with ``K`` = ``k`` minus the sizes of fixed strata and
   ``M`` = the sites of free strata, fix at ``b_h`` each free stratum whose quota
   ``K * N_h / M`` (exact fractions) is below ``b_h``; until no stratum is fixed in a round.
   Each free stratum then gets ``floor(quota)``, and the ``K - sum(floors)`` seats left go
   one each to the free strata with the largest remainders, equal remainders ordered by
   ``H(["stratum", key])``, lowest first. (The total is ``max(k, sum(b_h))``.)
6. *Sites.* In each stratum, sort the eligible sites by ``(H(["site", id]), id)`` and take
   the first ``a_h``, its allocation: a uniform random ``a_h``-subset whatever the input
   order, since the keyed hashes of distinct ids are independent and uniform.
7. *Inspectors.* The pool is the inspectors holding one of ``pool.roles`` whose unit (or
   an ancestor of it) is in ``pool.org_units`` (every unit when empty). An inspector
   *serves* a site when a service row links them with ``until`` null or on or after
   ``period.start - served_within_days`` days. Visit the drawn sites of all strata in the
   order of ``(H(["site", id]), id)``; for each, sort the pool inspectors who do not serve
   it by ``(load, H(["assign", site id, inspector id]), id)``, where ``load`` is the
   number of drawn sites the inspector has been given so far, and take the first
   ``team_size`` as its team (the first is the lead). With fewer eligible inspectors than
   ``team_size`` the site gets no team and is listed in ``unassigned`` with why; it stays
   drawn.
8. The result holds the digest, the seed (hex), the strata (key, eligible count,
   allocation, the drawn sites in rank order with ``rank`` = hex of ``H(["site", id])``
   and their team), ``unassigned`` and ``notes`` (a count above the population, a stratum
   below the minimum, minimums above the sample). A draw verifies when re-running it on the
   inputs and seed gives an equal result (:func:`verify`).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import math
import secrets
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

import msgspec

from rounds.draws.spec import (
    CampaignError,
    DrawSpec,
    Population,
    draw_part,
    meaning_problems,
    structure_problems,
)
from rounds.errors import Problem
from rounds.pointer import join as pointer

ALGORITHM = "rounds-draw/1"
SEED_BYTES = 32
ALL = "all"



# -- inputs ----------------------------------------------------------------------------------------

class OrgUnit(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: int
    parent: int | None = None


class Site(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: int
    code: str
    org_unit: int
    kind: str
    grade: str | None = None


class Inspector(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: int
    org_unit: int
    roles: list[str]


class Service(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The inspector serves (``until`` null) or served the site until that day."""

    inspector: int
    site: int
    until: datetime.date | None = None


class PastDraw(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    site: int
    drawn_on: datetime.date


class DrawInputs(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Everything a draw depends on, as the storage resolves it (the seed apart)."""

    spec: DrawSpec
    org_units: list[OrgUnit]
    sites: list[Site]
    inspectors: list[Inspector]
    services: list[Service] = []
    past_draws: list[PastDraw] = []

    def __post_init__(self) -> None:
        # Built in code from a whole CampaignSpec, the inputs hold only its draw part: the
        # publication choice is no input, and inputs encoded before it existed must decode
        # and digest the same.
        if type(self.spec) is not DrawSpec:
            msgspec.structs.force_setattr(self, "spec", draw_part(self.spec))


# -- result ----------------------------------------------------------------------------------------

class DrawnSite(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    site: int
    code: str
    rank: str  # hex of H(["site", id])
    team: list[int]  # the lead first; empty when unassigned


class Stratum(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    key: str
    eligible: int
    allocated: int
    drawn: list[DrawnSite]


class Unassigned(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    site: int
    reason: str  # "no_pool", "all_serve", "team_short"
    message: str


class Note(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    code: str  # "count_above_population", "stratum_below_minimum", "minimums_above_sample",
    #            "nothing_eligible"
    message: str


class DrawResult(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    algorithm: str
    inputs_digest: str
    seed: str
    eligible: int
    excluded_recently_drawn: list[int]
    sample_size: int
    drawn: int
    strata: list[Stratum]
    unassigned: list[Unassigned]
    notes: list[Note]


# -- the pieces ------------------------------------------------------------------------------------

def new_seed() -> bytes:
    """A fresh seed from the operating system's cryptographic source."""
    return secrets.token_bytes(SEED_BYTES)


def keyed(seed: bytes, *parts: str | int) -> bytes:
    """``H(parts)``: HMAC-SHA256 under the seed of the compact JSON of ``parts``."""
    return hmac.new(seed, msgspec.json.encode(list(parts)), hashlib.sha256).digest()


def _sorted_spec(spec: DrawSpec) -> DrawSpec:
    pop = spec.population
    return msgspec.structs.replace(
        spec,
        population=Population(
            site_kinds=sorted(pop.site_kinds), org_units=sorted(pop.org_units),
            grades=sorted(pop.grades),
            site_ids=None if pop.site_ids is None else sorted(pop.site_ids)),
        pool=msgspec.structs.replace(spec.pool, roles=sorted(spec.pool.roles),
                                     org_units=sorted(spec.pool.org_units)))


def canonical(inputs: DrawInputs) -> DrawInputs:
    """The inputs with every list in its canonical order (see step 1)."""
    return DrawInputs(
        spec=_sorted_spec(inputs.spec),
        org_units=sorted(inputs.org_units, key=lambda u: u.id),
        sites=sorted(inputs.sites, key=lambda s: s.id),
        inspectors=sorted((msgspec.structs.replace(i, roles=sorted(i.roles))
                           for i in inputs.inspectors), key=lambda i: i.id),
        services=sorted(inputs.services, key=lambda s: (
            s.inspector, s.site, s.until is not None, s.until or datetime.date.min)),
        past_draws=sorted(inputs.past_draws, key=lambda d: (d.site, d.drawn_on)))


def digest(inputs: DrawInputs) -> str:
    """``inputs_digest``: SHA-256 of the canonical JSON of the inputs (step 1)."""
    return hashlib.sha256(msgspec.json.encode(canonical(inputs), order="sorted")).hexdigest()


def _check_inputs(inputs: DrawInputs) -> None:
    """A sound spec (inputs can be built without :func:`check_spec`), ids unique, references
    known, no unit its own ancestor: or every mistake at once."""
    problems = [Problem("/spec" + p.pointer, p.message, p.code, "inputs")
                for p in meaning_problems(inputs.spec)]
    units = {u.id: u for u in inputs.org_units}

    def dupes(name: str, ids: Iterable[int]) -> None:
        seen: set[int] = set()
        for n, i in enumerate(ids):
            if i in seen:
                problems.append(Problem(pointer(name, n, "id"), f"id {i} is given twice",
                                        "duplicate_id", "inputs"))
            seen.add(i)

    dupes("org_units", (u.id for u in inputs.org_units))
    dupes("sites", (s.id for s in inputs.sites))
    dupes("inspectors", (i.id for i in inputs.inspectors))
    placed = [("sites", n, s.org_unit) for n, s in enumerate(inputs.sites)]
    placed += [("inspectors", n, i.org_unit) for n, i in enumerate(inputs.inspectors)]
    for name, n, unit_id in placed:
        if unit_id not in units:
            problems.append(Problem(pointer(name, n, "org_unit"),
                                    f"no org unit {unit_id} in org_units",
                                    "unknown_reference", "inputs"))
    for n, unit in enumerate(inputs.org_units):
        if unit.parent is not None and unit.parent not in units:
            problems.append(Problem(pointer("org_units", n, "parent"),
                                    f"no org unit {unit.parent} in org_units",
                                    "unknown_reference", "inputs"))
        seen, at = {unit.id}, unit.parent
        while at is not None and at in units:
            if at in seen:
                problems.append(Problem(pointer("org_units", n, "parent"),
                                        f"org unit {unit.id} is its own ancestor",
                                        "unit_cycle", "inputs"))
                break
            seen.add(at)
            at = units[at].parent
    if problems:
        raise CampaignError.of(problems)


def _lineages(units: list[OrgUnit]) -> dict[int, list[int]]:
    """Each unit with its ancestors, itself first (the inputs are checked: no cycles)."""
    parent = {u.id: u.parent for u in units}
    out: dict[int, list[int]] = {}
    for uid in parent:
        line: list[int] = []
        at: int | None = uid
        while at is not None:
            line.append(at)
            at = parent.get(at)
        out[uid] = line
    return out


def allocate(sizes: dict[str, int], k: int, minimum: int, seed: bytes) -> dict[str, int]:
    """Step 5: ``k`` seats over strata of ``sizes``, proportional, each at least
    ``min(minimum, size)``, by the largest remainder (ties by ``H(["stratum", key])``)."""
    floor_of = {h: min(minimum, n) for h, n in sizes.items()}
    out: dict[str, int] = {}
    free = [h for h in sorted(sizes) if sizes[h] > 0]
    while True:
        left = k - sum(out.values())
        room = sum(sizes[h] for h in free)
        fixed = [h for h in free if Fraction(left * sizes[h], room) < floor_of[h]]
        if not fixed:
            break
        for h in fixed:
            out[h] = floor_of[h]
        free = [h for h in free if h not in out]
        if not free:
            break
    if free:
        left = k - sum(out.values())
        room = sum(sizes[h] for h in free)
        quotas = {h: Fraction(left * sizes[h], room) for h in free}
        for h in free:
            out[h] = math.floor(quotas[h])
        seats = left - sum(out[h] for h in free)
        order = sorted(free, key=lambda h: (-(quotas[h] - math.floor(quotas[h])),
                                            keyed(seed, "stratum", h)))
        for h in order[:seats]:
            out[h] += 1
    for h in sizes:
        out.setdefault(h, 0)
    return out


def _sample_size(spec: DrawSpec, eligible: int) -> int:
    if spec.sample.count is not None:
        return min(spec.sample.count, eligible)
    share = Fraction(repr(spec.sample.share))  # the decimal as written: 0.1 is 1/10
    return min(eligible, math.ceil(share * eligible))


def _days_before(day: datetime.date, days: int) -> datetime.date:
    try:
        return day - datetime.timedelta(days=days)
    except OverflowError:
        return datetime.date.min


# -- the draw --------------------------------------------------------------------------------------

def draw(inputs: DrawInputs, seed: bytes) -> DrawResult:
    """The draw of ``inputs`` under ``seed``, as the module docstring describes it."""
    if not seed:
        raise CampaignError("a draw needs a seed", [Problem("", "the seed is empty",
                                                            "no_seed", "seed")])
    _check_inputs(inputs)  # before sorting, so that its pointers are into the rows as given
    inputs = canonical(inputs)
    spec = inputs.spec
    pop, excl = spec.population, spec.exclusions
    lineage = _lineages(inputs.org_units)
    notes: list[Note] = []

    # Step 2: the population, less the sites drawn too recently. (Sets: a saved filter can
    # name thousands of sites.)
    kinds, units, grades = set(pop.site_kinds), set(pop.org_units), set(pop.grades)
    saved = None if pop.site_ids is None else set(pop.site_ids)

    def in_population(site: Site) -> bool:
        return ((not kinds or site.kind in kinds)
                and (not units or not units.isdisjoint(lineage[site.org_unit]))
                and (not grades or site.grade in grades)
                and (saved is None or site.id in saved))

    population = [s for s in inputs.sites if in_population(s)]
    recent: set[int] = set()
    if not excl.allow_repeat:
        since = _days_before(spec.period.start, excl.redraw_within_days)
        recent = {d.site for d in inputs.past_draws if d.drawn_on >= since}
    eligible = [s for s in population if s.id not in recent]
    excluded = sorted(s.id for s in population if s.id in recent)

    # Step 3: strata.
    def stratum_of(site: Site) -> str:
        if spec.sample.stratify_by == "grade":
            return site.grade or ""
        if spec.sample.stratify_by == "org_unit":
            line = lineage[site.org_unit]  # the site's own unit when none is listed
            return str(next((u for u in line if u in units), line[0]))
        return ALL

    strata: dict[str, list[Site]] = {}
    for site in eligible:
        strata.setdefault(stratum_of(site), []).append(site)

    # Steps 4 and 5: how many, and how many from each stratum.
    k = _sample_size(spec, len(eligible))
    if not eligible:
        notes.append(Note(code="nothing_eligible", message="no site is eligible: nothing drawn"))
    if spec.sample.count is not None and spec.sample.count > len(eligible) and eligible:
        notes.append(Note(code="count_above_population",
                          message=f"count {spec.sample.count} is above the {len(eligible)} "
                                  f"eligible sites: all are drawn"))
    minimum = spec.sample.min_per_stratum or 0
    sizes = {h: len(sites) for h, sites in strata.items()}
    for h in sorted(sizes):
        if sizes[h] < minimum:
            notes.append(Note(code="stratum_below_minimum",
                              message=f"stratum {h!r} has {sizes[h]} eligible sites, below "
                                      f"the minimum of {minimum}: all are drawn"))
    floors = sum(min(minimum, n) for n in sizes.values())
    if floors > k:
        notes.append(Note(code="minimums_above_sample",
                          message=f"the minimums per stratum come to {floors} sites, above "
                                  f"the sample of {k}: {floors} are drawn"))
    allocation = allocate(sizes, k, minimum, seed)

    # Step 6: the sites, the lowest keyed hashes of each stratum.
    rank = {s.id: keyed(seed, "site", s.id) for s in eligible}
    chosen: dict[str, list[Site]] = {
        h: sorted(sites, key=lambda s: (rank[s.id], s.id))[:allocation[h]]
        for h, sites in strata.items()}

    # Step 7: the inspectors, the least loaded first, never one who serves the site.
    roles, pool_units = set(spec.pool.roles), set(spec.pool.org_units)
    pool = [i for i in inputs.inspectors
            if not roles.isdisjoint(i.roles)
            and (not pool_units or not pool_units.isdisjoint(lineage[i.org_unit]))]
    served_since = _days_before(spec.period.start, excl.served_within_days)
    serving: dict[int, set[int]] = {}
    for svc in inputs.services:
        if svc.until is None or svc.until >= served_since:
            serving.setdefault(svc.site, set()).add(svc.inspector)
    load = {i.id: 0 for i in pool}
    teams: dict[int, list[int]] = {}
    unassigned: list[Unassigned] = []
    for site in sorted((s for sites in chosen.values() for s in sites),
                       key=lambda s: (rank[s.id], s.id)):
        barred = serving.get(site.id, set())
        free = [i.id for i in pool if i.id not in barred]
        if len(free) < spec.team_size:
            unassigned.append(_why_unassigned(site, len(pool), len(free), spec.team_size))
            teams[site.id] = []
            continue
        free.sort(key=lambda i: (load[i], keyed(seed, "assign", site.id, i), i))
        team = free[:spec.team_size]
        for i in team:
            load[i] += 1
        teams[site.id] = team

    out_strata = [
        Stratum(key=h, eligible=sizes[h], allocated=allocation[h],
                drawn=[DrawnSite(site=s.id, code=s.code, rank=rank[s.id].hex(),
                                 team=teams[s.id]) for s in chosen[h]])
        for h in sorted(strata)]
    return DrawResult(
        algorithm=ALGORITHM, inputs_digest=digest(inputs), seed=seed.hex(),
        eligible=len(eligible), excluded_recently_drawn=excluded, sample_size=k,
        drawn=sum(len(s.drawn) for s in out_strata), strata=out_strata,
        unassigned=sorted(unassigned, key=lambda u: u.site), notes=notes)


def _why_unassigned(site: Site, pool: int, free: int, team_size: int) -> Unassigned:
    if pool == 0:
        return Unassigned(site=site.id, reason="no_pool",
                          message=f"site {site.code}: no inspector is in the pool")
    if free == 0:
        return Unassigned(site=site.id, reason="all_serve",
                          message=f"site {site.code}: every inspector of the pool ({pool}) "
                                  f"serves or served it")
    return Unassigned(site=site.id, reason="team_short",
                      message=f"site {site.code}: a team of {team_size} is needed and only "
                              f"{free} inspector of the pool does not serve it")


def verify(inputs: DrawInputs, seed: bytes, result: DrawResult) -> bool:
    """Whether ``result`` is the draw of ``inputs`` under ``seed`` (re-run and compared)."""
    return draw(inputs, seed) == result


def decode_inputs(raw: Any) -> DrawInputs:
    """Draw inputs from decoded JSON (as published), or :class:`CampaignError` with every
    structural mistake at its pointer (:func:`draw` checks the rest)."""
    problems = structure_problems(DrawInputs, raw, source="inputs")
    if problems:
        raise CampaignError.of(problems)
    return msgspec.convert(raw, DrawInputs)
