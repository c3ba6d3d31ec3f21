"""A campaign's answers per question, by type of item (no database: the counted submissions
are given): choices with their shares and the not answered, a multiple choice counted per
value, yes/no and check in the catalogue's words, numbers and a scale's "na", texts with
their site, an answer the form no longer offers, and what is not aggregated."""

from __future__ import annotations

from typing import Any

import pytest

from rounds.runtime.campaigns.answers import Label, QuestionAnswers, _Filled, _question

T = {"zh": "题", "en": "Question"}


def filled(*answers: dict[str, Any], strata: tuple[str, ...] = ()) -> list[_Filled]:
    return [_Filled(id=f"s{n}", answers=a, stratum=(strata[n] if strata else "all"),
                    site_id=n, site_code=f"c{n}", site_name=f"Shop {n}")
            for n, a in enumerate(answers)]


def ask(item: dict[str, Any], rows: list[_Filled],
        strata: dict[str, Label] | None = None) -> QuestionAnswers:
    found = _question({"title": T, **item}, "s", rows, strata or {})
    assert found is not None
    return found


def test_a_multiple_choice_counts_each_value_and_shares_of_the_submissions() -> None:
    item = {"id": "topics", "type": "multiple_choice", "choices": [
        {"value": "price", "label": {"zh": "价格", "en": "Price"}},
        {"value": "display", "label": {"zh": "陈列", "en": "Display"}}]}
    q = ask(item, filled({"topics": ["price", "display"]}, {"topics": ["price"]},
                         {"topics": []}, {}))
    assert [(c.value, c.label.zh, c.count, c.share) for c in q.choices] == [
        ("price", "价格", 2, 0.5), ("display", "陈列", 1, 0.25)]
    assert (q.answered, q.not_answered) == (2, 2)


def test_yes_no_and_check_in_the_catalogue_s_words() -> None:
    yes_no = ask({"id": "marked", "type": "yes_no", "allow_na": True},
                 filled({"marked": "yes"}, {"marked": "na"}, {"marked": "no"}, {"marked": "yes"}))
    assert [(c.value, c.label.zh, c.label.en, c.count) for c in yes_no.choices] == [
        ("yes", "是", "Yes", 2), ("no", "否", "No", 1), ("na", "不适用", "N/A", 1)]
    check = ask({"id": "done", "type": "check"}, filled({"done": True}, {"done": False}, {}))
    assert [(c.value, c.count) for c in check.choices] == [("yes", 1), ("no", 1)]
    assert check.not_answered == 1


def test_a_choice_the_form_no_longer_offers_is_counted_under_its_value() -> None:
    item = {"id": "trend", "type": "single_choice",
            "choices": [{"value": "up", "label": {"zh": "上升", "en": "Up"}}]}
    q = ask(item, filled({"trend": "up"}, {"trend": "gone"}))
    assert [(c.value, c.label.en, c.count) for c in q.choices] == [("up", "Up", 1),
                                                                   ("gone", "gone", 1)]


def test_numbers_their_statistics_and_means_per_stratum() -> None:
    rows = filled({"p": 10}, {"p": 20}, {"p": 31.5}, {}, strata=("1", "1", "2", "2"))
    q = ask({"id": "p", "type": "number", "unit": {"zh": "元/条", "en": "yuan"}}, rows,
            {"1": Label("北站", "North"), "2": Label("南站", "South")})
    assert q.number is not None and q.unit == Label("元/条", "yuan")
    n = q.number
    assert (n.n, n.mean, n.median, n.min, n.max) == (3, 20.5, 20, 10, 31.5)
    assert [(s.stratum, s.label.zh, s.n, s.mean) for s in n.by_stratum] == [
        ("1", "北站", 2, 15), ("2", "南站", 1, 31.5)]
    assert (q.answered, q.not_answered) == (3, 1)


def test_a_scale_s_not_applicable_is_answered_but_no_number() -> None:
    q = ask({"id": "r", "type": "scale", "min": 1, "max": 5, "allow_na": True},
            filled({"r": 4}, {"r": "na"}, {"r": 2}))
    assert q.number is not None and (q.number.n, q.number.mean) == (2, 3)
    assert (q.answered, q.not_answered) == (3, 0)


def test_nothing_submitted_has_no_shares_and_no_statistics() -> None:
    q = ask({"id": "p", "type": "number"}, [])
    assert q.number is not None and (q.number.n, q.number.mean) == (0, None)
    c = ask({"id": "m", "type": "yes_no"}, [])
    assert [(x.count, x.share) for x in c.choices] == [(0, None), (0, None)]


def test_texts_come_with_their_site() -> None:
    q = ask({"id": "note", "type": "text"}, filled({"note": "断货"}, {"note": ""}, {}))
    assert [(t.site_code, t.site_name, t.submission_id, t.text) for t in q.texts] == [
        ("c0", "Shop 0", "s0", "断货")]
    assert (q.answered, q.not_answered) == (1, 2)


@pytest.mark.parametrize("kind", ["photo", "signature", "gps", "date", "group"])
def test_what_is_not_aggregated(kind: str) -> None:
    assert _question({"id": "x", "type": kind, "title": T}, "s", filled({"x": 1}), {}) is None
