"""Monthly visit plans from the roles' visit targets, progress against them, and "my day".

A role's ``visit_targets`` (``definitions/roles/*.json``) say how often its staff visit
*each* site of a kind in their scope: a customer manager each assigned retailer twice a
month. :func:`generate_month_plans` turns them into one ``PlannedVisit`` row per person,
site and month. Targets per week, quarter or year become a monthly number:

- ``week``: visits × days in the month / 7, rounded half up (1 a week is 4 in February,
  4 in a 30-day month, 4 in a 31-day month; 2 a week is 9 in a 31-day month);
- ``day``: visits × days in the month;
- ``quarter`` and ``year``: the visits spread over the months of the period, earlier months
  first (1 a quarter is planned in the first month of the quarter; 5 a year in January
  to May).

The frequency itself is kept beside that count (``per``, ``per_visits``): the month's
progress shows it, and "my day" follows it, so a site to visit once a week is due again
each week (Monday to Sunday) and one to visit daily each day, not merely while the month's
count is not reached.

Generating is idempotent: the plan always mirrors the current roles, assignments and
scopes, so rerunning changes nothing, a site assigned mid-month gets its plan on the next
run, and a plan whose site was taken away (or whose person left) is removed. Run it when
assignments change and every night (``rounds plans generate``).

Done visits are the person's visits to the site in the month during which a form was
submitted (a check-in alone is being there, not doing the job: a visit left without its
form does not count), or every check-in where the role says so (``"visit_done":
"checked_in"``). Flagged ones are included: a flag is for the supervisor to look at, it does
not undo a visit. They are counted up to the plan; visits beyond the plan are shown apart.
Months and days are calendar months and days in ``tz`` (UTC unless the caller says
otherwise).
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import case, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.errors import InvalidInput, NotFound, Problem
from rounds.rules.operations import haversine_m
from rounds.runtime import audit
from rounds.runtime.access import Forbidden, Principal, site_scope
from rounds.runtime.definitions.service import current_contents
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.orgs.service import unit_in_scope
from rounds.runtime.people.auth import principal_for
from rounds.runtime.people.models import User
from rounds.runtime.people.service import user_in_scope, user_scope
from rounds.runtime.sites.models import Site

# Progress reads whether a form was submitted during a visit: the one place this slice looks
# at submissions (their model only; the submissions slice builds on visits, not the reverse).
from rounds.runtime.submissions.models import Submission
from rounds.runtime.visits.models import PlannedVisit, Visit

MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
MY_DAY_LIMIT = 12  # a day's round: more than a person visits in a working day
# When a visit counts as done for the plan (a role's ``visit_done``): once a form was
# submitted during it (the default), or at check-in.
DONE_SUBMITTED = "submitted"
DONE_CHECKED_IN = "checked_in"


def parse_month(text: str) -> str:
    if not MONTH.match(text):
        raise InvalidInput(f"{text!r} is not a month", [
            Problem("/month", "a month as YYYY-MM", "invalid")])
    return text


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_bounds(month: str, tz: tzinfo = UTC) -> tuple[datetime, datetime]:
    """The first instant of the month and of the next one, in ``tz``, as UTC."""
    year, mon = int(month[:4]), int(month[5:])
    start = datetime(year, mon, 1, tzinfo=tz)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def monthly_visits(target: dict[str, Any], month: str) -> int:
    """A role's visit target for one site as the number of visits planned in ``month``."""
    visits, per = int(target["visits"]), str(target.get("per", "month"))
    year, mon = int(month[:4]), int(month[5:])
    if per == "day":
        return visits * calendar.monthrange(year, mon)[1]
    if per == "week":
        days = calendar.monthrange(year, mon)[1]
        return math.floor(visits * days / 7 + 0.5)
    if per in ("quarter", "year"):
        months = 3 if per == "quarter" else 12
        index = (mon - 1) % months
        return visits // months + (1 if index < visits % months else 0)
    return visits


