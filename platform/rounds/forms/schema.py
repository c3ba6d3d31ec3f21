"""A standard's or survey's submission body as a JSON Schema (draft 2020-12), for clients.

The body a client sends is ``{"answers": {<item id>: value}, "evidence": {<item id>:
{"photos": [str], "note": str}}}``. The schema describes the *shape* of every answer that
is present, as docs/definitions.md's table of item types says. What depends on other
answers cannot be said in plain JSON Schema without making it unreadable, so it travels in
the ``x-rounds-rules`` extension (one entry per item that has a rule), for clients to evaluate
with the same JsonLogic rules the server uses:

- ``required`` lists only the items that are required unconditionally and have no
  ``visible_if``; everything conditional (``visible_if``, ``required_if``, ``evidence_if``
  with its ``evidence`` demand, ``calculate``) is in ``x-rounds-rules``;
- a hidden item's answer is dropped by the server, so errors inside it are not reported;
- a ``check`` item that is required must be ticked (``true``), as an HTML check box does;
- ``date`` bounds are ``formatMinimum``/``formatMaximum`` (the vocabulary of ajv-formats),
  which plain 2020-12 validators ignore and the server checks;
- calculated items are ``readOnly``: the server computes them and ignores a sent value;
- a ``single_choice`` with ``points: "value"`` takes its answer as the choice's value or as
  that value's number (``"2"`` or ``2``, ``2.0``); the server keeps the value string.

Labels come in the requested language as ``title``/``description`` (picked with
``rounds.i18n.pick``) and in every language as ``x-title``/``x-description`` (and
``x-unit``, ``x-enum-labels``, ``x-labels``).

May import: ``rounds.i18n`` and ``rounds.rules`` (the labels of yes/no answers).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from rounds import i18n
from rounds.rules.alerts import YES_NO_LABELS
from rounds.rules.scoring import NUMERIC_VALUE

FORM_KINDS = ("standard", "survey")  # the kinds of definition that are forms
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
ITEM_RULE_KEYS = ("visible_if", "required_if", "evidence_if", "calculate")
DEFAULT_EVIDENCE: dict[str, Any] = {"photo_min": 1, "note": False}


@dataclass(frozen=True)
class FormItem:
    """One item of a form, where it sits and what its answer is."""

    item: dict[str, Any]
    section: str
    group: FormItem | None = None  # the group whose entries this item is a field of

    # Read for every answer of every body: worked out once (a definition does not change;
    # cached_property writes the instance's __dict__, which a frozen dataclass allows).
    @cached_property
    def id(self) -> str:
        return str(self.item["id"])

    @cached_property
    def type(self) -> str:
        return str(self.item.get("type"))

    @property
    def title(self) -> Any:
        return self.item.get("title")

    @property
    def calculated(self) -> bool:
        return "calculate" in self.item

    @property
    def unconditionally_required(self) -> bool:
        """Required whatever the other answers are (what plain JSON Schema can say)."""
        # ``required: true`` wins over ``required_if``; only ``visible_if`` can lift it.
        it = self.item
        return it.get("required") is True and "visible_if" not in it and not self.calculated

    def entry_items(self) -> list[FormItem]:
        return list(self._entry_items)

    @cached_property
    def _entry_items(self) -> tuple[FormItem, ...]:
        return tuple(FormItem(sub, self.section, self) for sub in self.item.get("items") or [])


def form_items(definition: dict[str, Any]) -> list[FormItem]:
    """The top-level items of a standard or survey, in order, across its sections."""
    return [FormItem(item, str(section.get("id")))
            for section in definition.get("sections") or []
            for item in section.get("items") or []]


def walk(items: list[FormItem]) -> Iterator[FormItem]:
    for fi in items:
        yield fi
        if fi.type == "group":
            yield from fi.entry_items()


def _labels(fi: FormItem, lang: str) -> dict[str, Any]:
    out: dict[str, Any] = {"title": i18n.pick(fi.title, lang)}
    if isinstance(fi.title, dict):
        out["x-title"] = fi.title
    help_ = fi.item.get("help")
    if isinstance(help_, dict):
        out["description"] = i18n.pick(help_, lang)
        out["x-description"] = help_
    out["x-rounds-type"] = fi.type
    return out


def _keywords(item: dict[str, Any], *names: tuple[str, str]) -> dict[str, Any]:
    """The item's options that are set (not null), each (option, keyword) under its JSON
    Schema keyword."""
    return {keyword: item[option] for option, keyword in names if item.get(option) is not None}


def _counts(item: dict[str, Any]) -> dict[str, Any]:
    return _keywords(item, ("min_count", "minItems"), ("max_count", "maxItems"))


def numeric_choices(item: dict[str, Any]) -> dict[str, int | float]:
    """The number of each choice of a ``single_choice`` with ``points: "value"`` (empty for
    any other item): the answer may be sent as that number. Whole numbers are ints."""
    if item.get("type") != "single_choice" or item.get("points") != "value":
        return {}
    out: dict[str, int | float] = {}
    for c in item.get("choices") or []:
        value = c.get("value") if isinstance(c, dict) else None
        if isinstance(value, str) and NUMERIC_VALUE.fullmatch(value):
            n = float(value)
            out[value] = int(n) if n.is_integer() else n
    return out


def _choice_labels(item: dict[str, Any]) -> dict[str, Any]:
    return {str(c["value"]): c.get("label") for c in item.get("choices") or []}


GPS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "lng": {"type": "number", "minimum": -180, "maximum": 180},
        "accuracy_m": {"type": "number", "minimum": 0},
    },
    "required": ["lat", "lng"],
    "additionalProperties": False,
}
# An object, so that other ways to sign (a typed name...) can be added as fields; "photo" is
# the id of the PNG drawn on the pad and uploaded (POST /api/photos).
SIGNATURE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"photo": {"type": "string", "minLength": 1,
                             "description": "id of the uploaded PNG of the drawn signature"}},
    "required": ["photo"],
    "additionalProperties": False,
}


def value_schema(fi: FormItem, lang: str = i18n.DEFAULT) -> dict[str, Any]:
    """The shape of one answer, without labels."""
    item, t = fi.item, fi.type
    if t == "check":
        s: dict[str, Any] = {"type": "boolean"}
        if fi.unconditionally_required:
            s["const"] = True
        return s
    if t == "yes_no":
        values = ["yes", "no", "na"] if item.get("allow_na") else ["yes", "no"]
        return {"enum": values, "x-enum-labels": {v: dict(YES_NO_LABELS[v]) for v in values}}
    if t == "scale":
        s = {"type": "integer", **_keywords(item, ("min", "minimum"), ("max", "maximum"))}
        extra: dict[str, Any] = {}
        if item.get("labels"):
            extra["x-labels"] = item["labels"]
        if item.get("allow_na"):
            return {"anyOf": [s, {"const": "na"}], **extra}
        return {**s, **extra}
    if t == "number":
        return {"type": "integer" if item.get("integer") else "number",
                **_keywords(item, ("min", "minimum"), ("max", "maximum"), ("unit", "x-unit"))}
    if t == "text":
        return {"type": "string", **_keywords(item, ("min_length", "minLength"),
                                              ("max_length", "maxLength"), ("pattern", "pattern"))}
    if t == "single_choice":
        enum: list[Any] = [c["value"] for c in item.get("choices") or []]
        # points: "value": the value's number is an answer too (JSON Schema: 2.0 equals 2)
        for n in numeric_choices(item).values():
            if n not in enum:
                enum.append(n)
        return {"enum": enum, "x-enum-labels": _choice_labels(item)}
    if t == "multiple_choice":
        return {"type": "array", "items": {"enum": [c["value"] for c in item.get("choices") or []]},
                "uniqueItems": True, **_counts(item), "x-enum-labels": _choice_labels(item)}
    if t == "date":
        return {"type": "string", "format": "date", "pattern": DATE_PATTERN,
                **_keywords(item, ("min", "formatMinimum"), ("max", "formatMaximum"))}
    if t == "photo":
        return {"type": "array", "items": {"type": "string", "minLength": 1}, **_counts(item)}
    if t == "gps":
        return dict(GPS_SCHEMA)
    if t == "signature":
        return dict(SIGNATURE_SCHEMA)
    if t == "group":
        return {"type": "array", **_counts(item), "items": entry_schema(fi, lang)}
    return {}


def _properties(items: list[FormItem], lang: str) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for fi in items:
        s = {**_labels(fi, lang), **value_schema(fi, lang)}
        if fi.calculated:
            s["readOnly"] = True
        props[fi.id] = s
    return props


def _required(items: list[FormItem]) -> list[str]:
    return [fi.id for fi in items if fi.unconditionally_required]


def entry_evidence_pattern(items: list[FormItem]) -> str | None:
    """Evidence for a group entry's item is keyed ``<group id>/<entry index>/<item id>``."""
    keys = [f"{fi.id}/[0-9]+/{sub.id}" for fi in items if fi.type == "group"
            for sub in fi.entry_items() if "evidence_if" in sub.item]
    return f"^({'|'.join(keys)})$" if keys else None


