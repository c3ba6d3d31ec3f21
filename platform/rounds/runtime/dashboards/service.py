"""The dashboards' figures: every number is read from the query store, never from the raw
visits, submissions or issues, so a city's month answers from a few thousand rolled-up rows
however many submissions lie under them. The metrics go through the store's one reader
(``rounds.runtime.store.read.metric_table``, which the OKR grades read too, so a dashboard
and a grade never disagree); what no metric names (the funnel's rectified and accepted
steps, the failed items per item, the flagged check-ins per site and day, the plan per site)
is read from the store's tables (``rounds.runtime.store.models``). The one exception is
named where it is: the open issues by age (a stock the store's day rows do not hold), read
as the issues slice counts them.

Scope, the same for the API and the pages:

- a role with ``report.view_scope`` and a scope over subtrees of units
  (:func:`rounds.runtime.access.has_dashboard`)
  sees the dashboard of any unit it covers: the city every unit, a station head the units
  of their subtree (``org_path`` prefix); a ``unit`` or ``user`` outside it is 404, exactly
  like one that does not exist;
- everyone else (the field staff, whose scope is their own sites) sees "my month" only:
  their own figures, never another person's (404).

A table is data (:class:`Table`: columns with a unit, rows of raw values), so the JSON, the
page, the CSV and the XLSX export show the same figures. Labels are in the reader's
language: metric titles from the catalogue (``rounds.definitions.metrics``), the other words
from the ``dashboards`` catalogue.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.definitions.items import items_by_id
from rounds.definitions.metrics import CATALOGUE
from rounds.errors import Forbidden, NotFound
from rounds.i18n import pick, text
from rounds.runtime.access import Principal, has_dashboard
from rounds.runtime.definitions.service import current_contents
from rounds.runtime.issues.models import CANCELLED, CLOSED, Issue
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.people.models import User
from rounds.runtime.sites.models import Site
from rounds.runtime.store.models import (
    MEASURES,
    DayFact,
    ItemMonthFact,
    MonthFact,
    MonthSite,
)
from rounds.runtime.store.read import By, Figure, metric_table
from rounds.runtime.visits.plans import month_of, parse_month

DOMAIN = "dashboards"
# The figures of the station and person tables, in their order (catalogue ids).
TABLE_METRICS = ("visits.count", "visits.done_ratio", "visits.coverage",
                 "checkins.flagged_ratio", "submissions.count", "submissions.avg_percentage",
                 "issues.opened", "issues.closed_on_time_ratio", "issues.overdue_count")
TREND_METRICS = ("visits.done_ratio", "visits.coverage", "submissions.avg_percentage")
TREND_MONTHS = 6
TOP_ITEMS = 10
FLAGGED_LIMIT = 200
MAP_LIMIT = 5000
FUNNEL = ("issues_opened", "issues_rectified", "issues_verified", "issues_closed",
          "issues_overdue", "issues_escalated")
AGE_DAYS = (3, 7, 30)  # open issues by age: < 3 days, 3–7, 7–30, 30 and more
TABLES = ("units", "people", "trend", "items", "funnel", "ages", "flagged")


def say(lang: str, key: str, /, **fields: Any) -> str:
    return text(DOMAIN, lang, key, **fields)


# -- scope -----------------------------------------------------------------------------------

def may_see_dashboard(principal: Principal) -> bool:
    """Who gets ``/dashboard``: the rule the chrome's link and the home page follow too."""
    return has_dashboard(principal)


def _covers(principal: Principal, unit: OrgUnit) -> bool:
    if principal.org_scope == "city":
        return True
    if principal.org_scope == "org_subtree":
        return bool(principal.org_path) and unit.path.startswith(principal.org_path)
    return False


async def unit_in_scope(db: AsyncSession, principal: Principal, unit_id: int | None
                        ) -> OrgUnit:
    """The unit a dashboard shows: ``unit_id`` (404 outside the scope, like one that does
    not exist), by default the principal's own unit."""
    if not may_see_dashboard(principal):
        raise Forbidden(f"your role ({principal.role_id}) has no dashboard; see your month")
    unit = await db.get(OrgUnit, unit_id or principal.org_unit_id)
    if unit is None or not _covers(principal, unit):
        raise NotFound(f"no org unit {unit_id}")
    return unit


async def person_in_scope(db: AsyncSession, principal: Principal, user_id: int | None
                          ) -> User:
    """Whose month: oneself always; another person only for a dashboard reader whose scope
    covers that person's unit (404 otherwise, as for nobody)."""
    target = user_id or principal.user_id
    user = await db.get(User, target)
    if user is None:
        raise NotFound(f"no user {target}")
    if target == principal.user_id:
        return user
    unit = await db.get(OrgUnit, user.org_unit_id)
    if not may_see_dashboard(principal) or unit is None or not _covers(principal, unit):
        raise NotFound(f"no user {target}")
    return user


