"""Checks of issue routing: that every rule a standard (or one of its items) gives for who
rectifies (``assign_to``) and who accepts the fix (``verify_by``) names a role that may.

A rule that names a role without the capability is not an error the runtime can show: its
issues would go to the fallback (docs/definitions.md, "Who rectifies, who accepts"). So it is
reported when the definitions are validated, each problem at the rule's JSON pointer.

A role's ``complaints`` topics (the consumer page's complaints) are rules of the same shape,
checked the same way; a complaint has no submitter, so ``of: submitter`` is refused there,
and a topic's id is unique within the role.

Codes: ``cannot_rectify``, ``cannot_verify`` (the role lacks ``issue.rectify`` /
``issue.verify``), ``unknown_reference`` (no such role), ``routing_ignored`` (an item's rule
that no issue will use), ``no_submitter`` (a complaint's rule naming the submitter),
``duplicate_id`` (two topics of one id).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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
        if doc.kind == "role" and isinstance(doc.content, dict):
            yield from _complaint_routing(doc, roles, kinds)
            continue
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


def _role_rule(at: str, key: str, role: Any, *, roles: dict[str, Any],
               kinds: Mapping[str, str | None], source: str | None) -> Iterator[Problem]:
    """A rule's role exists and may act (``key``: assign_to or verify_by)."""
    need, code, verb = PARTIES[key]
    if role not in roles:
        what = f"a {kinds[role]}" if role in kinds else "not defined"
        yield Problem(at + "/role", f"{role!r} should name a role; it is {what}",
                      "unknown_reference", source)
    elif need not in (roles[role].get("capabilities") or ()):
        yield Problem(at + "/role",
                      f"role {role!r} may not {verb} (its capabilities lack {need}): its "
                      f"issues would have nobody by this rule; add {need} to the role or "
                      "name another role", code, source)


def _complaint_routing(doc: DefinitionDocument, roles: dict[str, Any],
                       kinds: Mapping[str, str | None]) -> Iterator[Problem]:
    """A role's complaint topics: unique ids, and each rule names a role that may act."""
    complaints = doc.content.get("complaints")
    topics = complaints.get("topics") if isinstance(complaints, dict) else None
    if not isinstance(topics, list):
        return
    seen: set[str] = set()
    for n, topic in enumerate(topics):
        if not isinstance(topic, dict):
            continue
        at = pointer("complaints", "topics", str(n))
        topic_id = topic.get("id")
        if isinstance(topic_id, str):
            if topic_id in seen:
                yield Problem(at + "/id", f"topic {topic_id!r} is defined twice",
                              "duplicate_id", doc.source)
            seen.add(topic_id)
        for key in PARTIES:
            rule = topic.get(key)
            if not isinstance(rule, dict):
                continue
            if rule.get("of") == "submitter":
                yield Problem(pointer("complaints", "topics", str(n), key, "of"),
                              "a complaint has no submitter (it is filed without an account): "
                              "name a role of the shop (site) or of its unit (org_unit)",
                              "no_submitter", doc.source)
            elif not isinstance(rule.get("role"), str):
                yield Problem(pointer("complaints", "topics", str(n), key),
                              "name the role (a complaint has no submitter whose role it "
                              "could be)", "no_submitter", doc.source)
            else:
                yield from _role_rule(pointer("complaints", "topics", str(n), key), key,
                                      rule["role"], roles=roles, kinds=kinds,
                                      source=doc.source)
