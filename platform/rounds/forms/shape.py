"""A form's answers schema compiled into closures: every structural error of a body, fast.

The slow path (``forms.slow_path``) needs every structural error of a body msgspec rejected.
jsonschema finds them by interpreting the schema on every body (a validator object per
subschema visited); :func:`compile_shape` walks the schema once and returns one closure per
subschema, each running its keywords in the schema's order, so a body costs only the checks.

It covers the keywords ``forms.schema.answers_schema`` writes (``type``, ``properties``,
``required``, ``additionalProperties``, ``patternProperties``, ``items``, ``enum``, ``const``,
``anyOf``, bounds on numbers, strings and arrays, ``uniqueItems``, ``pattern``, ``format``
and the date bounds ``formatMinimum``/``formatMaximum``) with jsonschema's meaning (its
``equal`` and ``uniq``, its format checker), and reports the same errors in the same order
(``tests/unit/forms/test_shape.py`` holds the two equal on random bodies). A schema with any
other keyword that asserts something compiles to None: the caller keeps jsonschema.

No code is generated from the schema: closures over its values only.

May import: ``rounds.forms.schema``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema._utils import equal, uniq

from rounds.forms.schema import DATE_PATTERN

Path = tuple[str | int, ...]
# One structural error: where, the keyword, the value there, the keyword's value, the schema.
Error = tuple[Path, str, Any, Any, dict[str, Any]]
Check = Callable[[Any, Path, list[Error]], None]

_FORMATS = Draft202012Validator.FORMAT_CHECKER
_DATE = re.compile(DATE_PATTERN)
# Keywords that assert nothing (annotations); ``x-`` extensions are skipped too.
_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "readOnly",
                          "writeOnly", "default", "examples", "deprecated"})


class Unsupported(Exception):
    """A keyword the shape compiler does not know: keep jsonschema for this schema."""


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": _number,
    "integer": lambda v: _number(v) and (isinstance(v, int) or float(v).is_integer()),
}


def compile_shape(schema: Any) -> Callable[[Any], list[Error]] | None:
    """The structural errors of a document under ``schema``, in jsonschema's order; None when
    the schema uses a keyword this compiler does not cover."""
    try:
        check = _compile(schema)
    except Unsupported:
        return None

    def errors(doc: Any) -> list[Error]:
        out: list[Error] = []
        check(doc, (), out)
        return out
    return errors


def _compile(schema: Any) -> Check:
    if schema is True:
        return lambda _v, _p, _o: None
    if not isinstance(schema, dict):
        raise Unsupported(repr(schema))
    checks = [c for kw, value in schema.items()
              if (c := _keyword(kw, value, schema)) is not None]
    accept = _accept(schema)
    if accept is not None:
        # Most answers are right: one test says so; only a wrong one runs each keyword.
        def leaf(v: Any, path: Path, out: list[Error]) -> None:
            if not accept(v):
                for c in checks:
                    c(v, path, out)
        return leaf
    if len(checks) == 1:
        return checks[0]

    def run(v: Any, path: Path, out: list[Error]) -> None:
        for c in checks:
            c(v, path, out)
    return run


_LEAF = frozenset({"type", "minimum", "maximum", "minLength", "maxLength", "enum", "const"})


def _accept(schema: dict[str, Any]) -> Callable[[Any], bool] | None:
    """For a schema of one scalar type with bounds or choices only (most items' answers): a
    test true only when every keyword holds, else None."""
    asserted = {k for k in schema if k not in _ANNOTATIONS and not k.startswith("x-")}
    kind = schema.get("type")
    if not asserted <= _LEAF or not isinstance(kind, str):
        return None
    lo, hi = schema.get("minimum"), schema.get("maximum")
    short, long = schema.get("minLength"), schema.get("maxLength")
    enum, const = schema.get("enum"), schema.get("const", _NONE)
    if kind in ("number", "integer") and not ({"minLength", "maxLength", "enum", "const"}
                                              & asserted):
        whole = kind == "integer"

        def number(v: Any) -> bool:
            return (v.__class__ is int or (v.__class__ is float and (
                not whole or v.is_integer()))) and (lo is None or v >= lo) and (
                hi is None or v <= hi)
        return number
    if kind == "string" and not ({"minimum", "maximum", "const"} & asserted) and (
            enum is None or all(isinstance(o, str) for o in enum)):
        allowed = frozenset(enum) if enum is not None else None

        def string(v: Any) -> bool:
            return v.__class__ is str and (short is None or len(v) >= short) and (
                long is None or len(v) <= long) and (allowed is None or v in allowed)
        return string
    if kind == "boolean" and asserted <= {"type", "const"} and const in (_NONE, True, False):
        if const is _NONE:
            return lambda v: v.__class__ is bool
        return lambda v: v is const
    return None


_NONE = object()  # no const in the schema


def _keyword(kw: str, value: Any, schema: dict[str, Any]) -> Check | None:
    if kw in _ANNOTATIONS or kw.startswith("x-"):
        return None
    if kw == "type":
        tests = [_TYPES[t] if t in _TYPES else _unsupported(t)
                 for t in (value if isinstance(value, list) else [value])]

        def type_(v: Any, path: Path, out: list[Error]) -> None:
            for t in tests:
                if t(v):
                    return
            out.append((path, kw, v, value, schema))
        return type_
    if kw == "properties":
        subs = [(name, _compile(sub)) for name, sub in value.items()]

        def properties(v: Any, path: Path, out: list[Error]) -> None:
            if isinstance(v, dict):
                for name, sub in subs:
                    if name in v:
                        sub(v[name], (*path, name), out)
        return properties
    if kw == "patternProperties":
        pats = [(re.compile(p), _compile(sub)) for p, sub in value.items()]

        def pattern_properties(v: Any, path: Path, out: list[Error]) -> None:
            if isinstance(v, dict):
                for pat, sub in pats:
                    for k, x in v.items():
                        if pat.search(k):
                            sub(x, (*path, k), out)
        return pattern_properties
    if kw == "additionalProperties":
        return _additional(value, schema)
    if kw == "required":
        names = list(value)

        def required(v: Any, path: Path, out: list[Error]) -> None:
            if isinstance(v, dict):
                for name in names:
                    if name not in v:
                        out.append((path, kw, v, value, schema))
        return required
    if kw == "items":
        if "prefixItems" in schema or value is False:
            raise Unsupported(kw)
        sub = _compile(value)

        def items(v: Any, path: Path, out: list[Error]) -> None:
            if isinstance(v, list):
                for i, x in enumerate(v):
                    sub(x, (*path, i), out)
        return items
    if kw == "enum":
        options = list(value)
        strings = all(isinstance(o, str) for o in options)
        allowed = frozenset(options) if strings else frozenset()

        def enum(v: Any, path: Path, out: list[Error]) -> None:
            if strings:  # equal() of a string is ==, and nothing else equals a string
                if not (isinstance(v, str) and v in allowed):
                    out.append((path, kw, v, value, schema))
            elif all(not equal(o, v) for o in options):
                out.append((path, kw, v, value, schema))
        return enum
    if kw == "const":
        def const(v: Any, path: Path, out: list[Error]) -> None:
            if not equal(v, value):
                out.append((path, kw, v, value, schema))
        return const
    if kw == "anyOf":
        branches = [_compile(sub) for sub in value]

        def any_of(v: Any, path: Path, out: list[Error]) -> None:
            for b in branches:
                found: list[Error] = []
                b(v, path, found)
                if not found:
                    return
            out.append((path, kw, v, value, schema))
        return any_of
    if kw in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return _bound(kw, value, schema)
    if kw in ("minLength", "maxLength", "minItems", "maxItems"):
        return _size(kw, value, schema)
    if kw == "uniqueItems":
        if not value:
            return None

        def unique(v: Any, path: Path, out: list[Error]) -> None:
            if isinstance(v, list) and not uniq(v):
                out.append((path, kw, v, value, schema))
        return unique
    if kw == "pattern":
        pat = re.compile(value)

        def pattern(v: Any, path: Path, out: list[Error]) -> None:
            if isinstance(v, str) and not pat.search(v):
                out.append((path, kw, v, value, schema))
        return pattern
    if kw == "format":
        def format_(v: Any, path: Path, out: list[Error]) -> None:
            if not _FORMATS.conforms(v, value):
                out.append((path, kw, v, value, schema))
        return format_
    if kw in ("formatMinimum", "formatMaximum"):
        low = kw == "formatMinimum"

        def date_bound(v: Any, path: Path, out: list[Error]) -> None:
            if isinstance(v, str) and isinstance(value, str) and _DATE.fullmatch(v) and (
                    v < value if low else v > value):
                out.append((path, kw, v, value, schema))
        return date_bound
    raise Unsupported(kw)


def _unsupported(what: str) -> Callable[[Any], bool]:
    raise Unsupported(what)


def _additional(value: Any, schema: dict[str, Any]) -> Check:
    known = schema.get("properties") or {}
    joined = "|".join(schema.get("patternProperties") or {})
    patterns = re.compile(joined) if joined else None

    def extras(v: dict[str, Any]) -> list[str]:
        return [k for k in v if k not in known and not (patterns and patterns.search(k))]

    if isinstance(value, dict):
        sub = _compile(value)

        def additional_schema(v: Any, path: Path, out: list[Error]) -> None:
            if isinstance(v, dict):
                for k in extras(v):
                    sub(v[k], (*path, k), out)
        return additional_schema
    if value is True:
        return lambda _v, _p, _o: None

    def additional(v: Any, path: Path, out: list[Error]) -> None:
        if isinstance(v, dict) and extras(v):
            out.append((path, "additionalProperties", v, value, schema))
    return additional


def _bound(kw: str, limit: Any, schema: dict[str, Any]) -> Check:
    def fails(v: Any) -> bool:
        if kw == "minimum":
            return bool(v < limit)
        if kw == "maximum":
            return bool(v > limit)
        if kw == "exclusiveMinimum":
            return bool(v <= limit)
        return bool(v >= limit)

    def bound(v: Any, path: Path, out: list[Error]) -> None:
        if _number(v) and fails(v):
            out.append((path, kw, v, limit, schema))
    return bound


def _size(kw: str, limit: Any, schema: dict[str, Any]) -> Check:
    kind = str if kw.endswith("Length") else list
    low = kw.startswith("min")

    def size(v: Any, path: Path, out: list[Error]) -> None:
        if isinstance(v, kind) and (len(v) < limit if low else len(v) > limit):
            out.append((path, kw, v, limit, schema))
    return size