def month_or_now(month: str | None, tz: tzinfo, now: datetime | None = None) -> str:
    if month:
        return parse_month(month)
    return month_of((now or datetime.now(UTC)).astimezone(tz).date())


def months_back(month: str, n: int) -> list[str]:
    """``n`` months ending with ``month``, oldest first."""
    year, mon = int(month[:4]), int(month[5:])
    out = []
    for _ in range(n):
        out.append(f"{year:04d}-{mon:02d}")
        year, mon = (year - 1, 12) if mon == 1 else (year, mon - 1)
    return out[::-1]


def month_days(month: str) -> tuple[date, date]:
    first = date(int(month[:4]), int(month[5:]), 1)
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, following - timedelta(days=1)


# -- tables ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    key: str
    label: str
    unit: str = "text"  # text, link, count, ratio, percent, minutes, hours, points, month
    lower_better: bool = False


@dataclass
class Table:
    name: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title,
                "columns": [{"key": c.key, "label": c.label, "unit": c.unit,
                             "lower_better": c.lower_better} for c in self.columns],
                "rows": self.rows}


def metric_column(metric_id: str, lang: str) -> Column:
    m = CATALOGUE[metric_id]
    return Column(metric_id, pick(m.title, lang, metric_id), m.unit,
                  m.direction == "lower_better")


@dataclass(frozen=True)
class Subtree:
    """A unit, the units under it (itself included) and, for each, the child of ``root``
    it belongs to (a station's figures are its own and all its departments')."""

    root: OrgUnit
    units: dict[int, OrgUnit]
    children: list[OrgUnit]
    child_of: dict[int, int]  # unit id -> the root's child holding it (the root: itself)

    def name(self, unit_id: int, lang: str) -> str:
        u = self.units.get(unit_id)
        return "" if u is None else (u.name_en if lang == "en" else u.name_zh) or u.code


async def subtree(db: AsyncSession, root: OrgUnit) -> Subtree:
    units = {u.id: u for u in (await db.execute(
        select(OrgUnit).where(OrgUnit.path.startswith(root.path)))).scalars()}
    children = sorted((u for u in units.values() if u.parent_id == root.id),
                      key=lambda u: u.code)
    child_of: dict[int, int] = {}
    for u in units.values():
        owner = next((c.id for c in children if u.path.startswith(c.path)), root.id)
        child_of[u.id] = owner
    return Subtree(root, units, children, child_of)


# -- figures from the store --------------------------------------------------------------------

def shown_value(metric_id: str, figure: Figure) -> float | None:
    """A figure's value as the tables carry it: a count is a whole number (8, not 8.0)."""
    value = figure.value
    if value is not None and CATALOGUE[metric_id].formula in ("total", "stock") \
            and float(value).is_integer():
        return int(value)
    return value


def values(row: Mapping[str, Figure]) -> dict[str, float | None]:
    return {m: shown_value(m, f) for m, f in row.items()}


async def month_figures(db: AsyncSession, month: str, metrics: Sequence[str], *, by: By,
                        unit_ids: Collection[int] | None = None,
                        user_ids: Collection[int] | None = None
                        ) -> dict[int, dict[str, Figure]]:
    """The month's figures through the store's one reader (``store.read.metric_table``), so
    a dashboard shows exactly what the OKR grades read."""
    first, last = month_days(month)
    return await metric_table(db, metrics=metrics, first=first, last=last, by=by,
                              unit_ids=unit_ids, user_ids=user_ids)


async def month_sums(db: AsyncSession, month: str, unit_ids: Collection[int] | None, *,
                     user_ids: Collection[int] | None = None) -> dict[str, float]:
    """Σ of every measure of the month's rows in ``unit_ids`` (already a whole subtree;
    None: anywhere), for the steps of the issue funnel that no metric names (rectified,
    accepted)."""
    conds = [MonthFact.month == month]
    if unit_ids is not None:
        conds.append(MonthFact.org_unit_id.in_(list(unit_ids)))
    if user_ids is not None:
        conds.append(MonthFact.user_id.in_(list(user_ids)))
    row = (await db.execute(select(*[func.sum(getattr(MonthFact, m)) for m in MEASURES])
                            .where(*conds))).one()
    return {m: float(v or 0) for m, v in zip(MEASURES, row, strict=True)}


# -- the dashboard's tables ----------------------------------------------------------------------