async def _roles_with_targets(db: AsyncSession) -> dict[str, list[dict[str, Any]]]:
    latest = await current_contents(db, "role")
    return {i: list(c.get("visit_targets") or []) for i, c in latest.items()
            if c.get("visit_targets")}


@dataclass
class PlanReport:
    month: str
    created: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    people: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed)


async def generate_month_plans(db: AsyncSession, month: str, *,
                               unit_path: str | None = None) -> PlanReport:
    """Make the month's plans match the roles' targets and today's assignments; with
    ``unit_path``, only those of the people of that unit and below (the rest stay)."""
    parse_month(month)
    in_unit = select(OrgUnit.id).where(OrgUnit.path.startswith(unit_path)) \
        if unit_path is not None else None
    report = PlanReport(month)
    wanted: dict[tuple[int, int], tuple[int, str, int]] = {}
    for role_id, targets in (await _roles_with_targets(db)).items():
        # site kind → (visits this month, per, visits per period)
        per_kind: dict[str, tuple[int, str, int]] = {}
        for target in targets:
            kind = str(target["site_kind"])
            n, per, each = monthly_visits(target, month), str(target.get("per", "month")), \
                int(target["visits"])
            if kind in per_kind:  # two targets for one kind: added up, in one period if shared
                m0, per0, each0 = per_kind[kind]
                n, each, per = (m0 + n, each0 + each, per) if per0 == per else \
                    (m0 + n, m0 + n, "month")
            per_kind[kind] = (n, per, each)
        per_kind = {k: v for k, v in per_kind.items() if v[0] > 0}
        if not per_kind:
            continue
        staff_query = select(User).where(User.role_id == role_id, User.active.is_(True))
        if in_unit is not None:
            staff_query = staff_query.where(User.org_unit_id.in_(in_unit))
        staff = (await db.execute(staff_query.order_by(User.id))).scalars().all()
        for user in staff:
            # The role's own scope decides which sites: assigned ones for own_sites, the
            # unit's for org_unit... exactly what the person can see and check in at.
            principal = await principal_for(db, user)
            sites = await db.execute(select(Site.id, Site.site_kind).where(
                site_scope(principal), Site.site_kind.in_(sorted(per_kind))))
            planned_any = False
            for site_id, kind in sites:
                wanted[(user.id, site_id)] = per_kind[kind]
                planned_any = True
            report.people += planned_any
    existing_query = select(PlannedVisit).where(PlannedVisit.month == month)
    if in_unit is not None:
        existing_query = existing_query.where(PlannedVisit.user_id.in_(
            select(User.id).where(User.org_unit_id.in_(in_unit))))
    existing = {(p.user_id, p.site_id): p for p in (await db.execute(
        existing_query)).scalars()}
    for key, (visits, per, per_visits) in wanted.items():
        plan = existing.get(key)
        if plan is None:
            db.add(PlannedVisit(month=month, user_id=key[0], site_id=key[1], visits=visits,
                                per=per, per_visits=per_visits))
            report.created += 1
        elif (plan.visits, plan.per, plan.per_visits) != (visits, per, per_visits):
            plan.visits, plan.per, plan.per_visits = visits, per, per_visits
            report.updated += 1
        else:
            report.unchanged += 1
    stale = [p.id for key, p in existing.items() if key not in wanted]
    for i in range(0, len(stale), 500):
        await db.execute(delete(PlannedVisit).where(PlannedVisit.id.in_(stale[i:i + 500])))
    report.removed = len(stale)
    await db.flush()
    return report


@dataclass(frozen=True)
class PersonPlanCount:
    user_id: int
    username: str
    display_name: str
    role_id: str
    sites: int  # planned sites this month
    visits: int  # planned visits this month


