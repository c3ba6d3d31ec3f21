"""A ``single_choice`` with ``points: "value"`` takes its answer as the choice's value or as
its number (``"2"``, ``2``, ``2.0``), on the fast path and the reference path alike and in the
exported JSON Schema; the answer kept is the choice's value string, and the rules see that
string. Anything else is refused, naming the item."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import msgspec
import pytest

from rounds.definitions.loader import DefinitionDocument
from rounds.definitions.validation import validate
from rounds.forms.compiled import SubmissionInvalid, compile_form
from rounds.forms.schema import answers_schema


def label(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


PHQ: dict[str, Any] = {
    "kind": "survey", "id": "numeric_choices", "title": label("数值选项", "Numeric choices"),
    "audience": "consumer", "scored": True, "scoring": {"model": "sum"},
    "sections": [{"id": "main", "title": label("主要", "Main"), "items": [
        {"id": "interest", "type": "single_choice", "points": "value", "required": True,
         "title": label("兴趣减退", "Little interest"),
         "choices": [{"value": "0", "label": label("完全不会", "Not at all")},
                     {"value": "1", "label": label("好几天", "Several days")},
                     {"value": "2", "label": label("一半以上", "More than half the days")},
                     {"value": "3.5", "label": label("几乎每天", "Nearly every day")}]},
        # The rules read the value string whichever way the answer came: === tells them apart.
        {"id": "why", "type": "text", "title": label("原因", "Why"),
         "visible_if": {"in": [{"var": "interest"}, ["2", "3.5"]]},
         "required_if": {"===": [{"var": "interest"}, "2"]}},
        {"id": "plain", "type": "single_choice", "title": label("普通", "Plain"),
         "choices": [{"value": "1", "label": label("一", "One")},
                     {"value": "2", "label": label("二", "Two")}]},
    ]}],
}


def body(answers: dict[str, Any]) -> bytes:
    return json.dumps({"answers": answers}).encode()


def problems(raw: bytes, lang: str = "en") -> dict[str, tuple[str, str]]:
    """pointer → (code, message); both paths report the very same."""
    form = compile_form(PHQ)
    with pytest.raises(SubmissionInvalid) as fast:
        form.validate(raw, None, lang)
    with pytest.raises(SubmissionInvalid) as slow:
        form.validate_reference(raw, None, lang)
    got = {p.pointer: (p.code, p.message) for p in fast.value.problems}
    assert got == {p.pointer: (p.code, p.message) for p in slow.value.problems}
    return got


def test_the_definition_is_valid() -> None:
    assert validate([DefinitionDocument("test", PHQ)], references=False) == []


@pytest.mark.parametrize(("sent", "kept"), [
    ("0", "0"), (0, "0"), ("2", "2"), (2, "2"), (2.0, "2"), ("3.5", "3.5"), (3.5, "3.5"),
])
def test_a_number_or_the_value_is_accepted_and_the_value_kept(sent: Any, kept: str) -> None:
    form = compile_form(PHQ)
    raw = body({"interest": sent, "why": "tired"})
    fast = form.validate(raw)
    reference = form.validate_reference(raw)
    assert fast.answers["interest"] == reference.answers["interest"] == kept
    assert fast.answers == reference.answers
    # "why" is shown for "2" and "3.5": the visible_if saw the value string
    assert ("why" in fast.answers) is (kept in ("2", "3.5"))
    jsonschema.validate(json.loads(raw), answers_schema(PHQ))


def test_whole_numbers_take_the_fast_decoder() -> None:
    form = compile_form(PHQ)
    assert form.fast
    form.types.decoder.decode(body({"interest": 2}))
    for slower in (2.0, 3.5):  # msgspec cannot say these; the reference path accepts them
        with pytest.raises(msgspec.ValidationError):
            form.types.decoder.decode(body({"interest": slower}))


def test_the_rules_see_the_value_string_on_both_paths() -> None:
    # interest 2 (a number): "why" is required by `=== "2"`, on both paths
    assert problems(body({"interest": 2})) == {
        "/answers/why": ("required", "Why: is required")}
    assert problems(body({"interest": "2"})) == {
        "/answers/why": ("required", "Why: is required")}
    form = compile_form(PHQ)
    assert "why" not in form.validate(body({"interest": 1, "why": "x"})).answers  # hidden


@pytest.mark.parametrize("sent", [5, "5", 1.5, "2.0", "02", True, None, [2], -1])
def test_anything_else_is_refused_naming_the_item(sent: Any) -> None:
    got = problems(body({"interest": sent}))
    assert list(got) == ["/answers/interest"]
    code, message = got["/answers/interest"]
    assert code in ("enum", "required")
    if code == "enum":
        # each choice named once, by its label
        assert message == ("Little interest: must be one of: Not at all, Several days, "
                           "More than half the days, Nearly every day")
    schema = jsonschema.Draft202012Validator(answers_schema(PHQ))
    assert not schema.is_valid({"answers": {"interest": sent}})


def test_a_choice_without_points_value_takes_no_number() -> None:
    assert problems(body({"interest": "1", "plain": 2}))["/answers/plain"][0] == "enum"
    form = compile_form(PHQ)
    assert form.validate(body({"interest": "1", "plain": "2"})).answers["plain"] == "2"


def test_the_exported_schema() -> None:
    interest = answers_schema(PHQ)["properties"]["answers"]["properties"]["interest"]
    assert interest["enum"] == ["0", "1", "2", "3.5", 0, 1, 2, 3.5]
    assert set(interest["x-enum-labels"]) == {"0", "1", "2", "3.5"}
    plain = answers_schema(PHQ)["properties"]["answers"]["properties"]["plain"]
    assert plain["enum"] == ["1", "2"]
