"""Pages of forms: the forms index, a form's preview, and the files they load.

Thin: each handler reads the definition store and hands the content to ``render``.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from litestar import MediaType, get
from litestar.exceptions import NotFoundException
from litestar.static_files import create_static_files_router
from sqlalchemy.ext.asyncio import AsyncSession

from rounds import i18n
from rounds.forms.render import STATIC_DIR, STATIC_URL, render_form, render_index
from rounds.forms.schema import FORM_KINDS
from rounds.runtime.access import Principal
from rounds.runtime.definitions import service
from rounds.runtime.visits import service as visits
from rounds.settings import Settings

# Definitions are readable without signing in (GET /api/definitions is public), so are their
# previews; the check API they post to decides for itself who may use it.
PUBLIC = {"public": True}


def _language(lang: str | None, settings: Settings) -> str:
    return i18n.normalize(lang, default=settings.default_language)


@get("/forms", media_type=MediaType.HTML, include_in_schema=False, opt=PUBLIC)
async def forms_index(db: AsyncSession, settings: Settings, maybe_principal: Principal | None,
                      lang: str | None = None) -> str:
    entries: list[service.DefinitionSummary] = []
    for kind in FORM_KINDS:
        found, _ = await service.list_definitions(
            db, kind=kind, limit=500, drafts=service.may_see_drafts(maybe_principal))
        entries += found
    return render_index(entries, lang=_language(lang, settings))


@get("/forms/{definition_id:str}/preview", media_type=MediaType.HTML, include_in_schema=False,
     opt=PUBLIC)
async def form_preview(db: AsyncSession, settings: Settings, maybe_principal: Principal | None,
                       definition_id: str, *, lang: str | None = None,
                       version: str | None = None) -> str:
    """The current version of a standard or survey as a form (or the version asked for; a
    draft for administrators only)."""
    found = await service.readable_version(db, maybe_principal, definition_id, version or None)
    kind = found.content.get("kind")
    if kind not in FORM_KINDS:
        raise NotFoundException(f"{definition_id!r} is a {kind}, not a standard or survey")
    language = _language(lang, settings)
    # the check API scores the answers against exactly the version shown
    action = f"/api/forms/{quote(definition_id)}/check?version={found.number}&lang={language}"
    # The ctx the check API scores with (today in the company's time zone, the reader), so
    # that the live figures and the checks between fields agree with its answer.
    ctx = visits.rule_context(maybe_principal, now=datetime.datetime.now(datetime.UTC),
                              tz=settings.tz)
    return render_form(found.content, lang=language, action=action, ctx=ctx, version={
        "number": found.number, "content_hash": found.content_hash, "status": found.status})


def page_handlers(settings: Settings) -> list[Any]:
    vendor = Path(settings.node_modules_dir) / "json-logic-engine" / "dist" / "esm"
    return [
        forms_index,
        form_preview,
        create_static_files_router(path=STATIC_URL, directories=[STATIC_DIR],
                                   name="rounds_static", opt=PUBLIC),
        # installed from the npm registry through package-lock.json (./dev setup)
        create_static_files_router(path="/static/vendor/json-logic-engine",
                                   directories=[vendor], name="vendor_json_logic_engine",
                                   opt=PUBLIC),
    ]
