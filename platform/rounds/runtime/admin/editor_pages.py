"""The structured editor of definitions (``/admin/definitions/{id}/edit`` and
``/admin/definitions/new?kind=``), its live preview and its JSON API (dry run, test cases,
publish after the test cases, the rule operations).

The page is server-rendered with the working copy in a JSON block; ``editor.js`` builds the
structured form, the rule builder, the JSON editor (CodeMirror 6) and the preview from it
and keeps them in sync. The npm packages it loads (SortableJS, CodeMirror and what it
imports) are served from ``node_modules`` and named in the page's import map; the map is an
inline script, so the page's Content-Security-Policy allows exactly its hash.

Thin handlers: what they do is :mod:`editor_service`'s.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any

from litestar import Controller, MediaType, Request, Response, Router, get, post, put
from litestar.exceptions import HTTPException
from litestar.static_files import create_static_files_router
from sqlalchemy.ext.asyncio import AsyncSession

from rounds import i18n
from rounds.errors import InvalidInput, Problem, RoundsError
from rounds.forms.render import render_form
from rounds.forms.schema import FORM_KINDS
from rounds.runtime.access import NotAuthenticated, Principal
from rounds.runtime.admin import editor_service as editor
from rounds.runtime.admin.definition_pages import problem_words
from rounds.runtime.admin.shell import ADMIN_URL, lang_of, render, require_admin, say
from rounds.runtime.fieldwork import views
from rounds.runtime.fieldwork.pages import error_page, to_sign_in
from rounds.runtime.sites import service as sites
from rounds.settings import Settings
from rounds.web.params import Id
from rounds.web.security import CONTENT_SECURITY_POLICY

VENDOR_URL = "/static/vendor"  # beside the forms' json-logic-engine and the dashboards' echarts
PUBLIC = {"public": True}
# npm package -> its ES module entry (the import map's target); every package CodeMirror
# imports is here, so nothing is fetched from elsewhere.
VENDOR: dict[str, str] = {
    "sortablejs": "modular/sortable.esm.js",
    "codemirror": "dist/index.js",
    "@codemirror/autocomplete": "dist/index.js",
    "@codemirror/commands": "dist/index.js",
    "@codemirror/lang-json": "dist/index.js",
    "@codemirror/language": "dist/index.js",
    "@codemirror/lint": "dist/index.js",
    "@codemirror/search": "dist/index.js",
    "@codemirror/state": "dist/index.js",
    "@codemirror/streamparser": "dist/index.js",
    "@codemirror/view": "dist/index.js",
    "@lezer/common": "dist/index.js",
    "@lezer/highlight": "dist/index.js",
    "@lezer/json": "dist/index.js",
    "@lezer/lr": "dist/index.js",
    "@marijn/find-cluster-break": "src/index.js",
    "crelt": "index.js",
    "style-mod": "src/style-mod.js",
    "w3c-keyname": "index.js",
}
SCRIPT_WORDS = ("sending", "send_failed")


def _vendor_path(package: str) -> str:
    return f"{VENDOR_URL}/{package.replace('@', '').replace('/', '__')}"


@lru_cache(maxsize=1)
def import_map() -> tuple[str, str]:
    """The import map's text and the CSP source that allows it (its SHA-256)."""
    text = json.dumps({"imports": {p: f"{_vendor_path(p)}/{entry}"
                                   for p, entry in VENDOR.items()}}, sort_keys=True)
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return text, f"'sha256-{digest}'"


def csp(style_nonce: str) -> str:
    """The page's policy: the import map by its hash, and CodeMirror's one style element
    (style-mod writes its rules into a <style> of the document) by this response's nonce."""
    return CONTENT_SECURITY_POLICY.replace(
        "script-src 'self'", f"script-src 'self' {import_map()[1]}").replace(
        "style-src 'self'", f"style-src 'self' 'nonce-{style_nonce}'")


def _author(principal: Principal | None) -> Principal:
    p = require_admin(principal, "definitions")
    p.require("definition.author")
    return p


def words(lang: str) -> dict[str, str]:
    """The editor's words for the script (every ``editor_`` entry of the catalogue)."""
    return {k: v for k, v in i18n.table("admin", lang).items() if k.startswith("editor_")}


