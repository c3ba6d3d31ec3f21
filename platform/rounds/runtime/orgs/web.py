"""HTTP handlers of org units: the tree a user may see, and the CSV import.

Managing org units needs ``user.manage`` (who manages people manages the units they work
in); the tree shows only the units in the caller's scope.

Imports: the orgs slice, the shared runtime modules (access, imports), the web toolkit.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.runtime.access import Principal
from rounds.runtime.imports import ImportOut, csv_body, import_out
from rounds.runtime.orgs.imports import import_org_units
from rounds.runtime.orgs.service import OrgUnitNode, visible_org_tree
from rounds.web.security import CSV_UPLOAD


class OrgTree(msgspec.Struct):
    items: list[OrgUnitNode]


class OrgUnitController(Controller):
    path = "/api/org-units"
    tags = ("people",)

    @get("/", summary="The org units I may see, as a tree")
    async def tree(self, db: AsyncSession, principal: Principal) -> OrgTree:
        return OrgTree(items=await visible_org_tree(db, principal))


class OrgUnitImportController(Controller):
    path = "/api/imports"
    tags = ("imports",)
    opt = CSV_UPLOAD  # bodies are CSV files (text/csv or a multipart upload), not JSON

    @post("/org-units", status_code=200,
          summary="Import org units from CSV (user.manage); 422 with every row error")
    async def org_units(self, db: AsyncSession, principal: Principal,
                        request: Request[Any, Any, Any], skip_bad_rows: bool = False
                        ) -> ImportOut:
        principal.require("user.manage")
        return import_out(await import_org_units(
            db, await csv_body(request), principal=principal, skip_bad_rows=skip_bad_rows))


def handlers() -> list[Any]:
    return [OrgUnitController, OrgUnitImportController]
