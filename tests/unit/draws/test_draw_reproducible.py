"""The draw is reproducible from its published inputs and seed, whatever the row order."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import random
from typing import Any

import msgspec
import pytest

from rounds.draws import (
    CampaignError,
    DrawInputs,
    DrawResult,
    check_spec,
    decode_inputs,
    draw,
    new_seed,
    verify,
)
from rounds.draws.draw import Inspector, OrgUnit, PastDraw, Service, Site, allocate

SEED = hashlib.sha256(b"rounds draws test").digest()
START = datetime.date(2026, 3, 1)


def spec(**sample: Any) -> dict[str, Any]:
    return {"standard": "food-safety", "population": {"site_kinds": ["shop"]},
            "sample": sample or {"count": 6}, "pool": {"roles": ["inspector"]},
            "period": {"start": START.isoformat(), "end": "2026-05-31"}}


def inputs(raw_spec: dict[str, Any] | None = None, *, sites: int = 30,
           services: list[Service] | None = None,
           past: list[PastDraw] | None = None) -> DrawInputs:
    # A city (1) with two districts (2, 3); sites alternate between them, grades A/B/C.
    return DrawInputs(
        spec=check_spec(raw_spec or spec()),
        org_units=[OrgUnit(id=1), OrgUnit(id=2, parent=1), OrgUnit(id=3, parent=1)],
        sites=[Site(id=i, code=f"S{i:03}", org_unit=2 + i % 2, kind="shop",
                    grade="ABC"[i % 3]) for i in range(1, sites + 1)]
        + [Site(id=900, code="F900", org_unit=2, kind="factory")],
        inspectors=[Inspector(id=100 + j, org_unit=1 + j % 3, roles=["inspector"])
                    for j in range(5)] + [Inspector(id=199, org_unit=1, roles=["clerk"])],
        services=services or [], past_draws=past or [])


def shuffled(inp: DrawInputs, rng: random.Random) -> DrawInputs:
    def mix(rows: list[Any]) -> list[Any]:
        rows = list(rows)
        rng.shuffle(rows)
        return rows
    return msgspec.structs.replace(
        inp, org_units=mix(inp.org_units), sites=mix(inp.sites),
        inspectors=mix(inp.inspectors), services=mix(inp.services),
        past_draws=mix(inp.past_draws))


def drawn_ids(result: DrawResult) -> list[int]:
    return [d.site for s in result.strata for d in s.drawn]


def test_same_inputs_in_any_order_and_same_seed_give_the_same_result() -> None:
    inp = inputs(spec(share=0.25, stratify_by="grade", min_per_stratum=2), services=[
        Service(inspector=100, site=s) for s in range(1, 10)])
    first = draw(inp, SEED)
    rng = random.Random(7)
    for _ in range(5):
        again = draw(shuffled(inp, rng), SEED)
        assert again == first
        assert msgspec.json.encode(again) == msgspec.json.encode(first)
    assert first.inputs_digest == draw(shuffled(inp, rng), new_seed()).inputs_digest
    assert verify(shuffled(inp, rng), SEED, first)


def test_another_seed_draws_another_sample() -> None:
    inp = inputs()
    samples = {tuple(drawn_ids(draw(inp, hashlib.sha256(bytes([n])).digest())))
               for n in range(20)}
    assert len(samples) == 20  # C(30, 6) samples: twenty equal ones would be no draw


def test_the_result_is_published_as_json_and_verifies_from_it() -> None:
    inp = inputs(services=[Service(inspector=101, site=3)])
    result = draw(inp, SEED)
    published_inputs = msgspec.json.encode(inp)
    published_result = msgspec.json.encode(result)
    back_inputs = decode_inputs(msgspec.json.decode(published_inputs))
    back_result = msgspec.json.decode(published_result, type=DrawResult)
    assert verify(back_inputs, bytes.fromhex(back_result.seed), back_result)
    assert back_result.seed == SEED.hex()


def test_a_changed_input_or_result_does_not_verify() -> None:
    inp = inputs()
    result = draw(inp, SEED)
    one_more = msgspec.structs.replace(inp, sites=[*inp.sites, Site(
        id=31, code="S031", org_unit=2, kind="shop")])
    assert draw(one_more, SEED).inputs_digest != result.inputs_digest
    assert not verify(one_more, SEED, result)
    forged = msgspec.structs.replace(result, strata=[msgspec.structs.replace(
        result.strata[0], drawn=result.strata[0].drawn[1:])])
    assert not verify(inp, SEED, forged)
    assert not verify(inp, new_seed(), result)


def test_the_population_filter_and_the_pool() -> None:
    raw = spec(count=100)
    raw["population"] = {"site_kinds": ["shop"], "org_units": [3], "grades": ["A", "B"]}
    raw["pool"] = {"roles": ["inspector"], "org_units": [2]}
    result = draw(inputs(raw), SEED)
    expected = [i for i in range(1, 31) if 2 + i % 2 == 3 and "ABC"[i % 3] in "AB"]
    assert sorted(drawn_ids(result)) == expected
    assert result.notes[0].code == "count_above_population"
    # Only inspectors 101 and 104 (unit 2) are in the pool: not the clerk, not other units.
    assert {m for s in result.strata for d in s.drawn for m in d.team} == {101, 104}


def test_the_saved_filter_and_a_unit_takes_in_its_descendants() -> None:
    raw = spec(count=100)
    raw["population"] = {"org_units": [1], "site_ids": [4, 5, 900, 77]}
    assert sorted(drawn_ids(draw(inputs(raw), SEED))) == [4, 5, 900]


def test_recently_drawn_sites_are_left_out_unless_the_campaign_allows_repeats() -> None:
    raw = spec(count=100)
    raw["exclusions"] = {"redraw_within_days": 90}
    past = [PastDraw(site=1, drawn_on=START - datetime.timedelta(days=90)),
            PastDraw(site=2, drawn_on=START - datetime.timedelta(days=91))]
    result = draw(inputs(raw, past=past), SEED)
    assert result.excluded_recently_drawn == [1]
    assert 1 not in drawn_ids(result) and 2 in drawn_ids(result)
    raw["exclusions"]["allow_repeat"] = True
    assert 1 in drawn_ids(draw(inputs(raw, past=past), SEED))


def test_an_inspector_never_draws_a_site_they_serve_or_served_within_the_window() -> None:
    raw = spec(count=100)
    raw["exclusions"] = {"served_within_days": 30}
    long_ago = START - datetime.timedelta(days=31)
    services = ([Service(inspector=i, site=s) for i in (100, 101) for s in range(1, 31)]
                + [Service(inspector=102, site=s, until=long_ago) for s in range(1, 31)])
    result = draw(inputs(raw, services=services), SEED)
    teams = {d.site: d.team for s in result.strata for d in s.drawn}
    assert all(t and t[0] in (102, 103, 104) for t in teams.values())


def test_a_site_no_inspector_may_check_is_drawn_and_listed_with_why() -> None:
    raw = spec(count=100)
    raw["team_size"] = 2
    services = ([Service(inspector=i, site=1) for i in range(100, 105)]
                + [Service(inspector=i, site=2) for i in range(100, 104)])
    result = draw(inputs(raw, services=services), SEED)
    why = {u.site: u for u in result.unassigned}
    assert set(why) == {1, 2}
    assert why[1].reason == "all_serve" and why[2].reason == "team_short"
    assert "a team of 2" in why[2].message
    teams = {d.site: d.team for s in result.strata for d in s.drawn}
    assert teams[1] == teams[2] == []
    assert all(len(set(t)) == 2 for site, t in teams.items() if site not in why)


def test_no_pool_leaves_every_drawn_site_unassigned() -> None:
    raw = spec(count=3)
    raw["pool"] = {"roles": ["director"]}
    result = draw(inputs(raw), SEED)
    assert [u.reason for u in result.unassigned] == ["no_pool"] * 3


def test_work_is_spread_over_the_pool() -> None:
    result = draw(inputs(spec(count=23)), SEED)
    load: dict[int, int] = {}
    for s in result.strata:
        for d in s.drawn:
            load[d.team[0]] = load.get(d.team[0], 0) + 1
    assert sorted(load.values()) == [4, 4, 5, 5, 5]


def test_strata_get_their_minimum_and_the_rest_in_proportion() -> None:
    # 30 shops: grade A 10, B 10, C 10; 9 drawn, 3 each.
    result = draw(inputs(spec(count=9, stratify_by="grade", min_per_stratum=2)), SEED)
    assert [(s.key, s.eligible, s.allocated, len(s.drawn)) for s in result.strata] == [
        ("A", 10, 3, 3), ("B", 10, 3, 3), ("C", 10, 3, 3)]
    raw = spec(count=5, stratify_by="org_unit", min_per_stratum=1)
    raw["population"] = {"org_units": [2, 3]}
    result = draw(inputs(raw), SEED)
    assert [s.key for s in result.strata] == ["2", "3"]
    assert sum(s.allocated for s in result.strata) == 5


def test_minimums_above_the_sample_win_and_are_said() -> None:
    result = draw(inputs(spec(count=2, stratify_by="grade", min_per_stratum=2)), SEED)
    assert [s.allocated for s in result.strata] == [2, 2, 2]
    assert result.drawn == 6 and result.sample_size == 2
    assert [n.code for n in result.notes] == ["minimums_above_sample"]


def test_a_share_is_taken_as_written() -> None:
    # 0.1 of 30 is 3 (a float's 0.1 is a hair above 1/10: ceil would give 4).
    assert draw(inputs(spec(share=0.1)), SEED).sample_size == 3
    assert draw(inputs(spec(share=0.11)), SEED).sample_size == 4


def test_allocation_is_largest_remainder_with_minimums() -> None:
    sizes = {"big": 100, "mid": 30, "small": 3, "tiny": 1}
    assert allocate(sizes, 20, 2, SEED) == {"big": 13, "mid": 4, "small": 2, "tiny": 1}
    assert allocate(sizes, 0, 0, SEED) == {"big": 0, "mid": 0, "small": 0, "tiny": 0}
    assert allocate({"a": 5, "b": 5}, 10, 0, SEED) == {"a": 5, "b": 5}
    # Equal remainders: the keyed hash of the stratum decides, and the seed changes it.
    winners = {max(allocate({"a": 1, "b": 1}, 1, 0, bytes([n])).items(),
                   key=lambda kv: kv[1])[0] for n in range(16)}
    assert winners == {"a", "b"}


def test_inputs_that_do_not_hold_together_are_refused_with_pointers() -> None:
    inp = inputs()
    bad = msgspec.structs.replace(inp, sites=[*inp.sites, inp.sites[0]], org_units=[
        *inp.org_units, OrgUnit(id=8, parent=9)], inspectors=[
        Inspector(id=5, org_unit=42, roles=["inspector"])])
    with pytest.raises(CampaignError) as caught:
        draw(bad, SEED)
    pointers = {p.pointer for p in caught.value.problems}
    # Pointers into the rows as given (the second site 1 is the 32nd row).
    assert pointers == {"/sites/31/id", "/org_units/3/parent", "/inspectors/0/org_unit"}
    cyclic = msgspec.structs.replace(inp, org_units=[OrgUnit(id=1, parent=3),
                                                     OrgUnit(id=2, parent=1),
                                                     OrgUnit(id=3, parent=1)])
    with pytest.raises(CampaignError, match="its own ancestor"):
        draw(cyclic, SEED)
    with pytest.raises(CampaignError, match="seed"):
        draw(inp, b"")


def test_new_seeds_are_32_fresh_bytes() -> None:
    seeds = {new_seed() for _ in range(10)}
    assert len(seeds) == 10 and {len(s) for s in seeds} == {32}


def test_published_inputs_are_checked_like_a_spec() -> None:
    raw = msgspec.to_builtins(inputs())
    raw["sites"][2]["colour"] = "red"
    raw["inspectors"][0]["id"] = "one"
    del raw["spec"]["period"]
    with pytest.raises(CampaignError) as caught:
        decode_inputs(raw)
    assert {p.pointer: p.message for p in caught.value.problems} == {
        "/sites/2/colour": "unknown field 'colour'",
        "/inspectors/0/id": "must be an integer; got a string",
        "/spec/period": "'period' is required"}
    # Inputs built in code skip check_spec: the draw checks the spec's meaning itself.
    inp = inputs()
    odd = msgspec.structs.replace(inp, spec=msgspec.structs.replace(inp.spec, team_size=3))
    with pytest.raises(CampaignError) as caught:
        draw(odd, SEED)
    assert [p.pointer for p in caught.value.problems] == ["/spec/team_size"]


def test_the_published_algorithm_does_not_drift() -> None:
    """A fixed vector of rounds-draw/1: draws published with it must verify for ever, so a
    change that alters it is a new algorithm (a new name), never an edit of this one."""
    inp = inputs(spec(count=5, stratify_by="grade", min_per_stratum=1),
                 services=[Service(inspector=100, site=s) for s in range(1, 31, 2)])
    result = draw(inp, bytes(range(32)))
    assert result.algorithm == "rounds-draw/1"
    assert result.inputs_digest == (
        "a05f6587095203770c27fe855079ef20ba1af5b928d4b2130fad1f20d4ce4eaa")
    assert [(s.key, s.eligible, s.allocated, [(d.site, d.team) for d in s.drawn])
            for s in result.strata] == [
        ("A", 10, 1, [(21, [103])]),
        ("B", 10, 2, [(25, [104]), (16, [100])]),
        ("C", 10, 2, [(2, [102]), (8, [101])])]
    assert result.strata[0].drawn[0].rank == hmac.new(
        bytes(range(32)), b'["site",21]', hashlib.sha256).hexdigest()
