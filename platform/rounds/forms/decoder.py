"""msgspec types of a form's submission body: decode *and* check a valid body in one pass.

``body_types(definition)`` builds, once per definition version, Structs with
``forbid_unknown_fields=True`` whose field types carry the answer constraints that JSON Schema
states for the same form (``schema.answers_schema``): bounds and lengths as ``msgspec.Meta``,
choices and yes/no/na as ``Literal``, dates as ``datetime.date`` (so a real calendar date is
checked in C, ``2025-02-30`` fails), a GPS Struct and a Struct per group entry.

Answers are optional (``UNSET`` when absent): what must be answered mostly depends on the
rules and is checked after decoding. The exception, for speed: an item that is always shown
and always required (``required: true``, no ``visible_if``; in a group entry: of every entry)
is a required field that cannot be empty (``""``, ``[]``; a check must be ``true``), so msgspec
checks it in C. A body that misses one fails here and goes to the slow path, which reports it
with every other error (and drops it if the entry's group turns out hidden), so the outcome is
the same as checking it afterwards.

What msgspec cannot say is left to the checks after decoding (``fast_path``, or
``compiled`` for a form without a fast plan): unique choices in a ``multiple_choice``, date
bounds, keys of group-entry evidence. msgspec stops at the first error, so a body it
rejects goes to the slow path, which lists every error with jsonschema.

Numbers keep their JSON type (``int | float``), so the rules see ``5``, not ``5.0``. A whole
number sent as ``5.0`` for an ``integer`` item is rejected here but accepted by JSON Schema:
the slow path then finds nothing wrong and the body is valid, only slower. The same goes for
a ``single_choice`` with ``points: "value"``: its whole-number choices are accepted here as
numbers too (``Literal[0, 1, 2]``), and ``2.0`` or a decimal choice sent as a number (``1.5``)
take the slow path.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import msgspec

from rounds.forms.schema import FormItem, form_items, numeric_choices

UNSET = msgspec.UNSET
_STRUCT_OPTIONS: dict[str, Any] = {"forbid_unknown_fields": True, "gc": False, "kw_only": True}


class Gps(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    lat: Annotated[int, msgspec.Meta(ge=-90, le=90)] | Annotated[float, msgspec.Meta(ge=-90, le=90)]
    lng: Annotated[int, msgspec.Meta(ge=-180, le=180)] | Annotated[
        float, msgspec.Meta(ge=-180, le=180)]
    accuracy_m: Annotated[int, msgspec.Meta(ge=0)] | Annotated[
        float, msgspec.Meta(ge=0)] | msgspec.UnsetType = UNSET


PhotoRef = Annotated[str, msgspec.Meta(min_length=1)]


class SignatureRef(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A signature: an object so that other ways to sign can be added as other fields.
    ``photo``: the id of the PNG drawn on the form's pad and uploaded like a photo."""

    photo: PhotoRef


