"""The definitions section of the admin app: the list of every kind (``/admin/definitions``,
search, status, who changed what when), a definition's page (``/admin/definitions/{id}``:
its versions, publishing a draft, rolling back, export, import) and the readable diff
between two versions (``/admin/definitions/{id}/diff``).

Publishing from here checks the version against the other definitions in force
(``publish(check_references=True)``): refused, the page lists every problem at its JSON
pointer, with what is there. Rolling back makes an earlier version's content current again
with a reason (the store keeps one version per content, so the earlier version itself is
made current; the history and the audit trail record when and why). The forms are sent by
``admin.js`` with the page's CSRF token.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from litestar import MediaType, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.definitions.diff import Change, diff
from rounds.errors import NotFound, Problem
from rounds.i18n import pick, table
from rounds.pointer import parse
from rounds.runtime.access import Principal
from rounds.runtime.admin import editor_service as editor
from rounds.runtime.admin import service
from rounds.runtime.admin.shell import (
    DOMAIN,
    KINDS,
    action_text,
    lang_of,
    render,
    require_admin,
    say,
)
from rounds.runtime.definitions import service as definitions
from rounds.runtime.definitions.models import DRAFT, PUBLISHED
from rounds.runtime.fieldwork import views
from rounds.settings import Settings
from rounds.web.params import Id, OptionalId, PageNumber
from rounds.web.security import ACCEPTS

SECTION = "definitions"
PER_PAGE = 25
FORM_BODY = {ACCEPTS: ("application/x-www-form-urlencoded",)}
FILE_BODY = {ACCEPTS: ("multipart/form-data",)}
AUTHOR = "definition.author"
PUBLISH = "definition.publish"


def _when(at: dt.datetime, tz: dt.tzinfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def kind_text(lang: str, kind: str) -> str:
    key = f"kind_one_{kind}"
    return say(lang, key) if key in table(DOMAIN, lang) else kind


def _who(names: dict[int, str], actor_id: int | None, lang: str) -> str:
    return names.get(actor_id, str(actor_id)) if actor_id is not None \
        else say(lang, "actor_system")


# -- /admin/definitions ------------------------------------------------------------------------

@get("/admin/definitions", include_in_schema=False)
async def definitions_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                           settings: Settings, principal: Principal, page: PageNumber = 1,
                           kind: str = "", q: str = "", status: str = "") -> Response[str]:
    """Every definition, of a kind, found by id or title, with a draft waiting or not."""
    require_admin(principal, SECTION)
    lang = lang_of(request)
    status = status if status in (DRAFT, PUBLISHED) else ""
    found = await definitions_rows(db, kind=kind or None, q=q, status=status or None)
    order = {k: n for n, k in enumerate(KINDS)}  # site kinds, roles, standards, surveys, OKRs
    found.sort(key=lambda r: (order.get(r.kind, len(order)), r.kind, r.id))
    shown = found[(page - 1) * PER_PAGE: page * PER_PAGE]
    names = await service.people_names(db, {r.last.actor_id for r in shown if r.last.actor_id})
    rows = [{"id": r.id, "title": pick(r.title, lang, r.id), "kind": kind_text(lang, r.kind),
             "href": views.href(f"/admin/definitions/{r.id}", lang),
             "status": r.latest_status,
             "status_text": say(lang, "status_draft_waiting", n=r.latest)
             if r.latest_status == DRAFT else say(lang, "status_published"),
             "current": r.current,
             "last_at": _when(r.last.at, settings.tz),
             "last_who": _who(names, r.last.actor_id, lang) if r.last.action else "",
             "last_action": action_text(lang, r.last.action) if r.last.action else ""}
            for r in shown]
    kinds = [{"value": k, "text": kind_text(lang, k), "selected": k == kind,
              "new": views.href("/admin/definitions/new", lang, kind=k),
              "new_text": say(lang, "editor_title_new", kind=kind_text(lang, k))} for k in KINDS]
    pager = views.pager(page, PER_PAGE, len(found),
                        lambda n: views.href("/admin/definitions", lang, page=n, kind=kind or None,
                                             q=q or None, status=status or None),
                        say(lang, "definitions_total"))
    return render(request, "definitions.html", lang, principal,
                  title=say(lang, "definitions_title"), section=SECTION, rows=rows,
                  kinds=kinds, q=q, status_filter=status, pager=pager,
                  action=views.href("/admin/definitions", lang).split("?")[0],
                  import_action=views.href("/admin/definitions/import", lang),
                  may_author=principal.can(AUTHOR), import_problems=[])


async def definitions_rows(db: AsyncSession, **where: Any) -> list[service.DefinitionRow]:
    return await service.definition_rows(db, **where)


# -- /admin/definitions/{id} -------------------------------------------------------------------

def _place(content: Any, pointer: str, lang: str) -> str:
    """Where a pointer is, as an author reads it: the section's and item's titles."""
    parts = parse(pointer) if pointer else []
    names: list[str] = []
    node = content
    for i, part in enumerate(parts):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            if isinstance(node, dict) and parts[i - 1] in ("sections", "items"):
                names.append(pick(node.get("title"), lang, str(node.get("id", part))))
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            break
    return " › ".join(names)


def _value_at(content: Any, pointer: str) -> str:
    """What is at ``pointer`` in ``content`` (short), "" where nothing is."""
    if not pointer:
        return ""
    value = content
    for token in parse(pointer):
        if isinstance(value, dict) and token in value:
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        else:
            return ""
    text = definitions.export_text(value).strip()
    return text if len(text) <= 200 else text[:200] + "…"


# The schema's messages the catalogue can say in any language: (pattern, key); the
# pattern's groups fill the text (a field's name, a JSON type).
SCHEMA_WORDS = ((re.compile(r"^'([^']+)' is required here$"), "schema_required"),
                (re.compile(r"^unknown field \('?([^')]+)'?\)?$|^unknown field '?([^']+)'?$"),
                 "schema_unknown_field"),
                (re.compile(r"is not of type '(\w+)'"), "schema_type"),
                (re.compile(r"is not one of"), "schema_enum"))


def _schema_words(message: str, lang: str) -> str | None:
    for pattern, key in SCHEMA_WORDS:
        found = pattern.search(message)
        if found:
            name = next((g for g in found.groups() if g), "")
            if key == "schema_type":
                type_key = f"json_{name}"
                name = say(lang, type_key) if type_key in table(DOMAIN, lang) else name
            return say(lang, key, name=name)
    return None


def problem_words(code: str, message: str, lang: str) -> str:
    """A validator's problem in the reader's words: a known code's text, else the code
    named (the validator's own message is English)."""
    key = f"problem_{code}"
    return (code == "schema" and _schema_words(message, lang)) or (
        say(lang, key) if key in table(DOMAIN, lang)
        else say(lang, "problem_other", code=code))


def problems_view(problems: list[Problem], lang: str, definition_id: str,
                  content: Any) -> list[dict[str, str]]:
    """Each problem at its pointer, in the reader's words: a known code's text (the
    validator's own words are English: shown on English pages only), where it is by
    titles, and what is there."""
    out = []
    for p in problems:
        words = problem_words(p.code, p.message, lang)
        mine = p.source in (definition_id, None, "") or str(p.source).startswith("import:")
        out.append({"pointer": p.pointer or "/", "code": p.code, "text": words,
                    "detail": p.message if lang == "en" else "",
                    "where": _place(content, p.pointer, lang) if mine else "",
                    "value": _value_at(content, p.pointer) if mine else "",
                    "other": "" if mine else str(p.source)})
    return out


async def _definition_page(request: Request[Any, Any, Any], db: AsyncSession,
                           settings: Settings, principal: Principal, definition_id: str, *,
                           problems: list[dict[str, str]] | None = None,
                           problems_title: str = "", reason_error: str = "",
                           reason_for: int | None = None, status: int = 200) -> Response[str]:
    lang = lang_of(request)
    history = await service.definition_history(db, definition_id)
    names = await service.people_names(db, {v.published_by for v in history.versions
                                            if v.published_by} |
                                        {e.actor_id for e in history.entries if e.actor_id})
    newest = history.versions[0].version
    current = next((v.version for v in history.versions if v.current), None)
    here = f"/admin/definitions/{definition_id}"
    versions = []
    for row in history.versions:
        v = row.version
        versions.append({
            "number": v.number, "status": v.status, "current": row.current,
            "status_text": say(lang, "status_draft") if v.status == DRAFT
            else say(lang, "status_published"),
            "published_at": _when(v.published_at, settings.tz) if v.published_at else "",
            "published_by": (_who(names, row.published_by, lang) if row.published_known
                             else say(lang, "actor_system")) if v.status == PUBLISHED else "",
            "hash": v.content_hash[:12],
            "publish_action": views.href(f"{here}/versions/{v.number}/publish", lang)
            if v.status == DRAFT and principal.can(PUBLISH) else None,
            "rollback_action": views.href(f"{here}/versions/{v.number}/rollback", lang)
            if v.status == PUBLISHED and not row.current and principal.can(PUBLISH) else None,
            "diff_href": views.href(f"{here}/diff", lang, **{"from": current.number, "to":
                                                             v.number})
            if current is not None and current.number != v.number else None,
            "export_href": views.href(f"{here}/export", lang, version=v.number),
            # back to an earlier version, or forward again to a later one
            "rollback_label": say(lang, "rollback_to" if current is None
                                  or v.number < current.number else "restore_to", n=v.number),
            "reason_error": reason_error if reason_for == v.number else ""})
    entries = [{"at": _when(e.at, settings.tz), "who": _who(names, e.actor_id, lang),
                "action": action_text(lang, e.action),
                "reason": str(e.changes.get("reason") or "")} for e in history.entries[:10]]
    numbers = [v["number"] for v in versions]
    return render(
        request, "definition.html", lang, principal, section=SECTION, status=status,
        title=pick((current or newest).content.get("title"), lang, definition_id),
        definition={"id": definition_id, "kind": kind_text(lang, history.definition.kind),
                    "current": current.number if current else None,
                    "latest": newest.number, "draft": newest.status == DRAFT},
        versions=versions, entries=entries, problems=problems or [],
        problems_title=problems_title, numbers=numbers,
        diff_action=views.href(f"{here}/diff", lang).split("?")[0],
        diff_from=numbers[1] if len(numbers) > 1 else numbers[0], diff_to=numbers[0],
        edit_href=views.href(f"{here}/edit", lang),
        export_href=views.href(f"{here}/export", lang),
        import_action=views.href(f"{here}/import", lang),
        audit_href=views.href("/admin/audit", lang, target_kind="definition",
                              target_id=definition_id),
        back=views.href("/admin/definitions", lang), may_author=principal.can(AUTHOR))


@get("/admin/definitions/{definition_id:str}", include_in_schema=False)
async def definition_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                          settings: Settings, principal: Principal, definition_id: str
                          ) -> Response[str]:
    """A definition: its versions (the current one marked), who published each when, the
    actions, and its latest changes."""
    require_admin(principal, SECTION)
    return await _definition_page(request, db, settings, principal, definition_id)


