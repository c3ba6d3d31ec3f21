"""Scoring, failures, alerts and the explanation of a small standard, computed by hand."""

from __future__ import annotations

import copy
from typing import Any

import msgspec
import pytest

from rounds.errors import RuleError
from rounds.rules.alerts import fill, format_number
from rounds.rules.explain import explain_text
from rounds.rules.results import Evaluation
from rounds.rules.standards import compile_standard

T = {"zh": "项", "en": "Item"}


def item(id: str, type: str, **kw: Any) -> dict[str, Any]:
    return {"id": id, "type": type, "title": {"zh": f"{id} 中", "en": f"{id} title"}, **kw}


# Two sections. Weights: basics 2 + 1 + 1, service 2 + 1 + 2 + 1 + 1 (+ follow_up, unscored).
STANDARD: dict[str, Any] = {
    "kind": "standard", "id": "test_visit", "title": T, "site_kinds": ["retailer"],
    "pass_percentage": 80,
    "sections": [
        {"id": "basics", "title": {"zh": "基本", "en": "Basics"}, "items": [
            item("licence", "check", weight=2, severity="high",
                 fail_if={"!": {"var": "licence"}}),
            item("clean", "yes_no", allow_na=True),
            item("sign", "yes_no"),
            item("problems_found", "yes_no", weight=0, fail_if=False),
        ]},
        {"id": "service", "title": {"zh": "服务", "en": "Service"}, "items": [
            item("display", "single_choice", weight=2, choices=[
                {"value": "good", "label": T, "score": 1},
                {"value": "fair", "label": T, "score": 0.5},
                {"value": "poor", "label": T, "score": 0},
            ], fail_if={"==": [{"var": "display"}, "poor"]}),
            item("rating", "scale", min=1, max=5, allow_na=True),
            item("brands", "number", weight=2, required=True,
                 score={"if": [{">=": [{"var": "brands"}, 40]}, 1,
                               {">=": [{"var": "brands"}, 25]}, 0.5, 0]}),
            item("guidance", "check",
                 visible_if={"!=": [{"var": "display"}, "good"]}),
            item("follow_up", "text", visible_if={"var": "guidance"}),
            item("extra", "number", weight=1, score={"/": [{"var": "extra"}, 100]}),
            item("notes", "text", required_if={"<=": [{"var": "rating"}, 2]}),
        ]},
    ],
    "alerts": [
        {"code": "low_score", "severity": "high",
         "when": {"<": [{"var": "score.percentage"}, 60]},
         "message": {"zh": "得分 {score.percentage}%（服务 {score.sections.service.percentage}%）",
                     "en": "Score {score.percentage}% "
                           "(service {score.sections.service.percentage}%)"
                           ", brands {brands}, site {ctx.site.name}"}},
        {"code": "no_licence", "severity": "critical",
         "when": {"in": ["licence", {"var": "failed"}]},
         "message": {"zh": "未亮证，共 {score.total}/{score.max} 分",
                     "en": "Licence not shown; {score.total} of {score.max} points"},
         "items": ["licence"]},
    ],
}

# display fair (guidance shown, unticked), rating 4 → 0.75, brands 30 → 0.5, clean n/a.
ANSWERS_A = {"licence": True, "clean": "na", "sign": "no", "display": "fair", "rating": 4,
             "brands": 30, "problems_found": "no"}
# display good hides guidance (its answer is dropped), rating n/a, extra 80 → 0.8.
ANSWERS_B = {"licence": True, "clean": "yes", "sign": "yes", "display": "good", "rating": "na",
             "brands": 45, "guidance": True, "follow_up": "done", "extra": 80}


def evaluate(answers: dict[str, Any], ctx: dict[str, Any] | None = None,
             definition: dict[str, Any] = STANDARD) -> Evaluation:
    return compile_standard(definition).evaluate(answers, ctx)


def lines(ev: Evaluation) -> dict[str, tuple[float | None, float | None, str]]:
    return {s.item: (s.fraction, s.points, s.decided_by) for s in ev.score.items}


# -- scores ------------------------------------------------------------------------------------