async def generate_for(db: AsyncSession, principal: Principal, month: str, *,
                       unit_id: int | None = None
                       ) -> tuple[PlanReport, list[PersonPlanCount]]:
    """An administrator generates a month's plans (for a unit of their scope and below, or
    for all), recorded in the audit trail; with how many plans each person now has."""
    principal.require("site.manage")
    parse_month(month)
    unit_path: str | None = None
    if unit_id is not None:
        unit = await db.get(OrgUnit, unit_id)
        if unit is None or not unit_in_scope(principal, unit):
            raise InvalidInput(f"no org unit {unit_id}", [
                Problem("/unit", f"no org unit {unit_id}", "unknown_reference")])
        unit_path = unit.path
    elif principal.org_scope != "city":
        # Not the whole city's plans: those of the administrator's own unit and below.
        own = await db.get(OrgUnit, principal.org_unit_id)
        unit_path = own.path if own is not None else "?"
    report = await generate_month_plans(db, month, unit_path=unit_path)
    audit.record(db, actor_id=principal.user_id, action="plan.generate", target_kind="plan",
                 target_id=month, changes={
                     "unit": unit_id, "created": report.created, "updated": report.updated,
                     "removed": report.removed, "unchanged": report.unchanged,
                     "people": report.people})
    stmt = (select(User, func.count(), func.sum(PlannedVisit.visits))
            .join(PlannedVisit, PlannedVisit.user_id == User.id)
            .where(PlannedVisit.month == month, user_scope(principal)))
    if unit_path is not None:
        stmt = stmt.where(User.org_unit_id.in_(
            select(OrgUnit.id).where(OrgUnit.path.startswith(unit_path))))
    rows = await db.execute(stmt.group_by(User.id).order_by(User.username))
    return report, [PersonPlanCount(u.id, u.username, u.display_name, u.role_id, int(n),
                                    int(v or 0)) for u, n, v in rows]


# -- progress --------------------------------------------------------------------------------

@dataclass(frozen=True)
class SitePlan:
    site_id: int
    code: str
    name: str
    lat: float
    lng: float
    planned: int
    done: int
    remaining: int
    visits: int  # every check-in this month, beyond the plan too
    per: str = "month"  # the frequency planned: per_visits visits per day, week, month...
    per_visits: int | None = None


@dataclass
class PersonPlan:
    user_id: int
    username: str
    display_name: str
    role_id: str
    org_unit_id: int
    planned: int = 0
    done: int = 0
    pending: int = 0
    visits: int = 0
    sites: list[SitePlan] | None = None  # only when one person is asked for

    @property
    def done_ratio(self) -> float | None:
        return round(self.done / self.planned, 4) if self.planned else None


@dataclass(frozen=True)
class VisitCount:
    visits: int  # every check-in
    done: int  # those that count for the plan under the person's role


async def _done_rules(db: AsyncSession, role_ids: Iterable[str]) -> dict[str, str]:
    """Each role's ``visit_done`` rule (submitted unless the role says checked_in)."""
    ids = sorted(set(role_ids))
    if not ids:
        return {}
    latest = await current_contents(db, "role")  # the current version of each role
    return {i: str(latest.get(i, {}).get("visit_done") or DONE_SUBMITTED) for i in ids}


async def _visit_counts(db: AsyncSession, people: dict[int, str], start: datetime,
                        end: datetime) -> dict[tuple[int, int], VisitCount]:
    """Check-ins per person and site in [start, end), and how many of them are done.
    ``people``: user id → role id."""
    if not people:
        return {}
    rules = await _done_rules(db, people.values())
    submitted = exists().where(Submission.visit_id == Visit.id)
    rows = await db.execute(
        select(Visit.user_id, Visit.site_id, func.count(),
               func.sum(case((submitted, 1), else_=0)))
        .where(Visit.user_id.in_(sorted(people)), Visit.checked_in_at >= start,
               Visit.checked_in_at < end)
        .group_by(Visit.user_id, Visit.site_id))
    return {(u, s): VisitCount(int(n), int(n) if rules.get(people[u]) == DONE_CHECKED_IN
                               else int(with_form or 0))
            for u, s, n, with_form in rows}


