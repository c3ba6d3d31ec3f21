"""The audit page (``/admin/audit``): the trail of administrative changes, newest first, a
page at a time by keyset ("更早": the entries before the last one shown), filtered by
person, action, target kind and id, and a date range (days in the company's time zone);
each entry's changes written out (a field: before → after)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, Response, get
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.definitions.schemas import KINDS
from rounds.i18n import table
from rounds.runtime import audit
from rounds.runtime.access import Principal
from rounds.runtime.admin import service
from rounds.runtime.admin.shell import (
    action_text,
    lang_of,
    render,
    require_admin,
    say,
    target_text,
)
from rounds.runtime.definitions.service import export_text
from rounds.runtime.fieldwork import views
from rounds.settings import Settings
from rounds.web.params import OptionalId

SECTION = "audit"
PER_PAGE = 50
# The actions the filter offers (a prefix ending in "." takes all of its kind); others can
# be asked for by their code in the URL.
ACTIONS = ("definition.", "definition.draft", "definition.publish", "definition.rollback",
           "definition.import", "user.", "org_unit.", "site.", "plan.")
TARGETS = ("definition", "user", "org_unit", "site", "plan")


def _day(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw.strip()) if raw.strip() else None
    except ValueError:
        return None


def _value(value: Any) -> str:
    if value is None:
        return "—"
    text = value if isinstance(value, str) else export_text(value).strip()
    return text if len(text) <= 300 else text[:300] + "…"


def changes_view(changes: dict[str, Any], lang: str) -> list[dict[str, str]]:
    """Each recorded field: ``[before, after]`` as "before → after", anything else as is."""
    out = []
    for key, value in changes.items():
        label_key = f"field_{key}"
        label = say(lang, label_key) if label_key in table("admin", lang) else key
        if isinstance(value, list) and len(value) == 2:
            out.append({"field": label, "before": _value(value[0]), "after": _value(value[1])})
        else:
            out.append({"field": label, "before": "", "after": _value(value)})
    return out


@get("/admin/audit", include_in_schema=False)
async def audit_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                     settings: Settings, principal: Principal, person: str = "",
                     action: str = "", target_kind: str = "", target_id: str = "",
                     since: str = "", until: str = "", before: OptionalId = None
                     ) -> Response[str]:
    """The trail, newest first, ``PER_PAGE`` at a time."""
    require_admin(principal, SECTION)
    lang = lang_of(request)
    tz = settings.tz
    errors: dict[str, str] = {}
    actor_id: int | None = None
    if person.strip():
        actor_id = await service.user_id_of(db, person.strip())
        if actor_id is None:
            errors["person"] = say(lang, "err_person")
    start, end = _day(since), _day(until)
    if since.strip() and start is None:
        errors["since"] = say(lang, "err_date")
    if until.strip() and end is None:
        errors["until"] = say(lang, "err_date")
    found: list[audit.AuditEntry] = []
    if not errors:
        where = audit.AuditFilter(
            actor_id=actor_id, action=action.strip() or None,
            target_kind=target_kind.strip() or None, target_id=target_id.strip() or None,
            since=dt.datetime.combine(start, dt.time(), tz) if start else None,
            until=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tz)
            if end else None)
        found = await audit.entries(db, where, before_id=before, limit=PER_PAGE + 1)
    more = len(found) > PER_PAGE
    found = found[:PER_PAGE]
    names = await service.people_names(db, {e.actor_id for e in found if e.actor_id})
    rows = [{"id": e.id, "at": e.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
             "who": names.get(e.actor_id, str(e.actor_id)) if e.actor_id
             else say(lang, "actor_system"),
             "action": action_text(lang, e.action), "action_code": e.action,
             "target": target_text(lang, e.target_kind, e.target_id),
             "target_href": views.href(f"/admin/definitions/{e.target_id}", lang)
             if e.target_kind == "definition" else None,
             "changes": changes_view(e.changes, lang)} for e in found]
    kept = {k: v for k, v in (("person", person), ("action", action),
                              ("target_kind", target_kind), ("target_id", target_id),
                              ("since", since), ("until", until)) if v}
    older = views.href("/admin/audit", lang, **kept, before=found[-1].id) \
        if more and found else None
    newest = views.href("/admin/audit", lang, **kept) if before is not None else None
    return render(
        request, "audit.html", lang, principal, title=say(lang, "audit_title"),
        section=SECTION, rows=rows, older_href=older, newest_href=newest, errors=errors,
        values={"person": person, "action": action, "target_kind": target_kind,
                "target_id": target_id, "since": since, "until": until},
        actions=[{"value": a, "text": say(lang, "all_of", what=say(lang, f"target_{a[:-1]}"))
                  if a.endswith(".") else action_text(lang, a)} for a in ACTIONS],
        targets=[{"value": t, "text": say(lang, f"target_{t}")} for t in TARGETS],
        definition_kinds=KINDS, action_url=views.href("/admin/audit", lang).split("?")[0])


def route_handlers() -> list[Any]:
    return [audit_page]