def test_scores_by_hand_with_weights_na_and_defaults() -> None:
    ev = evaluate(ANSWERS_A)
    basics, service = ev.score.sections
    # licence 2/2, clean n/a (left out), sign "no" 0/1
    assert (basics.points, basics.max, basics.percentage) == (2, 3, pytest.approx(100 * 2 / 3))
    # display 0.5×2, rating (4−1)/(5−1)×1, brands 0.5×2, guidance 0/1, extra missing (left out)
    assert (service.points, service.max, service.percentage) == (
        2.75, 6, pytest.approx(100 * 2.75 / 6))
    assert (ev.score.points, ev.score.max, ev.score.percentage) == (
        4.75, 9, pytest.approx(100 * 4.75 / 9))
    assert ev.score.passed is False
    got = lines(ev)
    assert got["licence"] == (1.0, 2, "default:check")
    assert got["clean"] == (None, None, "na")
    assert got["sign"] == (0.0, 0, "default:yes_no")
    assert got["display"] == (0.5, 1, "choice:fair")
    assert got["rating"] == (0.75, 0.75, "default:scale")
    assert got["brands"] == (0.5, 1, "rule:/sections/1/items/2/score")
    assert got["guidance"] == (0.0, 0, "default:check")  # shown, not ticked
    assert got["extra"] == (None, None, "missing")  # optional: left out
    assert "problems_found" not in got  # weight 0: not scored


def test_hidden_items_and_na_leave_the_denominator() -> None:
    ev = evaluate(ANSWERS_B)
    basics, service = ev.score.sections
    assert (basics.points, basics.max) == (4, 4)
    # display 2/2, rating n/a, brands 2/2, guidance hidden, extra 0.8/1
    assert (service.points, service.max, service.percentage) == (4.8, 5, 96)
    assert (ev.score.points, ev.score.max, ev.score.percentage) == (
        8.8, 9, pytest.approx(100 * 8.8 / 9))
    assert ev.score.passed is True
    assert lines(ev)["guidance"] == (None, None, "hidden")
    assert lines(ev)["extra"] == (0.8, 0.8, "rule:/sections/1/items/5/score")


def test_hidden_answer_is_dropped_before_later_rules_read_it() -> None:
    ev = evaluate(ANSWERS_B)
    assert ev.visible["guidance"] is False
    assert "guidance" not in ev.answers
    # follow_up is visible_if guidance: the client said true, but guidance is hidden
    assert ev.visible["follow_up"] is False
    assert "follow_up" not in ev.answers
    assert ev.answers["display"] == "good"


def test_missing_answers_required_scores_zero_optional_left_out_check_zero() -> None:
    ev = evaluate({"licence": True})
    got = lines(ev)
    assert got["brands"] == (0.0, 0, "missing")  # required
    assert got["clean"] == (None, None, "missing")  # optional
    assert got["display"] == (None, None, "missing")
    assert got["guidance"] == (0.0, 0, "default:check")  # a check: missing is false
    # licence 2/2 + brands 0/2 + guidance 0/1
    assert (ev.score.points, ev.score.max, ev.score.percentage) == (2, 5, 40)


def test_explanation_points_add_up_to_the_total() -> None:
    for answers in (ANSWERS_A, ANSWERS_B, {}):
        ev = evaluate(answers)
        counted = [s for s in ev.score.items if s.counted]
        assert sum(s.points or 0 for s in counted) == pytest.approx(ev.score.points)
        assert sum(s.weight for s in counted) == pytest.approx(ev.score.max)
        for sec in ev.score.sections:
            mine = [s.points or 0 for s in counted if s.section == sec.section]
            assert sum(mine) == pytest.approx(sec.points)


def test_explain_text_reads_like_the_sum() -> None:
    text = explain_text(evaluate(ANSWERS_A))
    assert "Basics [basics]: 2 of 3 points, 66.7%" in text
    assert "display title [display]: 0.5 × 2 = 1 (choice:fair)" in text
    assert "clean title [clean]: not counted (na)" in text
    assert text.splitlines()[-1] == (
        "Total: 2 + 2.75 = 4.75 of 9 points, 52.8% (pass mark 80%: not passed)")
    zh = explain_text(evaluate(ANSWERS_B), "zh")
    assert zh.splitlines()[-1] == "合计: 4 + 4.8 = 8.8 / 9 分, 97.8% (合格线 80%：合格)"


def test_score_rule_giving_null_is_not_applicable_and_out_of_range_is_clamped() -> None:
    d = copy.deepcopy(STANDARD)
    extra = d["sections"][1]["items"][5]
    extra["score"] = {"if": [{">": [{"var": "extra"}, 100]}, 2, {"<": [{"var": "extra"}, 0]},
                             None, 0.25]}
    assert lines(evaluate({"extra": 150}, definition=d))["extra"][:2] == (1.0, 1)
    assert lines(evaluate({"extra": -1}, definition=d))["extra"] == (
        None, None, "rule:/sections/1/items/5/score")
    assert lines(evaluate({"extra": 5}, definition=d))["extra"][:2] == (0.25, 0.25)


def test_single_choice_without_a_score_is_not_applicable() -> None:
    d = copy.deepcopy(STANDARD)
    d["sections"][1]["items"][0]["choices"].append({"value": "closed", "label": T})
    ev = evaluate({"display": "closed"}, definition=d)
    assert lines(ev)["display"] == (None, None, "choice:closed")


