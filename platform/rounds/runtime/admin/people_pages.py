"""The admin app's people: org units as a tree (``/admin/orgs``, also ``/admin/org-units``)
and accounts (``/admin/people``), and the helpers every form of the people and places pages
shares (:mod:`.places_pages` uses them too).

Handlers stay thin: they read the form, call the slice's service (which checks, changes and
records the change in the audit trail in one transaction) and render. A change is tried in
a savepoint: when the service refuses it (422, every mistake at the field it concerns),
nothing of it is kept, its audit entry neither. Forms are sent by ``admin.js`` with the
page's CSRF token; passwords (a new account's, a reset one) are shown on the answer page
once, never put in an address or a log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from litestar import Request, Response, Router, get, post
from litestar.exceptions import HTTPException
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.errors import InvalidInput, Problem, RoundsError
from rounds.i18n import pick, table
from rounds.runtime.access import NotAuthenticated, Principal
from rounds.runtime.admin import directory
from rounds.runtime.admin.shell import lang_of, render, require_admin, say
from rounds.runtime.fieldwork import views
from rounds.runtime.fieldwork.pages import error_page, to_sign_in
from rounds.runtime.orgs import service as orgs
from rounds.runtime.orgs.service import OrgUnitNode
from rounds.runtime.people import service as people
from rounds.web.params import Id, PageNumber
from rounds.web.security import ACCEPTS

T = TypeVar("T")
FORM_BODY = {ACCEPTS: ("application/x-www-form-urlencoded", "multipart/form-data")}
PER_PAGE = 25


# -- shared by the people and places pages --------------------------------------------------

async def attempt(db: AsyncSession, action: Callable[[], Awaitable[T]]
                  ) -> tuple[T | None, list[Problem]]:
    """Run a change in a savepoint: (its result, []) or, refused, (None, every problem)
    with nothing of it kept."""
    try:
        async with db.begin_nested():
            return await action(), []
    except InvalidInput as exc:
        return None, list(exc.problems) or [Problem("", exc.detail, exc.code)]


def field_of(pointer: str) -> str:
    """``/attributes/grade`` → ``attributes.grade`` (the name of the form's input)."""
    return ".".join(p for p in pointer.split("/") if p) or "form"


def problem_text(lang: str, problem: Problem) -> str:
    """A problem in the reader's words: the service's own sentence in English (it names
    the limit), the code's sentence in Chinese."""
    if lang == "en" and problem.message:
        return problem.message
    key = f"import_err_{problem.code}"
    return say(lang, key if key in table("admin", lang) else "import_err_invalid")


def errors_of(problems: Sequence[Problem], lang: str) -> dict[str, str]:
    """Field → what is wrong with it (each field's first problem)."""
    out: dict[str, str] = {}
    for p in problems:
        out.setdefault(field_of(p.pointer), problem_text(lang, p))
    return out


def summary_of(errors: Mapping[str, str], labels: Mapping[str, str]) -> list[dict[str, str]]:
    """The error summary at the top of a form: each mistake linked to its field."""
    return [{"field": f, "label": labels.get(f, ""), "text": t} for f, t in errors.items()]


def form_text(form: Mapping[str, Any], key: str) -> str:
    value = form.get(key, "")
    return value.strip() if isinstance(value, str) else ""


def to_int(text: str | None) -> int | None:
    try:
        return int(text) if text not in (None, "") else None
    except ValueError:
        return None


def unit_name(lang: str, zh: str, en: str) -> str:
    return pick({"zh": zh, "en": en}, lang, zh)


def unit_options(tree: Sequence[OrgUnitNode], lang: str, depth: int = 0
                 ) -> list[dict[str, Any]]:
    """The units of a tree as select options, indented by depth."""
    out: list[dict[str, Any]] = []
    for node in tree:
        out.append({"id": node.id, "code": node.code,
                    "text": "\u3000" * depth + unit_name(lang, node.name_zh, node.name_en)})
        out += unit_options(node.children, lang, depth + 1)
    return out


def done(path: str, lang: str, **params: Any) -> Response[Any]:
    return Redirect(views.href(path, lang, **params), status_code=303)


# -- /admin/orgs ----------------------------------------------------------------------------

def _tree_view(nodes: Sequence[OrgUnitNode], counts: Mapping[int, tuple[int, int]],
               lang: str) -> list[dict[str, Any]]:
    return [{"id": n.id, "code": n.code, "kind": n.kind,
             "name": unit_name(lang, n.name_zh, n.name_en),
             "people": counts.get(n.id, (0, 0))[0], "sites": counts.get(n.id, (0, 0))[1],
             "href": views.href(f"/admin/orgs/{n.id}", lang),
             "children": _tree_view(n.children, counts, lang)} for n in nodes]


@get(["/admin/orgs", "/admin/org-units"], include_in_schema=False)
async def org_tree_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                        principal: Principal) -> Response[str]:
    """The org units the manager's scope covers, as a tree to open and close, with how many
    people and sites each has."""
    require_admin(principal, "orgs")
    lang = lang_of(request)
    tree = await orgs.visible_org_tree(db, principal)
    counts = await directory.unit_counts(db)
    return render(request, "org_tree.html", lang, principal, title=say(lang, "org_title"),
                  section="orgs", tree=_tree_view(tree, counts, lang),
                  plans_href=views.href("/admin/plans", lang)
                  if principal.can("site.manage") else None)


