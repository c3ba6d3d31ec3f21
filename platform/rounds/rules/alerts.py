"""Alerts: a definition's ``alerts`` evaluated against a scored submission, messages filled in.

An alert's ``when`` is a rule (compiled with the rest of the definition, see ``scoring``); its
``message`` is ``{"zh", "en"}`` text with ``{dotted.path}`` placeholders filled from the same
data the rule sees: answers, calculated values, ``ctx``, ``score`` and ``failed``.
"""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import msgspec

from rounds.rules import semantics as js

MISSING = "—"  # what a placeholder shows when the data has no value there

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}")
_BOOLEAN = {"en": ("yes", "no"), "zh": ("是", "否")}


class Alert(msgspec.Struct, frozen=True, kw_only=True):
    """A raised alert: ``message`` is filled in both languages; ``items`` are the items involved."""

    code: str
    severity: str
    message: dict[str, str]
    items: list[str]


def round_half_up(value: float, digits: int) -> float:
    """Round as people (and JavaScript's ``Math.round``) do: 85.25 → 85.3, not banker's 85.2.

    Goes through the shortest decimal form of the float, so 85.25 counts as written.
    """
    q = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(float(value))).quantize(q, rounding=ROUND_HALF_UP))


def format_number(value: float | int, digits: int = 2) -> str:
    """A number as a person reads it: 85.5, 90, 0.67 (at most ``digits`` decimals)."""
    if isinstance(value, int):
        return str(value)
    if value != value or value in (float("inf"), float("-inf")):
        return js.number_to_string(value)
    r = round_half_up(value, digits)
    if r.is_integer():
        return str(int(r))
    return f"{r:.{digits}f}".rstrip("0").rstrip(".")


def format_value(value: Any, lang: str = "en") -> str:
    """How a value shows inside a message: numbers rounded, lists joined, missing as "—"."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        yes, no = _BOOLEAN.get(lang, _BOOLEAN["en"])
        return yes if value else no
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "、".join(format_value(v, lang) for v in value) if lang == "zh" else ", ".join(
            format_value(v, lang) for v in value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def fill(template: str, data: Any, lang: str = "en") -> str:
    """Replace each ``{dotted.path}`` in ``template`` with that value of ``data``.

    Braces around anything that is not a dotted path (``{ }``, ``{a b}``) are left as written.
    """
    return _PLACEHOLDER.sub(
        lambda m: format_value(js.var_path(data, m.group(1)), lang), template)


def message(texts: Any, data: Any) -> dict[str, str]:
    """Fill every language of a ``{"zh", "en"}`` message."""
    if not isinstance(texts, dict):
        return {}
    return {lang: fill(t, data, lang) for lang, t in texts.items() if isinstance(t, str)}