class EvidenceEntry(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    photos: list[PhotoRef] | msgspec.UnsetType = UNSET
    note: str | msgspec.UnsetType = UNSET


def _meta(t: Any, **constraints: Any) -> Any:
    kw = {k: v for k, v in constraints.items() if v is not None}
    return Annotated[t, msgspec.Meta(**kw)] if kw else t


def _literal(values: list[Any]) -> Any:
    return Literal[tuple(values)]


def _at_least(bound: int | None, least: int) -> int | None:
    if least and (bound is None or bound < least):
        return least
    return bound


def _number(item: dict[str, Any], integer: bool) -> Any:
    lo, hi = item.get("min"), item.get("max")
    # Bounds of an int must be ints: the same whole numbers lie within ceil(lo)..floor(hi).
    whole = _meta(int, ge=None if lo is None else math.ceil(lo),
                  le=None if hi is None else math.floor(hi))
    if integer:
        return whole
    # A union keeps whole numbers as int (msgspec would turn 5 into 5.0 for a float field).
    return whole | _meta(float, ge=lo, le=hi)


def answer_type(fi: FormItem, entries: dict[str, type[msgspec.Struct]]) -> Any:
    """The msgspec type of one answer (without the ``UNSET`` that makes it optional)."""
    item, t = fi.item, fi.type
    # An item that is always shown and always required cannot be empty: saying so here lets
    # msgspec reject "" and [] in C (the slow path then reports them as "required").
    least = 1 if fi.unconditionally_required else 0
    counts = {"min_length": _at_least(item.get("min_count"), least),
              "max_length": item.get("max_count")}
    if t == "check":
        return Literal[True] if least else bool
    if t == "yes_no":
        return _literal(["yes", "no", "na"] if item.get("allow_na") else ["yes", "no"])
    if t == "scale":
        base = _meta(int, ge=item.get("min"), le=item.get("max"))
        return base | Literal["na"] if item.get("allow_na") else base
    if t == "number":
        return _number(item, bool(item.get("integer")))
    if t == "text":
        return _meta(str, min_length=_at_least(item.get("min_length"), least),
                     max_length=item.get("max_length"), pattern=item.get("pattern"))
    if t == "single_choice":
        values = _literal([c["value"] for c in item.get("choices") or []])
        whole = [n for n in numeric_choices(item).values() if isinstance(n, int)]
        return values | _literal(whole) if whole else values
    if t == "multiple_choice":
        choice = _literal([c["value"] for c in item.get("choices") or []])
        return _meta(list[choice], **counts)  # type: ignore[valid-type]
    if t == "date":
        return datetime.date
    if t == "photo":
        return _meta(list[PhotoRef], **counts)
    if t == "gps":
        return Gps
    if t == "signature":
        return SignatureRef
    if t == "group":
        entry = _struct(f"Entry_{fi.id}", fi.entry_items(), entries)
        entries[fi.id] = entry
        return _meta(list[entry], **counts)  # type: ignore[valid-type]
    raise ValueError(f"item {fi.id!r}: unknown type {t!r}")


def _struct(name: str, items: list[FormItem], entries: dict[str, type[msgspec.Struct]]
            ) -> type[msgspec.Struct]:
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = [
        (fi.id, answer_type(fi, entries)) if fi.unconditionally_required
        else (fi.id, answer_type(fi, entries) | msgspec.UnsetType, UNSET) for fi in items]
    return msgspec.defstruct(name, fields, **_STRUCT_OPTIONS)


@dataclass(frozen=True)
class BodyTypes:
    """The Structs of one form: ``body`` is what ``msgspec.json.decode`` is given."""

    body: type[msgspec.Struct]
    answers: type[msgspec.Struct]
    evidence: Any  # a Struct keyed by item id, or dict[str, EvidenceEntry] (entry evidence)
    entries: dict[str, type[msgspec.Struct]] = field(default_factory=dict)
    decoder: msgspec.json.Decoder[Any] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "decoder", msgspec.json.Decoder(self.body))


def has_entry_evidence(items: list[FormItem]) -> bool:
    return any("evidence_if" in sub.item for fi in items if fi.type == "group"
               for sub in fi.entry_items())


def body_types(definition: dict[str, Any]) -> BodyTypes:
    items = form_items(definition)
    entries: dict[str, type[msgspec.Struct]] = {}
    answers = _struct("Answers", items, entries)
    evidence: Any
    if has_entry_evidence(items):
        # Keys like "<group>/<index>/<item>" cannot be Struct fields; compiled.validate checks them.
        evidence = dict[str, EvidenceEntry]
    else:
        evidence = msgspec.defstruct(
            "Evidence", [(fi.id, EvidenceEntry | msgspec.UnsetType, UNSET)
                         for fi in items], **_STRUCT_OPTIONS)
    body = msgspec.defstruct("Body", [("answers", answers),
                                      ("evidence", evidence | msgspec.UnsetType, UNSET)],
                             **_STRUCT_OPTIONS)
    return BodyTypes(body=body, answers=answers, evidence=evidence, entries=entries)
