"""The dashboards' figures: every number is read from the query store's tables
(``rounds.runtime.store.models``), never from the raw visits, submissions or issues, so a
city's month answers from a few thousand rolled-up rows however many submissions lie under
them. The one exception is named where it is: the open issues by age (a stock that the
store's day rows do not hold), read as the issues slice counts them.

Scope, the same for the API and the pages:

- a role with ``report.view_scope`` and a scope over org units (:data:`UNIT_SCOPES`) sees
  the dashboard of any unit it covers: the city every unit, a station head the units of
  their subtree (``org_path`` prefix), an ``org_unit`` role their own unit; a ``unit`` or
  ``user`` outside it is 404, exactly like one that does not exist;
- everyone else (the field staff, whose scope is their own sites) sees "my month" only:
  their own figures, never another person's (404).

A table is data (:class:`Table`: columns with a unit, rows of raw values), so the JSON, the
page, the CSV and the XLSX export show the same figures. Labels are in the reader's
language: metric titles from the catalogue (``rounds.definitions.metrics``), the other words
from the ``dashboards`` catalogue.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.definitions.items import items_by_id
from rounds.definitions.metrics import CATALOGUE, Metric, value_of
from rounds.errors import Forbidden, NotFound
from rounds.i18n import pick, text
from rounds.runtime.access import Principal
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
from rounds.runtime.visits.plans import month_of, parse_month

DOMAIN = "dashboards"
UNIT_SCOPES = ("city", "org_subtree", "org_unit")
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
    """Who gets ``/dashboard`` (and the nav link to it): ``report.view_scope`` over units."""
    return principal.can("report.view_scope") and principal.org_scope in UNIT_SCOPES


def _covers(principal: Principal, unit: OrgUnit) -> bool:
    if principal.org_scope == "city":
        return True
    if principal.org_scope == "org_subtree":
        return bool(principal.org_path) and unit.path.startswith(principal.org_path)
    return unit.id == principal.org_unit_id


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

Sums = dict[str, float]


async def store_sums(db: AsyncSession, months: Sequence[str], unit_ids: Collection[int], *,
                     by: str, user_ids: Collection[int] | None = None
                     ) -> dict[tuple[str, int], dict[str, Sums]]:
    """Σ of the month rows per (month, key) and definition kind ('' visits and issues,
    ``standard``, ``survey``), ``key`` the ``by`` column (``user_id`` or ``org_unit_id``);
    and the plan figures (``"plan"``) from the plan per person and site."""
    key_col = MonthFact.user_id if by == "user_id" else MonthFact.org_unit_id
    conds = [MonthFact.month.in_(list(months)), MonthFact.org_unit_id.in_(list(unit_ids))]
    if user_ids is not None:
        conds.append(MonthFact.user_id.in_(list(user_ids)))
    stmt = select(MonthFact.month, key_col, MonthFact.definition_kind,
                  *[func.sum(getattr(MonthFact, m)) for m in MEASURES]).where(*conds) \
        .group_by(MonthFact.month, key_col, MonthFact.definition_kind)
    out: dict[tuple[str, int], dict[str, Sums]] = defaultdict(dict)
    for row in (await db.execute(stmt)).all():
        out[(row[0], int(row[1]))][row[2] or ""] = {
            m: float(v or 0) for m, v in zip(MEASURES, row[3:], strict=True)}
    s_key = MonthSite.user_id if by == "user_id" else MonthSite.org_unit_id
    s_conds = [MonthSite.month.in_(list(months)), MonthSite.org_unit_id.in_(list(unit_ids)),
               MonthSite.planned > 0]
    if user_ids is not None:
        s_conds.append(MonthSite.user_id.in_(list(user_ids)))
    plan = select(MonthSite.month, s_key, func.sum(MonthSite.planned),
                  func.sum(case((MonthSite.visits_done < MonthSite.planned,
                                 MonthSite.visits_done), else_=MonthSite.planned)),
                  func.count(), func.sum(case((MonthSite.checkins > 0, 1), else_=0)),
                  func.sum(MonthSite.checkins)).where(*s_conds) \
        .group_by(MonthSite.month, s_key)
    for row in (await db.execute(plan)).all():
        out[(row[0], int(row[1]))]["plan"] = {
            "planned": float(row[2] or 0), "done": float(row[3] or 0),
            "sites": float(row[4] or 0), "covered": float(row[5] or 0),
            "checkins": float(row[6] or 0)}
    return out


def combine(parts: Iterable[dict[str, Sums]]) -> dict[str, Sums]:
    """Several keys' sums added (a station's departments, a person's months)."""
    total: dict[str, Sums] = defaultdict(lambda: defaultdict(float))
    for part in parts:
        for kind, sums in part.items():
            for k, v in sums.items():
                total[kind][k] += v
    return {k: dict(v) for k, v in total.items()}


