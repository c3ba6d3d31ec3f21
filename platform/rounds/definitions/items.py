"""The items of a standard or survey, walked once, each with its JSON pointer.

Imports: rounds.pointer only; the validation and the routing checks build on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rounds.pointer import join as pointer


@dataclass(frozen=True)
class ItemRef:
    item: dict[str, Any]
    pointer: str
    section: str
    group: ItemRef | None = None  # the group item this item is an entry field of

    @property
    def id(self) -> str:
        return str(self.item.get("id"))


def items_of(definition: dict[str, Any]) -> list[ItemRef]:
    """Every item of a standard or survey, group entry fields included, with its pointer."""
    out: list[ItemRef] = []
    for si, section in enumerate(definition.get("sections") or []):
        sid = str(section.get("id"))
        for ii, item in enumerate(section.get("items") or []):
            ref = ItemRef(item, pointer("sections", si, "items", ii), sid)
            out.append(ref)
            entries = item.get("items") or [] if item.get("type") == "group" else []
            for gi, sub in enumerate(entries):
                out.append(ItemRef(sub, ref.pointer + pointer("items", gi), sid, ref))
    return out


def items_by_id(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every item of a standard or survey, group entry fields included, by its id."""
    return {ref.id: ref.item for ref in items_of(definition)}
