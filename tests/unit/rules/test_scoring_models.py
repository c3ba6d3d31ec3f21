"""Scoring models as definition data (issue 11), each number computed by hand.

Models (percentage, sum, mean), direction, sub-scales without a total, min_answered, full
precision, polarity (``good``), reverse-scored items, absolute points, the score read by
calculated items (and the cycles that reading makes), outcomes with bands, rules, forced
levels and fallbacks, and checks between fields.
"""

from __future__ import annotations

import copy
from typing import Any

import msgspec
import pytest

from rounds.errors import RuleError
from rounds.rules.explain import explain_text
from rounds.rules.results import Evaluation
from rounds.rules.standards import compile_standard

T = {"zh": "项", "en": "Item"}


def item(id: str, type: str, **kw: Any) -> dict[str, Any]:
    return {"id": id, "type": type, "title": {"zh": f"{id} 中", "en": f"{id} title"}, **kw}


def section(id: str, *items: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"id": id, "title": {"zh": f"{id} 中", "en": f"{id} title"}, "items": list(items),
            **kw}


def standard(*sections: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"kind": "standard", "id": kw.pop("id", "scheme"), "title": T,
            "site_kinds": ["retailer"], "sections": list(sections), **kw}


def level(id: str, **kw: Any) -> dict[str, Any]:
    return {"id": id, "label": {"zh": f"{id} 级", "en": f"level {id}"}, **kw}


def evaluate(definition: dict[str, Any], answers: dict[str, Any],
             ctx: dict[str, Any] | None = None) -> Evaluation:
    return compile_standard(definition).evaluate(answers, ctx)


def line(ev: Evaluation, item_id: str) -> tuple[float | None, float, bool, str, bool]:
    (s,) = [s for s in ev.score.items if s.item == item_id]
    return s.points, s.weight, s.counted, s.decided_by, s.reversed