def _rank(rows: list[dict[str, Any]], by: str) -> None:
    """Rank 1 for the best ``by`` (higher better), people without a value last, unranked."""
    ordered = sorted(rows, key=lambda r: (r.get(by) is None, -(r.get(by) or 0.0),
                                          str(r.get("name", ""))))
    rows[:] = ordered
    for n, r in enumerate(ordered, 1):
        r["rank"] = n if r.get(by) is not None else None


async def unit_table(db: AsyncSession, tree: Subtree, month: str, lang: str) -> Table:
    """One row per child unit of the unit shown (its whole subtree's figures), ranked by
    plan completion."""
    shown = tree.children or [tree.root]
    table = await month_figures(db, month, TABLE_METRICS, by="org_unit",
                                unit_ids=[u.id for u in shown])
    rows = [{"unit_id": u.id, "name": tree.name(u.id, lang), **values(table[u.id])}
            for u in shown]
    _rank(rows, "visits.done_ratio")
    cols = [Column("rank", say(lang, "col_rank"), "count"),
            Column("name", say(lang, "col_unit"), "link"),
            *[metric_column(m, lang) for m in TABLE_METRICS]]
    return Table("units", say(lang, "units_title"), cols, rows)


async def people_table(db: AsyncSession, tree: Subtree, month: str, lang: str) -> Table:
    """One row per person with figures in the unit's subtree this month, ranked."""
    table = await month_figures(db, month, TABLE_METRICS, by="user", unit_ids=[tree.root.id])
    ids = sorted(uid for uid in table if uid)  # 0: the issues nobody is assigned
    users = {u.id: u for u in (await db.execute(
        select(User).where(User.id.in_(ids)))).scalars()} if ids else {}
    rows = []
    for uid in ids:
        u = users.get(uid)
        if u is None:
            continue
        rows.append({"user_id": uid, "name": u.display_name, "username": u.username,
                     "unit": tree.name(u.org_unit_id, lang), **values(table[uid])})
    _rank(rows, "visits.done_ratio")
    cols = [Column("rank", say(lang, "col_rank"), "count"),
            Column("name", say(lang, "col_person"), "link"),
            Column("unit", say(lang, "col_unit")),
            *[metric_column(m, lang) for m in TABLE_METRICS]]
    return Table("people", say(lang, "people_title"), cols, rows)


async def trend_table(db: AsyncSession, tree: Subtree, month: str, lang: str) -> Table:
    """The last months' plan completion, coverage and average score: one row per month for
    the whole unit and one per child unit."""
    units = [tree.root, *tree.children]
    rows = []
    for m in months_back(month, TREND_MONTHS):
        table = await month_figures(db, m, TREND_METRICS, by="org_unit",
                                    unit_ids=[u.id for u in units])
        rows += [{"month": m, "unit_id": u.id, "name": tree.name(u.id, lang),
                  **values(table[u.id])} for u in units]
    cols = [Column("month", say(lang, "col_month"), "month"),
            Column("name", say(lang, "col_unit")),
            *[metric_column(m, lang) for m in TREND_METRICS]]
    return Table("trend", say(lang, "trend_title"), cols, rows)


async def items_table(db: AsyncSession, tree: Subtree, month: str, lang: str) -> Table:
    """The most-failed standard items this month, with their count per child unit (the heat
    map's cells)."""
    stmt = select(ItemMonthFact.definition_id, ItemMonthFact.item_id,
                  ItemMonthFact.org_unit_id, func.sum(ItemMonthFact.failed)).where(
        ItemMonthFact.month == month, ItemMonthFact.org_unit_id.in_(list(tree.units)),
        # failed items only: the survey answers' facts share the table (ids with a colon)
        ItemMonthFact.item_id.not_like("%:%"),
    ).group_by(ItemMonthFact.definition_id, ItemMonthFact.item_id, ItemMonthFact.org_unit_id)
    cells: dict[tuple[str, str], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for definition_id, item_id, unit_id, failed in (await db.execute(stmt)).all():
        cells[(definition_id, item_id)][tree.child_of.get(unit_id, tree.root.id)] += \
            int(failed or 0)
    top = sorted(cells.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))[:TOP_ITEMS]
    contents = await current_contents(db, "standard")
    rows = []
    for (definition_id, item_id), by_unit in top:
        content = contents.get(definition_id, {})
        item = items_by_id(content).get(item_id, {}) if content else {}
        row: dict[str, Any] = {
            "definition_id": definition_id, "item_id": item_id,
            "item": pick(item.get("title"), lang, item_id),
            "standard": pick(content.get("title"), lang, definition_id),
            "failed": sum(by_unit.values())}
        for child in tree.children or [tree.root]:
            row[f"u{child.id}"] = by_unit.get(child.id, 0)
        rows.append(row)
    cols = [Column("item", say(lang, "col_item")), Column("standard", say(lang, "col_standard")),
            Column("failed", say(lang, "col_failed"), "count", True),
            *[Column(f"u{c.id}", tree.name(c.id, lang), "count", True)
              for c in tree.children or [tree.root]]]
    return Table("items", say(lang, "items_title"), cols, rows)


