"""A site's attributes checked against what its site kind definition declares.

The site kind (``definitions/site_kinds/*.json``) lists its attributes with a type and the
options of the type; a new kind with new attributes needs no code. Every mistake is
reported at once, each with a JSON pointer (``/attributes/grade`` from the API, the CSV
cell ``/rows/7/grade`` from an import).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from rounds.errors import Problem
from rounds.i18n import pick

_TRUE = frozenset({"true", "yes", "y", "1", "是", "t"})
_FALSE = frozenset({"false", "no", "n", "0", "否", "f"})
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _title(attr: Mapping[str, Any]) -> str:
    return pick(attr.get("title"), "en", str(attr["id"]))  # the API's messages are English


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) \
        and math.isfinite(value)


def from_text(attr: Mapping[str, Any], text: str) -> Any:
    """A CSV cell as the attribute's JSON value (blank is missing: None).

    Values that do not parse are passed on as text so that :func:`check_attributes`
    reports them with the same message as a wrong value sent to the API.
    """
    text = text.strip()
    if text == "":
        return None
    kind = attr.get("type")
    try:
        if kind == "integer":
            number = float(text)
            return int(number) if number.is_integer() else number
        if kind == "number":
            number = float(text)
            return int(number) if number.is_integer() and "." not in text else number
    except ValueError:
        return text
    if kind == "boolean":
        low = text.lower()
        return True if low in _TRUE else False if low in _FALSE else text
    return text


# The bounds a kind of attribute may declare: (the option of the lower bound, of the upper
# one, the message of a value below, of one above); a text's bounds hold its length.
_BOUNDS = {
    "text": ("min_length", "max_length", "should have at least {} characters",
             "should have at most {} characters"),
    "number": ("min", "max", "should be at least {}", "should be at most {}"),
    "integer": ("min", "max", "should be at least {}", "should be at most {}"),
    "date": ("min", "max", "should be on or after {}", "should be on or before {}"),
}


def _out_of_bounds(attr: Mapping[str, Any], kind: str, value: Any) -> str | None:
    low, high, below, above = _BOUNDS[kind]
    measure = len(value) if kind == "text" else value
    if low in attr and measure < attr[low]:
        return below.format(attr[low])
    if high in attr and measure > attr[high]:
        return above.format(attr[high])
    return None


def _check_one(attr: Mapping[str, Any], value: Any) -> str | None:
    """The message for a wrong value, or None when it is right."""
    kind = attr.get("type")
    if kind == "text":
        if not isinstance(value, str):
            return "should be text"
        if (wrong := _out_of_bounds(attr, kind, value)) is not None:
            return wrong
        # JSON Schema semantics: the pattern is searched, anchored only by its own ^ and $.
        if "pattern" in attr and not re.search(attr["pattern"], value):
            return f"should match the pattern {attr['pattern']}"
        return None
    if kind in ("number", "integer"):
        if not _is_number(value):
            return "should be a whole number" if kind == "integer" else "should be a number"
        if kind == "integer" and not float(value).is_integer():
            return "should be a whole number"
        return _out_of_bounds(attr, kind, value)
    if kind == "boolean":
        return None if isinstance(value, bool) else "should be true or false"
    if kind == "date":
        if not isinstance(value, str) or not _DATE.match(value):
            return "should be a date as YYYY-MM-DD"
        try:
            date.fromisoformat(value)
        except ValueError:
            return "is not a real date"
        return _out_of_bounds(attr, kind, value)
    if kind == "choice":
        values = [c.get("value") for c in attr.get("choices") or ()]
        if value not in values:
            return "should be one of " + ", ".join(str(v) for v in values)
        return None
    return f"has a type this version does not know ({kind})"


def check_attributes(kind: Mapping[str, Any], values: Mapping[str, Any], *,
                     base: str = "/attributes") -> tuple[dict[str, Any], list[Problem]]:
    """(the attributes to store, every problem), checked against the site kind's content.

    Missing and null values are left out; a required one missing is a problem; a key the
    kind does not declare is a problem (a typo should not be stored silently).
    """
    declared = {a["id"]: a for a in kind.get("attributes") or ()}
    clean: dict[str, Any] = {}
    problems: list[Problem] = []
    kind_id = kind.get("id")
    for key in values:
        if key not in declared:
            problems.append(Problem(f"{base}/{key}",
                                    f"{key!r} is not an attribute of site kind {kind_id!r}",
                                    "unknown_attribute"))
    for attr_id, attr in declared.items():
        value = values.get(attr_id)
        if value is None or value == "":
            if attr.get("required"):
                problems.append(Problem(f"{base}/{attr_id}",
                                        f"{_title(attr)} is required", "required"))
            continue
        message = _check_one(attr, value)
        if message is not None:
            problems.append(Problem(f"{base}/{attr_id}", f"{_title(attr)} {message}",
                                    "invalid_attribute"))
        else:
            clean[attr_id] = value
    return clean, problems
