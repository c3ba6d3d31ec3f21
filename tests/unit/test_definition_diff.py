"""The readable diff between two versions (rounds.definitions.diff), on the shipped
definitions with edits an author makes: items added, removed, moved within and across
sections, changed by property (a title in one language, a weight, choices, a rule); and
field by field for the other kinds."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from rounds.definitions.diff import ADDED, CHANGED, MOVED, REMOVED, Change, diff

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"


def shipped(kind: str, name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DEFINITIONS / kind / f"{name}.json").read_text())
    return loaded


def items_of(content: dict[str, Any], section: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = next(s for s in content["sections"]
                                       if s["id"] == section)["items"]
    return found


def brief(changes: list[Change]) -> set[tuple[str, str, str | None, str | None]]:
    return {(c.change, c.what, c.id, c.prop) for c in changes}


def test_the_same_content_has_no_difference() -> None:
    for kind, name in (("standards", "customer_manager_visit"), ("roles", "administrator"),
                       ("okrs", "market_patrol"), ("surveys", "retailer_satisfaction")):
        content = shipped(kind, name)
        assert diff(content, copy.deepcopy(content)) == []


def test_a_standards_items_added_removed_moved_and_changed_by_property() -> None:
    before = shipped("standards", "customer_manager_visit")
    after = copy.deepcopy(before)
    display = items_of(after, "display")
    display[0]["title"]["en"] = "Display as the standard says"  # one language only
    # a new item in ordering, one removed from policy, one moved across sections
    items_of(after, "ordering").append({"id": "shelf_clean", "type": "yes_no",
                                        "title": {"zh": "货架整洁", "en": "Shelf clean"}})
    policy = items_of(after, "policy")
    removed = policy.pop(2)
    moved = items_of(after, "market_info").pop(0)
    items_of(after, "arrival").append(moved)
    # a rule changed, and two items of one section swapped
    display[2]["visible_if"] = {"==": [{"var": "display_standard"}, False]}
    ordering = items_of(after, "ordering")
    ordering[0], ordering[1] = ordering[1], ordering[0]
    changes = diff(before, after)
    got = brief(changes)
    assert (CHANGED, "item", display[0]["id"], "title.en") in got
    assert (ADDED, "item", "shelf_clean", None) in got
    assert (REMOVED, "item", removed["id"], None) in got
    assert (MOVED, "item", moved["id"], None) in got
    assert (CHANGED, "item", display[2]["id"], "visible_if") in got
    # one of the swapped pair moved; the rest of the form kept its order
    swapped = {c.id for c in changes if c.change == MOVED and c.what == "item"} - {moved["id"]}
    assert len(swapped) == 1 and swapped <= {ordering[0]["id"], ordering[1]["id"]}
    across = next(c for c in changes if c.id == moved["id"] and c.change == MOVED)
    assert across.before[0] == "market_info" and across.after[0] == "arrival"
    assert across.path == ("sections", "arrival", "items", moved["id"])
    title = next(c for c in changes if c.prop == "title.en")
    assert title.after == "Display as the standard says" and title.before != title.after
    assert len(changes) == 6


def test_sections_added_removed_moved_and_their_titles() -> None:
    before = shipped("surveys", "retailer_satisfaction")
    after = copy.deepcopy(before)
    after["sections"].reverse()
    after["sections"][0]["title"]["zh"] = "新的标题"
    after["sections"].append({"id": "extra", "title": {"zh": "补充", "en": "More"},
                              "items": []})
    got = brief(diff(before, after))
    first = after["sections"][0]["id"]
    assert (CHANGED, "section", first, "title.zh") in got
    assert (ADDED, "section", "extra", None) in got
    if len(before["sections"]) > 1:
        assert any(c[0] == MOVED and c[1] == "section" for c in got)


def test_weights_choices_and_the_forms_own_fields() -> None:
    before = shipped("standards", "retailer_conduct_demerits")
    after = copy.deepcopy(before)
    scored = next(i for s in after["sections"] for i in s["items"]
                  if isinstance(i.get("weight"), (int, float)) or "points" in i
                  or "choices" in i)
    changes_expected = set()
    if "weight" in scored:
        scored["weight"] = scored["weight"] + 1
        changes_expected.add((CHANGED, "item", scored["id"], "weight"))
    if "choices" in scored:
        scored["choices"] = [*scored["choices"],
                             {"value": "new", "label": {"zh": "新", "en": "New"}}]
        changes_expected.add((CHANGED, "item", scored["id"], "choices"))
    after["title"]["en"] = "Conduct (demerits), new"
    after["issues"] = {**(after.get("issues") or {}), "due_days": {"low": 1}}
    got = brief(diff(before, after))
    assert changes_expected <= got
    paths = {c.path for c in diff(before, after) if c.what == "field"}
    assert ("title", "en") in paths  # a label per language
    assert ("issues", "due_days", "low") in paths and ("issues", "due_days", "high") in paths


def test_other_kinds_field_by_field_and_lists_by_id() -> None:
    before = shipped("roles", "customer_manager")
    after = copy.deepcopy(before)
    after["capabilities"] = [*after["capabilities"], "issue.verify"]
    after["title"]["zh"] = "客户经理（新）"
    after.pop("description")
    changes = diff(before, after)
    paths = {(c.change, c.path) for c in changes}
    assert (CHANGED, ("capabilities",)) in paths
    assert (CHANGED, ("title", "zh")) in paths
    assert (REMOVED, ("description",)) in paths
    okr = shipped("okrs", "market_patrol")
    edited = copy.deepcopy(okr)
    edited["objectives"][0]["weight"] = 0.5
    edited["objectives"][0]["key_results"].reverse()
    edited["objectives"].append({"id": "new_obj", "title": {"zh": "新", "en": "New"},
                                 "weight": 0.1, "key_results": []})
    got = {(c.change, c.path) for c in diff(okr, edited)}
    first = okr["objectives"][0]["id"]
    assert (CHANGED, ("objectives", first, "weight")) in got
    assert (ADDED, ("objectives", "new_obj")) in got
    if len(okr["objectives"][0]["key_results"]) > 1:
        assert any(c == MOVED and p[:3] == ("objectives", first, "key_results")
                   for c, p in got)
