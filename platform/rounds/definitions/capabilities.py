"""The capabilities a role may grant: the core's, and those the enabled extensions add.

A role lists capabilities by name (``visit.check_in``); ``rounds definitions validate``
refuses a name that is not here (``unknown_capability``), with the names there are.
Extensions add theirs with :func:`register` when they are activated
(:mod:`rounds.extensions`). Pure: no database.
"""

from __future__ import annotations

import re

CORE: tuple[str, ...] = (
    "visit.check_in", "submission.create", "submission.view_own", "submission.view_scope",
    "issue.assign", "issue.rectify", "issue.verify", "issue.cancel", "issue.view_scope",
    "spot_check.create", "survey.respond", "survey.manage", "campaign.manage",
    "report.view_scope", "definition.author", "definition.publish", "user.manage",
    "site.manage", "shop.view_own", "notice.publish")

_NAME = re.compile(r"[a-z][a-z_]*\.[a-z][a-z_]*")
_added: list[str] = []


def well_formed(name: str) -> bool:
    return _NAME.fullmatch(name) is not None


def register(name: str) -> None:
    """Add an extension's capability (once; the core's are there already)."""
    if name not in CORE and name not in _added:
        _added.append(name)


def known() -> tuple[str, ...]:
    """Every capability a role may grant in this process."""
    return (*CORE, *_added)