@post("/admin/definitions/{definition_id:str}/versions/{number:int}/publish",
      include_in_schema=False, opt=FORM_BODY, status_code=303)
async def publish_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                       settings: Settings, principal: Principal, definition_id: str,
                       number: Id) -> Response[Any]:
    """Publish a draft (checked against the definitions in force); refused: the page with
    every problem at its pointer (422), nothing changed."""
    require_admin(principal, SECTION)
    principal.require(PUBLISH)
    lang = lang_of(request)
    try:  # checked against the definitions in force, its test cases run again
        await editor.publish(db, definition_id, number, lang=lang, actor_id=principal.user_id,
                             ctx=editor.bench_context(principal, settings.tz))
    except editor.PublishRefused as exc:
        version = await definitions.get_version(db, definition_id, number)
        return await _definition_page(
            request, db, settings, principal, definition_id, status=422,
            problems=problems_view(exc.problems, lang, definition_id, version.content),
            problems_title=say(lang, "publish_refused", n=len(exc.problems), number=number))
    return Redirect(views.href(f"/admin/definitions/{definition_id}", lang), status_code=303)


@post("/admin/definitions/{definition_id:str}/versions/{number:int}/rollback",
      include_in_schema=False, opt=FORM_BODY, status_code=303)
async def rollback_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                        settings: Settings, principal: Principal, definition_id: str,
                        number: Id) -> Response[Any]:
    """Make an earlier published version current again, with its reason (required)."""
    require_admin(principal, SECTION)
    principal.require(PUBLISH)
    lang = lang_of(request)
    reason = (await request.form()).get("reason", "").strip()
    version = await definitions.get_version(db, definition_id, number)
    if not reason or version.status != PUBLISHED:
        return await _definition_page(request, db, settings, principal, definition_id,
                                      reason_error=say(lang, "err_reason"), reason_for=number,
                                      status=422)
    try:
        await definitions.publish(db, definition_id, number, actor_id=principal.user_id,
                                  reason=reason[:500], check_references=True)
    except definitions.DefinitionInvalid as exc:
        return await _definition_page(
            request, db, settings, principal, definition_id, status=422,
            problems=problems_view(exc.problems, lang, definition_id, version.content),
            problems_title=say(lang, "rollback_refused", n=len(exc.problems), number=number))
    return Redirect(views.href(f"/admin/definitions/{definition_id}", lang), status_code=303)