def figure(metric: Metric, sums: Mapping[str, Sums]) -> float | None:
    """A metric's value from the sums by kind: its rows only (standards or surveys), the
    plan figures from the plan sums. ``stock`` metrics read the month only here (the
    dashboards show the period's flows; the open issues are counted by age apart)."""
    if metric.formula == "plan":
        p = sums.get("plan")
        if not p:
            return None
        planned, sites = p.get("planned", 0.0), p.get("sites", 0.0)
        plan = {"done_ratio": p.get("done", 0.0) / planned if planned else None,
                "coverage": p.get("covered", 0.0) / sites if sites else None,
                "per_site": p.get("checkins", 0.0) / sites if sites else None}
        return value_of(metric, {k: v for k, v in plan.items() if v is not None})
    kinds = [metric.rows] if metric.rows else [k for k in sums if k != "plan"]
    merged: Sums = defaultdict(float)
    for kind in kinds:
        for k, v in sums.get(kind, {}).items():
            merged[k] += v
    value = value_of(metric, merged)
    if metric.formula in ("total", "stock") and value is not None and value.is_integer():
        return int(value)  # a count reads 8, not 8.0
    return value


def figures(sums: Mapping[str, Sums], metric_ids: Sequence[str]) -> dict[str, float | None]:
    return {m: figure(CATALOGUE[m], sums) for m in metric_ids}


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
    sums = await store_sums(db, [month], tree.units, by="org_unit_id")
    per_child: dict[int, list[dict[str, Sums]]] = defaultdict(list)
    for (_, unit_id), s in sums.items():
        per_child[tree.child_of.get(unit_id, tree.root.id)].append(s)
    rows = []
    for child in tree.children or [tree.root]:
        rows.append({"unit_id": child.id, "name": tree.name(child.id, lang),
                     **figures(combine(per_child.get(child.id, [])), TABLE_METRICS)})
    _rank(rows, "visits.done_ratio")
    cols = [Column("rank", say(lang, "col_rank"), "count"),
            Column("name", say(lang, "col_unit"), "link"),
            *[metric_column(m, lang) for m in TABLE_METRICS]]
    return Table("units", say(lang, "units_title"), cols, rows)


async def people_table(db: AsyncSession, tree: Subtree, month: str, lang: str) -> Table:
    """One row per person with figures in the unit's subtree this month, ranked."""
    sums = await store_sums(db, [month], tree.units, by="user_id")
    ids = sorted({uid for (_, uid) in sums if uid})
    users = {u.id: u for u in (await db.execute(
        select(User).where(User.id.in_(ids)))).scalars()} if ids else {}
    rows = []
    for uid in ids:
        u = users.get(uid)
        if u is None:
            continue
        rows.append({"user_id": uid, "name": u.display_name, "username": u.username,
                     "unit": tree.name(u.org_unit_id, lang),
                     **figures(sums[(month, uid)], TABLE_METRICS)})
    _rank(rows, "visits.done_ratio")
    cols = [Column("rank", say(lang, "col_rank"), "count"),
            Column("name", say(lang, "col_person"), "link"),
            Column("unit", say(lang, "col_unit")),
            *[metric_column(m, lang) for m in TABLE_METRICS]]
    return Table("people", say(lang, "people_title"), cols, rows)


async def trend_table(db: AsyncSession, tree: Subtree, month: str, lang: str) -> Table:
    """The last months' plan completion, coverage and average score: one row per month and
    child unit, and a row for the whole unit."""
    months = months_back(month, TREND_MONTHS)
    sums = await store_sums(db, months, tree.units, by="org_unit_id")
    rows = []
    for m in months:
        per_child: dict[int, list[dict[str, Sums]]] = defaultdict(list)
        for (mm, unit_id), s in sums.items():
            if mm == m:
                per_child[tree.child_of.get(unit_id, tree.root.id)].append(s)
        rows.append({"month": m, "unit_id": tree.root.id, "name": tree.name(tree.root.id, lang),
                     **figures(combine(x for xs in per_child.values() for x in xs),
                               TREND_METRICS)})
        for child in tree.children:
            rows.append({"month": m, "unit_id": child.id, "name": tree.name(child.id, lang),
                         **figures(combine(per_child.get(child.id, [])), TREND_METRICS)})
    cols = [Column("month", say(lang, "col_month"), "month"),
            Column("name", say(lang, "col_unit")),
            *[metric_column(m, lang) for m in TREND_METRICS]]
    return Table("trend", say(lang, "trend_title"), cols, rows)


