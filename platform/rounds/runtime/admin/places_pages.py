"""The admin app's places: sites (``/admin/sites``: list, create and edit with the kind's
attributes as fields, staff, the QR code, a printable sheet of codes), CSV imports
(``/admin/imports``, the row-by-row report in the page) and a month's visit plans
(``/admin/plans``).

Thin handlers over the slices' services, which check, change and record each change in
the audit trail; refused changes keep nothing (see :func:`.people_pages.attempt`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import HTTPException
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.errors import NotFound, Problem, RoundsError
from rounds.i18n import pick
from rounds.runtime import imports
from rounds.runtime.access import NotAuthenticated, Principal
from rounds.runtime.admin import directory
from rounds.runtime.admin.people_pages import (
    FORM_BODY,
    PER_PAGE,
    attempt,
    done,
    errors_of,
    field_of,
    form_text,
    problem_text,
    summary_of,
    to_int,
    unit_options,
)
from rounds.runtime.admin.shell import lang_of, render, require_admin, say
from rounds.runtime.fieldwork import views
from rounds.runtime.fieldwork.pages import error_page, to_sign_in
from rounds.runtime.orgs import imports as org_imports
from rounds.runtime.orgs import service as orgs
from rounds.runtime.people import imports as people_imports
from rounds.runtime.sites import imports as site_imports
from rounds.runtime.sites import service as sites
from rounds.runtime.sites.attributes import from_text
from rounds.runtime.visits import plans
from rounds.settings import Settings
from rounds.web.params import Id, PageNumber

# -- /admin/sites ---------------------------------------------------------------------------


def _kind_title(kinds: Mapping[str, Mapping[str, Any]], kind: str, lang: str) -> str:
    return pick((kinds.get(kind) or {}).get("title"), lang, kind)


@get("/admin/sites", include_in_schema=False)
async def sites_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                     principal: Principal, q: str | None = None, kind: str | None = None,
                     unit: str | None = None, page: PageNumber = 1) -> Response[str]:
    """The sites of the manager's scope: search by name or code, filter by kind and unit,
    a page at a time; the QR sheet of what the filters keep."""
    require_admin(principal, "sites")
    lang = lang_of(request)
    kinds = await directory.site_kinds(db)
    unit_id = to_int(unit)
    page = max(1, page)
    rows, total = await sites.list_sites(
        db, principal, site_kind=kind or None, org_unit_id=unit_id,
        search=(q or "").strip() or None, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    names = await directory.unit_names(db, {r.org_unit_id for r in rows}, lang)
    filters = {"q": q or None, "kind": kind or None, "unit": unit_id}
    return render(
        request, "sites_list.html", lang, principal, title=say(lang, "site_title"),
        section="sites", filters=filters,
        kinds=[{"id": k, "text": _kind_title(kinds, k, lang)} for k in kinds],
        units=unit_options(await orgs.visible_org_tree(db, principal), lang),
        sites=[{"id": r.id, "code": r.code, "name": r.name,
                "kind": _kind_title(kinds, r.site_kind, lang),
                "unit": names.get(r.org_unit_id, ""), "address": r.address,
                "href": views.href(f"/admin/sites/{r.id}", lang)} for r in rows],
        pager=views.pager(page, PER_PAGE, total,
                          lambda n: views.href("/admin/sites", lang, page=n, **filters),
                          say(lang, "site_page_line")),
        total=total, new_href=views.href("/admin/sites/new", lang),
        sheet_href=views.href("/admin/sites/qr-sheet", lang, **filters),
        plans_href=views.href("/admin/plans", lang))


def _attribute_fields(kind: Mapping[str, Any], values: Mapping[str, Any], lang: str,
                      errors: Mapping[str, str]) -> list[dict[str, Any]]:
    """The kind's attributes as form fields: name ``attributes.<id>``, the input that
    fits the type, the value as typed (or stored), its error."""
    out = []
    for attr in kind.get("attributes") or ():
        name = f"attributes.{attr['id']}"
        kind_of = attr.get("type")
        value = values.get(name, "")
        out.append({
            "name": name, "id": "f-" + name.replace(".", "-").replace("_", "-"),
            "label": pick(attr.get("title"), lang, attr["id"]),
            "help": pick(attr.get("help"), lang, "") if attr.get("help") else "",
            "type": kind_of, "required": bool(attr.get("required")),
            "value": "" if value is None else str(value).lower() if isinstance(value, bool)
            else str(value),
            "choices": [{"value": c.get("value"), "text": pick(c.get("label"), lang,
                                                                str(c.get("value")))}
                        for c in attr.get("choices") or ()],
            "max_length": attr.get("max_length"),
            "error": errors.get(name)})
    return out


def _site_values(form: Mapping[str, Any], kind: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes typed in a site form as their JSON values (blank: left out)."""
    out: dict[str, Any] = {}
    for attr in kind.get("attributes") or ():
        value = from_text(attr, form_text(form, f"attributes.{attr['id']}"))
        if value is not None:
            out[attr["id"]] = value
    return out


