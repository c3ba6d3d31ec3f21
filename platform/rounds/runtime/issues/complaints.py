"""A consumer's complaint (投诉) from the consumer page: an issue in the closed loop, routed by
the rules in the definitions.

The topics and their rules are the ``consumer`` role's ``complaints`` block
(``definitions/roles/consumer.json``): each topic has a title, a severity and who rectifies
(``assign_to``) and who accepts the fix (``verify_by``), in the shape the standards use
(``{"role": ..., "of": "site" | "org_unit"}``), e.g. counterfeit cigarettes to the enforcement
officers of the shop's unit (the city's when no shop is named), a shop's service to its
customer manager, accepted by the station head. Routing is ``routing.route``'s, with its
fallback written into the history.

A complaint has no reporter (no account is made or kept): the issue's ``source`` is
``consumer``. A contact (a phone number...) is stored only with the consumer's explicit
consent, in the issue's ``created`` event, which shows it only to the assignee and the
assigner (``queries``).

Imports ``sources`` (opening an issue), ``routing``, ``checks`` of the slice, and the
definitions, orgs and sites slices below it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import as_utc
from rounds.errors import Problem
from rounds.i18n import LANGUAGES, pick
from rounds.runtime.definitions.service import current_contents
from rounds.runtime.issues.checks import clean_text, invalid
from rounds.runtime.issues.deadlines import DEFAULT_DUE_DAYS
from rounds.runtime.issues.routing import ASSIGNEE, ASSIGNER, Party, Where, roles, route
from rounds.runtime.issues.sources import open_issue
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.sites.models import Site

CONSUMER_COMPLAINT = "consumer"  # the issue's source
COMPLAINTS_ROLE = "consumer"  # the role whose definition holds the topics
MAX_TEXT = 2000
MAX_CONTACT = 100


@dataclass(frozen=True)
class Topic:
    id: str
    title: dict[str, str]
    severity: str
    assign_to: Party
    verify_by: Party


@dataclass(frozen=True)
class Filed:
    issue_id: int
    site_id: int | None
    assignee_id: int | None
    assigner_id: int | None


async def complaint_topics(db: AsyncSession) -> list[Topic]:
    """The complaint topics of the consumer role's current definition, in its order."""
    content = (await current_contents(db, "role")).get(COMPLAINTS_ROLE) or {}
    out = []
    for t in (content.get("complaints") or {}).get("topics") or ():
        assign_to, verify_by = Party.of_json(t.get("assign_to")), Party.of_json(t.get("verify_by"))
        if assign_to is None or verify_by is None:
            continue  # the definitions' validation refuses it; never route by half a rule
        out.append(Topic(str(t["id"]), dict(t.get("title") or {}), str(t["severity"]),
                         assign_to, verify_by))
    return out


async def find_shop(db: AsyncSession, shop: str) -> list[Site]:
    """The shops whose code or name is ``shop`` exactly (a name may be shared)."""
    rows = await db.execute(select(Site).where(or_(Site.code == shop, Site.name == shop))
                            .order_by(Site.id).limit(3))
    return list(rows.scalars())


async def _city_unit(db: AsyncSession) -> int:
    """The top org unit (the company), where a complaint about no shop is handled."""
    found = (await db.execute(select(OrgUnit.id).where(OrgUnit.parent_id.is_(None))
                              .order_by(OrgUnit.id).limit(1))).scalar_one_or_none()
    if found is None:
        raise invalid([Problem("/shop", "name the shop: the company has no org units yet",
                               "required", "body")])
    return int(found)


async def file_complaint(db: AsyncSession, *, topic: str, text: str, now: datetime,
                         shop: str | None = None, contact: str | None = None,
                         consent: bool = False) -> Filed:
    """Open the issue of a consumer's complaint, routed by its topic's rules; every problem
    at once (``/topic``, ``/shop``, ``/text``, ``/contact``, ``/consent``). The caller
    commits."""
    now = as_utc(now)
    topics = {t.id: t for t in await complaint_topics(db)}
    problems: list[Problem] = []
    chosen = topics.get(topic)
    if not topic:
        problems.append(Problem("/topic", "required", "required", "body"))
    elif chosen is None:
        problems.append(Problem("/topic", f"one of {', '.join(topics)}", "enum", "body"))
    body, more = clean_text(text, "/text", required=True, limit=MAX_TEXT)
    problems += more
    reach, more = clean_text(contact, "/contact", required=False, limit=MAX_CONTACT)
    problems += more
    if reach and not consent:
        problems.append(Problem("/consent", "a contact is kept only with your consent: tick "
                                "the box, or leave the contact empty", "consent_required",
                                "body"))
    site: Site | None = None
    shop_text = (shop or "").strip()
    if shop_text:
        found = await find_shop(db, shop_text)
        if not found:
            problems.append(Problem("/shop", f"no shop {shop_text!r}", "unknown_shop", "body"))
        elif len(found) > 1:
            problems.append(Problem("/shop", f"several shops are called {shop_text!r}: give "
                                    "the licence number", "ambiguous_shop", "body"))
        else:
            site = found[0]
    if problems or chosen is None:
        raise invalid(problems)
    unit_id = site.org_unit_id if site is not None else await _city_unit(db)
    where = Where(site.id if site else None, unit_id, None, None)
    known = await roles(db)
    assignee = await route(db, ASSIGNEE, chosen.assign_to, where, rule_from="complaint",
                           known=known)
    assigner = await route(db, ASSIGNER, chosen.verify_by, where, rule_from="complaint",
                           exclude=assignee.user_id, known=known)
    summary = body if len(body) <= 60 else body[:59] + "…"
    titles = {lang: f"{pick(chosen.title, lang, chosen.id)}：{summary}"
              if lang == "zh" else f"{pick(chosen.title, lang, chosen.id)}: {summary}"
              for lang in LANGUAGES}
    values: dict[str, Any] = {
        "title": titles.get("zh", next(iter(titles.values())))[:300], "titles": titles,
        "description": body, "source": CONSUMER_COMPLAINT, "severity": chosen.severity,
        "site_id": site.id if site else None, "org_unit_id": unit_id,
        "due_at": now + timedelta(days=DEFAULT_DUE_DAYS[chosen.severity]),
        "assigner_id": assigner.user_id, "assignee_id": assignee.user_id, "reporter_id": None}
    created: dict[str, Any] = {"kind": "consumer_complaint", "topic": chosen.id, "note": body,
                               "rules": {"assign_to": chosen.assign_to.as_json(),
                                         "verify_by": chosen.verify_by.as_json()}}
    if reach and consent:
        created["contact"] = reach
    issue_id = await open_issue(db, values, now=now, actor_id=None,
                                routed=(assignee, assigner), created=created)
    assert issue_id is not None
    return Filed(issue_id, values["site_id"], assignee.user_id, assigner.user_id)