def problems(definition: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(RuleError) as err:
        compile_standard(definition)
    return [(p.code, p.pointer) for p in err.value.problems]


# -- full precision ------------------------------------------------------------------------------

def test_a_tenth_of_a_point_beside_two_thousand_fails_a_100_pass_mark() -> None:
    d = standard(section("s", item("big", "check", weight=2000),
                         item("small", "check", weight=0.1)), pass_percentage=100)
    ev = evaluate(d, {"big": True, "small": False})
    # 2000 of 2000.1: 99.995…%, which a one-decimal percentage used to round up to 100
    assert ev.score.points == 2000
    assert ev.score.max == 2000 + 0.1
    assert ev.score.percentage == 100 * 2000 / (2000 + 0.1)
    assert ev.score.percentage < 100
    assert ev.score.passed is False
    assert evaluate(d, {"big": True, "small": True}).score.passed is True


def test_a_score_in_a_message_shows_the_digits_of_its_score_line() -> None:
    # 2 of 3 is 66.666…%: the total shows 0 decimals, the section 2; other numbers at most 2
    d = standard(section("s", item("a", "check"), item("b", "check"), item("c", "check"),
                         scoring={"digits": 2}),
                 scoring={"digits": 0},
                 alerts=[{"code": "low", "severity": "low", "when": True, "message": {
                     "zh": "得分 {score.percentage}%，本节 {score.sections.s.percentage}%，"
                           "满分 {score.max}，{score.points} 分，{n}",
                     "en": "Score {score.percentage}%, section {score.sections.s.percentage}%, "
                           "of {score.max}, {score.points} points, {n}",
                     "params": {"n": {"/": [2, 3]}}}}])
    ev = evaluate(d, {"a": True, "b": True})
    assert ev.score.percentage == 100 * 2 / 3  # kept whole; only the words round
    (alert,) = ev.alerts
    assert alert.message == {"zh": "得分 67%，本节 66.67%，满分 3，2 分，0.67",
                             "en": "Score 67%, section 66.67%, of 3, 2 points, 0.67"}


def test_sums_run_left_to_right_in_document_order() -> None:
    # 0.1 + 0.2 + 0.3 left to right is 0.6000000000000001; fsum would give 0.6.
    d = standard(section("s", *[item(f"c{i}", "check", weight=w)
                               for i, w in enumerate((0.1, 0.2, 0.3))]))
    ev = evaluate(d, {"c0": True, "c1": True, "c2": True})
    assert ev.score.points == 0.1 + 0.2 + 0.3 == 0.6000000000000001
    assert ev.score.sections[0].points == 0.6000000000000001


# -- demerits: sum, lower is better, a forced closure ----------------------------------------------

DEMERITS = standard(
    section("kitchen",
            item("pests", "yes_no", good="no", weight=25, forces={"grade": "closure"}),
            item("temperature", "yes_no", good="no", weight=10),
            item("labels", "yes_no", good="no", weight=5, allow_na=True),
            item("sink", "yes_no", good="no", weight=5)),
    id="demerits",
    scoring={"model": "sum", "direction": "lower_better", "digits": 0},
    outcomes=[{"id": "grade", "title": {"zh": "等级", "en": "Grade"}, "levels": [
        level("closure", passed=False),
        level("a", min=0, max=9, passed=True),
        level("b", min=10, max=24, passed=True,
              message={"zh": "扣 {score.value} 分", "en": "{score.value} demerits"}),
        level("c", min=25, max=1000, passed=False),
        level("fail", passed=False)]}])


def test_demerits_count_the_bad_answers() -> None:
    ev = evaluate(DEMERITS, {"pests": "no", "temperature": "yes", "labels": "na",
                             "sink": "yes"})
    # temperature 10 + sink 5 demerits; pests (good) 0; labels n/a: out of 25 + 10 + 5
    assert line(ev, "pests") == (0.0, 25, True, "default:yes_no", False)
    assert line(ev, "temperature") == (10, 10, True, "default:yes_no", False)
    assert line(ev, "labels")[2:4] == (False, "na")
    sc = ev.score
    assert (sc.model, sc.direction, sc.digits) == ("sum", "lower_better", 0)
    assert (sc.points, sc.max, sc.answered, sc.value, sc.percentage) == (15, 40, 3, 15, None)
    assert (sc.section_max, sc.section_min) == (15, 15)
    # the bad answer fails: "yes" where good is "no"
    assert [(f.item, f.decided_by) for f in ev.failed] == [
        ("temperature", "default:yes_no"), ("sink", "default:yes_no")]
    (grade,) = ev.outcomes
    assert (grade.level, grade.value, grade.passed) == ("b", 15, True)
    assert grade.decided_by == "band:/outcomes/0/levels/2"
    assert grade.label == {"zh": "b 级", "en": "level b"}
    assert grade.message == {"zh": "扣 15 分", "en": "15 demerits"}
    assert sc.passed is True  # from the outcome: a sum has no percentage


def test_a_critical_violation_forces_closure_whatever_the_total() -> None:
    ev = evaluate(DEMERITS, {"pests": "yes", "temperature": "no", "labels": "no",
                             "sink": "no"})
    assert ev.score.value == 25  # band c by points, but pests forces closure
    (grade,) = ev.outcomes
    assert (grade.level, grade.passed, grade.decided_by) == ("closure", False, "forced:pests")
    assert grade.message == {}
    assert ev.score.passed is False


def test_a_forced_only_level_is_no_fallback_and_the_fallback_comes_last() -> None:
    d = copy.deepcopy(DEMERITS)
    d["outcomes"][0]["levels"][1]["min"] = 1  # a band that 0 misses; b and c miss too
    ev = evaluate(d, {"pests": "no", "temperature": "no", "labels": "na", "sink": "no"})
    assert ev.score.value == 0
    (grade,) = ev.outcomes
    # closure has no criteria but is forced by pests: only by force; "fail" is the fallback
    assert (grade.level, grade.decided_by) == ("fail", "fallback:/outcomes/0/levels/4")
    d["outcomes"][0]["levels"].pop()  # no fallback: no level
    (grade,) = evaluate(d, {"pests": "no", "temperature": "no", "labels": "na",
                            "sink": "no"}).outcomes
    assert (grade.level, grade.label, grade.passed, grade.decided_by) == (
        None, {}, None, "none")


def test_a_check_in_a_lower_better_section_counts_when_it_is_not_good() -> None:
    d = standard(section("hazards", item("blocked_exit", "check", good=False, weight=3),
                         item("extinguisher", "check", weight=2),
                         scoring={"direction": "lower_better", "model": "sum"}))
    ev = evaluate(d, {"blocked_exit": True, "extinguisher": False})
    # blocked_exit ticked (bad: counts 3); extinguisher unticked (bad: counts 2)
    assert ev.score.sections[0].value == 5
    assert ev.score.sections[0].direction == "lower_better"
    # the definition's total stays percentage and higher_better: its items counted as above
    assert (ev.score.points, ev.score.max, ev.score.percentage) == (5, 5, 100)
    # a check fails by default only when it has `good`
    assert [(f.item, f.decided_by) for f in ev.failed] == [("blocked_exit", "default:check")]


# -- sub-scales: mean of answered items, min_answered, no total ----------------------------------

SUBSCALES = {
    "kind": "survey", "id": "wellbeing", "title": T, "audience": "consumer", "scored": True,
    "scoring": {"model": "mean", "total": False, "min_answered": 2, "digits": 2},
    "sections": [
        section("mood", *[item(f"m{i}", "scale", min=1, max=5, points="value", allow_na=True)
                          for i in range(3)]),
        section("sleep", *[item(f"s{i}", "scale", min=1, max=5, points="value",
                                allow_na=True) for i in range(3)]),
        section("notes", item("comment", "text")),
    ]}


def test_a_mean_of_answered_items_with_min_answered_and_no_total() -> None:
    ev = evaluate(SUBSCALES, {"m0": 4, "m1": 5, "m2": "na", "s0": 2, "s1": "na"})
    mood, sleep, notes = ev.score.sections
    # mood (4 + 5) / 2; sleep one answered (s2 optional, unanswered), below min_answered 2
    assert (mood.model, mood.points, mood.max, mood.answered, mood.value) == (
        "mean", 9, 10, 2, 4.5)
    assert mood.percentage is None and mood.digits == 2
    assert (sleep.points, sleep.answered, sleep.value) == (2, 1, None)
    assert (notes.answered, notes.value) == (0, None)  # no scoring item: no value
    assert line(ev, "m0") == (4, 5, True, "value", False)
    sc = ev.score
    assert (sc.has_total, sc.points, sc.max, sc.answered) == (False, 11, 15, 3)
    assert (sc.value, sc.percentage, sc.passed) == (None, None, None)
    assert (sc.section_max, sc.section_min) == (4.5, 4.5)
    both = evaluate(SUBSCALES, {"m0": 4, "m1": 5, "s0": 2, "s1": 3, "s2": 3})
    assert [s.value for s in both.score.sections] == [4.5, 8 / 3, None]
    assert (both.score.section_max, both.score.section_min) == (4.5, 8 / 3)


def test_a_section_model_overrides_the_definitions() -> None:
    d = copy.deepcopy(SUBSCALES)
    d["scoring"] = {"model": "sum"}
    d["sections"][1]["scoring"] = {"model": "mean", "min_answered": 1}
    ev = evaluate(d, {"m0": 4, "m1": 5, "s0": 2})
    mood, sleep, _ = ev.score.sections
    assert (mood.model, mood.value) == ("sum", 9)
    assert (sleep.model, sleep.value) == ("mean", 2)
    assert (ev.score.model, ev.score.value) == ("sum", 11)  # over all items, not sections


# -- reverse-scored items, absolute points -------------------------------------------------------

def test_reverse_scored_items() -> None:
    d = standard(section(
        "s",
        item("calm", "scale", min=1, max=5),
        item("worried", "scale", min=1, max=5, reverse=True),
        item("tired", "scale", min=1, max=5, points="value", reverse=True),
        item("stress", "single_choice", reverse=True, choices=[
            {"value": "never", "label": T, "points": 0},
            {"value": "sometimes", "label": T, "points": 1},
            {"value": "often", "label": T, "points": 3},
            {"value": "dont_know", "label": T, "points": None}]),
        item("grade", "single_choice", weight=2, reverse=True, choices=[
            {"value": "good", "label": T, "score": 1},
            {"value": "fair", "label": T, "score": 0.25}])))
    ev = evaluate(d, {"calm": 2, "worried": 2, "tired": 2, "stress": "sometimes",
                      "grade": "fair"})
    assert line(ev, "calm") == (0.25, 1, True, "default:scale", False)
    assert line(ev, "worried") == (0.75, 1, True, "default:scale", True)  # 1 − 0.25
    assert line(ev, "tired") == (4, 5, True, "value", True)  # (5 + 1) − 2
    assert line(ev, "stress") == (2, 3, True, "choice:sometimes", True)  # (3 + 0) − 1
    assert line(ev, "grade") == (1.5, 2, True, "choice:fair", True)  # (1 − 0.25) × 2
    # 0.25 + 0.75 + 4 + 2 + 1.5 = 8.5 of 1 + 1 + 5 + 3 + 2 = 12
    assert (ev.score.points, ev.score.max) == (8.5, 12)
    assert ev.score.percentage == 100 * 8.5 / 12
    dont_know = evaluate(d, {"stress": "dont_know"})
    assert line(dont_know, "stress") == (None, 3, False, "choice:dont_know", False)


def test_absolute_points_per_choice_and_the_most_an_item_can_give() -> None:
    d = standard(section("s", item("hygiene", "single_choice", choices=[
        {"value": "a", "label": T, "points": 0},
        {"value": "b", "label": T, "points": 75},
        {"value": "c", "label": T, "points": 20}])), scoring={"model": "sum"})
    ev = evaluate(d, {"hygiene": "c"})
    assert line(ev, "hygiene") == (20, 75, True, "choice:c", False)
    (s,) = ev.score.items
    assert s.fraction == 20 / 75
    assert ev.score.value == 20 and ev.score.percentage is None


def test_numeric_choices_scored_by_value_accept_numbers() -> None:
    d = standard(section("s", item("q", "single_choice", points="value", choices=[
        {"value": v, "label": T} for v in ("0", "1", "1.5", "3")])),
        scoring={"model": "sum"})
    rules = compile_standard(d)
    for sent in (1.5, "1.5"):
        ev = rules.evaluate({"q": sent})
        assert ev.answers["q"] == "1.5"  # kept as the choice's value
        assert line(ev, "q") == (1.5, 3, True, "choice:1.5", False)
    assert rules.form({"q": 3}).answers["q"] == "3"
    assert rules.evaluate({"q": 3.0}).answers["q"] == "3"


# -- polarity ----------------------------------------------------------------------------------

def test_good_no_on_a_yes_no_item() -> None:
    d = standard(section("s", item("advertising", "yes_no", good="no"),
                         item("licence", "yes_no")))
    ok = evaluate(d, {"advertising": "no", "licence": "yes"})
    assert line(ok, "advertising") == (1, 1, True, "default:yes_no", False)
    assert ok.failed == [] and ok.score.percentage == 100
    bad = evaluate(d, {"advertising": "yes", "licence": "no"})
    assert line(bad, "advertising")[0] == 0
    assert [(f.item, f.decided_by) for f in bad.failed] == [
        ("advertising", "default:yes_no"), ("licence", "default:yes_no")]


def test_fail_if_overrides_the_polarity_default() -> None:
    d = standard(section("s", item("advertising", "yes_no", good="no", fail_if=False),
                         item("sealed", "check", good=True,
                              fail_if={"==": [{"var": "ctx.site.kind"}, "depot"]})))
    ev = evaluate(d, {"advertising": "yes", "sealed": False}, {"site": {"kind": "shop"}})
    assert ev.failed == []


# -- bands over a questionnaire of string values ---------------------------------------------------

QUESTIONNAIRE = {
    "kind": "survey", "id": "phq", "title": T, "audience": "consumer", "scored": True,
    "scoring": {"model": "sum", "direction": "lower_better", "digits": 0},
    "sections": [section("q", *[item(f"q{i}", "single_choice", points="value", required=True,
                                     choices=[{"value": v, "label": T}
                                              for v in ("0", "1", "2", "3")])
                                for i in range(4)])],
    "outcomes": [{"id": "severity", "title": {"zh": "严重程度", "en": "Severity"},
                  "levels": [level("minimal", min=0, max=4), level("mild", min=5, max=9),
                             level("moderate", min=10, max=12)]}],
}


@pytest.mark.parametrize(("answers", "total", "band"), [
    ({"q0": "0", "q1": "1", "q2": "1", "q3": "2"}, 4, "minimal"),
    ({"q0": 1, "q1": 1, "q2": "1", "q3": 2}, 5, "mild"),  # numbers or strings
    ({"q0": "3", "q1": "3", "q2": "3", "q3": "0"}, 9, "mild"),
    ({"q0": "3", "q1": "3", "q2": "3", "q3": "3"}, 12, "moderate"),
    ({"q0": "3", "q1": "1"}, 4, "minimal"),  # q2, q3 required and unanswered: 0, counted
])
def test_a_banded_questionnaire(answers: dict[str, Any], total: float, band: str) -> None:
    ev = evaluate(QUESTIONNAIRE, answers)
    assert (ev.score.value, ev.score.max, ev.score.answered) == (total, 12, 4)
    (sev,) = ev.outcomes
    assert (sev.outcome, sev.level, sev.value) == ("severity", band, total)
    assert sev.title == {"zh": "严重程度", "en": "Severity"}
    assert sev.passed is None and ev.score.passed is None  # no level says


def test_a_band_never_holds_on_a_null_value() -> None:
    d = copy.deepcopy(SUBSCALES)
    d["outcomes"] = [{"id": "mood", "title": T, "of": "mood", "levels": [
        level("low", min=0, max=2.5), level("high", min=2.5, max=5)]}]
    assert evaluate(d, {"m0": 4}).outcomes[0].level is None  # one answered: no value
    (o,) = evaluate(d, {"m0": 2, "m1": 3}).outcomes
    assert (o.level, o.value) == ("low", 2.5)  # inclusive: the first band that holds


# -- a rating capped by the worst area (rules reading section scores) ------------------------------

RATING = standard(
    section("hygiene", item("h1", "single_choice", choices=[
        {"value": v, "label": T, "points": p} for v, p in (("good", 0), ("fair", 5),
                                                            ("poor", 10))])),
    section("structure", item("s1", "single_choice", choices=[
        {"value": v, "label": T, "points": p} for v, p in (("good", 0), ("fair", 5),
                                                            ("poor", 15))])),
    id="rating",
    scoring={"model": "sum", "direction": "lower_better"},
    outcomes=[{"id": "stars", "title": T, "levels": [
        level("five", min=0, max=5, when={"<=": [{"var": "score.section_max"}, 5]},
              passed=True),
        level("three", when={"<=": [{"var": "score.section_max"}, 10]}, passed=True),
        level("zero", passed=False)]}])


def test_a_rating_capped_by_the_worst_area() -> None:
    good = evaluate(RATING, {"h1": "good", "s1": "fair"})
    assert (good.score.value, good.score.section_max, good.score.section_min) == (5, 5, 0)
    assert [(o.level, o.decided_by) for o in good.outcomes] == [
        ("five", "band:/outcomes/0/levels/0")]
    capped = evaluate(RATING, {"h1": "poor", "s1": "good"})
    assert capped.score.value == 10
    assert [(o.level, o.decided_by) for o in capped.outcomes] == [
        ("three", "rule:/outcomes/0/levels/1/when")]
    worst = evaluate(RATING, {"h1": "good", "s1": "poor"})
    assert [(o.level, o.decided_by, o.passed) for o in worst.outcomes] == [
        ("zero", "fallback:/outcomes/0/levels/2", False)]
    assert worst.score.passed is False


def test_passed_from_the_percentage_when_no_outcome_says() -> None:
    d = standard(section("s", item("a", "check"), item("b", "check")), pass_percentage=50,
                 outcomes=[{"id": "o", "title": T, "levels": [level("any")]}])
    ev = evaluate(d, {"a": True})
    assert ev.outcomes[0].level == "any" and ev.outcomes[0].passed is None
    assert ev.score.passed is True  # 50 >= 50


# -- the score read by calculated items, fail_if and alerts ----------------------------------------

READS_SCORE = standard(
    section("s",
            item("a", "check", weight=3), item("b", "check"),
            item("gap", "number", calculate={"-": [100, {"var": "score.percentage"}]}),
            item("half_gap", "number", calculate={"/": [{"var": "gap"}, 2]},
                 fail_if={">": [{"var": "half_gap"}, 10]}),
            item("plain", "number", calculate={"*": [{"var": "b_count"}, 2]}),
            item("b_count", "number", calculate={"if": [{"var": "b"}, 1, 0]}),
            item("note", "text", visible_if={"var": "b"})),
    id="reads_score",
    alerts=[{"code": "low", "severity": "high",
             "when": {"and": [{"<": [{"var": "score.value"}, 80]},
                              {"==": [{"var": "score.passed"}, False]},
                              {"in": ["half_gap", {"var": "failed"}]},
                              {"==": [{"var": "outcome.band"}, "under"]}]},
             "message": {"zh": "差 {gap}", "en": "{gap} short, {score.sections.s.value}% in s, "
                                                 "best section {score.section_max}"}}],
    pass_percentage=80,
    outcomes=[{"id": "band", "title": T, "levels": [
        level("over", min=80, max=100), level("under", min=0, max=80)]}])


def test_calculated_items_read_the_score_after_scoring() -> None:
    ev = evaluate(READS_SCORE, {"a": False, "b": True})
    assert ev.score.percentage == 25  # 1 of 4
    assert ev.calculated == {"b_count": 1, "plain": 2, "gap": 75, "half_gap": 37.5}
    assert [(f.item, f.decided_by) for f in ev.failed] == [
        ("half_gap", "rule:/sections/0/items/3/fail_if")]
    assert [i.item for i in ev.score.items] == ["a", "b"]  # calculated items never score
    (alert,) = ev.alerts
    assert alert.message["en"] == "75 short, 25% in s, best section 25"
    state = compile_standard(READS_SCORE).form({"a": True, "b": True})
    assert state.calculated["gap"] == 0 and state.calculated["half_gap"] == 0
    assert state.visible["note"] is True


def test_fail_if_reads_the_score() -> None:
    d = standard(section("s", item("a", "check"), item("b", "check"),
                         item("sign_off", "check",
                              fail_if={"<": [{"var": "score.percentage"}, 100]})))
    assert [f.item for f in evaluate(d, {"a": True, "b": False, "sign_off": True}).failed] == [
        "sign_off"]


def test_rules_that_decide_the_score_may_not_read_it() -> None:
    d = copy.deepcopy(READS_SCORE)
    items = d["sections"][0]["items"]
    items[6]["visible_if"] = {">": [{"var": "half_gap"}, 1]}  # through gap to the score
    items[1]["required_if"] = {"<": [{"var": "score.points"}, 1]}
    d["checks"] = [{"id": "c", "item": "a", "when": {"var": "score.value"},
                    "message": T}]
    got = problems(d)
    assert sorted(got) == [
        ("score_cycle", "/checks/0/when"),
        ("score_cycle", "/sections/0/items/1/required_if/</0"),
        ("score_cycle", "/sections/0/items/6/visible_if/>/0"),
    ]
    with pytest.raises(RuleError) as err:
        compile_standard(d)
    messages = {p.pointer: p.message for p in err.value.problems}
    assert messages["/sections/0/items/6/visible_if/>/0"].endswith(
        "note → half_gap → gap → score")


def test_a_calculated_item_that_scores_may_not_read_the_score() -> None:
    d = standard(section("s", item("a", "check"), item(
        "again", "number", weight=1, calculate={"var": "score.points"},
        score={">": [{"var": "again"}, 0]})))
    assert sorted(problems(d)) == [("score_cycle", "/sections/0/items/1/calculate"),
                                   ("score_cycle", "/sections/0/items/1/score/>/0")]


def test_a_group_whose_entries_read_the_score_settles_after_it() -> None:
    d = standard(section(
        "s", item("a", "check"), item("b", "check"),
        item("actions", "group", items=[
            item("target", "number", calculate={"-": [100, {"var": "score.percentage"}]}),
            item("owner", "text", required=True)]),
        item("count", "number", calculate={"count": [{"var": "actions"}]})))
    rules = compile_standard(d)
    ev = rules.evaluate({"a": True, "actions": [{"owner": "x"}, {}]})
    assert [e.calculated for e in ev.entries] == [{"target": 50}, {"target": 50}]
    assert ev.calculated == {"count": 2}
    assert [e.required["owner"] for e in ev.entries] == [True, True]
    assert rules.requirements({})["actions"] is False
    d["sections"][0]["items"][1]["score"] = {"var": "count"}  # b's score reads it
    assert problems(d) == [("score_cycle", "/sections/0/items/1/score")]


def test_an_entry_item_that_fails_forces_its_level() -> None:
    d = standard(section("s", item("ok", "yes_no"), item("finds", "group", items=[
        item("critical", "check", fail_if={"var": "critical"}, forces={"v": "stop"})])),
        outcomes=[{"id": "v", "title": T, "levels": [level("stop", passed=False),
                                                     level("go", passed=True)]}])
    ev = evaluate(d, {"ok": "yes", "finds": [{"critical": False}, {"critical": True}]})
    assert [(o.level, o.decided_by) for o in ev.outcomes] == [("stop", "forced:critical")]
    quiet = evaluate(d, {"ok": "yes", "finds": [{"critical": False}]})
    assert [(o.level, o.decided_by) for o in quiet.outcomes] == [
        ("go", "fallback:/outcomes/0/levels/1")]


def test_weight_0_still_turns_scoring_off() -> None:
    d = standard(section("s", item("q", "single_choice", weight=0, choices=[
        {"value": "a", "label": T, "points": 3}]), item("c", "check")))
    assert [i.item for i in evaluate(d, {"q": "a"}).score.items] == ["c"]


# -- checks between fields -------------------------------------------------------------------------

CHECKED = standard(
    section("s", item("inspected_on", "date"), item("follow_up_on", "date",
                                                    visible_if={"var": "needs_follow_up"}),
            item("needs_follow_up", "check"), item("counted", "number"),
            item("sold", "number")),
    id="checked",
    checks=[
        {"id": "follow_up_after_inspection", "item": "follow_up_on",
         "when": {"<": [{"var": "follow_up_on"}, {"var": "inspected_on"}]},
         "message": {"zh": "复查日期不能早于检查日期（{inspected_on}）",
                     "en": "The follow-up date must be on or after {inspected_on}"}},
        {"id": "sold_not_above_counted", "item": "sold",
         "when": {">": [{"var": "sold"}, {"var": "counted"}]},
         "message": {"zh": "售出 {n} 条多于清点数", "en": "{n} sold is more than counted",
                     "params": {"n": {"var": "sold"}}}},
        {"id": "raises", "item": "counted",
         "when": {"<": [{"throw": "boom"}, 1]}, "message": T},
    ])


def test_checks_between_fields_fail_with_their_message() -> None:
    rules = compile_standard(CHECKED)
    answers = {"inspected_on": "2026-03-10", "follow_up_on": "2026-03-01",
               "needs_follow_up": True, "counted": 5, "sold": 7}
    state = rules.form(answers)
    assert [(c.check, c.item, c.pointer, c.code) for c in state.checks] == [
        ("follow_up_after_inspection", "follow_up_on", "/answers/follow_up_on", "check_failed"),
        ("sold_not_above_counted", "sold", "/answers/sold", "check_failed")]
    assert state.checks[0].message == {
        "zh": "复查日期不能早于检查日期（2026-03-10）",
        "en": "The follow-up date must be on or after 2026-03-10"}
    assert state.checks[1].message["en"] == "7 sold is more than counted"
    # a check that raises does not fail; the error is listed
    assert [e.pointer for e in state.errors] == ["/checks/2/when"]
    assert rules.evaluate(answers).checks == state.checks
    # a check on a hidden item does not apply; one that holds does not fail
    quiet = rules.form({**answers, "needs_follow_up": False, "sold": 5})
    assert quiet.checks == []


# -- the shape of what is stored -------------------------------------------------------------------

def test_the_evaluation_keeps_its_shape_through_json() -> None:
    ev = evaluate(DEMERITS, {"pests": "no", "temperature": "yes", "sink": "no"})
    raw = msgspec.json.encode(ev)
    assert msgspec.json.decode(raw, type=Evaluation) == ev
    data = msgspec.json.decode(raw)
    assert set(data["score"]) == {
        "scored", "model", "direction", "digits", "has_total", "points", "max", "answered",
        "value", "percentage", "pass_percentage", "passed", "section_max", "section_min",
        "sections", "items"}
    assert set(data["score"]["sections"][0]) == {
        "section", "title", "model", "direction", "digits", "points", "max", "answered",
        "value", "percentage"}
    assert set(data["outcomes"][0]) == {
        "outcome", "title", "level", "label", "passed", "value", "decided_by", "message"}
    assert data["checks"] == []


def test_an_old_stored_score_still_reads() -> None:
    from rounds.rules.results import Score
    old = {"scored": True, "points": 1, "max": 2, "percentage": 50.0, "pass_percentage": None,
           "passed": None, "sections": [{"section": "s", "title": T, "points": 1, "max": 2,
                                         "percentage": 50.0}], "items": []}
    sc = msgspec.convert(old, Score)
    assert (sc.model, sc.direction, sc.has_total, sc.value) == (
        "percentage", "higher_better", True, None)


def test_explain_text_follows_the_model() -> None:
    answers = {"pests": "no", "temperature": "yes", "labels": "na", "sink": "yes"}
    en = explain_text(evaluate(DEMERITS, answers)).splitlines()
    assert en[0] == "kitchen title [kitchen]: 15 of 40 points, lower is better"
    assert en[2] == "  temperature title [temperature]: 10 of 10 points (default:yes_no)"
    assert en[-2:] == ["Total: 15 = 15 of 40 points, lower is better",
                       "Grade [grade]: level b [b] (15 is in its range), passed"]
    zh = explain_text(evaluate(DEMERITS, {"pests": "yes"}), "zh").splitlines()
    assert zh[-1] == "等级 [grade]：closure 级 [closure]（因「pests 中」未达标），不合格"
    mean = explain_text(evaluate(SUBSCALES, {"m0": 4, "m1": 5, "s0": 2})).splitlines()
    assert mean[0] == "mood title [mood]: 9 of 10 points, mean 4.5 (2 answered)"
    assert "sleep title [sleep]: 2 of 5 points, no score (1 answered)" in mean
    assert mean[-1] == "Total: 9 + 2 = 11 of 15 points, no total (section scores only)"
    d = standard(section("s", item("worried", "scale", min=1, max=5, reverse=True)))
    assert "  worried title [worried]: 0.75 × 1 = 0.75 (default:scale, reversed)" in (
        explain_text(evaluate(d, {"worried": 2})).splitlines())
