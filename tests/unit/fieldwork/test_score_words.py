"""A score and its outcomes in words (rounds.runtime.forms.results): the score line follows
the definition's model and direction, rounded to its digits for display only; each outcome
says its level and why; lists show the figure and the first outcome's label."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from rounds.rules.standards import compile_standard
from rounds.runtime.forms import results

ROOT = Path(__file__).resolve().parents[3]
DEMERITS = json.loads((ROOT / "definitions/standards/retailer_conduct_demerits.json")
                      .read_text("utf-8"))
PRESSURE = json.loads((ROOT / "definitions/surveys/retailer_business_pressure.json")
                      .read_text("utf-8"))

CLEAN = {"licence_displayed": "yes", "licence_matches": "yes", "ecig_licensed": "na",
         "no_counterfeit": "yes", "legal_source": "yes", "minor_sign_displayed": "yes",
         "no_sales_to_minors": "yes", "prices_marked": "yes"}


def evaluated(definition: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = msgspec.to_builtins(compile_standard(definition).evaluate(answers))
    return out


def percentage_score(points: float, most: float, *, passed: bool | None = None,
                     pass_percentage: float | None = None) -> dict[str, Any]:
    pct = 100 * points / most
    return {"scored": True, "model": "percentage", "direction": "higher_better", "digits": 1,
            "has_total": True, "points": points, "max": most, "answered": 3, "value": pct,
            "percentage": pct, "pass_percentage": pass_percentage, "passed": passed,
            "sections": [], "items": []}


def test_a_percentage_is_rounded_to_the_digits_for_display_only() -> None:
    score = percentage_score(25, 30, passed=True, pass_percentage=80)
    zh = results.result_view(score, [], [], {}, "zh")
    en = results.result_view(score, [], [], {}, "en")
    assert zh.total.line == "83.3%（25 / 30 分）" and en.total.line == "83.3% (25 of 30 points)"
    assert zh.total.value == pytest.approx(83.33333333) and zh.total.note == ""
    # the pass mark's brackets are the language's own
    assert zh.pass_mark == "（合格线 80%）" and en.pass_mark == "(pass mark 80%)"
    assert (zh.verdict, en.verdict) == ("合格", "Passed")
    two = results.result_view({**score, "digits": 2}, [], [], {}, "en")
    assert two.total.figure == "83.33%"


def test_a_score_stored_before_models_reads_as_a_percentage() -> None:
    old = {"scored": True, "points": 9, "max": 10, "percentage": 90.0, "passed": True,
           "pass_percentage": 85, "sections": [], "items": []}
    view = results.result_view(old, [], [], {}, "zh")
    assert view.total.model == "percentage" and view.total.line == "90%（9 / 10 分）"


def test_a_demerit_sum_is_points_lower_better_and_no_percentage() -> None:
    answers = {**CLEAN, "licence_displayed": "no", "legal_source": "no",
               "minor_sign_displayed": "no"}
    ev = evaluated(DEMERITS, answers)
    zh = results.result_view(ev["score"], ev["outcomes"], ev["failed"], DEMERITS, "zh")
    en = results.result_view(ev["score"], ev["outcomes"], ev["failed"], DEMERITS, "en")
    assert (zh.total.line, en.total.line) == ("7 分", "7 points")
    assert (zh.total.note, en.total.note) == ("分数越低越好", "Lower scores are better")
    assert zh.pass_mark == "" and "%" not in zh.total.line
    lines = {s.section: s.score.line for s in en.sections}
    assert lines == {"licence": "1 point", "goods": "5 points", "conduct": "1 point"}
    # the sections go the total's way: not said again on each
    assert {s.note for s in zh.sections} == {""}


def test_a_mean_sub_scale_and_one_with_too_few_answers() -> None:
    answers = {"supply_short": "often", "cash_tight": "unsure", "stock_unsold": "always",
               "fewer_customers": "sometimes", "nearby_competition": "unsure",
               "price_pressure": "unsure"}
    ev = evaluated(PRESSURE, answers)
    zh = {s.section: s.score for s in
          results.result_view(ev["score"], [], [], PRESSURE, "zh").sections}
    en = {s.section: s.score for s in
          results.result_view(ev["score"], [], [], PRESSURE, "en").sections}
    assert zh["supply"].line == "均分 2.5（作答 2 项）" and zh["supply"].figure == "均分 2.5"
    assert en["supply"].line == "Mean 2.5 (2 answered)" and en["supply"].figure == "mean 2.5"
    assert zh["market"].value is None and zh["market"].figure == ""
    assert zh["market"].line == "作答项不足（1 项，至少需要 2 项），不计分"
    assert en["market"].line == "Too few items answered (1; at least 2 needed), so no score"


def test_a_form_without_a_total_says_so() -> None:
    score = {**percentage_score(3, 4), "has_total": False, "value": None, "percentage": None}
    assert results.result_view(score, [], [], {}, "zh").total.line == "不计总分，只计各部分得分"


def outcome(level: str | None, decided_by: str, value: float | None = None,
            **more: Any) -> dict[str, Any]:
    return {"outcome": "finding", "title": DEMERITS["outcomes"][0]["title"], "level": level,
            "label": next((lv["label"] for lv in DEMERITS["outcomes"][0]["levels"]
                           if lv["id"] == level), {}),
            "passed": None, "value": value, "decided_by": decided_by, "message": {}, **more}


def test_each_outcome_says_its_level_and_why() -> None:
    ev = evaluated(DEMERITS, {**CLEAN, "no_counterfeit": "no"})
    say = {lang: {o.how: o for o in results.outcome_lines([
        outcome("suspended", "forced:no_counterfeit", 5, passed=False,
                message=DEMERITS["outcomes"][0]["levels"][0]["message"]),
        outcome("fix", "band:/outcomes/0/levels/2", 5),
        outcome("compliant", "rule:/outcomes/0/levels/1/when", 0),
        outcome(None, "none"),
    ], ev["score"], ev["failed"], DEMERITS, lang)} for lang in ("zh", "en")}
    forced = say["zh"]["forced"]
    assert forced.heading == "检查结论：停业整顿" and forced.passed is False
    assert forced.why == "因未达标项「发现假冒卷烟」直接判定"  # the item's problem title
    assert forced.message.startswith("发现假冒卷烟，请立即停业整顿")
    assert say["en"]["forced"].why == "Set by the failed item “Counterfeit cigarettes found”"
    assert say["zh"]["band"].why == "总分 5，在 3–9 之间"
    assert say["en"]["band"].why == "Total 5, within 3–9"
    # the level's criteria as the definition has them: a band (here), a rule, or both
    assert say["en"]["rule"].why == "Total 0, within 0–2"
    ruled = {**DEMERITS, "outcomes": [{**DEMERITS["outcomes"][0], "levels": [
        {**lv, "when": {"==": [1, 1]}} for lv in DEMERITS["outcomes"][0]["levels"]]}]}
    both = results.outcome_lines([outcome("fix", "rule:/outcomes/0/levels/2/when", 5)],
                                 ev["score"], [], ruled, "zh")
    assert both[0].why == "总分 5，在 3–9 之间，且符合此等级的判定条件"
    only_rule = {**DEMERITS, "outcomes": [{**DEMERITS["outcomes"][0], "levels": [
        {"id": "fix", "label": {"zh": "限期整改"}, "when": {"==": [1, 1]}}]}]}
    assert results.outcome_lines([outcome("fix", "rule:/outcomes/0/levels/0/when", 5)],
                                 ev["score"], [], only_rule, "en")[0].why == \
        "The level's condition is met"
    assert say["zh"]["none"].heading == "检查结论：未定级"
    assert say["zh"]["none"].why == "没有符合的等级"


def test_a_band_with_only_a_lower_bound_and_the_fallback() -> None:
    ev = evaluated(DEMERITS, CLEAN)
    lines = results.outcome_lines([outcome("non_compliant", "band:/outcomes/0/levels/3", 12),
                                   outcome("compliant", "fallback:/outcomes/0/levels/1")],
                                  ev["score"], [], DEMERITS, "zh")
    assert [o.why for o in lines] == ["总分 12，不低于 10", "不属于其他任何等级"]


def test_a_list_row_shows_the_figure_the_direction_and_the_outcome() -> None:
    row = results.listed(12.0, "sum", "lower_better", "non_compliant",
                         definition=DEMERITS, lang="zh")
    assert (row.figure, row.note, row.outcome) == ("12 分", "越低越好", "经营不规范")
    en = results.listed(2.4567, "mean", "higher_better", None, definition=PRESSURE,
                        lang="en")
    assert (en.figure, en.note, en.outcome) == ("mean 2.5", "", "")
    old = results.listed(91.25, "percentage", "higher_better", None, definition={}, lang="en")
    assert old.figure == "91.3%"
