"""Writing the company's notices (``notice.publish``): ``/notices`` (every notice, paged,
with what each reader sees: live, scheduled, expired or withdrawn; a live one may be
withdrawn) and ``/notices/new`` (title and text in Chinese, English optional, who it is for,
its topic, a unit, the publish time and the expiry). ``static/notices.js`` posts to the
notices API (``portals.web``) with the page's CSRF token and shows every mistake next to
its field. Words: the ``portals`` catalogue.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, Response, get
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import as_utc, utcnow
from rounds.i18n import pick
from rounds.runtime.access import Principal
from rounds.runtime.fieldwork import views
from rounds.runtime.orgs.service import OrgUnitNode, visible_org_tree
from rounds.runtime.portals.models import NOTICE_AUDIENCES, NOTICE_TOPICS, Notice
from rounds.runtime.portals.notices import all_notices
from rounds.runtime.portals.shop_pages import PER_PAGE, day, render, say
from rounds.settings import Settings
from rounds.web.language import request_language
from rounds.web.params import PageNumber


def _units(tree: list[OrgUnitNode], lang: str, depth: int = 0) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for node in tree:
        out.append((node.id, "\u3000" * depth + pick({"zh": node.name_zh, "en": node.name_en},
                                                     lang, node.code)))
        out += _units(node.children, lang, depth + 1)
    return out


def _state(n: Notice, now: datetime) -> str:
    if n.withdrawn_at is not None:
        return "withdrawn"
    if as_utc(n.published_at) > now:
        return "scheduled"
    if n.expires_at is not None and as_utc(n.expires_at) <= now:
        return "expired"
    return "live"


@get("/notices", include_in_schema=False)
async def notices_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                       settings: Settings, principal: Principal, page: PageNumber = 1
                       ) -> Response[str]:
    lang = request_language(request)
    found, total = await all_notices(db, principal, limit=PER_PAGE,
                                     offset=(page - 1) * PER_PAGE)
    now = utcnow()
    units = dict(_units(await visible_org_tree(db, principal), lang))
    rows = [{"id": n.id, "title": pick(n.title, lang, ""), "body": pick(n.body, lang, ""),
             "audience": say(lang, f"audience_{n.audience}"),
             "topic": say(lang, f"topic_{n.topic}"),
             "unit": units.get(n.org_unit_id, "").strip() if n.org_unit_id else
             say(lang, "unit_all"),
             "from": day(n.published_at, settings.tz, lang),
             "until": day(n.expires_at, settings.tz, lang) if n.expires_at else "",
             "state": _state(n, now), "state_text": say(lang, f"state_{_state(n, now)}")}
            for n in found]
    return render(request, "notices.html", lang, principal, title=say(lang, "notices_admin"),
                  active="notices", rows=rows,
                  new_href=views.href("/notices/new", lang),
                  pager=views.pager(page, PER_PAGE, total,
                                    lambda n: views.href("/notices", lang, page=n),
                                    say(lang, "notices_pager")),
                  portals_config={"lang": lang, "text": _script_words(lang)})


@get("/notices/new", include_in_schema=False)
async def new_notice_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                          principal: Principal) -> Response[str]:
    lang = request_language(request)
    principal.require("notice.publish")
    units = _units(await visible_org_tree(db, principal), lang)
    return render(request, "notices_new.html", lang, principal, title=say(lang, "notice_new"),
                  active="notices", units=units,
                  audiences=[(a, say(lang, f"audience_{a}")) for a in NOTICE_AUDIENCES],
                  topics=[(t, say(lang, f"topic_{t}")) for t in NOTICE_TOPICS],
                  done_href=views.href("/notices", lang),
                  portals_config={"lang": lang, "text": _script_words(lang)})


def _script_words(lang: str) -> dict[str, str]:
    keys = ("sending", "sent", "network_error", "failed", "field_required", "field_invalid",
            "withdraw_confirm", "withdrawn", "err_required", "err_max_length", "err_date_min",
            "err_unknown_unit", "err_not_allowed", "err_enum")
    return {k: say(lang, k) for k in keys}


def route_handlers() -> list[Any]:
    return [notices_page, new_notice_page]