async def _unit_page(request: Request[Any, Any, Any], db: AsyncSession, principal: Principal,
                     unit_id: int, *, form: Mapping[str, Any] | None = None,
                     errors: Mapping[str, str] | None = None, which: str = "",
                     status: int = 200) -> Response[str]:
    lang = lang_of(request)
    unit = await orgs.unit_for_manager(db, principal, unit_id)
    counts = (await directory.unit_counts(db)).get(unit.id, (0, 0))
    parent = await directory.unit(db, unit.parent_id) if unit.parent_id else None
    labels = {"name_zh": say(lang, "org_name_zh"), "name_en": say(lang, "org_name_en"),
              "code": say(lang, "org_code"), "kind": say(lang, "org_kind")}
    errors = dict(errors or {})
    return render(
        request, "org_unit.html", lang, principal,
        title=unit_name(lang, unit.name_zh, unit.name_en), section="orgs", status=status,
        unit={"id": unit.id, "code": unit.code, "kind": unit.kind, "name_zh": unit.name_zh,
              "name_en": unit.name_en, "people": counts[0], "sites": counts[1],
              "people_href": views.href("/admin/people", lang, unit=unit.id),
              "sites_href": views.href("/admin/sites", lang, unit=unit.id)
              if principal.can("site.manage") else None},
        parent={"name": unit_name(lang, parent.name_zh, parent.name_en),
                "href": views.href(f"/admin/orgs/{parent.id}", lang)} if parent else None,
        form=dict(form or {}), which=which, errors=errors,
        notice=request.query_params.get("saved", ""),
        summary=summary_of(errors, labels),
        back_href=views.href("/admin/orgs", lang),
        rename_action=views.href(f"/admin/orgs/{unit.id}/rename", lang),
        child_action=views.href(f"/admin/orgs/{unit.id}/children", lang))


@get("/admin/orgs/{unit_id:int}", include_in_schema=False)
async def org_unit_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                        principal: Principal, unit_id: Id) -> Response[str]:
    """One unit: rename it (zh/en), add a unit under it."""
    require_admin(principal, "orgs")
    return await _unit_page(request, db, principal, unit_id)


@post("/admin/orgs/{unit_id:int}/rename", include_in_schema=False, opt=FORM_BODY,
      status_code=303)
async def org_rename(request: Request[Any, Any, Any], *, db: AsyncSession,
                     principal: Principal, unit_id: Id) -> Response[Any]:
    require_admin(principal, "orgs")
    form = await request.form()
    _, problems = await attempt(db, lambda: orgs.rename_unit(
        db, principal, unit_id, name_zh=form_text(form, "name_zh"),
        name_en=form_text(form, "name_en")))
    if problems:
        return await _unit_page(request, db, principal, unit_id, form=form, which="rename",
                                errors=errors_of(problems, lang_of(request)), status=422)
    return done(f"/admin/orgs/{unit_id}", lang_of(request), saved="rename")


@post("/admin/orgs/{unit_id:int}/children", include_in_schema=False, opt=FORM_BODY,
      status_code=303)
async def org_add_child(request: Request[Any, Any, Any], *, db: AsyncSession,
                        principal: Principal, unit_id: Id) -> Response[Any]:
    require_admin(principal, "orgs")
    form = await request.form()
    child, problems = await attempt(db, lambda: orgs.add_child_unit(
        db, principal, unit_id, code=form_text(form, "code"), kind=form_text(form, "kind"),
        name_zh=form_text(form, "name_zh"), name_en=form_text(form, "name_en")))
    if child is None:
        return await _unit_page(request, db, principal, unit_id, form=form, which="child",
                                errors=errors_of(problems, lang_of(request)), status=422)
    return done(f"/admin/orgs/{child.id}", lang_of(request), saved="created")


