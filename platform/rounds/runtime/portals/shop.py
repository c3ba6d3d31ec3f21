"""The retailer's own shop, as its account (``shop.view_own``, scope ``own_shop``) reads it.

- :func:`own_shop`: the shop the account acts for (403 for anyone else);
- :func:`shop_card`: its name, code, the attributes its site kind defines (licence, grade,
  delivery cycle...) with their labels, and who serves it (the staff assigned to it, with
  their role's title and phone where stored);
- :func:`shop_visits` / :func:`shop_visit`: the staff's visits to it, each with the role's
  own word for it (``visit_verb`` of the role definition: 拜访, 巡查, 送货...) and the
  forms filled during it with their score and outcome (the result pages
  ``/submissions/{id}`` open for the shop: ``submissions.service.visible``);
- :func:`shop_issues`: the problems raised about it (read-only; its own feedback it follows
  and signs off on the issue's page).

A visit or an issue of another shop is not found (404), never shown.

Imports the models of sites, people, visits, submissions and issues, and the definitions
service (role and site kind contents).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.errors import NotFound
from rounds.i18n import pick, text
from rounds.runtime.access import Forbidden, Principal
from rounds.runtime.definitions.service import current_content, current_contents
from rounds.runtime.issues.models import Issue
from rounds.runtime.people.models import User
from rounds.runtime.sites.models import Site, SiteAssignment
from rounds.runtime.submissions.models import Submission
from rounds.runtime.visits.models import Visit

# The attributes of the shop's card, in this order, when its site kind defines them.
CARD_ATTRIBUTES = ("licence_no", "licence_expires_on", "owner_name", "phone", "grade",
                   "delivery_cycle", "business_type", "market_area")
FEEDBACK_SOURCES = ("complaint", "suggestion")


async def own_shop(db: AsyncSession, principal: Principal) -> Site:
    """The shop the account acts for: 403 without ``shop.view_own`` or a shop."""
    principal.require("shop.view_own")
    if principal.site_id is None:
        raise Forbidden("your account acts for no shop")
    site = await db.get(Site, principal.site_id)
    if site is None:
        raise NotFound("your shop is not among the sites")
    return site


# -- the card -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Fact:
    key: str
    label: str
    value: str


@dataclass(frozen=True)
class Staff:
    name: str
    role: str  # the role's title in the reader's language
    role_id: str
    phone: str


@dataclass(frozen=True)
class ShopCard:
    id: int
    name: str
    code: str
    address: str
    facts: list[Fact]
    staff: list[Staff]
    org_unit_id: int


def _value(attr: Mapping[str, Any], raw: Any, lang: str) -> str:
    if attr.get("type") == "choice":
        for choice in attr.get("choices") or []:
            if isinstance(choice, Mapping) and choice.get("value") == raw:
                return pick(choice.get("label"), lang, str(raw))
    if attr.get("type") == "date" and isinstance(raw, str):
        try:  # as people write a date (2031年12月5日), not as it is stored
            day = date.fromisoformat(raw)
        except ValueError:
            return raw
        return text("portals", lang, "date", y=day.year, m=day.month, d=day.day)
    return str(raw)


async def role_words(db: AsyncSession) -> dict[str, dict[str, Any]]:
    """Each role's title and word for a visit (``visit_verb``), from its current version."""
    return {r: {"title": c.get("title") or {}, "verb": c.get("visit_verb") or {}}
            for r, c in (await current_contents(db, "role")).items()}


async def shop_card(db: AsyncSession, site: Site, lang: str) -> ShopCard:
    kind = await current_content(db, site.site_kind, "site_kind") or {}
    defined = {str(a.get("id")): a for a in kind.get("attributes") or []
               if isinstance(a, Mapping)}
    attributes = site.attributes or {}
    facts = [Fact(key, pick(defined[key].get("title"), lang, key),
                  _value(defined[key], attributes[key], lang))
             for key in CARD_ATTRIBUTES
             if key in defined and attributes.get(key) not in (None, "")]
    roles = await role_words(db)
    rows = (await db.execute(
        select(SiteAssignment.role_id, User.display_name, User.phone)
        .join(User, User.id == SiteAssignment.user_id)
        .where(SiteAssignment.site_id == site.id, User.active.is_(True))
        .order_by(SiteAssignment.role_id, User.display_name))).all()
    # The customer manager first: the one who serves the shop day to day.
    staff = sorted((Staff(str(name), pick(roles.get(role, {}).get("title"), lang, role), role,
                          str(phone or "")) for role, name, phone in rows),
                   key=lambda s: (s.role_id != "customer_manager", s.role_id, s.name))
    return ShopCard(id=site.id, name=site.name, code=site.code, address=site.address,
                    facts=facts, staff=staff, org_unit_id=site.org_unit_id)


