"""Alerts and message templates: texts in both languages with values filled in.

An alert's ``when`` is a rule (compiled with the rest of the definition, see ``scoring``); its
``message``, like an item's ``problem`` title, is a *template*: ``{"zh", "en"}`` text whose
``{name}`` placeholders are filled from ``params`` (each a rule, or ``{"labels": ...}`` for the
chosen choices' labels in the reader's language), and ``{dotted.path}`` placeholders from the
same data the rule sees: answers, calculated values, ``ctx``, ``score`` and ``failed`` (and
in alerts ``outcome``). Outcome levels' and checks' messages are templates too. The
template is filled once per language, so the stored text is neutral (every language).

The words a filled message uses (true/false, the list separator, the answers of a yes/no
item) are the ``scoring`` catalogue's (``rounds.i18n``).

May import: ``rounds.i18n`` and ``rounds.rules.semantics``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import msgspec

from rounds import i18n
from rounds.rules import semantics as js

MISSING = "—"  # what a placeholder shows when the data has no value there

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}")
DOMAIN = "scoring"
# The answers of a yes_no item, as a message shows them: {"yes": {"zh": "是", "en": "yes"}, ...}
YES_NO_LABELS: dict[str, dict[str, str]] = {
    answer: {lang: i18n.text(DOMAIN, lang, f"answer.{answer}") for lang in i18n.LANGUAGES}
    for answer in ("yes", "no", "na")}


class Alert(msgspec.Struct, frozen=True, kw_only=True):
    """A raised alert: ``message`` is filled in both languages; ``items`` are the items involved."""

    code: str
    severity: str
    message: dict[str, str]
    items: list[str]


def _words(lang: str) -> Mapping[str, str]:
    """The scoring catalogue in ``lang``; English for a language that is not one of ours
    (what these messages did before languages were catalogues)."""
    return i18n.table(DOMAIN, lang if lang in i18n.LANGUAGES else "en")


def round_half_up(value: float, digits: int) -> float:
    """Round as people (and JavaScript's ``Math.round``) do: 85.25 → 85.3, not banker's 85.2.

    Goes through the shortest decimal form of the float, so 85.25 counts as written.
    """
    q = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(float(value))).quantize(q, rounding=ROUND_HALF_UP))


# The Decimal round trip is slow and the numbers messages show repeat (scores, counts):
# typed, so that 1, 1.0 and True are kept apart.
@functools.lru_cache(maxsize=4096, typed=True)
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
    if value.__class__ is str:  # the commonest, first
        return value
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return _words(lang)["value.true" if value else "value.false"]
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return _words(lang)["value.list_separator"].join([
            v if v.__class__ is str else format_value(v, lang) for v in value])
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def picked_labels(labels: dict[str, dict[str, str]], lang: str) -> dict[str, str]:
    """Each code's label in ``lang`` (codes with an empty label left out): what
    :func:`format_labels` looks up, looked up once."""
    return {code: i18n.pick(label, lang, code) for code, label in labels.items() if label}


def format_labels(values: Any, labels: dict[str, dict[str, str]], lang: str,
                  picked: Mapping[str, str] | None = None) -> str:
    """Chosen codes shown as their labels in ``lang`` (each once, in order); a code without a
    label shows as itself. ``picked``: :func:`picked_labels` of ``labels`` in ``lang``, when
    the caller keeps them."""
    seq = values if isinstance(values, list) else [] if values is None else [values]
    shown: list[str] = []
    for v in seq:
        if isinstance(v, list):
            text = format_labels(v, labels, lang, picked)
        elif picked is not None:
            found = picked.get(str(v)) if isinstance(v, str | int) else None
            text = format_value(v, lang) if found is None else found
        else:
            label = labels.get(str(v)) if isinstance(v, str | int) else None
            text = i18n.pick(label, lang, str(v)) if label else format_value(v, lang)
        if text and text != MISSING and text not in shown:
            shown.append(text)
    if not shown:
        return MISSING
    return _words(lang)["value.list_separator"].join(shown)


# The score's fields a score line shows rounded to the definition's digits.
SHOWN_FIGURES = frozenset({"value", "percentage", "section_max", "section_min"})


def fill(template: str, data: Any, lang: str = "en",
         params: dict[str, str] | None = None,
         digits: Mapping[str, int] | None = None) -> str:
    """Replace each ``{name}`` in ``template`` with the formatted param of that name, else
    with that dotted path's value of ``data``.

    ``digits`` says how many decimals a score shows (``"score"``: the total's,
    ``"score.sections.<id>"``: a section's), so that the figure the score line shows
    (``{score.value}``, ``{score.percentage}``, ``section_max``/``section_min``, a section's
    value or percentage) reads the same in a message; other numbers, points included, show
    at most 2 decimals. Braces around anything
    that is not a name or dotted path (``{ }``, ``{a b}``) are left as written.
    """
    def one(m: re.Match[str]) -> str:
        return _placeholder(m.group(1), data, lang, params, digits)

    return _PLACEHOLDER.sub(one, template)


def _placeholder(name: str, data: Any, lang: str, params: dict[str, str] | None,
                 digits: Mapping[str, int] | None) -> str:
    """What ``{name}`` shows in a message (see :func:`fill`)."""
    if params is not None and name in params:
        return params[name]
    return shown_value(js.var_path(data, name), lang, placeholder_digits(name, digits))


def placeholder_digits(name: str, digits: Mapping[str, int] | None) -> int | None:
    """The decimals ``{name}`` shows a number with when it is a figure of the score line
    (see :func:`fill`); None for any other placeholder."""
    if not digits or not name.startswith("score.") \
            or name.rsplit(".", 1)[-1] not in SHOWN_FIGURES:
        return None
    parts = name.split(".")
    return digits.get(".".join(parts[:3]) if parts[1] == "sections" else "score")


def shown_value(value: Any, lang: str, digits: int | None) -> str:
    """A placeholder's value as a message shows it (``digits``: :func:`placeholder_digits`)."""
    if digits is not None and isinstance(value, int | float) and not isinstance(value, bool):
        return format_number(value, digits)
    return format_value(value, lang)


# A message's texts split once at their placeholders: (language, (text, name, text, ...)).
SplitTexts = tuple[tuple[str, tuple[str, ...]], ...]


def split_texts(texts: Any) -> SplitTexts:
    """The texts :func:`message` fills, each split at its placeholders (done once)."""
    if not isinstance(texts, dict):
        return ()
    return tuple((lang, tuple(_PLACEHOLDER.split(t))) for lang, t in texts.items()
                 if isinstance(t, str) and lang in i18n.LANGUAGES)


def message_split(split: SplitTexts, data: Any, params: dict[str, dict[str, str]] | None = None,
                  digits: Mapping[str, int] | None = None) -> dict[str, str]:
    """:func:`message` of texts already split (:func:`split_texts`): the same result."""
    out: dict[str, str] = {}
    for lang, parts in split:
        if len(parts) == 1:
            out[lang] = parts[0]
            continue
        given = {n: v.get(lang, MISSING) for n, v in (params or {}).items()}
        text = [parts[0]]
        for k in range(1, len(parts), 2):
            text.append(_placeholder(parts[k], data, lang, given, digits))
            text.append(parts[k + 1])
        out[lang] = "".join(text)
    return out


def message(texts: Any, data: Any,
            params: dict[str, dict[str, str]] | None = None,
            digits: Mapping[str, int] | None = None) -> dict[str, str]:
    """Fill every language of a ``{"zh", "en"}`` message; ``params`` are the template's
    params already formatted, per language (name → lang → text); ``digits`` as in
    :func:`fill`."""
    if not isinstance(texts, dict):
        return {}
    return {lang: fill(t, data, lang, {n: v.get(lang, MISSING) for n, v in (params or {}).items()},
                       digits)
            for lang, t in texts.items() if isinstance(t, str) and lang in i18n.LANGUAGES}


# -- templates: their params --------------------------------------------------------------

LABELS_KEYS = frozenset({"labels", "value"})


def is_labels_param(spec: Any) -> bool:
    """``{"labels": "<item id>" | "<group id>.<item id>", "value"?: rule}``: show labels."""
    return isinstance(spec, dict) and "labels" in spec and set(spec) <= LABELS_KEYS


def param_rule(spec: Any) -> tuple[Any, str | None, str]:
    """A template param as (its rule, the item path whose labels show, the rule's pointer
    below the param). A labels param without ``value`` reads the item's answer (for an item
    inside a group, the answers of every entry)."""
    if not is_labels_param(spec):
        return spec, None, ""
    path = spec["labels"]
    if "value" in spec:
        return spec["value"], str(path), "/value"
    head, _, sub = str(path).partition(".")
    rule = {"map": [{"var": head}, {"var": sub}]} if sub else {"var": head}
    return rule, str(path), "/labels"


def item_labels(item: Any) -> dict[str, dict[str, str]] | None:
    """The labels of an item's answers by code (choices, yes/no, scale labels); None for an
    item whose answers have none."""
    if not isinstance(item, dict):
        return None
    kind = item.get("type")
    if kind in ("single_choice", "multiple_choice"):
        return {str(c.get("value")): dict(c.get("label") or {})
                for c in item.get("choices") or [] if isinstance(c, dict)}
    if kind == "yes_no":
        return dict(YES_NO_LABELS)
    if kind == "scale" and isinstance(item.get("labels"), dict):
        return {str(k): dict(v) for k, v in item["labels"].items() if isinstance(v, dict)}
    return None


def items_by_path(definition: Any) -> dict[str, dict[str, Any]]:
    """Every item of a standard or survey by its path: ``id``, and ``group.id`` inside a
    group."""
    out: dict[str, dict[str, Any]] = {}
    for sec in (definition.get("sections") or []) if isinstance(definition, dict) else []:
        for it in (sec.get("items") or []) if isinstance(sec, dict) else []:
            if not isinstance(it, dict):
                continue
            out[str(it.get("id"))] = it
            if it.get("type") == "group":
                for sub in it.get("items") or []:
                    if isinstance(sub, dict):
                        out[f"{it.get('id')}.{sub.get('id')}"] = sub
    return out