async def funnel_table(db: AsyncSession, tree: Subtree, month: str, lang: str) -> Table:
    """The month's issues, step by step: opened, rectified, accepted, closed; and overdue,
    escalated."""
    total = await month_sums(db, month, tree.units)
    return _funnel(total, lang, "funnel")


def _funnel(total: Mapping[str, float], lang: str, name: str) -> Table:
    rows = [{"stage": key, "label": say(lang, f"funnel_{key}"),
             "count": int(total.get(key, 0))} for key in FUNNEL]
    cols = [Column("label", say(lang, "col_stage")),
            Column("count", say(lang, "col_count"), "count")]
    return Table(name, say(lang, "funnel_title"), cols, rows)


async def ages_table(db: AsyncSession, tree: Subtree, lang: str, now: datetime) -> Table:
    """The issues open now, by how long ago they were opened. Not a sum of days: the
    issues slice's own count of open issues (status), grouped by age."""
    bounds = [now - timedelta(days=d) for d in AGE_DAYS]
    age = case((Issue.created_at > bounds[0], 0), (Issue.created_at > bounds[1], 1),
               (Issue.created_at > bounds[2], 2), else_=3)
    stmt = select(age, func.count()).where(
        Issue.org_unit_id.in_(list(tree.units)),
        Issue.status.not_in([CLOSED, CANCELLED])).group_by(age)
    counts = {int(k): int(n) for k, n in (await db.execute(stmt)).all()}
    keys = ("age_0_3", "age_3_7", "age_7_30", "age_30")
    rows = [{"age": k, "label": say(lang, k), "count": counts.get(i, 0)}
            for i, k in enumerate(keys)]
    cols = [Column("label", say(lang, "col_age")),
            Column("count", say(lang, "col_count"), "count", True)]
    return Table("ages", say(lang, "ages_title"), cols, rows)


async def flagged_table(db: AsyncSession, tree: Subtree, month: str, lang: str) -> Table:
    """Days with flagged check-ins at a site, newest first: what to review."""
    first, last = month_days(month)
    stmt = select(DayFact.day, DayFact.site_id, DayFact.user_id, DayFact.org_unit_id,
                  DayFact.checkins_flagged, DayFact.checkins).where(
        DayFact.day >= first, DayFact.day <= last, DayFact.definition_id == "",
        DayFact.checkins_flagged > 0, DayFact.org_unit_id.in_(list(tree.units))
    ).order_by(DayFact.day.desc(), DayFact.checkins_flagged.desc(), DayFact.site_id) \
        .limit(FLAGGED_LIMIT)
    found = (await db.execute(stmt)).all()
    sites = {s.id: s for s in (await db.execute(select(Site).where(
        Site.id.in_({r.site_id for r in found})))).scalars()} if found else {}
    users = {u.id: u for u in (await db.execute(select(User).where(
        User.id.in_({r.user_id for r in found})))).scalars()} if found else {}
    rows = []
    for r in found:
        s, u = sites.get(r.site_id), users.get(r.user_id)
        rows.append({"day": r.day.isoformat(), "site_id": r.site_id,
                     "site": s.name if s else "", "code": s.code if s else "",
                     "user_id": r.user_id, "person": u.display_name if u else "",
                     "unit": tree.name(r.org_unit_id, lang),
                     "flagged": int(r.checkins_flagged), "checkins": int(r.checkins)})
    cols = [Column("day", say(lang, "col_day"), "month"),
            Column("site", say(lang, "col_site"), "link"),
            Column("person", say(lang, "col_person")), Column("unit", say(lang, "col_unit")),
            Column("flagged", say(lang, "col_flagged"), "count", True),
            Column("checkins", say(lang, "col_checkins"), "count")]
    return Table("flagged", say(lang, "flagged_title"), cols, rows)