async def items_table(db: AsyncSession, tree: Subtree, month: str, lang: str) -> Table:
    """The most-failed standard items this month, with their count per child unit (the heat
    map's cells)."""
    stmt = select(ItemMonthFact.definition_id, ItemMonthFact.item_id,
                  ItemMonthFact.org_unit_id, func.sum(ItemMonthFact.failed)).where(
        ItemMonthFact.month == month, ItemMonthFact.org_unit_id.in_(list(tree.units))
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


async def funnel_table(db: AsyncSession, tree: Subtree, month: str, lang: str,
                       user_ids: Collection[int] | None = None) -> Table:
    """The month's issues, step by step: opened, rectified, accepted, closed; and overdue,
    escalated."""
    sums = combine((await store_sums(db, [month], tree.units, by="org_unit_id",
                                     user_ids=user_ids)).values())
    total = combine([{"": sums.get("", {})}, {"": sums.get("standard", {})},
                     {"": sums.get("survey", {})}]).get("", {})
    rows = [{"stage": key, "label": say(lang, f"funnel_{key}"),
             "count": int(total.get(key, 0))} for key in FUNNEL]
    cols = [Column("label", say(lang, "col_stage")),
            Column("count", say(lang, "col_count"), "count")]
    return Table("funnel", say(lang, "funnel_title"), cols, rows)


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
    sums: dict[str, float]
    sites: Table  # planned vs done per site, not visited first
    left_visits: int
    left_sites: int
    funnel: Table


PERSON_METRICS = TABLE_METRICS + ("visits.per_site", "visits.avg_minutes",
                                  "submissions.pass_ratio", "issues.closed",
                                  "issues.escalated_count")


async def person_month(db: AsyncSession, user: User, month: str, lang: str) -> PersonMonth:
    """One person's month from the store: their figures with the facts behind them, their
    plan site by site (what is left), and their issues' funnel."""
    unit = await db.get(OrgUnit, user.org_unit_id)
    unit_name = "" if unit is None else (unit.name_en if lang == "en" else unit.name_zh)
    # a person's rows lie in any unit (the sites they visit): read by user, not by unit
    mine = await _person_sums(db, month, user.id)
    flat: dict[str, float] = defaultdict(float)
    for kind, kind_sums in mine.items():
        if kind != "plan":
            for k, v in kind_sums.items():
                flat[k] += v
    flat.update({f"plan_{k}": v for k, v in mine.get("plan", {}).items()})
    site_rows = (await db.execute(select(MonthSite.site_id, MonthSite.planned,
                                         MonthSite.visits_done, MonthSite.checkins).where(
        MonthSite.month == month, MonthSite.user_id == user.id))).all()
    sites = {s.id: s for s in (await db.execute(select(Site).where(
        Site.id.in_({r.site_id for r in site_rows})))).scalars()} if site_rows else {}
    rows = []
    for r in site_rows:
        s = sites.get(r.site_id)
        left = max(0, int(r.planned) - int(r.visits_done))
        rows.append({"site_id": r.site_id, "site": s.name if s else "",
                     "code": s.code if s else "", "planned": int(r.planned),
                     "done": int(r.visits_done), "checkins": int(r.checkins), "left": left})
    rows.sort(key=lambda r: (r["checkins"] > 0, -r["left"], r["code"]))
    # what is left next to the name: on a phone the columns after it scroll out of sight
    cols = [Column("site", say(lang, "col_site")),
            Column("left", say(lang, "col_left"), "count", True),
            Column("planned", say(lang, "col_planned"), "count"),
            Column("done", say(lang, "col_done"), "count"),
            Column("code", say(lang, "col_code"))]
    table_ = Table("my_sites", say(lang, "my_sites_title"), cols, rows)
    funnel_rows = [{"stage": key, "label": say(lang, f"funnel_{key}"),
                    "count": int(flat.get(key, 0))} for key in FUNNEL]
    funnel = Table("my_funnel", say(lang, "funnel_title"),
                   [Column("label", say(lang, "col_stage")),
                    Column("count", say(lang, "col_count"), "count")], funnel_rows)
    return PersonMonth(
        user=user, unit_name=unit_name, month=month,
        figures=figures(mine, PERSON_METRICS), sums=dict(flat), sites=table_,
        left_visits=sum(r["left"] for r in rows if r["planned"]),
        left_sites=sum(1 for r in rows if r["planned"] and r["checkins"] == 0),
        funnel=funnel)


async def _person_sums(db: AsyncSession, month: str, user_id: int) -> dict[str, Sums]:
    stmt = select(MonthFact.definition_kind,
                  *[func.sum(getattr(MonthFact, m)) for m in MEASURES]).where(
        MonthFact.month == month, MonthFact.user_id == user_id
    ).group_by(MonthFact.definition_kind)
    out: dict[str, Sums] = {}
    for row in (await db.execute(stmt)).all():
        out[row[0] or ""] = {m: float(v or 0) for m, v in zip(MEASURES, row[1:], strict=True)}
    plan = (await db.execute(select(
        func.sum(MonthSite.planned),
        func.sum(case((MonthSite.visits_done < MonthSite.planned, MonthSite.visits_done),
                      else_=MonthSite.planned)),
        func.count(), func.sum(case((MonthSite.checkins > 0, 1), else_=0)),
        func.sum(MonthSite.checkins)).where(
        and_(MonthSite.month == month, MonthSite.user_id == user_id,
             MonthSite.planned > 0)))).one()
    if plan[2]:
        out["plan"] = {"planned": float(plan[0] or 0), "done": float(plan[1] or 0),
                       "sites": float(plan[2] or 0), "covered": float(plan[3] or 0),
                       "checkins": float(plan[4] or 0)}
    return out