# -- /admin/people --------------------------------------------------------------------------

async def _choices(db: AsyncSession, principal: Principal, lang: str
                   ) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """The roles (their current definitions) and the org units of the manager's scope."""
    roles = [{"id": i, "text": pick(title, lang, i)}
             for i, title in (await directory.role_titles(db)).items()]
    return roles, unit_options(await orgs.visible_org_tree(db, principal), lang)


def _person_labels(lang: str) -> dict[str, str]:
    return {k: say(lang, f"people_{k}") for k in
            ("username", "display_name", "role_id", "org_unit", "phone", "password", "site")}


@get("/admin/people", include_in_schema=False)
async def people_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                      principal: Principal, q: str | None = None, role: str | None = None,
                      unit: str | None = None, page: PageNumber = 1) -> Response[str]:
    """The accounts of the manager's scope: search by name, username or phone, filter by
    role and unit, a page at a time."""
    require_admin(principal, "people")
    lang = lang_of(request)
    roles, units = await _choices(db, principal, lang)
    role_names = {r["id"]: r["text"] for r in roles}
    unit_id = to_int(unit)
    page = max(1, page)
    rows, total = await people.list_users(
        db, principal, role_id=role or None, org_unit_id=unit_id, search=(q or "").strip()
        or None, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    names = await directory.unit_names(db, {r.org_unit_id for r in rows}, lang)
    filters = {"q": q or None, "role": role or None, "unit": unit_id}
    return render(
        request, "people_list.html", lang, principal, title=say(lang, "people_title"),
        section="people", roles=roles, units=units, filters=filters,
        people=[{"id": r.id, "username": r.username, "name": r.display_name,
                 "role": role_names.get(r.role_id, r.role_id), "phone": r.phone or "",
                 "unit": names.get(r.org_unit_id, r.org_unit_code), "active": r.active,
                 "href": views.href(f"/admin/people/{r.id}", lang)} for r in rows],
        pager=views.pager(page, PER_PAGE, total,
                          lambda n: views.href("/admin/people", lang, page=n, **filters),
                          say(lang, "people_page_line")),
        new_href=views.href("/admin/people/new", lang))


async def _new_person_page(request: Request[Any, Any, Any], db: AsyncSession,
                           principal: Principal, *, form: Mapping[str, Any] | None = None,
                           errors: Mapping[str, str] | None = None, status: int = 200
                           ) -> Response[str]:
    lang = lang_of(request)
    roles, units = await _choices(db, principal, lang)
    errors = dict(errors or {})
    return render(request, "people_new.html", lang, principal,
                  title=say(lang, "people_new_title"), section="people", status=status,
                  roles=roles, units=units, form=dict(form or {}), errors=errors,
                  summary=summary_of(errors, _person_labels(lang)),
                  action=views.href("/admin/people", lang),
                  back_href=views.href("/admin/people", lang))


@get("/admin/people/new", include_in_schema=False)
async def new_person_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                          principal: Principal) -> Response[str]:
    require_admin(principal, "people")
    return await _new_person_page(request, db, principal)


@post("/admin/people", include_in_schema=False, opt=FORM_BODY, status_code=200)
async def create_person(request: Request[Any, Any, Any], *, db: AsyncSession,
                        principal: Principal) -> Response[str]:
    """Create the account; the answer is its page with the generated password, shown this
    once (never in an address: a redirect would have to carry it)."""
    require_admin(principal, "people")
    form = await request.form()
    lang = lang_of(request)
    username = form_text(form, "username")
    created, problems = await attempt(db, lambda: people.add_user(
        db, principal, username=username,
        display_name=form_text(form, "display_name") or username,
        role_id=form_text(form, "role_id"), org_unit_code=form_text(form, "org_unit"),
        phone=form_text(form, "phone") or None,
        language=form_text(form, "language") or lang, site_code=form_text(form, "site")))
    if created is None:
        return await _new_person_page(request, db, principal, form=form,
                                      errors=errors_of(problems, lang), status=422)
    user, password = created
    return await _person_page(request, db, principal, user.id, password=password,
                              notice="created")