async def table(db: AsyncSession, tree: Subtree, name: str, month: str, lang: str, *,
                now: datetime) -> Table:
    """One of :data:`TABLES` by name (the API's and the exports' entry)."""
    if name == "units":
        return await unit_table(db, tree, month, lang)
    if name == "people":
        return await people_table(db, tree, month, lang)
    if name == "trend":
        return await trend_table(db, tree, month, lang)
    if name == "items":
        return await items_table(db, tree, month, lang)
    if name == "funnel":
        return await funnel_table(db, tree, month, lang)
    if name == "ages":
        return await ages_table(db, tree, lang, now)
    if name == "flagged":
        return await flagged_table(db, tree, month, lang)
    raise NotFound(f"no dashboard table {name!r}")


async def map_points(db: AsyncSession, tree: Subtree, *, today: date) -> dict[str, Any]:
    """The unit's sites and where people checked in today (from the store's day rows)."""
    sites = (await db.execute(select(Site.id, Site.name, Site.lat, Site.lng).where(
        Site.org_unit_id.in_(list(tree.units))).order_by(Site.id).limit(MAP_LIMIT))).all()
    today_rows = (await db.execute(select(DayFact.site_id, func.sum(DayFact.checkins),
                                          func.sum(DayFact.checkins_flagged)).where(
        DayFact.day == today, DayFact.definition_id == "", DayFact.checkins > 0,
        DayFact.org_unit_id.in_(list(tree.units))).group_by(DayFact.site_id))).all()
    checked = {int(r[0]): (int(r[1] or 0), int(r[2] or 0)) for r in today_rows}
    return {"day": today.isoformat(),
            "sites": [{"id": s.id, "name": s.name, "lat": s.lat, "lng": s.lng,
                       "checkins": checked.get(s.id, (0, 0))[0],
                       "flagged": checked.get(s.id, (0, 0))[1]} for s in sites],
            "checkins_today": sum(c for c, _ in checked.values()),
            "sites_today": len(checked)}


# -- a person's month -------------------------------------------------------------------------

@dataclass
class PersonMonth:
    user: User
    unit_name: str
    month: str
    figures: dict[str, float | None]
    sums: dict[str, dict[str, float]]  # per metric: the facts its figure was worked out from
    planned: int  # visits planned this month
    sites: Table  # planned vs done per site, not visited first
    left_visits: int
    left_sites: int
    funnel: Table


PERSON_METRICS = TABLE_METRICS + ("visits.per_site", "visits.avg_minutes",
                                  "submissions.pass_ratio", "issues.closed",
                                  "issues.escalated_count")


async def person_month(db: AsyncSession, user: User, month: str, lang: str) -> PersonMonth:
    """One person's month from the store: their figures with the facts behind them, their
    plan site by site (what is left), and their issues' funnel. A person's rows lie in the
    units of the sites they visit: read by person, not by unit."""
    unit = await db.get(OrgUnit, user.org_unit_id)
    unit_name = "" if unit is None else (unit.name_en if lang == "en" else unit.name_zh)
    row = (await month_figures(db, month, PERSON_METRICS, by="user",
                               user_ids=[user.id]))[user.id]
    totals = await month_sums(db, month, None, user_ids=[user.id])
    site_rows = (await db.execute(select(MonthSite.site_id, MonthSite.planned,
                                         MonthSite.visits_done, MonthSite.checkins).where(
        MonthSite.month == month, MonthSite.user_id == user.id))).all()
    sites = {s.id: s for s in (await db.execute(select(Site).where(
        Site.id.in_({r.site_id for r in site_rows})))).scalars()} if site_rows else {}
    rows = []
    for r in site_rows:
        site = sites.get(r.site_id)
        left = max(0, int(r.planned) - int(r.visits_done))
        rows.append({"site_id": r.site_id, "site": site.name if site else "",
                     "code": site.code if site else "", "planned": int(r.planned),
                     "done": int(r.visits_done), "checkins": int(r.checkins), "left": left})
    rows.sort(key=lambda r: (r["checkins"] > 0, -r["left"], r["code"]))
    # what is left next to the name: on a phone the columns after it scroll out of sight
    cols = [Column("site", say(lang, "col_site")),
            Column("left", say(lang, "col_left"), "count", True),
            Column("planned", say(lang, "col_planned"), "count"),
            Column("done", say(lang, "col_done"), "count"),
            Column("code", say(lang, "col_code"))]
    return PersonMonth(
        user=user, unit_name=unit_name, month=month, figures=values(row),
        sums={m: dict(f.sums) for m, f in row.items()},
        planned=int(row["visits.done_ratio"].sums.get("planned", 0)),
        sites=Table("my_sites", say(lang, "my_sites_title"), cols, rows),
        left_visits=sum(r["left"] for r in rows if r["planned"]),
        left_sites=sum(1 for r in rows if r["planned"] and r["checkins"] == 0),
        funnel=_funnel(totals, lang, "my_funnel"))