# -- visits ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scored:
    """A form filled during a visit, as the shop sees it in a list."""

    submission_id: str
    definition_id: str
    version_id: int
    score_value: float | None
    score_model: str
    direction: str
    outcome: str | None
    failed_count: int
    submitted_at: datetime


@dataclass(frozen=True)
class ShopVisit:
    id: int
    at: datetime
    ended_at: datetime | None
    staff: str
    role_id: str
    role: str  # the role's title
    verb: str  # the role's word for the visit (拜访, 巡查...), else the generic 走访
    forms: list[Scored] = field(default_factory=list)


def _visit(v: Visit, user: User | None, roles: Mapping[str, Mapping[str, Any]], *, lang: str,
           generic: str, forms: list[Scored]) -> ShopVisit:
    role = user.role_id if user else ""
    words = roles.get(role, {})
    return ShopVisit(id=v.id, at=v.checked_in_at, ended_at=v.checked_out_at,
                     staff=user.display_name if user else "", role_id=role,
                     role=pick(words.get("title"), lang, role),
                     verb=pick(words.get("verb"), lang, generic) or generic, forms=forms)


async def _forms(db: AsyncSession, visit_ids: Sequence[int]) -> dict[int, list[Scored]]:
    if not visit_ids:
        return {}
    out: dict[int, list[Scored]] = {}
    for s in (await db.execute(select(Submission).where(Submission.visit_id.in_(visit_ids))
                               .order_by(Submission.submitted_at))).scalars():
        out.setdefault(int(s.visit_id or 0), []).append(Scored(
            s.id, s.definition_id, s.version_id, s.score_value, s.score_model, s.direction,
            s.outcome, s.failed_count, s.submitted_at))
    return out


async def shop_visits(db: AsyncSession, site: Site, lang: str, generic: str, *,
                      limit: int, offset: int = 0) -> tuple[list[ShopVisit], int]:
    """The visits to the shop, newest first, a page at a time, and how many in all."""
    total = int((await db.execute(select(func.count()).select_from(Visit)
                                  .where(Visit.site_id == site.id))).scalar_one())
    rows = (await db.execute(select(Visit, User).join(User, User.id == Visit.user_id)
                             .where(Visit.site_id == site.id)
                             .order_by(Visit.checked_in_at.desc(), Visit.id.desc())
                             .limit(limit).offset(offset))).all()
    roles = await role_words(db)
    forms = await _forms(db, [v.id for v, _ in rows])
    return [_visit(v, u, roles, lang=lang, generic=generic, forms=forms.get(v.id, []))
            for v, u in rows], total


async def shop_visit(db: AsyncSession, site: Site, visit_id: int, lang: str, generic: str
                     ) -> ShopVisit:
    """One visit to the shop (404 when it is not to this shop)."""
    row = (await db.execute(select(Visit, User).join(User, User.id == Visit.user_id)
                            .where(Visit.id == visit_id, Visit.site_id == site.id))).first()
    if row is None:
        raise NotFound(f"no visit {visit_id} to your shop")
    forms = await _forms(db, [visit_id])
    return _visit(row[0], row[1], await role_words(db), lang=lang, generic=generic,
                  forms=forms.get(visit_id, []))


# -- problems -------------------------------------------------------------------------------

async def shop_issues(db: AsyncSession, principal: Principal, site: Site, *, mine: bool,
                      limit: int, offset: int = 0) -> tuple[list[Issue], int]:
    """The problems raised about the shop (``mine``: only what its account raised, its
    complaints and suggestions), the newest first, and how many in all."""
    where = [Issue.site_id == site.id]
    if mine:
        where += [Issue.reporter_id == principal.user_id, Issue.source.in_(FEEDBACK_SOURCES)]
    total = int((await db.execute(select(func.count()).select_from(Issue).where(*where))
                 ).scalar_one())
    rows = (await db.execute(select(Issue).where(*where)
                             .order_by(Issue.created_at.desc(), Issue.id.desc())
                             .limit(limit).offset(offset))).scalars().all()
    return list(rows), total