async def _person_page(request: Request[Any, Any, Any], db: AsyncSession,
                       principal: Principal, user_id: int, *, password: str | None = None,
                       notice: str = "", form: Mapping[str, Any] | None = None,
                       errors: Mapping[str, str] | None = None, status: int = 200
                       ) -> Response[str]:
    lang = lang_of(request)
    row = await people.get_user(db, principal, user_id)
    roles, units = await _choices(db, principal, lang)
    assignments = await directory.assignments_of(db, principal, row.id)
    errors = dict(errors or {})
    values = dict(form) if form is not None else {
        "display_name": row.display_name, "role_id": row.role_id, "org_unit": row.org_unit_code,
        "phone": row.phone or ""}
    base = f"/admin/people/{row.id}"
    return render(
        request, "people_detail.html", lang, principal, title=row.display_name,
        section="people", status=status, person=row, roles=roles, units=units, form=values,
        errors=errors, summary=summary_of(errors, _person_labels(lang)),
        password=password, notice=notice or request.query_params.get("saved", ""),
        myself=row.id == principal.user_id,
        assignments=[{"site": a.site_name, "code": a.site_code, "role":
                      pick(a.role_title, lang, a.role_id),
                      "href": views.href(f"/admin/sites/{a.site_id}", lang)
                      if principal.can("site.manage") else None} for a in assignments],
        actions={k: views.href(f"{base}/{k}", lang)
                 for k in ("edit", "disable", "enable", "password")},
        back_href=views.href("/admin/people", lang))


@get("/admin/people/{user_id:int}", include_in_schema=False)
async def person_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                      principal: Principal, user_id: Id) -> Response[str]:
    """A person: change role, unit, name or phone; disable or enable; reset the password;
    the sites they serve."""
    require_admin(principal, "people")
    return await _person_page(request, db, principal, user_id)


@post("/admin/people/{user_id:int}/edit", include_in_schema=False, opt=FORM_BODY,
      status_code=303)
async def edit_person(request: Request[Any, Any, Any], *, db: AsyncSession,
                      principal: Principal, user_id: Id) -> Response[Any]:
    require_admin(principal, "people")
    form = await request.form()
    _, problems = await attempt(db, lambda: people.update_user(
        db, principal, user_id, role_id=form_text(form, "role_id"),
        org_unit_code=form_text(form, "org_unit"),
        display_name=form_text(form, "display_name"), phone=form_text(form, "phone")))
    if problems:
        return await _person_page(request, db, principal, user_id, form=form, status=422,
                                  errors=errors_of(problems, lang_of(request)))
    return done(f"/admin/people/{user_id}", lang_of(request), saved="saved")


@post("/admin/people/{user_id:int}/disable", include_in_schema=False, opt=FORM_BODY,
      status_code=303)
async def disable_person(request: Request[Any, Any, Any], *, db: AsyncSession,
                         principal: Principal, user_id: Id) -> Response[Any]:
    require_admin(principal, "people")
    await people.deactivate(db, principal, user_id)
    return done(f"/admin/people/{user_id}", lang_of(request), saved="disabled")


@post("/admin/people/{user_id:int}/enable", include_in_schema=False, opt=FORM_BODY,
      status_code=303)
async def enable_person(request: Request[Any, Any, Any], *, db: AsyncSession,
                        principal: Principal, user_id: Id) -> Response[Any]:
    require_admin(principal, "people")
    await people.activate(db, principal, user_id)
    return done(f"/admin/people/{user_id}", lang_of(request), saved="enabled")


@post("/admin/people/{user_id:int}/password", include_in_schema=False, opt=FORM_BODY,
      status_code=200)
async def reset_password(request: Request[Any, Any, Any], *, db: AsyncSession,
                         principal: Principal, user_id: Id) -> Response[str]:
    """A new generated password, on the answer page only; the person's sessions end."""
    require_admin(principal, "people")
    password = await people.reset_password(db, principal, user_id)
    return await _person_page(request, db, principal, user_id, password=password,
                              notice="password")


def handlers() -> list[Any]:
    """The org unit and people pages (a router with the admin pages' error pages)."""
    return [Router(path="/", route_handlers=[
        org_tree_page, org_unit_page, org_rename, org_add_child, people_page,
        new_person_page, create_person, person_page, edit_person, disable_person,
        enable_person, reset_password],
        exception_handlers={NotAuthenticated: to_sign_in, RoundsError: error_page,
                            HTTPException: error_page})]