def _page(request: Request[Any, Any, Any], principal: Principal, lang: str, *,
          definition_id: str | None, kind: str, content: dict[str, Any],
          working: editor.Working | None) -> Response[str]:
    title = (say(lang, "editor_title_new", kind=say(lang, f"editor_kind_{kind}"))
             if working is None else say(lang, "editor_title", id=definition_id))
    nonce = secrets.token_urlsafe(16)
    config = {"lang": lang, "style_nonce": nonce, "kind": kind, "definition_id": definition_id,
              "is_new": working is None, "content": content,
              "number": working.number if working else None,
              "status": working.status if working else None,
              "current": working.current if working else None,
              "form_kind": kind in FORM_KINDS,
              "may_publish": principal.can("definition.publish"),
              "schema_url": f"/api/schemas/{kind}",
              "back": views.href(f"/admin/definitions/{definition_id}", lang)
              if definition_id and working else views.href("/admin/definitions", lang),
              "text": words(lang)}
    response = render(request, "editor.html", lang, principal, title=title,
                      section="definitions", editor_config=config,
                      import_map=import_map()[0], vendor_url=VENDOR_URL)
    response.headers["Content-Security-Policy"] = csp(nonce)
    return response


@get("/admin/definitions/{definition_id:str}/edit", include_in_schema=False)
async def edit_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                    principal: Principal | None, definition_id: str) -> Response[str]:
    """The editor over the definition's latest version (its draft, else the current one)."""
    p = _author(principal)
    working = await editor.working_copy(db, definition_id)
    return _page(request, p, lang_of(request), definition_id=definition_id, kind=working.kind,
                 content=working.content, working=working)


@get("/admin/definitions/new", include_in_schema=False)
async def new_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                   principal: Principal | None, kind: str = "standard") -> Response[str]:
    """The editor over a minimal valid definition of ``kind``; saving names it."""
    p = _author(principal)
    content = editor.skeleton(kind, "", site_kind=await editor.first_id(db, "site_kind"),
                              role=await editor.first_id(db, "role"))
    return _page(request, p, lang_of(request), definition_id=None, kind=kind,
                 content=content, working=None)


@post("/admin/definitions/preview", include_in_schema=False, status_code=200)
async def preview(request: Request[Any, Any, Any], *, settings: Settings,
                  principal: Principal | None, data: dict[str, Any]) -> Response[str]:
    """The phone form of a working copy, as ``/forms/{id}/preview`` renders it; its
    answers go to the dry run (the editor adds the working copy to what the form posts)."""
    p = _author(principal)
    lang = i18n.normalize(str(data.get("lang") or ""), default=settings.default_language)
    content = data.get("content")
    if not isinstance(content, dict) or content.get("kind") not in FORM_KINDS:
        raise InvalidInput("content: a standard or a survey", [Problem("/content", "an object")])
    if editor.problems_of(content):
        html = (f'<!doctype html><html lang="{lang}"><meta charset="utf-8">'
                f'<link rel="stylesheet" href="{ADMIN_URL}/editor/editor.css">'
                f'<body class="ed-preview-blank"><p>{say(lang, "editor_preview_fix")}</p>')
        return Response(html, media_type=MediaType.HTML)
    ctx = _ctx(p, settings)
    html = render_form(content, lang=lang, action=f"/api/editor/dry-run?lang={lang}", ctx=ctx,
                       version={"number": 0, "content_hash": "", "status": "draft"})
    return Response(html, media_type=MediaType.HTML)


# -- the JSON API --------------------------------------------------------------------------

def _ctx(principal: Principal, settings: Settings) -> dict[str, Any]:
    return editor.bench_context(principal, settings.tz)


