"""The company's notices: those a reader of an audience sees now, and writing them (those
with ``notice.publish``: publish, withdraw, the list).

A retailer sees the notices for retailers and for everyone that are for the whole company or
for its shop's unit or a unit above it; a consumer those for consumers and for everyone that
are for the whole company. Withdrawn and expired notices are not shown; the newest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import as_utc
from rounds.errors import Conflict, InvalidInput, NotFound, Problem
from rounds.runtime.access import Principal
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.portals.models import (
    FOR_CONSUMERS,
    FOR_EVERYONE,
    FOR_RETAILERS,
    NOTICE_AUDIENCES,
    NOTICE_TOPICS,
    Notice,
)


async def current_notices(db: AsyncSession, audience: str, *, now: datetime,
                          org_unit_id: int | None = None, limit: int = 20
                          ) -> Sequence[Notice]:
    """The notices ``audience`` (``retailer`` or ``consumer``) sees at ``now``; for a
    retailer, ``org_unit_id`` is its shop's unit (notices of that unit and those above)."""
    now = as_utc(now)
    if audience not in (FOR_RETAILERS, FOR_CONSUMERS):
        raise ValueError(f"no notices for audience {audience!r}")
    units: list[int] = []
    if audience == FOR_RETAILERS and org_unit_id is not None:
        unit = await db.get(OrgUnit, org_unit_id)
        if unit is not None and unit.path:
            units = [int(part) for part in unit.path.strip("/").split("/") if part]
    stmt = (select(Notice)
            .where(Notice.audience.in_((audience, FOR_EVERYONE)),
                   Notice.published_at <= now, Notice.withdrawn_at.is_(None),
                   or_(Notice.expires_at.is_(None), Notice.expires_at > now),
                   or_(Notice.org_unit_id.is_(None), Notice.org_unit_id.in_(units)))
            .order_by(Notice.published_at.desc(), Notice.id.desc()).limit(limit))
    return list((await db.execute(stmt)).scalars())


# -- writing: those with notice.publish ------------------------------------------------------

MAX_TITLE = 200
MAX_BODY = 5000


def _text(value: str | None, pointer: str, limit: int, *, required: bool,
          problems: list[Problem]) -> str:
    text = (value or "").strip()
    if required and not text:
        problems.append(Problem(pointer, "required", "required", "body"))
    elif len(text) > limit:
        problems.append(Problem(pointer, f"at most {limit} characters", "max_length", "body"))
    return text


async def publish_notice(db: AsyncSession, principal: Principal, *, now: datetime,
                         title_zh: str, body_zh: str, title_en: str = "", body_en: str = "",
                         audience: str, topic: str, org_unit_id: int | None = None,
                         published_at: datetime | None = None,
                         expires_at: datetime | None = None) -> Notice:
    """A notice in Chinese (English optional: it falls back to Chinese), for retailers,
    consumers or everyone, of the whole company or of a unit in the author's scope (and the
    units below), shown from ``published_at`` (now by default) until ``expires_at``. Every
    mistake at once (422, a pointer each)."""
    principal.require("notice.publish")
    now = as_utc(now)
    problems: list[Problem] = []
    titles = {"zh": _text(title_zh, "/title_zh", MAX_TITLE, required=True, problems=problems),
              "en": _text(title_en, "/title_en", MAX_TITLE, required=False, problems=problems)}
    bodies = {"zh": _text(body_zh, "/body_zh", MAX_BODY, required=True, problems=problems),
              "en": _text(body_en, "/body_en", MAX_BODY, required=False, problems=problems)}
    if titles["en"] and not bodies["en"]:
        problems.append(Problem("/body_en", "the English text, with the English title",
                                "required", "body"))
    if bodies["en"] and not titles["en"]:
        problems.append(Problem("/title_en", "the English title, with the English text",
                                "required", "body"))
    if audience not in NOTICE_AUDIENCES:
        problems.append(Problem("/audience", f"one of {', '.join(NOTICE_AUDIENCES)}", "enum",
                                "body"))
    if topic not in NOTICE_TOPICS:
        problems.append(Problem("/topic", f"one of {', '.join(NOTICE_TOPICS)}", "enum", "body"))
    if org_unit_id is not None:
        unit = await db.get(OrgUnit, org_unit_id)
        if unit is None or not (principal.org_scope == "city"
                                or (unit.path or "").startswith(principal.org_path)):
            problems.append(Problem("/org_unit_id", f"no unit {org_unit_id} in your scope",
                                    "unknown_unit", "body"))
        elif audience == FOR_CONSUMERS:
            problems.append(Problem("/org_unit_id", "notices for consumers are for the whole "
                                    "company", "not_allowed", "body"))
    start = as_utc(published_at) if published_at is not None else now
    end = as_utc(expires_at) if expires_at is not None else None
    if end is not None and end <= max(start, now):
        problems.append(Problem("/expires_at", "must be after the publish time and now",
                                "date_min", "body"))
    if problems:
        raise InvalidInput("; ".join(f"{p.pointer}: {p.message}" for p in problems), problems)
    notice = Notice(audience=audience, topic=topic,
                    title={k: v for k, v in titles.items() if v},
                    body={k: v for k, v in bodies.items() if v}, org_unit_id=org_unit_id,
                    published_at=start, expires_at=end, created_by=principal.user_id,
                    created_at=now)
    db.add(notice)
    await db.flush()
    return notice


async def withdraw_notice(db: AsyncSession, principal: Principal, notice_id: int, *,
                          now: datetime) -> Notice:
    """Take a notice down (it stays on the record, withdrawn); 404 for one not found, 409
    for one withdrawn already."""
    principal.require("notice.publish")
    notice = await db.get(Notice, notice_id)
    if notice is None:
        raise NotFound(f"no notice {notice_id}")
    if notice.withdrawn_at is not None:
        raise Conflict(f"notice {notice_id} was withdrawn already")
    notice.withdrawn_at = as_utc(now)
    await db.flush()
    return notice


async def all_notices(db: AsyncSession, principal: Principal, *, limit: int, offset: int = 0
                      ) -> tuple[list[Notice], int]:
    """Every notice, the newest first (for those who publish them), and how many."""
    principal.require("notice.publish")
    total = int((await db.execute(select(func.count()).select_from(Notice))).scalar_one())
    rows = (await db.execute(select(Notice).order_by(Notice.published_at.desc(),
                                                     Notice.id.desc())
                             .limit(limit).offset(offset))).scalars().all()
    return list(rows), total