def _site_labels(kind: Mapping[str, Any], lang: str) -> dict[str, str]:
    labels = {k: say(lang, f"site_{k}") for k in
              ("site_kind", "code", "name", "org_unit", "lat", "lng", "address")}
    for attr in kind.get("attributes") or ():
        labels[f"attributes.{attr['id']}"] = pick(attr.get("title"), lang, attr["id"])
    return labels


async def _site_form(request: Request[Any, Any, Any], db: AsyncSession, principal: Principal,
                     *, kind_id: str, values: Mapping[str, Any], site_id: int | None = None,
                     errors: Mapping[str, str] | None = None, status: int = 200,
                     extra: Mapping[str, Any] | None = None) -> Response[str]:
    lang = lang_of(request)
    kinds = await directory.site_kinds(db)
    kind = kinds.get(kind_id) or {}
    errors = dict(errors or {})
    template = "sites_detail.html" if site_id is not None else "sites_new.html"
    title = str(values.get("name") or "") if site_id is not None \
        else say(lang, "site_new_title")
    return render(
        request, template, lang, principal, title=title or say(lang, "site_new_title"),
        section="sites", status=status, kind_id=kind_id,
        kinds=[{"id": k, "text": _kind_title(kinds, k, lang)} for k in kinds],
        kind_title=_kind_title(kinds, kind_id, lang) if kind_id else "",
        units=unit_options(await orgs.visible_org_tree(db, principal), lang),
        form=dict(values), errors=errors, summary=summary_of(errors, _site_labels(kind, lang)),
        attributes=_attribute_fields(kind, values, lang, errors) if kind else [],
        action=views.href(f"/admin/sites/{site_id}" if site_id else "/admin/sites", lang),
        choose_href="/admin/sites/new", back_href=views.href("/admin/sites", lang),
        **dict(extra or {}))


@get("/admin/sites/new", include_in_schema=False)
async def new_site_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                        principal: Principal, kind: str | None = None) -> Response[str]:
    """Pick the kind, then fill the site's fields and the kind's attributes."""
    require_admin(principal, "sites")
    kinds = await directory.site_kinds(db)
    return await _site_form(request, db, principal,
                            kind_id=kind if kind in kinds else "", values={})


@post("/admin/sites", include_in_schema=False, opt=FORM_BODY, status_code=303)
async def create_site(request: Request[Any, Any, Any], *, db: AsyncSession,
                      principal: Principal) -> Response[Any]:
    require_admin(principal, "sites")
    form = await request.form()
    lang = lang_of(request)
    kind_id = form_text(form, "site_kind")
    kind = (await directory.site_kinds(db)).get(kind_id) or {}
    site, problems = await attempt(db, lambda: sites.create_site(
        db, principal, site_kind=kind_id, code=form_text(form, "code"),
        name=form_text(form, "name"), lat=form_text(form, "lat"), lng=form_text(form, "lng"),
        org_unit=form_text(form, "org_unit"), address=form_text(form, "address"),
        attributes=_site_values(form, kind)))
    if site is None:
        return await _site_form(request, db, principal, kind_id=kind_id, values=form,
                                errors=errors_of(problems, lang), status=422)
    return done(f"/admin/sites/{site.id}", lang, saved="created")


