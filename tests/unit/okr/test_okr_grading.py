"""Grading an OKR by hand: grade rules, scores from the grades table or the rule's number,
weights rolled up to objectives and the whole, key results without a value left out."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from rounds.definitions.okr import (
    NO_VALUE,
    RULE_FAILED,
    below,
    compile_okr,
    grade,
)

REPO = Path(__file__).resolve().parents[3]


def content(okr_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((REPO / "definitions" / "okrs" / f"{okr_id}.json")
                                      .read_text(encoding="utf-8"))
    return data


def figures(**values: float | None) -> dict[str, tuple[float | None, dict[str, float]]]:
    return {k: (v, {}) for k, v in values.items()}


def test_service_quality_by_hand() -> None:
    okr = compile_okr(content("service_quality"))
    r = grade(okr, figures(visits_done=0.92, checkins_flagged=0.04, visit_score=91,
                           satisfaction_score=70, issues_on_time=0.8, issues_open=0))
    by = {k.id: (k.grade, k.score) for k in r.key_results}
    assert by == {"visits_done": ("B", 0.75), "checkins_flagged": ("B", 0.75),
                  "visit_score": ("A", 1.0), "satisfaction_score": ("C", 0.5),
                  "issues_on_time": ("C", 0.5), "issues_open": ("A", 1.0)}
    # objectives: 0.7×0.75 + 0.3×0.75 = 0.75; 0.6×1 + 0.4×0.5 = 0.8; 0.7×0.5 + 0.3×1 = 0.65
    assert [round(o.score or 0, 9) for o in r.objectives] == [0.75, 0.8, 0.65]
    # whole: 0.4×0.75 + 0.4×0.8 + 0.2×0.65 = 0.75 → B (the best grade at most 0.75)
    assert r.score == pytest.approx(0.75)
    assert r.grade == "B"
    assert r.left_out == []
    assert [k.id for k in below(okr, r)] == []  # 0.5 is not below notify_below 0.5


def test_key_results_without_a_value_are_left_out_and_the_weights_renormalised() -> None:
    okr = compile_okr(content("service_quality"))
    r = grade(okr, figures(visits_done=0.92, checkins_flagged=0.04, visit_score=91,
                           satisfaction_score=None, issues_on_time=None, issues_open=0))
    assert r.left_out == ["satisfaction_score", "issues_on_time"]
    sat = next(k for k in r.key_results if k.id == "satisfaction_score")
    assert (sat.left_out, sat.grade, sat.score, sat.weight_used) == (NO_VALUE, None, None, 0)
    score = next(k for k in r.key_results if k.id == "visit_score")
    assert score.weight_used == 1.0  # alone in its objective now
    # 0.4×0.75 + 0.4×1 + 0.2×1 = 0.9 → B
    assert r.score == pytest.approx(0.9)
    assert r.grade == "B"
    assert r.as_json()["renormalised"] is True


def test_an_objective_without_values_is_left_out_of_the_whole() -> None:
    okr = compile_okr(content("service_quality"))
    r = grade(okr, figures(visits_done=1.0, checkins_flagged=0.0, issues_on_time=1.0,
                           issues_open=3))
    # visit_coverage 1.0, service_standard none, closed_loop 0.7×1 + 0.3×0.5 = 0.85;
    # whole (0.4×1 + 0.2×0.85) / 0.6 = 0.95 → B
    assert [o.score for o in r.objectives][1] is None
    assert r.objectives[1].left_out == NO_VALUE
    assert r.objectives[0].weight_used == pytest.approx(0.4 / 0.6)
    assert r.score == pytest.approx(0.95)
    assert r.grade == "B"


def test_nothing_to_grade_has_no_grade() -> None:
    r = grade(compile_okr(content("service_quality")), {})
    assert (r.score, r.grade) == (None, None)
    assert len(r.left_out) == 6


def test_a_rule_that_gives_a_number_scores_it_and_shows_the_grade_it_reaches() -> None:
    okr = compile_okr(content("market_patrol"))
    demerits = next(k for k in okr.key_results if k.id == "demerits")
    assert demerits.target == 2
    for value, expected in ((1, ("A", 1.0)), (6, ("C", 0.7)), (12, ("D", 0.25))):
        r = grade(okr, figures(demerits=value))
        kr = next(k for k in r.key_results if k.id == "demerits")
        assert kr.grade == expected[0]
        assert kr.score == pytest.approx(expected[1])
    # the only key result with a value decides the whole: 0.7 → C
    r = grade(okr, figures(demerits=6))
    assert r.score == pytest.approx(0.7)
    assert r.grade == "C"
    assert [k.id for k in below(okr, grade(okr, figures(demerits=12)))] == ["demerits"]


def test_rules_read_the_target_and_own_grades_count() -> None:
    doc = content("market_patrol")
    doc["grades"] = [{"id": "gold", "title": {"zh": "金", "en": "Gold"}, "score": 0.9},
                     {"id": "iron", "title": {"zh": "铁", "en": "Iron"}, "score": 0.3}]
    kr = doc["objectives"][0]["key_results"][1]
    kr["grade"] = {"if": [{"<=": [{"var": "value"}, {"var": "target"}]}, "gold", "iron"]}
    okr = compile_okr(doc)
    flagged = grade(okr, figures(checkins_flagged=0.02)).key_results[1]
    assert (flagged.grade, flagged.score) == ("gold", 0.9)
    r = grade(okr, figures(checkins_flagged=0.5))
    assert (r.score, r.grade) == (0.3, "iron")
    # the lowest grade when the score is below every grade's
    assert okr.grade_for(0.1).id == "iron"
    assert okr.grade_for(0.95).id == "gold"


def test_a_rule_giving_no_grade_leaves_its_key_result_out_and_says_why() -> None:
    doc = copy.deepcopy(content("service_quality"))
    doc["objectives"][0]["key_results"][0]["grade"] = {"cat": ["Z", {"var": "value"}]}
    okr = compile_okr(doc)
    r = grade(okr, figures(visits_done=1, checkins_flagged=0.0))
    kr = r.key_results[0]
    assert kr.left_out == RULE_FAILED
    assert "'Z1'" in kr.error
    assert r.score == 1.0 and r.grade == "A"


def test_compiled_once_per_content() -> None:
    assert compile_okr(content("service_quality")) is compile_okr(content("service_quality"))
