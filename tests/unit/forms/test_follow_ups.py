"""One error per mistake: a conditionally required item is not reported again when the
answer its condition reads was itself invalid; and what a valid body had dropped (hidden
answers and evidence, values the server calculates) is listed, so a client can tell."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rounds.definitions.loader import DefinitionDocument
from rounds.definitions.validation import validate as validate_definitions
from rounds.forms.compiled import SubmissionInvalid, compile_form


def item(id_: str, type_: str, **kw: Any) -> dict[str, Any]:
    return {"id": id_, "type": type_, "title": {"zh": f"项{id_}", "en": f"Item {id_}"}, **kw}


def standard(id_: str, *items: dict[str, Any]) -> dict[str, Any]:
    d = {"kind": "standard", "id": id_, "title": {"zh": "测试", "en": "Test"},
         "site_kinds": ["retailer"],
         "sections": [{"id": "main", "title": {"zh": "主要", "en": "Main"},
                       "items": list(items)}]}
    problems = validate_definitions([DefinitionDocument("test", d)], references=False)
    assert not problems, problems
    return d


def body(answers: dict[str, Any], evidence: dict[str, Any] | None = None) -> bytes:
    doc: dict[str, Any] = {"answers": answers}
    if evidence is not None:
        doc["evidence"] = evidence
    return json.dumps(doc, ensure_ascii=False).encode()


def problems(form: Any, raw: bytes) -> dict[str, str]:
    """pointer → code; the fast and the reference path must report the very same."""
    with pytest.raises(SubmissionInvalid) as fast:
        form.validate(raw, None, "en")
    with pytest.raises(SubmissionInvalid) as slow:
        form.validate_reference(raw, None, "en")
    assert [str(p) for p in fast.value.problems] == [str(p) for p in slow.value.problems]
    return {p.pointer: p.code for p in fast.value.problems}


FOLLOW = standard(
    "follow_ups",
    item("found", "yes_no"),
    # Required unless "found" is "no": a missing or broken "found" makes it required.
    item("details", "text", required_if={"!=": [{"var": "found"}, "no"]}),
    item("level", "number", min=0, max=10),
    item("why", "text", required=True, visible_if={"!==": [{"var": "double"}, 0]}),
    item("double", "number", calculate={"*": [{"var": "level"}, 2]}),
    item("on", "date", min="2026-01-01"),
    item("late", "text", required_if={"<": [{"var": "on"}, "2026-06-01"]}),
    item("rows", "group", items=[
        item("kind", "single_choice", choices=[
            {"value": "box", "label": {"zh": "盒", "en": "Box"}},
            {"value": "bag", "label": {"zh": "袋", "en": "Bag"}}]),
        item("qty", "number", required_if={"!=": [{"var": "kind"}, "bag"]}),
    ]),
    item("unused", "text", visible_if={"==": [{"var": "found"}, "yes"]}),
)


def test_a_required_item_is_not_reported_again_for_its_conditions_invalid_input() -> None:
    form = compile_form(FOLLOW)
    ok = {"found": "no", "level": 0}
    # "found" answered wrongly: its own error only, not also "details is required".
    assert problems(form, body({**ok, "found": 3})) == {"/answers/found": "enum"}
    # Through a calculated value: "level" out of bounds decides "why" (via "double").
    assert problems(form, body({**ok, "level": 11})) == {"/answers/level": "maximum"}
    # A date out of bounds is the condition of "late".
    assert problems(form, body({**ok, "on": "2025-05-01"})) == {"/answers/on": "date_min"}
    # Inside a group entry: the entry's own field.
    assert problems(form, body({**ok, "rows": [{"kind": "crate"}, {"kind": "box"}]})) == {
        "/answers/rows/0/kind": "enum", "/answers/rows/1/qty": "required"}


def test_a_missing_input_still_lets_the_required_item_be_reported() -> None:
    form = compile_form(FOLLOW)
    # Nothing is invalid: "found" unanswered makes "details" required, and that is said.
    assert problems(form, body({"level": 0})) == {"/answers/details": "required"}
    # An unrelated invalid answer does not hide it either.
    assert problems(form, body({"level": 0, "found": "yes", "on": "2025-01-01"})) == {
        "/answers/details": "required", "/answers/on": "date_min"}


def test_the_dropped_answers_are_listed() -> None:
    form = compile_form(FOLLOW)
    raw = body({"found": "no", "level": 0, "details": "x", "unused": "typed before hiding",
                "double": 99, "rows": [{"kind": "bag", "qty": 3}]},
               {"unused": {"note": "hidden too"}, "found": {"note": "kept"}})
    valid = form.validate(raw)
    assert "unused" not in valid.answers and "double" not in valid.answers
    assert valid.dropped == [  # in the form's order
        {"pointer": "/answers/double", "reason": "calculated"},
        {"pointer": "/answers/unused", "reason": "hidden"},
        {"pointer": "/evidence/unused", "reason": "hidden"},
    ]
    assert form.validate_reference(raw).dropped == valid.dropped
    assert form.validate(body({"found": "no", "level": 0})).dropped == []