async def _fill(db: AsyncSession, people: list[PersonPlan], month: str, tz: tzinfo, *,
                with_sites: bool) -> None:
    start, end = month_bounds(month, tz)
    by_id = {p.user_id: p for p in people}
    counts = await _visit_counts(db, {p.user_id: p.role_id for p in people}, start, end)
    for (user_id, _), n in counts.items():
        by_id[user_id].visits += n.visits
    plans = await db.execute(
        select(PlannedVisit, Site).join(Site, Site.id == PlannedVisit.site_id)
        .where(PlannedVisit.month == month, PlannedVisit.user_id.in_(sorted(by_id)))
        .order_by(Site.name, Site.id))
    for plan, site in plans:
        person = by_id[plan.user_id]
        count = counts.get((plan.user_id, plan.site_id), VisitCount(0, 0))
        visits = count.visits
        done = min(count.done, plan.visits)
        person.planned += plan.visits
        person.done += done
        if with_sites:
            person.sites = person.sites or []
            person.sites.append(SitePlan(site.id, site.code, site.name, site.lat, site.lng,
                                         plan.visits, done, plan.visits - done, visits,
                                         plan.per, plan.per_visits or plan.visits))
    for person in people:
        person.pending = person.planned - person.done
        if with_sites and person.sites is None:
            person.sites = []


def _person(user: User) -> PersonPlan:
    return PersonPlan(user_id=user.id, username=user.username, display_name=user.display_name,
                      role_id=user.role_id, org_unit_id=user.org_unit_id)


def _require_plans(principal: Principal) -> None:
    if not (principal.can("visit.check_in") or principal.can("report.view_scope")):
        raise Forbidden(f"your role ({principal.role_id}) has no visit plans to see")