def entry_schema(group: FormItem, lang: str = i18n.DEFAULT) -> dict[str, Any]:
    subs = group.entry_items()
    s: dict[str, Any] = {"type": "object", "properties": _properties(subs, lang)}
    if group.item.get("entry_title") is not None:
        s["title"] = i18n.pick(group.item["entry_title"], lang)
        s["x-title"] = group.item["entry_title"]
    required = _required(subs)
    if required:
        s["required"] = required
    s["additionalProperties"] = False
    return s


def evidence_demand(item: dict[str, Any]) -> dict[str, Any]:
    """What ``evidence_if`` asks for, defaults filled in."""
    return {**DEFAULT_EVIDENCE, **(item.get("evidence") or {})}


def _rules_of(fi: FormItem) -> dict[str, Any]:
    it = fi.item
    out: dict[str, Any] = {k: it[k] for k in ITEM_RULE_KEYS if k in it}
    if "evidence_if" in it:
        out["evidence"] = evidence_demand(it)
    if out and ("visible_if" in it or "required_if" in it):
        out["required"] = it.get("required") is True
    if fi.type == "group":
        entry = {sub.id: r for sub in fi.entry_items() if (r := _rules_of(sub))}
        if entry:
            out["entry"] = entry
    return out


def rules_extension(items: list[FormItem]) -> dict[str, Any]:
    """``x-rounds-rules``: every item's conditional rules, keyed by item id.

    Rules read the answers by item id, calculated values the same way and ``ctx``; the rules
    of a group's entry fields (under ``entry``) read that entry's answers.
    """
    return {fi.id: r for fi in items if (r := _rules_of(fi))}