def test_an_unscored_survey_has_no_score_and_no_pass() -> None:
    survey = {**copy.deepcopy(STANDARD), "kind": "survey", "audience": "retailer"}
    ev = evaluate(ANSWERS_A, definition=survey)
    assert (ev.score.points, ev.score.max, ev.score.percentage) == (0, 0, None)
    assert ev.score.items == [] and ev.score.passed is None
    scored = evaluate(ANSWERS_A, definition={**survey, "scored": True})
    assert scored.score.percentage == pytest.approx(100 * 4.75 / 9)


def test_a_raising_score_rule_is_reported_and_scores_zero() -> None:
    d = copy.deepcopy(STANDARD)
    d["sections"][1]["items"][5]["score"] = {"if": [{"<": [{"var": "extra"}, 5]}, 1, 0.5]}
    ev = evaluate({"extra": "lots"}, definition=d)  # "lots" < 5: NaN
    assert lines(ev)["extra"] == (0.0, 0, "rule:/sections/1/items/5/score")
    assert [(e.pointer, e.error["type"]) for e in ev.errors] == [
        ("/sections/1/items/5/score", "NaN")]


# -- required, failed, alerts ---------------------------------------------------------------

def test_required_and_required_if_follow_visibility() -> None:
    rules = compile_standard(STANDARD)
    req = rules.requirements({"rating": 2, "display": "good"})
    assert req["brands"] is True and req["notes"] is True
    assert req["guidance"] is False and req["licence"] is False
    assert rules.requirements({"rating": 3})["notes"] is False
    assert rules.visibility({"display": "good"})["guidance"] is False
    assert rules.visibility({})["guidance"] is True


def test_failed_items_defaults_and_explicit_rules() -> None:
    ev = evaluate({**ANSWERS_A, "licence": False, "display": "poor"})
    failed = {f.item: (f.decided_by, f.severity) for f in ev.failed}
    assert failed == {
        "licence": ("rule:/sections/0/items/0/fail_if", "high"),
        "sign": ("default:yes_no", "medium"),
        "display": ("rule:/sections/1/items/0/fail_if", "medium"),
    }  # clean "na" and problems_found "no" (fail_if false) do not fail, and neither does
    # the unticked optional "guidance" check (a check fails only by its fail_if)
    assert [f.item for f in evaluate(ANSWERS_B).failed] == []  # hidden guidance never fails


def test_alerts_fill_their_messages_from_the_data() -> None:
    ev = evaluate({**ANSWERS_A, "licence": False}, ctx={"site": {"name": "Shop 7"}})
    alerts = {a.code: a for a in ev.alerts}
    # licence 0/2: total 2.75 of 9 → 30.6%; service unchanged at 45.8% (digits 1; points: 2)
    assert alerts["low_score"].severity == "high"
    assert alerts["low_score"].message == {
        "zh": "得分 30.6%（服务 45.8%）",
        "en": "Score 30.6% (service 45.8%), brands 30, site Shop 7"}
    assert alerts["no_licence"].message["en"] == "Licence not shown; 2.75 of 9 points"
    assert alerts["no_licence"].items == ["licence"]
    quiet = evaluate(ANSWERS_B)
    assert quiet.alerts == []


def test_missing_placeholder_values_show_a_dash() -> None:
    ev = evaluate({"licence": False})
    low = next(a for a in ev.alerts if a.code == "low_score")
    assert low.message["en"].endswith("brands —, site —")


def test_evaluation_is_json_serialisable() -> None:
    ev = evaluate(ANSWERS_A, ctx={"today": "2026-03-01"})
    raw = msgspec.json.encode(ev)
    back = msgspec.json.decode(raw, type=Evaluation)
    assert back == ev
    assert msgspec.json.decode(raw)["score"]["percentage"] == pytest.approx(100 * 4.75 / 9)


# -- calculated values, groups -------------------------------------------------------------

def test_calculated_values_run_in_dependency_order() -> None:
    d = {"kind": "standard", "id": "calc", "title": T, "site_kinds": ["r"], "sections": [
        {"id": "s", "title": T, "items": [
            item("margin", "number", calculate={"/": [{"var": "profit"}, {"var": "revenue"}]}),
            item("profit", "number", calculate={"-": [{"var": "revenue"}, {"var": "cost"}]}),
            item("revenue", "number"), item("cost", "number"),
            item("advice", "text", required_if={"<": [{"var": "margin"}, 0.1]}),
        ]}]}
    rules = compile_standard(d)
    ev = rules.evaluate({"revenue": 200, "cost": 190, "margin": 99})  # a client's margin: ignored
    assert ev.calculated == {"profit": 10, "margin": 0.05}
    assert ev.required["advice"] is True
    assert "margin" not in ev.answers


