"""A readable difference between two versions of a definition (pure: no store, no web).

For standards and surveys the unit of change is what an author thinks in: a section or an
item (items inside a group too) is *added*, *removed*, *moved* (to another section or
group, or to another place among the ones that stayed) or *changed*, with the property
that changed: a title in one language (``title.zh``), a weight, the choices, a rule
(``visible_if``, compared as JSON), anything else by its name. Items are matched by id,
so an item that went to another section is one move, not a removal and an addition.

For every other kind (and a form's own fields: title, alerts, issue routing...) the
difference is field by field: objects by key, label maps per language, lists of objects
with ids (objectives, key results, visit targets) matched by id, other lists as a whole.

A change's ``path`` names where it is with ids, not positions (``("sections", "display",
"items", "price_tags_complete", "weight")``), which stays true across both versions.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ADDED = "added"
REMOVED = "removed"
MOVED = "moved"
CHANGED = "changed"
FORM_KINDS = ("standard", "survey")
LANGUAGE_KEYS = frozenset({"zh", "en"})


@dataclass(frozen=True)
class Change:
    """One difference. ``what``: section, item, or field; ``id``: the section's or item's
    id (None for a field); ``prop``: the property changed (None for an added, removed or
    moved one); ``before``/``after``: the values (the whole section or item when added or
    removed; for a move, where it was and where it is: ``[parent, position]``)."""

    change: str
    what: str
    path: tuple[str, ...]
    id: str | None = None
    prop: str | None = None
    before: Any = None
    after: Any = None


def _is_label(value: Any) -> bool:
    """A map of language → text (``{"zh": …, "en": …}``)."""
    return isinstance(value, Mapping) and bool(value) and set(value) <= LANGUAGE_KEYS \
        and all(isinstance(v, str) for v in value.values())


def _with_ids(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(v, Mapping) and isinstance(v.get("id"), str) for v in value)


def _stayed_in_place(before: Sequence[str], after: Sequence[str]) -> set[str]:
    """The ids, among those in both orders, that keep their relative order (a longest
    common subsequence); the others moved."""
    common = set(before) & set(after)
    a = [x for x in before if x in common]
    b = [x for x in after if x in common]
    lengths = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) - 1, -1, -1):
        for j in range(len(b) - 1, -1, -1):
            lengths[i][j] = lengths[i + 1][j + 1] + 1 if a[i] == b[j] \
                else max(lengths[i + 1][j], lengths[i][j + 1])
    kept: set[str] = set()
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            kept.add(a[i])
            i, j = i + 1, j + 1
        elif lengths[i + 1][j] >= lengths[i][j + 1]:
            i += 1
        else:
            j += 1
    return kept


def _fields(before: Any, after: Any, path: tuple[str, ...], *, skip: frozenset[str] =
            frozenset(), what: str = "field", owner: str | None = None,
            prop: tuple[str, ...] = ()) -> Iterator[Change]:
    """Field-level differences under ``path``. Inside a section or item (``owner``) a
    change names its property (``title.zh``, ``weight``); elsewhere the path says it."""

    def change(kind: str, b: Any, a: Any, at: tuple[str, ...], p: tuple[str, ...]) -> Change:
        return Change(kind, what, at, id=owner, prop=".".join(p) if p else None,
                      before=b, after=a)

    if before == after:
        return
    if isinstance(before, Mapping) and isinstance(after, Mapping) and not (
            owner is not None and prop and not _is_label(before) and not _is_label(after)):
        for key in [*before, *(k for k in after if k not in before)]:
            if key in skip:
                continue
            b, a = before.get(key), after.get(key)
            if b == a:
                continue
            if owner is None and (key not in before or key not in after):
                yield change(ADDED if key not in before else REMOVED, b, a, (*path, key), ())
                continue
            yield from _fields(b, a, (*path, key), what=what, owner=owner, prop=(*prop, key))
        return
    if owner is None and _with_ids(before) and _with_ids(after):
        yield from _listed(before, after, path)
        return
    yield change(CHANGED, before, after, path, prop)


def _listed(before: list[Any], after: list[Any], path: tuple[str, ...]) -> Iterator[Change]:
    """A list of objects with ids (objectives, key results...): matched by id."""
    old = {v["id"]: v for v in before}
    new = {v["id"]: v for v in after}
    kept = _stayed_in_place(list(old), list(new))
    for i, key in enumerate(new):
        if key not in old:
            yield Change(ADDED, "field", (*path, key), id=key, after=new[key])
        elif key not in kept:
            yield Change(MOVED, "field", (*path, key), id=key,
                         before=list(old).index(key), after=i)
    for key, was in old.items():
        if key not in new:
            yield Change(REMOVED, "field", (*path, key), id=key, before=was)
    for key, now in new.items():
        if key in old:
            yield from _fields(old[key], now, (*path, key))


@dataclass(frozen=True)
class _Placed:
    item: Mapping[str, Any]
    parent: str  # the section's id, or "section/group" for an item in a group
    position: int
    path: tuple[str, ...]


def _items(content: Mapping[str, Any]) -> dict[str, _Placed]:
    """Every item of a form by id (items of groups too), with where it sits."""
    found: dict[str, _Placed] = {}

    def walk(items: Any, parent: str, path: tuple[str, ...]) -> None:
        for n, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
                continue
            at = (*path, "items", item["id"])
            found.setdefault(item["id"], _Placed(item, parent, n, at))
            if isinstance(item.get("items"), list):
                walk(item["items"], f"{parent}/{item['id']}", at)

    for section in content.get("sections") or []:
        if isinstance(section, Mapping) and isinstance(section.get("id"), str):
            walk(section.get("items"), section["id"], ("sections", section["id"]))
    return found


def _sections(content: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {s["id"]: s for s in content.get("sections") or []
            if isinstance(s, Mapping) and isinstance(s.get("id"), str)}


def _form(before: Mapping[str, Any], after: Mapping[str, Any]) -> Iterator[Change]:
    old_s, new_s = _sections(before), _sections(after)
    kept = _stayed_in_place(list(old_s), list(new_s))
    for i, key in enumerate(new_s):
        path = ("sections", key)
        if key not in old_s:
            yield Change(ADDED, "section", path, id=key, after=new_s[key])
        elif key not in kept:
            yield Change(MOVED, "section", path, id=key,
                         before=list(old_s).index(key), after=i)
    for key in old_s:
        if key not in new_s:
            yield Change(REMOVED, "section", ("sections", key), id=key, before=old_s[key])
    for key in new_s:
        if key in old_s:
            yield from _fields(old_s[key], new_s[key], ("sections", key),
                               skip=frozenset({"items"}), what="section", owner=key)
    old_i, new_i = _items(before), _items(after)
    # Order within each parent: an item that stayed in its parent moved only if it left
    # the longest run that kept its order there.
    kept_items: set[str] = set()
    for parent in {p.parent for p in new_i.values()}:
        was = [k for k, p in sorted(old_i.items(), key=lambda kv: kv[1].position)
               if p.parent == parent and k in new_i and new_i[k].parent == parent]
        now = [k for k, p in sorted(new_i.items(), key=lambda kv: kv[1].position)
               if p.parent == parent and k in old_i and old_i[k].parent == parent]
        kept_items |= _stayed_in_place(was, now)
    for key, placed in new_i.items():
        if key not in old_i:
            yield Change(ADDED, "item", placed.path, id=key, after=dict(placed.item))
        elif key not in kept_items:
            yield Change(MOVED, "item", placed.path, id=key,
                         before=[old_i[key].parent, old_i[key].position],
                         after=[placed.parent, placed.position])
    for key, placed in old_i.items():
        if key not in new_i:
            yield Change(REMOVED, "item", placed.path, id=key, before=dict(placed.item))
    for key, placed in new_i.items():
        if key in old_i:
            yield from _fields(old_i[key].item, placed.item, placed.path,
                               skip=frozenset({"items"}), what="item", owner=key)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """Every difference from ``before`` to ``after`` (two versions' contents): for a
    standard or survey its sections and items first, then its other fields."""
    kind = after.get("kind", before.get("kind"))
    if kind in FORM_KINDS:
        return [*_form(before, after),
                *_fields(before, after, (), skip=frozenset({"sections"}))]
    return list(_fields(before, after, ()))
