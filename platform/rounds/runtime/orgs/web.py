"""HTTP handlers of org units: the tree a user may see, and the CSV import.

Managing org units needs ``user.manage`` (who manages people manages the units they work
in); the tree shows only the units in the caller's scope.

Imports: the orgs slice, the shared runtime modules (access, imports), the web toolkit.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, get
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.runtime.access import Principal
from rounds.runtime.imports import import_handler
from rounds.runtime.orgs.imports import import_org_units
from rounds.runtime.orgs.service import OrgUnitNode, visible_org_tree


class OrgTree(msgspec.Struct):
    items: list[OrgUnitNode]


class OrgUnitController(Controller):
    path = "/api/org-units"
    tags = ("people",)

    @get("/", summary="The org units I may see, as a tree")
    async def tree(self, db: AsyncSession, principal: Principal) -> OrgTree:
        return OrgTree(items=await visible_org_tree(db, principal))


def handlers() -> list[Any]:
    return [OrgUnitController, import_handler("org-units", import_org_units, what="org units",
                                              capability="user.manage")]
