"""The capabilities a role may grant: the core's, and those the enabled extensions add.

A role lists capabilities by name (``visit.check_in``); ``rounds definitions validate``
refuses a name that is not here (``unknown_capability``), with the names there are.
Extensions add theirs with :func:`register` when they are activated
(:mod:`rounds.extensions`).

An extension also *grants* its capabilities to roles the installation has (the station
head reviews licence applications): a role's definition cannot name a capability of an
extension that may be disabled (it would not validate then), so the grant lives with the
extension and holds while it is enabled. :func:`of_role` is a role's capabilities with the
grants: what a signed-in person may do. Pure: no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

CORE: tuple[str, ...] = (
    "visit.check_in", "submission.create", "submission.view_own", "submission.view_scope",
    "issue.assign", "issue.rectify", "issue.verify", "issue.cancel", "issue.view_scope",
    "spot_check.create", "survey.respond", "survey.manage", "campaign.manage",
    "report.view_scope", "definition.author", "definition.publish", "user.manage",
    "site.manage", "shop.view_own", "notice.publish")

_NAME = re.compile(r"[a-z][a-z_]*\.[a-z][a-z_]*")
_added: list[str] = []
_granted: dict[str, list[str]] = {}


def well_formed(name: str) -> bool:
    return _NAME.fullmatch(name) is not None


def register(name: str) -> None:
    """Add an extension's capability (once; the core's are there already)."""
    if name not in CORE and name not in _added:
        _added.append(name)


def known() -> tuple[str, ...]:
    """Every capability a role may grant in this process."""
    return (*CORE, *_added)


def grant(role_id: str, capability: str) -> None:
    """Give the role ``capability`` beside those its definition lists (an extension's)."""
    given = _granted.setdefault(role_id, [])
    if capability not in given:
        given.append(capability)


def granted(role_id: str) -> tuple[str, ...]:
    return tuple(_granted.get(role_id, ()))


def of_role(role_id: str, listed: Iterable[str] | None) -> frozenset[str]:
    """A role's capabilities: those its definition lists and those granted to it."""
    return frozenset((*(listed or ()), *_granted.get(role_id, ())))
