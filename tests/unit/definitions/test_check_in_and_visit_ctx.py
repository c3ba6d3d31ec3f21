"""Definitions that say how staff check in (a role's and a site kind's ``check_in``) and
rules that read the visit: a bad method, a bad setting, a ``ctx.visit`` key that does not
exist are reported with their JSON pointers; the right ones pass."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from rounds.definitions.loader import DefinitionDocument, load_documents
from rounds.definitions.validation import validate

REPO = Path(__file__).resolve().parents[3]


def real(kind_folder: str, def_id: str) -> dict[str, Any]:
    doc = json.loads((REPO / "definitions" / kind_folder / f"{def_id}.json").read_text())
    return copy.deepcopy(doc)


def problems(*contents: dict[str, Any]) -> list[tuple[str, str]]:
    docs, loaded = load_documents([REPO / "definitions"])
    assert not loaded
    ids = {c["id"] for c in contents}
    own = [DefinitionDocument(f"test/{c['id']}.json", c) for c in contents]
    return [(p.pointer, p.message) for p in validate([*[d for d in docs if d.id not in ids],
                                                      *own])
            if p.source and p.source.startswith("test/")]


def test_check_in_methods_of_a_role_and_a_site_kind_are_accepted() -> None:
    role = real("roles", "customer_manager")
    role["check_in"] |= {"methods": ["qr"], "other_method": "flag"}
    kind = real("site_kinds", "retailer")
    kind["check_in"] = {"methods": ["gps", "qr"], "other_method": "refuse"}
    assert problems(role, kind) == []


def test_a_bad_check_in_method_is_reported_at_its_pointer() -> None:
    role = real("roles", "customer_manager")
    role["check_in"] |= {"methods": ["qr", "nfc"], "other_method": "ignore"}
    kind = real("site_kinds", "retailer")
    kind["check_in"] = {"methods": ["wifi"], "radius_m": 5}
    found = problems(role, kind)
    pointers = [p for p, _ in found]
    assert "/check_in/methods/1" in pointers and "/check_in/other_method" in pointers
    assert "/check_in/methods/0" in pointers  # the site kind's "wifi"
    assert any(p == "/check_in/radius_m" or "radius_m" in m for p, m in found)
    assert all(p.startswith("/check_in") for p in pointers), found


def test_an_empty_method_list_is_refused() -> None:
    kind = real("site_kinds", "retailer")
    kind["check_in"] = {"methods": []}
    assert [p for p, _ in problems(kind)] == ["/check_in/methods"]


def test_rules_may_read_the_visit_but_not_a_key_it_lacks() -> None:
    std = real("standards", "customer_manager_visit")
    item = std["sections"][0]["items"][0]
    item["visible_if"] = {"<": [{"days_between": [{"var": "ctx.visit.date"},
                                                  {"var": "ctx.today"}]}, 1]}
    assert problems(std) == []
    item["visible_if"] = {"==": [{"var": "ctx.visit.dat"}, "2026-01-01"]}
    found = problems(std)
    assert len(found) == 1
    pointer, message = found[0]
    assert pointer == "/sections/0/items/0/visible_if/==/0/var" or pointer.startswith(
        "/sections/0/items/0/visible_if")
    assert "ctx.visit has no 'dat'" in message and "date" in message
