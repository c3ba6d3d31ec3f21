"""The answers schema compiled to a function (``forms.shape``) finds what jsonschema finds.

The slow path of ``validate`` lists a rejected body's structural errors with
``forms.shape``; ``validate_reference`` still uses jsonschema. On random bodies of every
standard and survey in ``definitions/`` (``support.random_answers``: right answers, wrong
types, out of range values, unknown ids, nulls; with random evidence), the two give the same
raw errors in the same order (each once: jsonschema's raws repeat a ``required`` error for
every missing name), and ``validate`` the same problems as ``validate_reference``.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import msgspec
import pytest

from rounds.errors import Problem
from rounds.forms.compiled import SubmissionInvalid, compile_form
from rounds.forms.shape import compile_shape
from rounds.forms.slow_path import schema_raws
from support.random_answers import answer_sets

DEFINITIONS = Path(__file__).resolve().parents[3] / "definitions"
FILES = sorted([*DEFINITIONS.glob("standards/*.json"), *DEFINITIONS.glob("surveys/*.json")])
ODD: list[Any] = [None, "", "x", 3, -1.5, True, [], {}, ["p1"], {"photos": "p"},
                  {"photos": ["p1"], "note": 5}, {"photos": [], "note": ""}, {"extra": 1}]


def _evidence(rng: random.Random, definition: dict[str, Any]) -> dict[str, Any]:
    ids = [str(it.get("id")) for sec in definition.get("sections") or []
           for it in sec.get("items") or []]
    ids += ["nope", "out_of_stock_items/0/brand", "x/y"]
    return {k: rng.choice(ODD) for k in rng.sample(ids, rng.randint(0, 3))}


def _bodies(definition: dict[str, Any], n: int) -> list[Any]:
    rng = random.Random(16)
    out: list[Any] = []
    for s in answer_sets(definition, seed=16, n=n):
        body: dict[str, Any] = {"answers": s["answers"]}
        if rng.random() < 0.5:
            body["evidence"] = _evidence(rng, definition)
        if rng.random() < 0.05:
            body["extra"] = 1
        out.append(body)
    return [*out, [], "x", {}, {"answers": []}, {"answers": {}, "evidence": []}]


def _once(raws: list[Any]) -> list[Any]:
    """The raws in order, each the first time it comes."""
    seen: set[str] = set()
    out = []
    for r in raws:
        if repr(r) not in seen:
            seen.add(repr(r))
            out.append(r)
    return out


def _problems(check: Any, raw: bytes, ctx: Any) -> list[Problem] | None:
    try:
        check(raw, ctx)
    except SubmissionInvalid as e:
        return e.problems
    return None


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_shape_errors_are_jsonschemas(path: Path) -> None:
    definition = json.loads(path.read_text(encoding="utf-8"))
    form = compile_form(definition)
    shape = compile_shape(form.json_schema)
    assert shape is not None  # every keyword answers_schema writes is covered
    validator = form.validator()
    wrong = 0
    for body in _bodies(definition, 300):
        doc = msgspec.json.decode(msgspec.json.encode(body))
        want = _once([r for err in validator.iter_errors(doc) for r in schema_raws(err)])
        got = shape(doc)
        assert got == want, body
        wrong += bool(want)
    assert wrong > 100  # the bodies do exercise the errors


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_validate_gives_the_reference_problems(path: Path) -> None:
    definition = json.loads(path.read_text(encoding="utf-8"))
    form = compile_form(definition)
    for s, body in zip(answer_sets(definition, 16, 200), _bodies(definition, 200), strict=False):
        raw = msgspec.json.encode(body)
        ctx = s["ctx"]
        assert _problems(form.validate, raw, ctx) == _problems(
            form.validate_reference, raw, ctx), body


def test_a_schema_with_a_keyword_it_does_not_cover_keeps_jsonschema() -> None:
    assert compile_shape({"type": "object", "allOf": [{"required": ["a"]}]}) is None
    assert compile_shape({"type": "object", "properties": {"a": {"not": {}}}}) is None
    shape = compile_shape({"type": "object", "properties": {"a": {"type": "integer"}},
                           "required": ["a", "b"], "additionalProperties": False})
    assert shape is not None
    assert [(p, kw) for p, kw, _ in shape({"a": 1.5, "c": 1})] == [
        (("a",), "type"), (("b",), "required"), (("c",), "unknown_field")]


# Every keyword the compiler covers, in shapes answers_schema does not write (type lists,
# mixed enums, anyOf, patterns, an additionalProperties schema), on values of every kind.
EVERY_KEYWORD: dict[str, Any] = {
    "type": "object",
    "properties": {
        "n": {"type": ["number", "null"], "exclusiveMinimum": 0, "exclusiveMaximum": 10},
        "i": {"type": "integer", "minimum": 1, "maximum": 5},
        "s": {"type": "string", "minLength": 2, "maxLength": 4, "pattern": "^[a-z]+$"},
        "e": {"enum": ["a", 1, 2.5, None, True]},
        "c": {"const": {"k": [1]}},
        "t": {"type": "boolean", "const": True},
        "f": {"const": False},
        "scale": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 3}, {"const": "na"}]},
        "d": {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
              "formatMinimum": "2026-01-01", "formatMaximum": "2026-12-31"},
        "u": {"type": "array", "uniqueItems": True, "minItems": 1, "maxItems": 3},
        "m": {"type": "object", "properties": {"x": {"type": "string"}},
              "additionalProperties": {"type": "integer"}},
        "g": {"type": "array", "items": {
            "type": "object", "properties": {"a": {"type": "string"}}, "required": ["a", "b"],
            "additionalProperties": False}},
    },
    "patternProperties": {"^p[0-9]$": {"type": "array", "items": {"type": "string"}}},
    "required": ["i", "s"],
    "additionalProperties": False,
}
VALUES: list[Any] = [None, True, False, 0, 1, 2, 3, 2.5, 3.0, -1, 11, "", "a", "ab", "AB",
                     "abcde", "na", "2026-02-30", "2026-06-01", "2025-12-31", "2027-01-01",
                     [], [1], [1, 1], [1, True], ["a", "b", "a"], [1, 2, 3, 4], {}, {"k": [1]},
                     {"x": 1}, {"y": "z"}, {"x": "w", "y": 2}, [{"a": "x"}, {"a": 1, "q": 2}, 5]]


def test_every_keyword_as_jsonschema() -> None:
    shape = compile_shape(EVERY_KEYWORD)
    assert shape is not None
    validator = compile_form(json.loads(FILES[0].read_text(encoding="utf-8"))).validator()
    validator = validator.evolve(schema=EVERY_KEYWORD)
    rng = random.Random(16)
    names = [*EVERY_KEYWORD["properties"], "p1", "p22", "zz"]
    for _ in range(3000):
        doc = {k: rng.choice(VALUES) for k in rng.sample(names, rng.randint(0, 6))}
        want = _once([r for err in validator.iter_errors(doc) for r in schema_raws(err)])
        assert shape(doc) == want, doc