@get("/admin/definitions/{definition_id:str}/export", include_in_schema=False)
async def export_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                      principal: Principal, definition_id: str, version: OptionalId = None
                      ) -> Response[str]:
    """A version (the current one by default, else the latest) as the file ``rounds
    definitions sync`` reads."""
    require_admin(principal, SECTION)
    try:
        found = await definitions.get_version(db, definition_id, version)
    except NotFound:
        if version is not None:
            raise
        history = await service.definition_history(db, definition_id)
        found = history.versions[0].version
    return Response(definitions.export_text(found.content), media_type=MediaType.JSON,
                    headers={"Content-Disposition":
                             f'attachment; filename="{definition_id}.json"',
                             "Cache-Control": "no-store"})


async def _upload(request: Request[Any, Any, Any]) -> tuple[bytes, str] | None:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return None
    data = await upload.read()
    return (data if isinstance(data, bytes) else str(data).encode()), upload.filename or "file"


@post("/admin/definitions/{definition_id:str}/import", include_in_schema=False,
      opt=FILE_BODY, status_code=303)
async def import_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                      settings: Settings, principal: Principal, definition_id: str
                      ) -> Response[Any]:
    """A file of this definition becomes its draft (the same content as a version: that
    version, nothing new); refused: every problem at its pointer (422)."""
    require_admin(principal, SECTION)
    principal.require(AUTHOR)
    lang = lang_of(request)
    sent = await _upload(request)
    problems: list[Problem] = []
    if sent is None:
        problems = [Problem("", "attach the file", "file_required")]
    else:
        try:
            await definitions.import_file(db, sent[0], sent[1], expect_id=definition_id,
                                          actor_id=principal.user_id)
            return Redirect(views.href(f"/admin/definitions/{definition_id}", lang),
                            status_code=303)
        except definitions.DefinitionInvalid as exc:
            problems = exc.problems
    content = _parsed(sent[0]) if sent else None
    return await _definition_page(
        request, db, settings, principal, definition_id, status=422,
        problems=problems_view(problems, lang, definition_id, content),
        problems_title=say(lang, "import_refused", n=len(problems)))