class EditorController(Controller):
    path = "/api/editor"
    tags = ("admin",)

    @post("/dry-run", status_code=200,
          summary="Score sample answers over a working copy (nothing stored)",
          description="Body: {content, answers, evidence, site_code?}. The check API's answer "
          "over the content given, plus `issues`: what each failed item would raise, with who "
          "would rectify and accept it by rule, and, with `site_code` (a site in your scope), "
          "the persons found there (`assignee`, `assigner`).")
    async def dry_run(self, db: AsyncSession, settings: Settings, principal: Principal,
                      data: dict[str, Any], lang: str = "zh") -> dict[str, Any]:
        _author(principal)
        content = data.get("content")
        if not isinstance(content, dict):
            raise InvalidInput("content: the definition to test",
                               [Problem("/content", "an object")])
        code = data.get("site_code")
        site = None
        if isinstance(code, str) and code.strip():
            site = await sites.site_by_code(db, principal, code.strip())
            if site is None:
                raise InvalidInput("no such site in your scope", [Problem(
                    "/site_code", f"no site {code.strip()!r} in your scope", "unknown_site")])
        result = editor.dry_run(content, data, _ctx(principal, settings), i18n.normalize(lang))
        if site is not None:
            await editor.name_the_parties(db, result["issues"], site=site, author=principal)
        return result

    @post("/check", status_code=200,
          summary="Check a working copy; every problem at once, in the reader's words",
          description="Body: the definition. The answer of /api/definitions-validate, each "
          "problem with `text` too: what it says in `lang` (`message` is the validator's "
          "own, in English).")
    async def check(self, principal: Principal, data: dict[str, Any], lang: str = "zh"
                    ) -> dict[str, Any]:
        _author(principal)
        language = i18n.normalize(lang)
        found = editor.problems_of(data)
        return {"valid": not found, "errors": [
            {**e, "text": problem_words(str(e["code"]), str(e["message"]), language)}
            for e in found]}

    @get("/{definition_id:str}/test-cases", summary="A standard's test cases")
    async def list_cases(self, db: AsyncSession, principal: Principal,
                         definition_id: str) -> list[dict[str, Any]]:
        _author(principal)
        return [editor.case_out(c) for c in await editor.cases(db, definition_id)]

    @put("/{definition_id:str}/test-cases",
         summary="Replace a standard's test cases (each: name, body, expected)")
    async def save_cases(self, db: AsyncSession, principal: Principal, definition_id: str,
                         data: list[editor.CaseIn]) -> list[dict[str, Any]]:
        p = _author(principal)
        saved = await editor.replace_cases(db, definition_id, data, p.user_id)
        return [editor.case_out(c) for c in saved]

    @post("/{definition_id:str}/test-cases/run", status_code=200,
          summary="Run the test cases over a working copy (default: the latest version)")
    async def run_cases(self, *, db: AsyncSession, settings: Settings, principal: Principal,
                        definition_id: str, data: dict[str, Any], lang: str = "zh"
                        ) -> list[dict[str, Any]]:
        _author(principal)
        content = data.get("content")
        if not isinstance(content, dict):
            content = (await editor.working_copy(db, definition_id)).content
        return editor.run_cases(content, await editor.cases(db, definition_id),
                                _ctx(principal, settings), i18n.normalize(lang))

    @post("/{definition_id:str}/versions/{number:int}/publish", status_code=200,
          summary="Publish a draft after checking it and running its test cases",
          description="409 `publish_refused` naming each remaining problem or failing test "
          "case.")
    async def publish(self, *, db: AsyncSession, settings: Settings, principal: Principal,
                      definition_id: str, number: Id, lang: str = "zh") -> dict[str, Any]:
        p = require_admin(principal, "definitions")
        p.require("definition.publish")
        version, ran = await editor.publish(db, definition_id, number, ctx=_ctx(p, settings),
                                            lang=i18n.normalize(lang), actor_id=p.user_id)
        return {"definition_id": definition_id, "number": version.number,
                "status": version.status, "test_cases": ran}


class OperationsController(Controller):
    path = "/api/rules/operations"
    tags = ("definitions",)
    opt = PUBLIC

    @get("/", summary="The operations a rule may use: name, arguments, value kind, words")
    async def index(self) -> list[dict[str, Any]]:
        return editor.operations()


def handlers(settings: Settings) -> list[Any]:
    """The editor's pages (errors as pages), its API, and its npm packages."""
    pages = Router(path="/", route_handlers=[new_page, edit_page, preview],
                   exception_handlers={NotAuthenticated: to_sign_in, RoundsError: error_page,
                                       HTTPException: error_page})
    modules = Path(settings.node_modules_dir)
    vendor = [create_static_files_router(
        path=_vendor_path(p), directories=[modules / p],
        name="admin_vendor_" + _vendor_path(p).rsplit("/", 1)[1], opt=PUBLIC) for p in VENDOR]
    return [pages, EditorController, OperationsController, *vendor]