async def _site_page(request: Request[Any, Any, Any], db: AsyncSession, principal: Principal,
                     site_id: int, *, form: Mapping[str, Any] | None = None,
                     errors: Mapping[str, str] | None = None,
                     staff_error: str | None = None, status: int = 200) -> Response[str]:
    lang = lang_of(request)
    details = await sites.site_details(db, principal, site_id)
    values: dict[str, Any] = dict(form) if form is not None else {
        "name": details.name, "lat": details.lat, "lng": details.lng,
        "org_unit": details.org_unit_code, "address": details.address,
        **{f"attributes.{k}": v for k, v in details.attributes.items()}}
    roles = await directory.roles(db)
    # Roles whose people see the sites assigned to them (``own_sites``): the ones a site is
    # staffed with; city or unit roles see sites by their unit, not by assignment.
    serving = [r for r, c in roles.items() if details.site_kind in (c.get("site_kinds") or ())
               and c.get("org_scope") == "own_sites"]
    assigned = {a.role_id: a for a in details.assignments}
    role_ids = sorted({*serving, *assigned})
    choices = await directory.staff_for(db, principal, role_ids)
    staff = [{"role_id": r, "role": pick((roles.get(r) or {}).get("title"), lang, r),
              "current": {"name": assigned[r].display_name,
                          "username": assigned[r].username or "",
                          "href": views.href(f"/admin/people/{assigned[r].user_id}", lang)
                          if principal.can("user.manage") else None}
              if r in assigned else None,
              "choices": [{"id": c.id, "text": f"{c.display_name}（{c.username}）"
                           if lang == "zh" else f"{c.display_name} ({c.username})",
                           "selected": r in assigned and assigned[r].user_id == c.id}
                          for c in choices.get(r, [])]} for r in role_ids]
    codes = await sites.qr_sheet(db, principal, ids=[details.id], limit=1)
    return await _site_form(
        request, db, principal, kind_id=details.site_kind, values=values, site_id=details.id,
        errors=errors, status=status, extra={
            "site": details, "staff": staff, "staff_error": staff_error,
            "qr": codes[0].data_uri if codes else "",
            "qr_href": f"/api/sites/{details.id}/qr.svg",
            "sheet_href": views.href("/admin/sites/qr-sheet", lang, ids=str(details.id)),
            "notice": request.query_params.get("saved", ""),
            "assign_action": views.href(f"/admin/sites/{details.id}/staff", lang),
            "unassign_action": views.href(f"/admin/sites/{details.id}/staff/remove", lang)})


@get("/admin/sites/{site_id:int}", include_in_schema=False)
async def site_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                    principal: Principal, site_id: Id) -> Response[str]:
    """A site: its fields and attributes to edit, its staff per role, its QR code."""
    require_admin(principal, "sites")
    return await _site_page(request, db, principal, site_id)


@post("/admin/sites/{site_id:int}", include_in_schema=False, opt=FORM_BODY, status_code=303)
async def edit_site(request: Request[Any, Any, Any], *, db: AsyncSession,
                    principal: Principal, site_id: Id) -> Response[Any]:
    require_admin(principal, "sites")
    form = await request.form()
    lang = lang_of(request)
    current = await sites.get_site(db, principal, site_id)
    kind = (await directory.site_kinds(db)).get(current.site_kind) or {}
    _, problems = await attempt(db, lambda: sites.update_site(
        db, principal, site_id, name=form_text(form, "name"), lat=form_text(form, "lat"),
        lng=form_text(form, "lng"), org_unit=form_text(form, "org_unit"),
        address=form_text(form, "address"), attributes=_site_values(form, kind)))
    if problems:
        return await _site_page(request, db, principal, site_id, form=form, status=422,
                                errors=errors_of(problems, lang))
    return done(f"/admin/sites/{site_id}", lang, saved="saved")


async def _staff_change(request: Request[Any, Any, Any], db: AsyncSession,
                        principal: Principal, site_id: Id, *, remove: bool) -> Response[Any]:
    require_admin(principal, "sites")
    form = await request.form()
    lang = lang_of(request)
    role_id = form_text(form, "role_id")
    user_id = None if remove else to_int(form_text(form, "user_id"))
    if not remove and user_id is None:
        problems = [Problem("/user_id", "choose a person", "required")]
    else:
        _, problems = await attempt(db, lambda: sites.assign_staff(
            db, principal, site_id, role_id, user_id))
    if problems:
        return await _site_page(request, db, principal, site_id, status=422,
                                staff_error=problem_text(lang, problems[0]))
    return done(f"/admin/sites/{site_id}", lang, saved="removed" if remove else "assigned")


@post("/admin/sites/{site_id:int}/staff", include_in_schema=False, opt=FORM_BODY,
      status_code=303)
async def assign_staff(request: Request[Any, Any, Any], *, db: AsyncSession,
                       principal: Principal, site_id: Id) -> Response[Any]:
    return await _staff_change(request, db, principal, site_id, remove=False)


@post("/admin/sites/{site_id:int}/staff/remove", include_in_schema=False, opt=FORM_BODY,
      status_code=303)
async def unassign_staff(request: Request[Any, Any, Any], *, db: AsyncSession,
                         principal: Principal, site_id: Id) -> Response[Any]:
    return await _staff_change(request, db, principal, site_id, remove=True)


