"""Checks of issue routing: that every rule a standard (or one of its items) gives for who
rectifies (``assign_to``) and who accepts the fix (``verify_by``) names a role that may.

A rule that names a role without the capability is not an error the runtime can show: its
issues would go to the fallback (docs/definitions.md, "Who rectifies, who accepts"). So it is
reported when the definitions are validated, each problem at the rule's JSON pointer.

Codes: ``cannot_rectify``, ``cannot_verify`` (the role lacks ``issue.rectify`` /
``issue.verify``), ``unknown_reference`` (no such role), ``routing_ignored`` (an item's rule
that no issue will use).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rounds.definitions.items import items_of
from rounds.definitions.loader import DefinitionDocument
from rounds.errors import Problem
from rounds.pointer import join as pointer

PARTIES = {"assign_to": ("issue.rectify", "cannot_rectify", "rectify issues"),
           "verify_by": ("issue.verify", "cannot_verify", "accept fixes (verify issues)")}
ITEM_ROUTING = ("assign_to", "verify_by", "due")


def _rules(content: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(pointer, assign_to | verify_by, rule) of the standard and of each item."""
    issues = content.get("issues")
    if isinstance(issues, dict):
        for key in PARTIES:
            if isinstance(issues.get(key), dict):
                yield pointer("issues", key), key, issues[key]
    for ref in items_of(content):
        for key in PARTIES:
            if isinstance(ref.item.get(key), dict):
                yield ref.pointer + pointer(key), key, ref.item[key]


def check_issue_rules(doc: DefinitionDocument) -> Iterator[Problem]:
    """Within one definition: an item's routing that no issue would use."""
    content = doc.content
    if doc.kind == "survey":
        why = "a survey raises no issues"
    elif (content.get("issues") or {}).get("per") == "submission":
        why = ("issues.per is 'submission': one issue for all failed items follows the "
               "standard's assign_to and verify_by; set per to 'item' or move the rule there")
    else:
        return
    for ref in items_of(content):
        for key in ITEM_ROUTING:
            if key in ref.item and not (key == "due" and doc.kind == "standard"):
                yield Problem(ref.pointer + pointer(key), f"{key} is not used: {why}",
                              "routing_ignored", doc.source)


def check_issue_routing(docs: list[DefinitionDocument]) -> Iterator[Problem]:
    """Across definitions: each rule's role exists and may act; a rule without a role (the
    submitter, or the submitter's role) needs every role that may fill the standard to."""
    roles = {d.id: d.content for d in docs
             if d.kind == "role" and isinstance(d.content, dict) and d.id}
    kinds = {d.id: d.kind for d in docs if d.id}
    for doc in docs:
        if doc.kind != "standard" or not isinstance(doc.content, dict):
            continue
        fillers = sorted(r for r, c in roles.items() if doc.id in (c.get("standards") or ()))
        for at, key, rule in _rules(doc.content):
            need, code, verb = PARTIES[key]
            role = rule.get("role")
            if isinstance(role, str):
                if role not in roles:
                    what = f"a {kinds[role]}" if role in kinds else "not defined"
                    yield Problem(at + "/role", f"{role!r} should name a role; it is {what}",
                                  "unknown_reference", doc.source)
                elif need not in (roles[role].get("capabilities") or ()):
                    yield Problem(at + "/role",
                                  f"role {role!r} may not {verb} (its capabilities lack "
                                  f"{need}): its issues would have nobody by this rule; add "
                                  f"{need} to the role or name another role",
                                  code, doc.source)
                continue
            for filler in fillers:  # the submitter, or the submitter's role
                if need not in (roles[filler].get("capabilities") or ()):
                    who = "the submitter" if rule.get("of") == "submitter" else \
                        "the submitter's role"
                    yield Problem(at, f"{key} names {who}, and role {filler!r} fills this "
                                  f"standard but may not {verb} (its capabilities lack "
                                  f"{need}); name a role that may", code, doc.source)
