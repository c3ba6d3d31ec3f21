"""Validation of scoring models, outcomes and checks (docs/scoring.md): a definition that uses
every field as meant validates clean, and each misuse is reported with its code and pointer.
The planted file ``planted/scoring_misuse.json`` has them all at once."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from rounds.definitions.loader import DefinitionDocument
from rounds.definitions.validation import validate
from rounds.errors import Problem


def item(id_: str, type_: str, **kw: Any) -> dict[str, Any]:
    return {"id": id_, "type": type_, "title": {"zh": id_, "en": id_}, **kw}


def label(text: str) -> dict[str, str]:
    return {"zh": text, "en": text}


def choices(*values: str, **per_value: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"value": v, "label": label(v), **per_value.get(v, {})} for v in values]


def level(id_: str, **kw: Any) -> dict[str, Any]:
    return {"id": id_, "label": label(id_), **kw}


def well_formed() -> dict[str, Any]:
    """Every new field, each used as meant."""
    return {
        "kind": "standard", "id": "scored_well", "title": label("scored well"),
        "site_kinds": ["retailer"],
        "scoring": {"model": "sum", "direction": "lower_better", "total": True,
                    "min_answered": 1, "digits": 0},
        "sections": [
            {"id": "hygiene", "title": label("hygiene"),
             "scoring": {"model": "mean", "direction": "higher_better", "min_answered": 2,
                         "digits": 2},
             "items": [
                 item("advertising", "yes_no", good="no", forces={"rating": "closure"}),
                 item("tidy", "check", good=True),
                 item("smoke", "check", good=False),
                 item("mood", "scale", min=0, max=4, points="value", reverse=True),
                 item("feel", "scale", min=1, max=5, reverse=True, weight=2),
                 item("often", "single_choice", points="value", reverse=True,
                      choices=choices("0", "1", "2", "3.5")),
                 item("class", "single_choice", choices=choices(
                     "a", "b", "dk", a={"points": 75}, b={"points": 0}, dk={"points": None})),
                 item("grade", "single_choice", reverse=True,
                      choices=choices("x", "y", x={"score": 1}, y={"score": 0.5})),
                 item("inspected_on", "date"),
                 item("follow_up_on", "date"),
                 item("demerits", "number", calculate={"var": "score.points"}),
                 item("heavy", "yes_no", weight=0, calculate={"if": [
                     {">": [{"var": "demerits"}, 20]}, "yes", "no"]},
                      fail_if={">": [{"var": "score.sections.hygiene.value"}, 3]},
                      problem={"zh": "扣分 {n}", "en": "{n} points lost",
                               "params": {"n": {"var": "score.points"}}}),
             ]},
            {"id": "structure", "title": label("structure"),
             "items": [item("walls", "yes_no"),
                       item("rows", "group", items=[item("qty", "number")])]},
        ],
        "outcomes": [
            {"id": "rating", "title": label("rating"),
             "levels": [
                 level("closure", passed=False),
                 level("r5", min=0, max=15, passed=True),
                 level("r4", min=15, max=20,
                       message={"zh": "总分 {score.points}", "en": "Total {score.points}"}),
                 level("worst", when={"and": [
                     {">": [{"var": "score.section_max"}, 3]},
                     {"in": ["walls", {"var": "failed"}]},
                     {">": [{"var": "demerits"}, 1]}]}),
                 level("r0", passed=False),
             ]},
            {"id": "hygiene_band", "title": label("hygiene band"), "of": "hygiene",
             "levels": [level("low", max=1.5), level("high", min=1.5)]},
        ],
        "checks": [
            {"id": "follow_up_after_inspection", "item": "follow_up_on",
             "when": {"<": [{"var": "follow_up_on"}, {"var": "inspected_on"}]},
             "message": {"zh": "复查日期 {d} 早于检查日期", "en": "Follow-up {d} is too early",
                         "params": {"d": {"var": "follow_up_on"}}}},
        ],
        "alerts": [
            {"code": "closed", "severity": "high",
             "when": {"and": [{"==": [{"var": "outcome.rating"}, "closure"]},
                              {"!": {"var": "score.passed"}}]},
             "message": {"zh": "等级 {outcome.rating}，{score.sections.hygiene.value}",
                         "en": "Rating {outcome.rating}, {score.sections.hygiene.value}"}},
        ],
    }


def check(content: dict[str, Any]) -> list[Problem]:
    return validate([DefinitionDocument("test", content)], references=False)


def codes(content: dict[str, Any]) -> set[tuple[str, str]]:
    return {(p.code, p.pointer) for p in check(content)}


def items(content: dict[str, Any], section: int = 0) -> list[dict[str, Any]]:
    return content["sections"][section]["items"]  # type: ignore[no-any-return]


def find(content: dict[str, Any], item_id: str) -> dict[str, Any]:
    return next(it for sec in content["sections"] for it in sec["items"] if it["id"] == item_id)


def test_every_new_field_used_as_meant_validates() -> None:
    assert check(well_formed()) == []


# -- the meta-schema --------------------------------------------------------------------------

@pytest.mark.parametrize(("type_", "key", "value"), [
    ("text", "reverse", True), ("number", "points", "value"), ("yes_no", "reverse", True),
    ("check", "points", "value"), ("scale", "good", "yes"), ("single_choice", "good", "no"),
    ("date", "good", True), ("multiple_choice", "reverse", True),
])
def test_a_scoring_option_on_a_type_that_cannot_use_it(type_: str, key: str, value: Any) -> None:
    std = well_formed()
    extra: dict[str, Any] = {"choices": choices("a")} if "choice" in type_ else {}
    extra |= {"min": 1, "max": 3} if type_ == "scale" else {}
    items(std).append(item("odd", type_, **extra, **{key: value}))
    at = f"/sections/0/items/{len(items(std)) - 1}/{key}"
    found = check(std)
    assert [(p.code, p.pointer) for p in found] == [("points_not_scorable", at)]
    assert found[0].message == f"{key!r} is not an option of items of type {type_!r}"


def test_the_values_of_the_new_fields() -> None:
    std = well_formed()
    find(std, "advertising")["good"] = True  # a yes_no's good answer is "yes" or "no"
    find(std, "tidy")["good"] = "yes"  # a check's is true or false
    find(std, "mood")["points"] = "values"
    find(std, "class")["choices"][0]["points"] = -1
    std["scoring"]["digits"] = 5
    std["sections"][0]["scoring"]["total"] = False  # a section has no total of its own
    std["outcomes"][0]["levels"][1]["min"] = "0"
    got = codes(std)
    assert got == {("schema", "/sections/0/items/0/good"), ("schema", "/sections/0/items/1/good"),
                   ("schema", "/sections/0/items/3/points"),
                   ("schema", "/sections/0/items/6/choices/0/points"),
                   ("schema", "/scoring/digits"), ("schema", "/sections/0/scoring"),
                   ("schema", "/outcomes/0/levels/1/min")}


def test_a_choice_value_may_be_a_decimal_number() -> None:
    std = well_formed()
    find(std, "often")["choices"] = choices("0.5", "1.25", "2")
    assert check(std) == []
    find(std, "often")["choices"] = choices("0.5", "1.2.5")
    assert codes(std) == {("schema", "/sections/0/items/5/choices/1/value"),
                          ("bad_choice", "/sections/0/items/5/choices/1/value")}


def test_outcome_and_failed_are_reserved_item_ids() -> None:
    std = well_formed()
    items(std).append(item("outcome", "text"))
    assert codes(std) == {("schema", f"/sections/0/items/{len(items(std)) - 1}/id")}


# -- scored twice, and points that cannot score -------------------------------------------------

def test_weight_twice() -> None:
    std = well_formed()
    find(std, "mood")["weight"] = 4  # absolute points are the item's maximum
    find(std, "class")["score"] = 1  # and no fraction on top
    find(std, "often")["choices"][1]["score"] = 1  # points: "value" is the choice's number
    find(std, "grade")["choices"][1]["points"] = 2  # fractions and points on one item
    assert codes(std) == {
        ("weight_twice", "/sections/0/items/3/weight"),
        ("weight_twice", "/sections/0/items/6/score"),
        ("weight_twice", "/sections/0/items/5/choices/1/score"),
        ("weight_twice", "/sections/0/items/7/choices/1/points"),
    }


def test_weight_not_scorable_still_reported() -> None:
    std = well_formed()
    find(std, "inspected_on")["weight"] = 1
    std["sections"][1]["items"][1]["items"][0]["weight"] = 1
    assert codes(std) == {("weight_not_scorable", "/sections/0/items/8/weight"),
                          ("weight_not_scorable", "/sections/1/items/1/items/0/weight")}


def test_points_not_scorable_inside_a_group_or_with_nothing_to_reverse() -> None:
    std = well_formed()
    rows = std["sections"][1]["items"][1]
    rows["items"] += [item("ok", "yes_no", good="no"),
                      item("size", "scale", min=1, max=3, points="value", reverse=True),
                      item("kind", "single_choice", choices=choices("a", a={"points": 1}))]
    items(std).append(item("plain", "single_choice", reverse=True, choices=choices("a", "b")))
    assert codes(std) == {
        ("points_not_scorable", "/sections/1/items/1/items/1/good"),
        ("points_not_scorable", "/sections/1/items/1/items/2/points"),
        ("points_not_scorable", "/sections/1/items/1/items/2/reverse"),
        ("points_not_scorable", "/sections/1/items/1/items/3/choices/0/points"),
        ("points_not_scorable", f"/sections/0/items/{len(items(std)) - 1}/reverse"),
    }


def test_a_choice_that_scores_nothing_under_points_value() -> None:
    std = well_formed()
    find(std, "often")["choices"] = choices("0", "1", "dk", "na", dk={"points": None},
                                            na={"points": None})
    assert check(std) == []
    find(std, "often")["choices"][1]["points"] = 4  # its number is its points already
    assert codes(std) == {("weight_twice", "/sections/0/items/5/choices/1/points")}


def test_bad_choice_under_points_value() -> None:
    std = well_formed()
    find(std, "often")["choices"] = choices("0", "07", "7", "dk", "dk")
    found = {(p.code, p.pointer): p.message for p in check(std)}
    assert set(found) == {("bad_choice", "/sections/0/items/5/choices/2/value"),
                          ("bad_choice", "/sections/0/items/5/choices/3/value"),
                          ("bad_choice", "/sections/0/items/5/choices/4/value")}
    assert "same number as /choices/1" in found[("bad_choice",
                                                 "/sections/0/items/5/choices/2/value")]
    assert "'dk' is not" in found[("bad_choice", "/sections/0/items/5/choices/3/value")]
    assert "used twice" in found[("bad_choice", "/sections/0/items/5/choices/4/value")]


def test_bad_scoring() -> None:
    std = well_formed()
    std["pass_percentage"] = 80  # the model is sum: no percentage to pass
    found = check(std)
    assert [(p.code, p.pointer) for p in found] == [("bad_scoring", "/pass_percentage")]
    assert "passed" in found[0].message
    std["scoring"]["model"] = "percentage"
    assert check(std) == []
    del std["scoring"]  # percentage is the default
    assert check(std) == []
    std["scoring"] = {"total": False}  # no total: a band on it never holds
    assert codes(std) == {("bad_scoring", "/outcomes/0/levels/1"),
                          ("bad_scoring", "/outcomes/0/levels/2")}


# -- who reads the score ----------------------------------------------------------------------

@pytest.mark.parametrize("field", ["visible_if", "required_if", "evidence_if", "score"])
def test_rules_before_scoring_cannot_read_it(field: str) -> None:
    std = well_formed()
    find(std, "walls")[field] = {">": [{"var": "score.value"}, 1]}
    assert codes(std) == {("score_cycle", f"/sections/1/items/0/{field}/>/0")}


def test_a_score_cycle_through_calculated_values_names_the_chain() -> None:
    std = well_formed()
    items(std, 1).extend([
        item("lost", "number", calculate={"-": [100, {"var": "demerits"}]}),
        item("bad_walls", "yes_no", visible_if={">": [{"var": "lost"}, 50]}),
    ])
    std["checks"][0]["when"] = {"<": [{"var": "lost"}, 1]}
    found = {(p.code, p.pointer): p.message for p in check(std)}
    assert set(found) == {("score_cycle", "/sections/1/items/3/visible_if/>/0"),
                          ("score_cycle", "/checks/0/when/</0")}
    assert "lost → demerits → score.points" in found[("score_cycle",
                                                      "/sections/1/items/3/visible_if/>/0")]


def test_a_calculated_value_that_reads_the_score_cannot_score() -> None:
    std = well_formed()
    find(std, "demerits").update(score=1, weight=2)
    del find(std, "heavy")["weight"]  # a yes_no scores by default
    found = {(p.code, p.pointer): p.message for p in check(std)}
    assert set(found) == {("score_cycle", "/sections/0/items/10/calculate"),
                          ("score_cycle", "/sections/0/items/11/calculate")}
    assert "(its weight)" in found[("score_cycle", "/sections/0/items/10/calculate")]
    assert "give it weight 0" in found[("score_cycle", "/sections/0/items/11/calculate")]


def test_checks_cannot_read_the_score() -> None:
    std = well_formed()
    std["checks"][0]["message"]["params"]["d"] = {"var": "score.points"}
    assert codes(std) == {("score_cycle", "/checks/0/message/params/d")}


def test_a_group_whose_entries_read_the_score_is_settled_after_it() -> None:
    std = well_formed()
    rows = std["sections"][1]["items"][1]
    rows["items"] += [item("share", "number", calculate={"/": [{"var": "qty"},
                                                               {"var": "score.max"}]}),
                      item("why", "text", visible_if={">": [{"var": "share"}, 0.5]})]
    assert check(std) == []  # the entries' own rules see it after scoring
    find(std, "walls")["visible_if"] = {"some": [{"var": "rows"}, {"var": "share"}]}
    found = {(p.code, p.pointer): p.message for p in check(std)}
    assert set(found) == {("score_cycle", "/sections/1/items/0/visible_if/some/0")}
    assert "(rows → score.max)" in found[("score_cycle", "/sections/1/items/0/visible_if/some/0")]


def test_score_fields() -> None:
    std = well_formed()
    when = std["outcomes"][0]["levels"][3]["when"]["and"]
    when += [{"var": "score.bogus"}, {"var": "score.sections.nowhere.value"},
             {"var": "score.sections.hygiene.bogus"}, {"var": "score.passed"},
             {"var": "score.value.x"},
             {"var": "score.section_min"}, {"var": "score.answered"}, {"var": "score.total"},
             {"var": "score.sections.structure"}, {"var": "score.percentage"}]
    at = "/outcomes/0/levels/3/when/and"
    found = {(p.code, p.pointer): p.message for p in check(std)}
    assert set(found) == {("unknown_field", f"{at}/{n}") for n in (3, 4, 5, 6, 7)}
    assert "there is no section 'nowhere' (sections: hygiene, structure)" in found[
        ("unknown_field", f"{at}/4")]
    assert "only alerts" in found[("unknown_field", f"{at}/6")]


def test_who_reads_failed_and_outcome() -> None:
    std = well_formed()
    find(std, "walls")["fail_if"] = {"in": ["tidy", {"var": "failed"}]}
    std["outcomes"][0]["levels"][3]["when"]["and"].append({"var": "outcome.rating"})
    alert = std["alerts"][0]
    alert["when"]["and"] += [{"var": "outcome.nope"}, {"var": "outcome.rating.level"}]
    assert codes(std) == {("unknown_field", "/sections/1/items/0/fail_if/in/1"),
                          ("unknown_field", "/outcomes/0/levels/3/when/and/3"),
                          ("unknown_field", "/alerts/0/when/and/2"),
                          ("unknown_field", "/alerts/0/when/and/3")}


def test_rules_in_outcomes_and_checks_are_compiled_and_their_reads_checked() -> None:
    std = well_formed()
    std["outcomes"][0]["levels"][3]["when"] = {"frobnicate": [1]}
    std["outcomes"][0]["levels"][2]["message"] = {
        "zh": "{x} {y}", "en": "{x} {nothing.here}", "params": {"x": {"var": "nope"},
                                                                "spare": 1}}
    std["checks"][0]["when"] = {"<": [{"var": "follow_up"}, {"var": "inspected_on"}]}
    assert codes(std) == {
        ("unknown_operation", "/outcomes/0/levels/3/when"),
        ("unknown_field", "/outcomes/0/levels/2/message/params/x"),
        ("unused_param", "/outcomes/0/levels/2/message/params/spare"),
        ("unknown_field", "/outcomes/0/levels/2/message/zh"),
        ("unknown_field", "/outcomes/0/levels/2/message/en"),
        ("unknown_field", "/checks/0/when/</0"),
    }


# -- outcomes, forces and checks ------------------------------------------------------------------

def test_unknown_references() -> None:
    std = well_formed()
    std["outcomes"][1]["of"] = "nowhere"
    find(std, "tidy")["forces"] = {"rating": "r9", "nope": "x"}
    std["checks"][0]["item"] = "qty"  # inside a group: not an answer of its own
    found = {(p.code, p.pointer): p.message for p in check(std)}
    assert set(found) == {("unknown_reference", "/outcomes/1/of"),
                          ("unknown_reference", "/sections/0/items/1/forces/rating"),
                          ("unknown_reference", "/sections/0/items/1/forces/nope"),
                          ("unknown_reference", "/checks/0/item")}
    assert "levels: closure, r5, r4, worst, r0" in found[
        ("unknown_reference", "/sections/0/items/1/forces/rating")]


def test_duplicate_ids_of_outcomes_levels_and_checks() -> None:
    std = well_formed()
    std["outcomes"].append(copy.deepcopy(std["outcomes"][1]))
    std["outcomes"][0]["levels"][2]["id"] = "r5"
    std["checks"].append(copy.deepcopy(std["checks"][0]))
    assert codes(std) == {("duplicate_id", "/outcomes/2/id"),
                          ("duplicate_id", "/outcomes/0/levels/2/id"),
                          ("duplicate_id", "/checks/1/id")}


@pytest.mark.parametrize(("bands", "overlaps"), [
    ([(0, 15), (16, 20)], []),
    ([(0, 15), (15, 20)], []),  # sharing an end: the earlier level takes 15
    ([(None, 1.5), (1.5, None)], []),
    ([(0, 15), (10, 20)], [1]),
    ([(80, None), (60, None)], [1]),  # write 60–80: the earlier level takes 80
    ([(0, 10), (5, 5)], [1]),  # a point inside another band
    ([(0, 10), (20, 30), (25, 40), (30, 50)], [2, 3]),
])
def test_overlapping_bands(bands: list[tuple[float | None, float | None]],
                           overlaps: list[int]) -> None:
    std = well_formed()
    levels = []
    for n, (lo, hi) in enumerate(bands):
        levels.append(level(f"l{n}", **({} if lo is None else {"min": lo}),
                            **({} if hi is None else {"max": hi})))
    levels.append(level("with_rule", min=0, max=100, when={">": [{"var": "demerits"}, 1]}))
    std["outcomes"][1]["levels"] = levels
    assert codes(std) == {("overlapping_bands", f"/outcomes/1/levels/{n}") for n in overlaps}


def test_bad_band() -> None:
    std = well_formed()
    std["outcomes"][0]["levels"][1].update(min=20, max=10)
    assert codes(std) == {("bad_band", "/outcomes/0/levels/1/min")}


def test_the_fallback_is_last_and_alone() -> None:
    std = well_formed()
    levels = std["outcomes"][0]["levels"]
    levels.insert(2, level("early"))
    found = {(p.code, p.pointer): p.message for p in check(std)}
    assert set(found) == {("unreachable_level", "/outcomes/0/levels/2")}
    assert "/outcomes/0/levels/5" in found[("unreachable_level", "/outcomes/0/levels/2")]
    # a level without criteria that an item forces is no fallback: it may stand anywhere
    find(std, "smoke")["forces"] = {"rating": "early"}
    assert check(std) == []
    levels.pop()  # and then there need be no fallback at all
    assert check(std) == []


@pytest.mark.parametrize(("forcing", "never"), [
    (item("seal", "yes_no"), False),  # fails on its bad answer
    (item("seal", "yes_no", fail_if=False), True),  # failing turned off
    (item("seal", "check"), True),  # an unticked check is no failure by default
    (item("seal", "check", good=False), False),  # unless it says what is good
    (item("seal", "scale", min=1, max=5), True),
    (item("seal", "scale", min=1, max=5, fail_if={"<": [{"var": "seal"}, 2]}), False),
    (item("seal", "group", items=[item("qty", "number")]), True),
    (item("seal", "group", items=[item("qty", "number", fail_if={">": [{"var": "qty"}, 3]})]),
     False),
])
def test_forces_on_an_item_that_never_fails(forcing: dict[str, Any], never: bool) -> None:
    std = well_formed()
    forcing["forces"] = {"rating": "closure"}
    std["sections"][0]["items"].append(forcing)
    at = f"/sections/0/items/{len(std['sections'][0]['items']) - 1}/forces"
    found = {(p.code, p.pointer): p.message for p in check(std)}
    assert set(found) == ({("forces_never_apply", at)} if never else set())
    if never:
        assert "add a fail_if" in found[("forces_never_apply", at)]