@get("/admin/sites/qr-sheet", include_in_schema=False)
async def qr_sheet_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                        principal: Principal, q: str | None = None, kind: str | None = None,
                        unit: str | None = None, ids: str | None = None) -> Response[str]:
    """The QR codes of the chosen sites as a sheet to print: a grid of code, name and
    QR; the print style hides the chrome and keeps each card on one page."""
    require_admin(principal, "sites")
    lang = lang_of(request)
    wanted = [i for i in (to_int(x) for x in (ids or "").split(",")) if i is not None]
    codes = await sites.qr_sheet(db, principal, site_kind=kind or None,
                                 org_unit_id=to_int(unit), search=(q or "").strip() or None,
                                 ids=wanted)
    return render(request, "sites_qr_sheet.html", lang, principal,
                  title=say(lang, "site_sheet_title"), section="sites",
                  codes=[{"code": c.site.code, "name": c.site.name, "qr": c.data_uri}
                         for c in codes],
                  limit=sites.SHEET_MAX, back_href=views.href("/admin/sites", lang))


# -- /admin/imports -------------------------------------------------------------------------

IMPORTS: dict[str, tuple[Any, str]] = {  # kind → (importer, capability)
    "org-units": (org_imports.import_org_units, "user.manage"),
    "users": (people_imports.import_users, "user.manage"),
    "sites": (site_imports.import_sites, "site.manage"),
}


async def _columns(db: AsyncSession, kind: str) -> list[str]:
    """The columns of a kind's CSV file, for its template."""
    if kind == "org-units":
        return list(org_imports.COLUMNS)
    if kind == "users":
        return list(people_imports.COLUMNS)
    attributes: list[str] = []
    for content in (await directory.site_kinds(db)).values():
        for attr in content.get("attributes") or ():
            if attr["id"] not in attributes and attr["id"] not in site_imports.BASE_COLUMNS:
                attributes.append(attr["id"])
    roles = [r for r, c in (await directory.roles(db)).items() if c.get("site_kinds")]
    return [*site_imports.BASE_COLUMNS, *attributes, *roles]


def _allowed(principal: Principal) -> list[str]:
    return [k for k, (_, capability) in IMPORTS.items() if principal.can(capability)]


async def _imports_page(request: Request[Any, Any, Any], principal: Principal, *,
                        kind: str = "", report: dict[str, Any] | None = None,
                        status: int = 200) -> Response[str]:
    lang = lang_of(request)
    return render(request, "imports_page.html", lang, principal,
                  title=say(lang, "import_title"), section="imports", status=status,
                  kinds=[{"id": k, "text": say(lang, f"import_kind_{k.replace('-', '_')}"),
                          "action": views.href(f"/admin/imports/{k}", lang),
                          "template": f"/admin/imports/{k}/template.csv",
                          "open": k == kind or (not kind and i == 0)}
                         for i, k in enumerate(_allowed(principal))],
                  kind=kind, report=report)


@get("/admin/imports", include_in_schema=False)
async def imports_page(request: Request[Any, Any, Any], *, principal: Principal
                       ) -> Response[str]:
    """Upload a CSV of org units, people or sites; the report comes back in the page."""
    require_admin(principal, "imports")
    return await _imports_page(request, principal)


def _required(principal: Principal, kind: str) -> Any:
    require_admin(principal, "imports")
    if kind not in IMPORTS:
        raise NotFound(f"no import {kind!r}")
    run, capability = IMPORTS[kind]
    principal.require(capability)
    return run


@post("/admin/imports/{kind:str}", include_in_schema=False, opt=FORM_BODY, status_code=200)
async def run_import(request: Request[Any, Any, Any], *, db: AsyncSession,
                     principal: Principal, kind: str) -> Response[str]:
    """Import the file: all of it, or (a bad row anywhere) nothing unless bad rows are to
    be skipped; every row's mistakes listed with their row and column."""
    run = _required(principal, kind)
    lang = lang_of(request)
    form = await request.form()
    upload = form.get("file")
    skip = form_text(form, "skip_bad_rows") in ("1", "on", "true")
    data = await upload.read() if isinstance(upload, UploadFile) else b""
    if not data:
        return await _imports_page(request, principal, kind=kind, status=422, report={
            "ok": False, "file_error": say(lang, "import_no_file"), "errors": []})
    try:
        async with db.begin_nested():
            report = await imports.run_import(db, kind, run, bytes(data), principal=principal,
                                              skip_bad_rows=skip)
    except imports.ImportInvalid as exc:
        return await _imports_page(request, principal, kind=kind, status=422, report={
            "ok": False, "summary": exc.detail if lang == "en" else "",
            "errors": [_row_error(lang, p) for p in exc.problems]})
    return await _imports_page(request, principal, kind=kind, report={
        "ok": True, "rows": report.rows, "imported": report.imported,
        "created": report.created, "passwords": sorted(report.passwords.items()),
        "errors": [_row_error(lang, e.problem()) for e in report.errors]})


