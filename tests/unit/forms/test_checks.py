"""Checks between fields on submit: each failed check is a problem at its item's answer, with
the definition's message in the reader's language, beside every other problem; the fast path
and the reference path agree."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rounds.forms.compiled import SubmissionInvalid, compile_form


def item(id_: str, type_: str, zh: str, en: str, **kw: Any) -> dict[str, Any]:
    return {"id": id_, "type": type_, "title": {"zh": zh, "en": en}, **kw}


FOLLOW_UP = {
    "id": "follow_up_after_inspection", "item": "follow_up_on",
    "when": {"<": [{"var": "follow_up_on"}, {"var": "inspected_on"}]},
    "message": {"zh": "复查日期不能早于检查日期", "en": "The follow-up date must be on or after "
                                                   "the inspection date"}}
NOT_ABOVE = {
    "id": "sold_not_above_counted", "item": "sold",
    "when": {">": [{"var": "sold"}, {"var": "counted"}]},
    "message": {"zh": "售出 {n} 条，多于清点的 {counted} 条",
                "en": "{n} sold, more than the {counted} counted",
                "params": {"n": {"var": "sold"}}}}


def standard(*items: dict[str, Any], checks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": "standard", "id": "checked", "title": {"zh": "测试", "en": "Test"},
            "site_kinds": ["retailer"], "checks": checks,
            "sections": [{"id": "main", "title": {"zh": "主要", "en": "Main"},
                          "items": list(items)}]}


CHECKED = standard(
    item("inspected_on", "date", "检查日期", "Inspection date", required=True),
    item("needs_follow_up", "check", "需要复查", "Needs a follow-up"),
    item("follow_up_on", "date", "复查日期", "Follow-up date",
         visible_if={"var": "needs_follow_up"}),
    item("counted", "number", "清点数", "Counted", integer=True, min=0),
    item("sold", "number", "售出数", "Sold", integer=True, min=0),
    item("reason", "text", "原因", "Reason", required_if={">": [{"var": "sold"}, 100]}),
    checks=[FOLLOW_UP, NOT_ABOVE])


def body(answers: dict[str, Any]) -> bytes:
    return json.dumps({"answers": answers}, ensure_ascii=False).encode()


def problems(form: Any, raw: bytes, lang: str) -> list[tuple[str, str, str]]:
    """(pointer, code, message) of every problem; the reference path reports the same."""
    with pytest.raises(SubmissionInvalid) as fast:
        form.validate(raw, None, lang)
    with pytest.raises(SubmissionInvalid) as slow:
        form.validate_reference(raw, None, lang)
    got = [(p.pointer, p.code, p.message) for p in fast.value.problems]
    assert got == [(p.pointer, p.code, p.message) for p in slow.value.problems]
    return got


def test_failed_checks_are_problems_with_every_other_one() -> None:
    form = compile_form(CHECKED)
    assert form.fast  # the fast plan follows checks
    raw = body({"needs_follow_up": True, "inspected_on": "2026-03-10",
                "follow_up_on": "2026-03-01", "counted": 5, "sold": 107})
    assert problems(form, raw, "en") == [
        ("/answers/follow_up_on", "check_failed",
         "Follow-up date: The follow-up date must be on or after the inspection date"),
        ("/answers/sold", "check_failed", "Sold: 107 sold, more than the 5 counted"),
        ("/answers/reason", "required", "Reason: is required"),
    ]
    zh = problems(form, raw, "zh")
    assert [m for _, _, m in zh][:2] == ["复查日期：复查日期不能早于检查日期",
                                         "售出数：售出 107 条，多于清点的 5 条"]
    with pytest.raises(SubmissionInvalid) as info:
        form.validate(raw, None, "en")
    (first, *_) = info.value.problems
    assert first.params == {"keyword": "check_failed", "check": "follow_up_after_inspection"}


def test_checks_that_hold_or_whose_item_is_hidden_pass() -> None:
    form = compile_form(CHECKED)
    ok = form.validate(body({"inspected_on": "2026-03-10", "needs_follow_up": True,
                             "follow_up_on": "2026-03-10", "counted": 5, "sold": 5}))
    assert ok.evaluation.checks == []
    hidden = form.validate(body({"inspected_on": "2026-03-10", "needs_follow_up": False,
                                 "follow_up_on": "2026-03-01"}))
    assert hidden.evaluation.checks == []
    assert form.validate_reference(body({"inspected_on": "2026-03-10",
                                         "follow_up_on": "2026-03-01"})).answers == {
        "inspected_on": "2026-03-10", "needs_follow_up": False}


def test_a_check_reading_a_broken_answer_is_left_to_that_answers_error() -> None:
    form = compile_form(CHECKED)
    raw = body({"inspected_on": "2026-03-10", "counted": "five", "sold": 7})
    assert [(p, c) for p, c, _ in problems(form, raw, "en")] == [("/answers/counted", "type")]


def test_a_check_without_a_message_says_so_in_the_readers_words() -> None:
    form = compile_form(standard(
        item("counted", "number", "清点数", "Counted"), item("sold", "number", "售出数", "Sold"),
        checks=[{"id": "c", "item": "sold", "when": {">": [{"var": "sold"}, {"var": "counted"}]}}]))
    raw = body({"counted": 1, "sold": 2})
    assert problems(form, raw, "en") == [
        ("/answers/sold", "check_failed",
         "Sold: does not agree with the other answers; please check it")]
    assert problems(form, raw, "zh")[0][2] == "售出数：与其他填写项不一致，请核对"


def test_a_check_over_a_group_takes_the_rules_way() -> None:
    form = compile_form(standard(
        item("counted", "number", "清点数", "Counted"),
        item("rows", "group", "明细", "Rows", items=[item("qty", "number", "件数", "Qty")]),
        checks=[{"id": "sum", "item": "counted", "message": {"zh": "合计不符", "en": "Sum differs"},
                 "when": {"!=": [{"var": "counted"},
                                 {"reduce": [{"var": "rows"}, {"+": [{"var": "accumulator"},
                                                                      {"var": "current.qty"}]},
                                             0]}]}}]))
    assert not form.fast
    assert problems(form, body({"counted": 3, "rows": [{"qty": 1}, {"qty": 1}]}), "en") == [
        ("/answers/counted", "check_failed", "Counted: Sum differs")]
    form.validate(body({"counted": 2, "rows": [{"qty": 1}, {"qty": 1}]}))


def test_a_numeric_choice_sent_as_a_number_is_checked_as_its_value() -> None:
    choice = item("level", "single_choice", "等级", "Level", points="value", choices=[
        {"value": v, "label": {"zh": v, "en": v}} for v in ("1", "2", "3")])
    form = compile_form(standard(
        choice, item("note", "text", "说明", "Note"),
        checks=[{"id": "c", "item": "level", "message": {"zh": "三级", "en": "Three"},
                 "when": {"===": [{"var": "level"}, "3"]}}]))
    assert problems(form, body({"level": "3"}), "en") == [
        ("/answers/level", "check_failed", "Level: Three")]
    # Whether a number is taken for such a choice is the schema's to say; where it is, the
    # check sees the choice's value string on both paths, as the rules keep it.
    got = problems(form, body({"level": 3}), "en")
    assert got == [("/answers/level", "check_failed", "Level: Three")] or [
        (p, c) for p, c, _ in got] in ([("/answers/level", "enum")], [("/answers/level", "type")])