def _parsed(data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return None


@post("/admin/definitions/import", include_in_schema=False, opt=FILE_BODY, status_code=303)
async def import_new_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                          settings: Settings, principal: Principal) -> Response[Any]:
    """A definition file (a new definition, or a new draft of one): to its page; refused:
    the list with every problem (422)."""
    require_admin(principal, SECTION)
    principal.require(AUTHOR)
    lang = lang_of(request)
    sent = await _upload(request)
    problems: list[Problem]
    if sent is None:
        problems = [Problem("", "attach the file", "file_required")]
    else:
        try:
            version = await definitions.import_file(db, sent[0], sent[1],
                                                    actor_id=principal.user_id)
            return Redirect(views.href(f"/admin/definitions/{version.definition_id}", lang),
                            status_code=303)
        except definitions.DefinitionInvalid as exc:
            problems = exc.problems
    content = _parsed(sent[0]) if sent else None
    the_id = str(content.get("id")) if isinstance(content, dict) else ""
    return render(request, "import_refused.html", lang, principal, section=SECTION,
                  status=422, title=say(lang, "import_refused", n=len(problems)),
                  problems=problems_view(problems, lang, the_id, content),
                  back=views.href("/admin/definitions", lang))


# -- /admin/definitions/{id}/diff --------------------------------------------------------------