def _row_error(lang: str, problem: Problem) -> dict[str, Any]:
    row = problem.params.get("row")
    column = problem.params.get("column")
    if row is None:  # a pointer /rows/<n>/<column>
        parts = field_of(problem.pointer).split(".")
        row = to_int(parts[1]) if len(parts) > 1 else None
        column = parts[2] if len(parts) > 2 else None
    return {"row": row, "column": column or "", "text": problem_text(lang, problem)}


@get("/admin/imports/{kind:str}/template.csv", include_in_schema=False)
async def import_template(db: AsyncSession, principal: Principal, kind: str
                          ) -> Response[bytes]:
    """The header row of a kind's CSV file (with a byte order mark, so that spreadsheet
    programs open it as UTF-8)."""
    _required(principal, kind)
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(await _columns(db, kind))
    return Response(("\ufeff" + out.getvalue()).encode(), media_type="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="{kind}-template.csv"'})


# -- /admin/plans ---------------------------------------------------------------------------

async def _plans_page(request: Request[Any, Any, Any], db: AsyncSession, principal: Principal,
                      settings: Settings, *, form: Mapping[str, Any] | None = None,
                      result: dict[str, Any] | None = None,
                      errors: Mapping[str, str] | None = None, status: int = 200
                      ) -> Response[str]:
    lang = lang_of(request)
    values = dict(form or {})
    values.setdefault("month", plans.month_of(datetime.now(settings.tz).date()))
    errors = dict(errors or {})
    labels = {"month": say(lang, "plan_month"), "unit": say(lang, "plan_unit")}
    return render(request, "plans_page.html", lang, principal,
                  title=say(lang, "plan_title"), section="sites", status=status,
                  units=unit_options(await orgs.visible_org_tree(db, principal), lang),
                  form=values, errors=errors, summary=summary_of(errors, labels),
                  result=result, action=views.href("/admin/plans", lang))


def _require_plans(principal: Principal) -> None:
    require_admin(principal, "sites")


@get("/admin/plans", include_in_schema=False)
async def plans_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                     settings: Settings, principal: Principal) -> Response[str]:
    """Generate a month's visit plans for a unit and below."""
    _require_plans(principal)
    return await _plans_page(request, db, principal, settings)


@post("/admin/plans", include_in_schema=False, opt=FORM_BODY, status_code=200)
async def generate_plans(request: Request[Any, Any, Any], *, db: AsyncSession,
                         settings: Settings, principal: Principal) -> Response[str]:
    _require_plans(principal)
    lang = lang_of(request)
    form = await request.form()
    unit_id = to_int(form_text(form, "unit"))
    outcome, problems = await attempt(db, lambda: plans.generate_for(
        db, principal, form_text(form, "month"), unit_id=unit_id))
    if outcome is None:
        return await _plans_page(request, db, principal, settings, form=form, status=422,
                                 errors=errors_of(problems, lang))
    report, people = outcome
    titles = await directory.role_titles(db)
    return await _plans_page(request, db, principal, settings, form=form, result={
        "month": report.month, "created": report.created, "updated": report.updated,
        "removed": report.removed, "unchanged": report.unchanged,
        "people": [{"name": p.display_name, "username": p.username,
                    "role": pick(titles.get(p.role_id), lang, p.role_id), "sites": p.sites,
                    "visits": p.visits,
                    "href": views.href(f"/admin/people/{p.user_id}", lang)
                    if principal.can("user.manage") else None} for p in people]})


def handlers() -> list[Any]:
    """The site, import and plan pages (a router with the admin pages' error pages)."""
    return [Router(path="/", route_handlers=[
        sites_page, new_site_page, create_site, qr_sheet_page, site_page, edit_site,
        assign_staff, unassign_staff, imports_page, run_import, import_template, plans_page,
        generate_plans],
        exception_handlers={NotAuthenticated: to_sign_in, RoundsError: error_page,
                            HTTPException: error_page})]
