"""HTTP handlers of the sites slice: thin, each one calls the service.

A site outside the caller's scope answers 404 exactly like a site that does not exist; an
action the caller's role lacks answers 403 before any site is looked up.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import IdField
from rounds.runtime.access import Principal
from rounds.runtime.imports import import_handler
from rounds.runtime.sites import service
from rounds.runtime.sites.imports import import_sites
from rounds.runtime.sites.service import HistoryEntry, SiteDetails, SiteSummary
from rounds.web.paging import Page, Paging, paged
from rounds.web.params import Id, OptionalId


class NewSite(msgspec.Struct):
    """A new site. Fields are loosely typed on purpose: the service checks them all and
    reports every mistake at once, each with its pointer."""

    site_kind: str = ""
    code: str = ""
    name: str = ""
    org_unit: str = ""
    lat: Any = None
    lng: Any = None
    address: str = ""
    attributes: dict[str, Any] = msgspec.field(default_factory=dict)


class Assignment(msgspec.Struct):
    role_id: str
    user_id: IdField | None  # null: nobody serves the site for this role any more


class SiteController(Controller):
    path = "/api/sites"
    tags = ("sites",)

    @get("/", summary="Sites in my scope, a page at a time; nearest first with near=lat,lng",
         dependencies=paged(500))
    async def index(self, db: AsyncSession, principal: Principal, paging: Paging, *,
                    kind: str | None = None, org_unit_id: OptionalId = None,
                    q: str | None = Parameter(default=None, description="name or code"),
                    near: str | None = Parameter(default=None, description="lat,lng")
                    ) -> Page[SiteSummary]:
        items, total = await service.list_sites(
            db, principal, site_kind=kind, org_unit_id=org_unit_id, search=q,
            near=service.position(near), limit=paging.limit, offset=paging.offset)
        return paging.of(items, total)

    @post("/", summary="Create a site (site.manage); attributes checked against its kind")
    async def create(self, db: AsyncSession, principal: Principal, data: NewSite
                     ) -> SiteDetails:
        site = await service.create_site(
            db, principal, site_kind=data.site_kind, code=data.code, name=data.name,
            lat=data.lat, lng=data.lng, org_unit=data.org_unit, address=data.address,
            attributes=data.attributes)
        return await service.site_details(db, principal, site.id)

    @get("/{site_id:int}", summary="A site with its attributes and assigned staff")
    async def details(self, db: AsyncSession, principal: Principal, site_id: Id
                      ) -> SiteDetails:
        return await service.site_details(db, principal, site_id)

    @get("/{site_id:int}/history", summary="Visits and submissions at a site, newest first",
         dependencies=paged(500))
    async def history(self, db: AsyncSession, principal: Principal, site_id: Id,
                      paging: Paging) -> Page[HistoryEntry]:
        items, total = await service.site_history(db, principal, site_id, limit=paging.limit,
                                                  offset=paging.offset)
        return paging.of(items, total)

    @get("/{site_id:int}/qr.svg", summary="The site's check-in QR code (site.manage)",
         media_type="image/svg+xml")
    async def qr(self, db: AsyncSession, principal: Principal, site_id: Id
                 ) -> Response[str]:
        svg = await service.qr_svg(db, principal, site_id)
        return Response(svg, media_type="image/svg+xml",
                        headers={"Cache-Control": "private, no-store"})

    @post("/{site_id:int}/assignments", status_code=200,
          summary="Assign the site's staff member for a role (site.manage)")
    async def assign(self, db: AsyncSession, principal: Principal, site_id: Id,
                     data: Assignment) -> SiteDetails:
        return await service.assign_staff(db, principal, site_id, data.role_id, data.user_id)


def handlers() -> list[Any]:
    return [SiteController,
            import_handler("sites", import_sites, what="sites", capability="site.manage")]