async def month_progress(db: AsyncSession, principal: Principal, month: str, *,
                         user_id: int | None = None, limit: int = 50, offset: int = 0,
                         tz: tzinfo = UTC) -> tuple[list[PersonPlan], int]:
    """Planned, done and pending visits per person for a month, a page at a time.

    With ``report.view_scope`` the people of the principal's scope who have a plan that
    month (a station head: the staff of the station); otherwise only the principal. With
    ``user_id``, that one person (404 outside the scope), with the remaining visits per site.
    """
    parse_month(month)
    _require_plans(principal)
    if user_id is not None:
        if user_id != principal.user_id and not principal.can("report.view_scope"):
            raise NotFound(f"no user {user_id}")  # as if out of scope: nothing is revealed
        person = _person(await user_in_scope(db, principal, user_id))
        await _fill(db, [person], month, tz, with_sites=True)
        return [person], 1
    if principal.can("report.view_scope"):
        planned = select(PlannedVisit.user_id).where(PlannedVisit.month == month)
        stmt = select(User).where(user_scope(principal), User.id.in_(planned))
    else:
        stmt = select(User).where(User.id == principal.user_id)
    total = (await db.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    users = (await db.execute(stmt.order_by(User.username).limit(limit).offset(offset))
             ).scalars().all()
    people = [_person(u) for u in users]
    await _fill(db, people, month, tz, with_sites=False)
    return people, int(total)


# -- my day ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class DayStop:
    site_id: int
    code: str
    name: str
    address: str
    site_kind: str
    lat: float
    lng: float
    distance_m: float | None
    planned: int
    done: int
    remaining: int
    # For a weekly or daily frequency planned, done and remaining are this week's or today's.
    per: str = "month"
    per_visits: int | None = None
    # A check of a campaign (``campaigns``), not a planned visit: which one.
    campaign_id: int | None = None
    campaign_title: str | None = None


@dataclass
class MyDay:
    day: str
    month: str
    stops: list[DayStop] = field(default_factory=list)  # this page of them
    remaining_sites: int = 0  # sites still to visit this month, beyond today's list too
    total: int = 0  # sites on today's list, every page
    offset: int = 0  # where this page starts in it


# Stops a higher slice adds to "my day" (the drawn sites of check campaigns: they are not
# PlannedVisit rows, which are regenerated nightly), filled when that slice is imported.
MoreStops = Callable[[AsyncSession, Principal, date, tzinfo, "tuple[float, float] | None"],
                     Awaitable[list[DayStop]]]
_more_stops: list[MoreStops] = []


def more_stops(hook: MoreStops) -> MoreStops:
    """Register ``hook``: its stops join "my day", sorted with the planned ones."""
    if hook not in _more_stops:
        _more_stops.append(hook)
    return hook


def _distance(near: tuple[float, float] | None, site: Site) -> float | None:
    """Metres from ``near`` to the site; None without a position or the site's coordinates."""
    if near is None or site.lat is None or site.lng is None:
        return None
    return round(haversine_m(near[0], near[1], site.lat, site.lng), 1)


async def my_day(db: AsyncSession, principal: Principal, *,
                 near: tuple[float, float] | None = None, today: date | None = None,
                 tz: tzinfo = UTC, limit: int = MY_DAY_LIMIT, offset: int = 0) -> MyDay:
    """Today's round for a staff member, a page at a time: every site with visits still due
    (this month; this week or today for a weekly or daily frequency) and no done visit today
    (unless daily), nearest first from ``near``; sites whose distance is unknown (no
    position, or a site without coordinates) after all the known ones, most visits due
    first. ``total`` counts the whole list."""
    principal.require("visit.check_in")
    today = today or datetime.now(tz).date()
    month = month_of(today)
    start, end = month_bounds(month, tz)
    day_start = datetime.combine(today, time(), tzinfo=tz).astimezone(UTC)
    day_end = day_start + timedelta(days=1)
    rows = (await db.execute(
        select(PlannedVisit, Site).join(Site, Site.id == PlannedVisit.site_id)
        .where(PlannedVisit.month == month, PlannedVisit.user_id == principal.user_id,
               site_scope(principal)))).all()
    me = {principal.user_id: principal.role_id}
    counts = await _visit_counts(db, me, start, end)
    today_counts = await _visit_counts(db, me, day_start, day_end)
    # Done today: a visit that counts (its form submitted) takes the site off today's list;
    # one left without its form does not, so the person can go back and do it.
    done_today = {site_id for (_, site_id), n in today_counts.items() if n.done}
    # Weekly and daily frequencies are due per week (Monday to Sunday) and per day.
    pers = {plan.per for plan, _ in rows}
    period_counts: dict[str, dict[tuple[int, int], VisitCount]] = {}
    if "week" in pers:
        week_start = day_start - timedelta(days=today.weekday())
        period_counts["week"] = await _visit_counts(
            db, me, week_start, week_start + timedelta(days=7))
    if "day" in pers:
        period_counts["day"] = today_counts
    due: list[tuple[bool, float, int, str, int, DayStop]] = []
    remaining_sites = 0
    for plan, site in rows:
        key = (principal.user_id, site.id)
        if plan.per in period_counts:
            planned = plan.per_visits or 1
            count = period_counts[plan.per].get(key)
        else:
            planned = plan.visits
            count = counts.get(key)
        done = min(count.done if count else 0, planned)
        remaining = planned - done
        if remaining <= 0:
            continue
        remaining_sites += 1
        if site.id in done_today and plan.per != "day":
            continue  # twice in one day does not serve the plan (unless it is daily)
        distance = _distance(near, site)
        stop = DayStop(site.id, site.code, site.name, site.address, site.site_kind, site.lat,
                       site.lng, distance, planned, done, remaining, plan.per,
                       plan.per_visits or plan.visits)
        due.append((distance is None, distance or 0.0, -remaining, site.name, site.id, stop))
    for hook in _more_stops:
        for stop in await hook(db, principal, today, tz, near):
            remaining_sites += 1
            due.append((stop.distance_m is None, stop.distance_m or 0.0, -stop.remaining,
                        stop.name, stop.site_id, stop))
    due.sort(key=lambda d: d[:5])
    return MyDay(day=today.isoformat(), month=month,
                 stops=[d[5] for d in due[offset:offset + limit]],
                 remaining_sites=remaining_sites, total=len(due), offset=offset)