EVIDENCE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "photos": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "note": {"type": "string"},
    },
    "additionalProperties": False,
}


def answers_schema(definition: dict[str, Any], lang: str = i18n.DEFAULT) -> dict[str, Any]:
    """The JSON Schema (2020-12) of a submission body for ``definition``.

    ``lang`` picks the language of ``title``/``description``; both languages are always in
    ``x-title``/``x-description``.
    """
    lang = i18n.normalize(lang)
    items = form_items(definition)
    answers: dict[str, Any] = {"type": "object", "properties": _properties(items, lang)}
    required = _required(items)
    if required:
        answers["required"] = required
    answers["additionalProperties"] = False
    evidence = {
        "type": "object",
        "description": i18n.text("forms", lang, "schema.evidence"),
        "properties": {fi.id: EVIDENCE_SCHEMA for fi in items},
        "additionalProperties": False,
    }
    pattern = entry_evidence_pattern(items)
    if pattern:
        evidence["patternProperties"] = {pattern: EVIDENCE_SCHEMA}
    out: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://rounds.dev/forms/{definition.get('id')}/answers.json",
        "title": i18n.pick(definition.get("title"), lang),
        "x-title": definition.get("title"),
    }
    if isinstance(definition.get("description"), dict):
        out["description"] = i18n.pick(definition["description"], lang)
        out["x-description"] = definition["description"]
    out.update({
        "type": "object",
        "properties": {"answers": answers, "evidence": evidence},
        "required": ["answers"],
        "additionalProperties": False,
        "x-rounds-rules": rules_extension(items),
    })
    return out
