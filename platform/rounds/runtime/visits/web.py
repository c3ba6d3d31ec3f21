"""HTTP handlers of the visits slice: check-in, check-out, my visits, flagged visits, and the
forms to fill during a visit."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, Response, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import IdField
from rounds.errors import NotFound
from rounds.runtime.access import Principal
from rounds.runtime.definitions.compiled import form_version
from rounds.runtime.visits import service
from rounds.runtime.visits.service import VisitAlreadyOpen, VisitView
from rounds.web.language import request_language
from rounds.web.paging import Page, Paging, paged
from rounds.web.params import Id, OptionalId
from rounds.web.problems import problem_response

Lat = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Lng = Annotated[float, msgspec.Meta(ge=-180, le=180)]
Metres = Annotated[float, msgspec.Meta(ge=0)]


class PositionIn(msgspec.Struct, forbid_unknown_fields=True):
    lat: Lat
    lng: Lng
    accuracy_m: Metres | None = None


class CheckIn(msgspec.Struct, forbid_unknown_fields=True):
    """By GPS: ``site_id`` and ``gps``. By the shop's QR code: ``qr_token`` (and ``gps``
    when the phone has a position)."""

    site_id: IdField | None = None
    qr_token: str | None = None
    gps: PositionIn | None = None


class SiteRef(msgspec.Struct):
    id: int
    code: str
    name: str
    site_kind: str


class PositionOut(msgspec.Struct):
    lat: float
    lng: float
    accuracy_m: float | None


class VisitOut(msgspec.Struct):
    id: int
    user_id: int
    site: SiteRef
    method: str
    checked_in_at: str
    position: PositionOut | None
    distance_m: float | None
    flags: list[str]
    flagged: bool
    open: bool
    checked_out_at: str | None
    duration_s: int | None


class CurrentVisit(msgspec.Struct):
    visit: VisitOut | None


class FormLinks(msgspec.Struct):
    schema: str  # the forms engine's JSON Schema of this exact version
    preview: str  # the form as people see it (HTML)
    form: str  # the schema with the ctx of this visit, for a client filling it here
    submit: str


class FormOut(service.FormRef, frozen=True):
    links: FormLinks


class VisitForms(msgspec.Struct):
    visit_id: int
    site: SiteRef
    forms: list[FormOut]


class VisitForm(msgspec.Struct):
    """One form to fill during a visit: its JSON Schema and the ``ctx`` its rules read."""

    visit_id: int
    definition_id: str
    kind: str
    version: int
    content_hash: str
    schema: dict[str, Any]
    ctx: dict[str, Any]


def visit_out(view: VisitView) -> VisitOut:
    v, s = view.visit, view.site
    position = (PositionOut(lat=v.lat, lng=v.lng, accuracy_m=v.accuracy_m)
                if v.lat is not None and v.lng is not None else None)
    return VisitOut(
        id=v.id, user_id=v.user_id,
        site=SiteRef(id=s.id, code=s.code, name=s.name, site_kind=s.site_kind),
        method=v.method, checked_in_at=v.checked_in_at.isoformat(), position=position,
        distance_m=v.distance_m, flags=sorted(k for k, on in (v.flags or {}).items() if on),
        flagged=v.flagged, open=v.checked_out_at is None,
        checked_out_at=v.checked_out_at.isoformat() if v.checked_out_at else None,
        duration_s=v.duration_s)


def _already_open(request: Request[Any, Any, Any], exc: VisitAlreadyOpen
                  ) -> Response[dict[str, Any]]:
    response = problem_response(exc.status, exc.code, exc.title, exc.detail,
                                instance=request.url.path)
    # Name the open visit, so the client can offer to go back to it or check it out.
    response.content["open_visit"] = {
        "id": exc.visit_id, "site_id": exc.site_id, "site_name": exc.site_name,
        "checked_in_at": exc.checked_in_at.isoformat(),
        "check_out": f"/api/visits/{exc.visit_id}/check-out"}
    return response


def _links(visit_id: int, f: service.FormRef) -> FormLinks:
    def_id, version = quote(f.definition_id), f.content_hash
    return FormLinks(schema=f"/api/forms/{def_id}/schema?version={version}",
                     preview=f"/forms/{def_id}/preview?version={version}",
                     form=f"/api/visits/{visit_id}/forms/{def_id}?version={version}",
                     submit="/api/submissions")


class VisitController(Controller):
    path = "/api/visits"
    tags = ("visits",)
    exception_handlers = {VisitAlreadyOpen: _already_open}  # noqa: RUF012

    @post("/", status_code=201, summary="Check in at a site (by GPS or QR code); far or "
                                        "imprecise check-ins are flagged, not refused")
    async def check_in(self, db: AsyncSession, principal: Principal, data: CheckIn
                       ) -> VisitOut:
        position = (service.Position(lat=data.gps.lat, lng=data.gps.lng,
                                     accuracy_m=data.gps.accuracy_m) if data.gps else None)
        view = await service.check_in(db, principal, site_id=data.site_id,
                                      qr_token=data.qr_token, position=position)
        return visit_out(view)

    @post("/{visit_id:int}/check-out", status_code=200, summary="Check out of my open visit")
    async def check_out(self, db: AsyncSession, principal: Principal, visit_id: Id
                        ) -> VisitOut:
        return visit_out(await service.check_out(db, principal, visit_id))

    @get("/current", summary="My open visit (null when none)")
    async def current(self, db: AsyncSession, principal: Principal) -> CurrentVisit:
        view = await service.current_visit(db, principal)
        return CurrentVisit(visit=visit_out(view) if view else None)

    @get("/", summary="Visits, newest first: mine, or (mine=false) those at the sites in my "
                      "scope (submission.view_scope)", dependencies=paged(200))
    async def index(self, db: AsyncSession, principal: Principal, paging: Paging, *,
                    mine: bool = True, flagged: bool | None = None,
                    site_id: OptionalId = None) -> Page[VisitOut]:
        views, total = await service.list_visits(
            db, principal, mine=mine, flagged=flagged, site_id=site_id, limit=paging.limit,
            offset=paging.offset)
        return paging.of([visit_out(v) for v in views], total)

    @get("/flagged", summary="Flagged check-ins at the sites in my scope, for supervisors",
         dependencies=paged(200))
    async def flagged(self, db: AsyncSession, principal: Principal, paging: Paging
                      ) -> Page[VisitOut]:
        views, total = await service.flagged_visits(db, principal, limit=paging.limit,
                                                    offset=paging.offset)
        return paging.of([visit_out(v) for v in views], total)

    @get("/{visit_id:int}", summary="A visit (mine, or in my scope for supervisors)")
    async def one(self, db: AsyncSession, principal: Principal, visit_id: Id) -> VisitOut:
        return visit_out(await service.get_visit(db, principal, visit_id))

    @get("/{visit_id:int}/forms", summary="The standards and surveys my role fills at this "
                                          "visit's site, at their current versions")
    async def forms(self, db: AsyncSession, principal: Principal, visit_id: Id
                    ) -> VisitForms:
        view, refs = await service.visit_forms(db, principal, visit_id)
        return VisitForms(visit_id=visit_id, site=visit_out(view).site, forms=[FormOut(
            **msgspec.structs.asdict(f), links=_links(visit_id, f)) for f in refs])

    @get("/{visit_id:int}/form", summary="The form to fill at this visit: the first of my "
                                         "role's standards for this site (see /forms for all)")
    async def main_form(self, request: Request[Any, Any, Any], db: AsyncSession,
                        principal: Principal, visit_id: Id, lang: str | None = None
                        ) -> VisitForm:
        # ``lang`` is declared for the API's documentation; request_language reads it.
        return await _visit_form(db, principal, visit_id, definition_id=None, version=None,
                                 lang=request_language(request))

    @get("/{visit_id:int}/forms/{definition_id:str}",
         summary="A form to fill at this visit: its JSON Schema (current version, or "
                 "?version=<content hash>) and the ctx its rules read")
    async def form(self, request: Request[Any, Any, Any], db: AsyncSession,
                   principal: Principal, *, visit_id: Id, definition_id: str,
                   version: str | None = None, lang: str | None = None) -> VisitForm:
        return await _visit_form(db, principal, visit_id, definition_id=definition_id,
                                 version=version, lang=request_language(request))


async def _visit_form(db: AsyncSession, principal: Principal, visit_id: Id, *,
                      definition_id: str | None, version: str | None, lang: str
                      ) -> VisitForm:
    """A form of the principal's role at a visit (without ``definition_id``: its first
    standard), with the ``ctx`` the server's rules will see, so a client can run them too."""
    view, refs = await service.visit_forms(db, principal, visit_id)
    if definition_id is None:
        ref = next((f for f in refs if f.kind == "standard"), refs[0] if refs else None)
    else:
        ref = next((f for f in refs if f.definition_id == definition_id), None)
    if ref is None:
        raise NotFound(f"no form {definition_id!r} of your role for this site" if definition_id
                       else "your role has no form for this site")
    fv = await form_version(db, ref.definition_id, version or ref.content_hash)
    v, s = view.visit, view.site
    return VisitForm(
        visit_id=visit_id, definition_id=ref.definition_id, kind=fv.kind, version=fv.number,
        content_hash=fv.content_hash,
        schema=fv.form.schema(lang),
        ctx={"site": dict(s.attributes or {}),
             "user": {"id": principal.user_id, "role": principal.role_id},
             "visit": {"id": v.id, "method": v.method, "distance_m": v.distance_m,
                       "flagged": v.flagged}})


def handlers() -> list[Any]:
    return [VisitController]