def _short(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else definitions.export_text(value).strip()
    return text if len(text) <= 400 else text[:400] + "…"


def change_view(c: Change, lang: str, titles: dict[str, str]) -> dict[str, Any]:
    """A change as a line: what (section / item with its title, or a field's path), the
    change, the property, before and after."""
    if c.what in ("section", "item"):
        subject = say(lang, f"diff_{c.what}", title=titles.get(c.id or "", c.id or ""),
                      id=c.id or "")
    else:
        subject = "/".join(c.path) or "/"
    moved = c.change == "moved"
    return {"change": c.change, "change_text": say(lang, f"diff_{c.change}"),
            "subject": subject, "prop": (c.prop or "") if c.what != "field" else "",
            "before": say(lang, "diff_place", parent=c.before[0], n=c.before[1] + 1)
            if moved and isinstance(c.before, list) else
            say(lang, "diff_position", n=c.before + 1) if moved and isinstance(c.before, int)
            else _short(c.before),
            "after": say(lang, "diff_place", parent=c.after[0], n=c.after[1] + 1)
            if moved and isinstance(c.after, list) else
            say(lang, "diff_position", n=c.after + 1) if moved and isinstance(c.after, int)
            else _short(c.after)}


def _titles(*contents: Any, lang: str) -> dict[str, str]:
    found: dict[str, str] = {}

    def walk(items: Any) -> None:
        for i in items if isinstance(items, list) else []:
            if isinstance(i, dict) and isinstance(i.get("id"), str):
                found.setdefault(i["id"], pick(i.get("title"), lang, i["id"]))
                walk(i.get("items"))

    for content in contents:
        for s in content.get("sections") or []:
            if isinstance(s, dict) and isinstance(s.get("id"), str):
                found.setdefault(s["id"], pick(s.get("title"), lang, s["id"]))
                walk(s.get("items"))
    return found


@get("/admin/definitions/{definition_id:str}/diff", include_in_schema=False)
async def diff_page(request: Request[Any, Any, Any], *, db: AsyncSession, principal: Principal,
                    definition_id: str) -> Response[str]:
    """What changed from one version to another (``?from=&to=``; by default the one before
    the latest, and the latest)."""
    require_admin(principal, SECTION)
    lang = lang_of(request)
    history = await service.definition_history(db, definition_id)
    numbers = [r.version.number for r in history.versions]
    by_number = {r.version.number: r.version for r in history.versions}

    def chosen(name: str, default: int) -> int:
        raw = request.query_params.get(name, "")
        if raw.strip().isdigit() and int(raw) in by_number:
            return int(raw)
        if raw.strip():
            raise NotFound(f"no version {raw!r} of definition {definition_id!r}")
        return default

    to = chosen("to", numbers[0])
    since = chosen("from", numbers[1] if len(numbers) > 1 else numbers[0])
    before, after = by_number[since].content, by_number[to].content
    titles = _titles(after, before, lang=lang)
    changes = [change_view(c, lang, titles) for c in diff(before, after)]
    shown = next((r.version for r in history.versions if r.current),
                 history.versions[0].version)
    return render(request, "definition_diff.html", lang, principal, section=SECTION,
                  title=say(lang, "diff_title", name=pick(shown.content.get("title"), lang,
                                                          definition_id), a=since, b=to),
                  changes=changes, numbers=numbers, diff_from=since, diff_to=to,
                  definition_id=definition_id,
                  diff_action=views.href(f"/admin/definitions/{definition_id}/diff",
                                         lang).split("?")[0],
                  back=views.href(f"/admin/definitions/{definition_id}", lang))


def route_handlers() -> list[Any]:
    return [definitions_page, import_new_page, definition_page, publish_page, rollback_page,
            export_page, import_page, diff_page]