def test_a_calculation_cycle_is_reported_at_compile_time() -> None:
    d = {"kind": "standard", "id": "loop", "title": T, "site_kinds": ["r"], "sections": [
        {"id": "s", "title": T, "items": [
            item("a", "number", calculate={"+": [{"var": "b"}, 1]}),
            item("b", "number", calculate={"*": [{"var": "a"}, 2]}),
            item("c", "number", calculate={"var": "a"}),  # depends on the cycle, not in it
        ]}]}
    with pytest.raises(RuleError) as err:
        compile_standard(d)
    (p,) = err.value.problems
    assert (p.code, p.pointer, p.source) == ("calculation_cycle", "/sections/0/items/0/calculate",
                                             "loop")
    assert "a → b → a" in p.message


def test_three_bad_rules_are_reported_together_with_their_pointers() -> None:
    d = copy.deepcopy(STANDARD)
    d["sections"][0]["items"][1]["visible_if"] = {"and": [True, {"nope": 1}]}
    d["sections"][1]["items"][2]["score"] = {"if": 3}
    d["alerts"][0]["when"] = {"<": [{"var": "score.percentage"}]}
    with pytest.raises(RuleError) as err:
        compile_standard(d)
    got = sorted((p.pointer, p.code, p.source) for p in err.value.problems)
    assert got == [
        ("/alerts/0/when/<", "bad_arity", "test_visit"),
        ("/sections/0/items/1/visible_if/and/1", "unknown_operation", "test_visit"),
        ("/sections/1/items/2/score/if", "bad_arguments", "test_visit"),
    ]


def test_compiled_once_per_content() -> None:
    assert compile_standard(STANDARD) is compile_standard(copy.deepcopy(STANDARD))
    changed = copy.deepcopy(STANDARD)
    changed["pass_percentage"] = 50
    assert compile_standard(changed).evaluate(ANSWERS_A).score.passed is True


GROUPED: dict[str, Any] = {
    "kind": "standard", "id": "grouped", "title": T, "site_kinds": ["r"], "sections": [
        {"id": "s", "title": T, "items": [
            item("stock_ok", "yes_no"),
            item("shortages", "group", visible_if={"==": [{"var": "stock_ok"}, "no"]}, items=[
                item("brand", "text", required=True),
                item("qty", "number", fail_if={">": [{"var": "qty"}, 100]}),
                item("reason", "text", visible_if={"==": [{"var": "qty"}, 0]},
                     required_if={"!=": [{"var": "ctx.user.role"}, "leader"]}),
                item("counted", "check"),
            ]),
            item("any_empty", "check", visible_if={
                "some": [{"var": "shortages"}, {"==": [{"var": "qty"}, 0]}]}),
        ]}]}


def test_group_entries_get_their_own_visibility_and_required() -> None:
    rules = compile_standard(GROUPED)
    ev = rules.evaluate({"stock_ok": "no", "shortages": [
        {"brand": "A", "qty": 0}, {"brand": "B", "qty": 150, "reason": "dropped"}]},
        ctx={"user": {"role": "manager"}})
    first, second = ev.entries
    assert (first.index, first.pointer) == (0, "/shortages/0")
    assert first.visible["reason"] is True and first.required["reason"] is True
    assert second.visible["reason"] is False and second.required["reason"] is False
    # the hidden reason is dropped; an unticked check is kept as false
    assert ev.answers["shortages"][1] == {"brand": "B", "qty": 150, "counted": False}
    # only an explicit fail_if fails inside a group; the group fails, naming the entry
    assert second.failed == ["qty"] and first.failed == []
    (fail,) = [f for f in ev.failed if f.item == "shortages"]
    assert fail.entries == [1] and fail.decided_by == "rule:/sections/0/items/1/items/1/fail_if"
    assert ev.visible["any_empty"] is True
    assert all(s.item != "shortages" for s in ev.score.items)  # groups don't score


def test_a_missing_or_hidden_group_is_an_empty_list_for_rules() -> None:
    rules = compile_standard(GROUPED)
    for answers in ({}, {"stock_ok": "yes", "shortages": [{"brand": "A", "qty": 0}]}):
        ev = rules.evaluate(answers)
        assert ev.errors == []
        assert ev.visible["any_empty"] is False
        assert ev.entries == []


def test_numbers_in_messages_read_as_people_write_them() -> None:
    data = {"a": 85.5, "b": 90.0, "c": 2 / 3, "d": 85.25, "e": True, "f": ["x", 1.5]}
    assert fill("{a} {b} {c} {d} {e} {f} {g} {not a path}", data) == (
        "85.5 90 0.67 85.25 yes x, 1.5 — {not a path}")
    assert fill("{e}", data, "zh") == "是"
    assert format_number(85.25, 1) == "85.3"  # half up, as a person rounds
