"""Figures from the store: the one way the OKR grades and the dashboards read metrics.

:func:`metric_table` gives, for each key (a person, an org unit, or ``0`` for everything),
each asked metric's value over the local days ``first`` to ``last`` and the summed facts it
was computed from (for explanations). It reads the store's tables only: the months the
range covers whole from the month rows, the other days from the day rows.

- ``by="user"``: one entry per person, each summing their rows wherever they are (``0``:
  the issues nobody is assigned). Given ``user_ids``, exactly those people (with zeros
  where they have nothing); otherwise the people with any fact the metrics read.
- ``by="org_unit"``: one entry per org unit (those of ``unit_ids``, else every unit), each
  summing the rows of its whole subtree (materialised paths).
- ``by="all"``: one entry, ``0``.
- ``unit_ids`` is a scope: only the rows of those units and the units under them count;
  ``user_ids`` likewise keeps the rows of those people.
- ``definition_id``: only that definition's rows, for the metrics that may name one (a
  metric of ``definition: none`` — visits, plans — ignores it). A metric's ``rows``
  (``standard`` or ``survey``) keeps it to the rows of that kind of definition.
- ``plan`` metrics (``visits.done_ratio``, ``visits.coverage``, ``visits.per_site``) come
  from ``store_month_sites`` of the months the range covers (read as their sums per person
  and org unit, ``store_month_plans``), and have no value for a range
  that is not whole months: done is Σ min(visits done, planned) per person and site,
  coverage the planned sites with a check-in over the planned sites, per site every
  check-in (planned sites or not) over the planned sites.
- ``stock`` metrics (``issues.open_count``) sum all history up to ``last``.

``live.live_metric_table`` computes the same table from the raw tables: the tests' oracle
and the benchmark's baseline. Both share the assembly below, and differ only in where the
sums come from. Float sums (seconds, scores) are added in another order by each, so compare
them with :func:`differences` (relative 1e-9), not ``==``.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import table_of
from rounds.definitions.metrics import ANSWER_FACTS, CATALOGUE, Metric, value_of
from rounds.errors import InvalidInput, Problem
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.store.facts import (
    OUTCOME,
    answer_fact_ids,
    month_of,
    roll_up,
    subtree_ids,
)
from rounds.runtime.store.models import DayFact, ItemDayFact, ItemMonthFact, MonthFact, MonthPlan

By = Literal["user", "org_unit", "all"]
PlanSums = ("planned", "visits_done", "checkins", "planned_sites", "visited_sites")


@dataclass(frozen=True)
class Figure:
    value: float | None  # metrics.value_of(...)
    sums: dict[str, float]  # the facts it was computed from (for explanations)


@dataclass(frozen=True)
class Ask:
    """One read of summed facts: the rows of ``rows`` kind ('' any) and ``definition_id``
    (None: any), days ``first`` (None: from the start of history) to ``last``, grouped
    ``by`` (org_unit: per row unit, rolled up afterwards), within the scope."""

    facts: tuple[str, ...]
    rows: str
    definition_id: str | None
    first: date | None
    last: date
    by: By
    unit_scope: frozenset[int] | None
    user_ids: frozenset[int] | None
    # The survey answer facts (metrics with a parameter): of this scale item, or the
    # responses at these outcome levels (``facts`` are then ``metrics.ANSWER_FACTS``).
    item: str | None = None
    levels: tuple[str, ...] | None = None

    @property
    def answers(self) -> bool:
        return self.item is not None or self.levels is not None


def answer_figures(ask: Ask, facts: Mapping[str, float]) -> dict[str, float]:
    """The answer facts an ask reads (``answer_sum``/``answer_count`` of its item,
    ``at_level``/``with_outcome`` of its levels) from a key's survey answer facts
    (``facts.answer_sums``' names)."""
    out = dict.fromkeys(ANSWER_FACTS, 0.0)
    if ask.item is not None:
        total, count = answer_fact_ids(ask.item)
        out["answer_sum"] = float(facts.get(total, 0.0))
        out["answer_count"] = float(facts.get(count, 0.0))
    if ask.levels is not None:
        wanted = {OUTCOME + level for level in ask.levels}
        for name, n in facts.items():
            if name.startswith(OUTCOME):
                out["with_outcome"] += float(n)
                if name in wanted:
                    out["at_level"] += float(n)
    return out


@dataclass(frozen=True)
class AskPlan:
    months: tuple[str, ...]
    by: By
    unit_scope: frozenset[int] | None
    user_ids: frozenset[int] | None


FetchSums = Callable[[Ask], Awaitable[dict[int, dict[str, float]]]]
FetchPlan = Callable[[AskPlan], Awaitable[dict[int, dict[str, float]]]]


def resolve(metrics: Sequence[str]) -> list[Metric]:
    unknown = [m for m in metrics if m not in CATALOGUE]
    if unknown:
        raise InvalidInput(f"no metric {', '.join(map(repr, unknown))}", [
            Problem(f"/metrics/{i}", f"no metric {m!r} in the catalogue", "unknown_metric")
            for i, m in enumerate(metrics) if m in unknown])
    return [CATALOGUE[m] for m in metrics]


def whole_months(first: date, last: date) -> list[str]:
    """The months entirely inside [first, last], in order."""
    out: list[str] = []
    day = first.replace(day=1)
    while day <= last:
        after = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        if day >= first and after - timedelta(days=1) <= last:
            out.append(month_of(day))
        day = after
    return out


def month_after(month: str) -> date:
    year, mon = int(month[:4]), int(month[5:])
    return date(year + (mon == 12), mon % 12 + 1, 1)


def split_range(first: date, last: date) -> tuple[list[str], list[tuple[date, date]]]:
    """[first, last] as whole months and the day ranges left over (at most two)."""
    months = whole_months(first, last)
    if not months:
        return [], [(first, last)]
    start = date(int(months[0][:4]), int(months[0][5:]), 1)
    end = month_after(months[-1]) - timedelta(days=1)
    days = [r for r in ((first, start - timedelta(days=1)), (end + timedelta(days=1), last))
            if r[0] <= r[1]]
    return months, days


async def unit_paths(db: AsyncSession) -> dict[int, str]:
    return {int(i): str(p) for i, p in await db.execute(select(OrgUnit.id, OrgUnit.path))}


def plan_figures(sums: Mapping[str, float]) -> dict[str, float]:
    """The plan figures (``done_ratio``, ``coverage``, ``per_site``) from a key's plan sums."""
    out = {k: float(sums.get(k, 0.0)) for k in PlanSums}
    if out["planned"]:
        out["done_ratio"] = out["visits_done"] / out["planned"]
    if out["planned_sites"]:
        out["coverage"] = out["visited_sites"] / out["planned_sites"]
        out["per_site"] = out["checkins"] / out["planned_sites"]
    return out


async def assemble(db: AsyncSession, *, metrics: Sequence[str], first: date, last: date,
                   by: By, unit_ids: Collection[int] | None, user_ids: Collection[int] | None,
                   definition_id: str | None, fetch: FetchSums, fetch_plan: FetchPlan,
                   item: str | None = None, levels: Sequence[str] | None = None
                   ) -> dict[int, dict[str, Figure]]:
    """The table of figures, from sums fetched by ``fetch`` and ``fetch_plan`` (the store's
    or the raw tables'): grouping, scope, keys and values are decided here, once. ``item``
    and ``levels`` are what the metrics with a parameter read (``surveys.item_mean``: a
    scale item; ``surveys.outcome_share``: the outcome levels that count, the named one and
    those after it)."""
    if by not in ("user", "org_unit", "all"):
        raise InvalidInput(f"by {by!r}?", [Problem("/by", "user, org_unit or all", "enum")])
    if last < first:
        raise InvalidInput("the range ends before it starts",
                           [Problem("/last", "on or after the first day", "date_min")])
    resolved = resolve(metrics)
    missing = [Problem(f"/{m.parameter}s" if m.parameter == "level" else f"/{m.parameter}",
                       f"metric {m.id!r} needs a definition and its {m.parameter}", "required")
               for m in resolved if m.parameter and (
                   not definition_id or (item if m.parameter == "item" else levels) is None)]
    if missing:
        raise InvalidInput("a metric's parameter is missing", missing)
    # The org units' paths are needed to group by unit and to expand a scope only.
    paths = await unit_paths(db) if by == "org_unit" or unit_ids is not None else {}
    scope = subtree_ids(paths, unit_ids) if unit_ids is not None else None
    users = frozenset(int(u) for u in user_ids) if user_ids is not None else None
    targets: list[int] = []
    if by == "org_unit":
        targets = sorted(set(unit_ids) if unit_ids is not None else set(paths))

    def regroup(got: dict[int, dict[str, float]]) -> dict[int, dict[str, float]]:
        return roll_up(got, paths, targets) if by == "org_unit" else got

    # Each metric's sums per key: the fetched sums of its group (the facts of the metrics
    # read alike), of which it takes its own ``reads`` when its figure is made.
    fetched: dict[str, dict[int, dict[str, float]]] = {}
    found: set[int] = set()  # the keys with a fact not zero (the people, by user)
    finding = by == "user" and users is None
    groups: dict[tuple[str, str | None, bool, str], list[Metric]] = {}
    for m in resolved:
        if m.formula != "plan":
            named = definition_id if definition_id and m.definition != "none" else None
            groups.setdefault((m.rows, named, m.formula == "stock", m.parameter),
                              []).append(m)
    for (rows, named, stock, parameter), ms in groups.items():
        facts = tuple(sorted({f for m in ms for f in m.reads}))
        got = regroup(await fetch(Ask(
            facts, rows, named, None if stock else first, last, by, scope, users,
            item=item if parameter == "item" else None,
            levels=tuple(levels or ()) if parameter == "level" else None)))
        for m in ms:
            fetched[m.id] = got
        if finding:
            found.update(k for k, v in got.items()
                         if any(float(v.get(f, 0.0)) for f in facts))
    plans = [m for m in resolved if m.formula == "plan"]
    months = whole_months(first, last)
    covered = bool(months) and split_range(first, last)[1] == []
    figures: dict[int, dict[str, float]] = {}
    if plans and covered:
        got = regroup(await fetch_plan(AskPlan(tuple(months), by, scope, users)))
        figures = {k: plan_figures(v) for k, v in got.items()}
        if finding:
            found.update(k for k, v in figures.items() if any(v.values()))

    if by == "all":
        keys = [0]
    elif by == "org_unit":
        keys = targets
    elif users is not None:
        keys = sorted(users)
    else:
        keys = sorted(found)
    empty: dict[str, float] = {}
    reads = [(m, m.reads, fetched.get(m.id, {})) for m in resolved]
    no_plan = plan_figures({})
    table: dict[int, dict[str, Figure]] = {}
    for key in keys:
        row: dict[str, Figure] = {}
        for m, facts, sums_of in reads:
            if m.formula == "plan":
                if not covered:
                    row[m.id] = Figure(None, {})
                    continue
                sums = dict(figures.get(key, no_plan))
            else:
                got_sums = sums_of.get(key, empty)
                sums = {f: float(got_sums.get(f, 0.0)) for f in facts}
            row[m.id] = Figure(value_of(m, sums), sums)
        table[key] = row
    return table


def differences(a: Mapping[int, Mapping[str, Figure]], b: Mapping[int, Mapping[str, Figure]],
                *, rel: float = 1e-9) -> list[str]:
    """Where two tables of figures differ (keys, metrics, values or sums), floats compared
    to a relative ``rel``: sums of seconds and scores added in another order differ in their
    last bits. Empty when they are the same."""
    out: list[str] = []
    if set(a) != set(b):
        out.append(f"keys: {sorted(set(a) ^ set(b))} in one only")
    for key in sorted(set(a) & set(b)):
        for metric in sorted(set(a[key]) | set(b[key])):
            x, y = a[key].get(metric), b[key].get(metric)
            if x is None or y is None:
                out.append(f"{key} {metric}: in one only")
                continue
            if not _close(x.value, y.value, rel) or set(x.sums) != set(y.sums) or any(
                    not _close(x.sums[s], y.sums[s], rel) for s in x.sums):
                out.append(f"{key} {metric}: {x} != {y}")
    return out


def _close(x: float | None, y: float | None, rel: float) -> bool:
    if x is None or y is None:
        return x is y
    return math.isclose(x, y, rel_tol=rel, abs_tol=1e-9)


# -- the store's sums ----------------------------------------------------------------------

def _group(table: Any, by: By) -> Any:
    return {"user": table.c.user_id, "org_unit": table.c.org_unit_id}.get(by, literal(0))


async def _store_answers(db: AsyncSession, ask: Ask) -> dict[int, dict[str, float]]:
    """The survey answer facts of an ask, from the item rows (``store_item_*_facts``) of its
    definition: whole months from the month rows, the other days from the day rows."""
    day, month = table_of(ItemDayFact), table_of(ItemMonthFact)
    assert ask.first is not None  # no metric with a parameter is a stock
    months, ranges = split_range(ask.first, ask.last)
    parts: list[tuple[Any, list[Any]]] = []
    if months:
        parts.append((month, [month.c.month.in_(months)]))
    for a, b in ranges:
        parts.append((day, [day.c.day >= a, day.c.day <= b]))
    if ask.item is not None:
        ids = list(answer_fact_ids(ask.item))
    else:
        ids = [OUTCOME + level for level in ask.levels or ()]
    raw: dict[int, dict[str, float]] = {}
    for table, where in parts:
        group = _group(table, ask.by)
        filters = list(where)
        if ask.definition_id:
            filters.append(table.c.definition_id == ask.definition_id)
        if ask.levels is not None:
            filters.append(table.c.item_id.like(OUTCOME + "%"))
        else:
            filters.append(table.c.item_id.in_(ids))
        if ask.unit_scope is not None:
            filters.append(table.c.org_unit_id.in_(sorted(ask.unit_scope)))
        if ask.user_ids is not None:
            filters.append(table.c.user_id.in_(sorted(ask.user_ids)))
        stmt = (select(group, table.c.item_id, func.sum(table.c.failed))
                .where(*filters).group_by(group, table.c.item_id))
        for key, item_id, n in await db.execute(stmt):
            row = raw.setdefault(int(key), {})
            row[str(item_id)] = row.get(str(item_id), 0.0) + float(n or 0)
    return {key: answer_figures(ask, facts) for key, facts in raw.items()}


async def _store_sums(db: AsyncSession, ask: Ask) -> dict[int, dict[str, float]]:
    if ask.answers:
        return await _store_answers(db, ask)
    day, month = table_of(DayFact), table_of(MonthFact)
    if ask.first is None:  # all history up to ``last``: every month before, then days
        start = ask.last.replace(day=1)
        months_where = [month.c.month < month_of(start)]
        if month_after(month_of(start)) - timedelta(days=1) == ask.last:
            months_where, ranges = [month.c.month <= month_of(start)], []
        else:
            ranges = [(start, ask.last)]
    else:
        months, ranges = split_range(ask.first, ask.last)
        months_where = [month.c.month.in_(months)] if months else []
    parts: list[tuple[Any, list[Any]]] = []
    if months_where:
        parts.append((month, months_where))
    for a, b in ranges:
        parts.append((day, [day.c.day >= a, day.c.day <= b]))
    out: dict[int, dict[str, float]] = {}
    for table, where in parts:
        group = _group(table, ask.by)
        filters = list(where)
        if ask.rows:
            filters.append(table.c.definition_kind == ask.rows)
        if ask.definition_id:
            filters.append(table.c.definition_id == ask.definition_id)
        if ask.unit_scope is not None:
            filters.append(table.c.org_unit_id.in_(sorted(ask.unit_scope)))
        if ask.user_ids is not None:
            filters.append(table.c.user_id.in_(sorted(ask.user_ids)))
        stmt = (select(group, *[func.sum(table.c[f]) for f in ask.facts])
                .where(*filters).group_by(group))
        for key, *values in await db.execute(stmt):
            row = out.setdefault(int(key), {})
            for f, v in zip(ask.facts, values, strict=True):
                row[f] = row.get(f, 0.0) + float(v or 0)
    return out


async def _store_plan(db: AsyncSession, ask: AskPlan) -> dict[int, dict[str, float]]:
    """The plan sums from ``store_month_plans`` (``store_month_sites`` summed per month ×
    person × org unit by the refresh: done already capped at the plan per site)."""
    t = table_of(MonthPlan)
    group = _group(t, ask.by)
    filters = [t.c.month.in_(ask.months)]
    if ask.unit_scope is not None:
        filters.append(t.c.org_unit_id.in_(sorted(ask.unit_scope)))
    if ask.user_ids is not None:
        filters.append(t.c.user_id.in_(sorted(ask.user_ids)))
    stmt = (select(group, *[func.sum(t.c[name]) for name in PlanSums])
            .where(*filters).group_by(group))
    return {int(key): dict(zip(PlanSums, (float(v or 0) for v in values), strict=True))
            for key, *values in await db.execute(stmt)}


async def metric_table(db: AsyncSession, *, metrics: Sequence[str], first: date, last: date,
                       by: By, unit_ids: Collection[int] | None = None,
                       user_ids: Collection[int] | None = None,
                       definition_id: str | None = None, item: str | None = None,
                       levels: Sequence[str] | None = None) -> dict[int, dict[str, Figure]]:
    """Each metric's figure per person, org unit or for all (see the module's docstring),
    from the store's tables only."""

    async def fetch(ask: Ask) -> dict[int, dict[str, float]]:
        return await _store_sums(db, ask)

    async def fetch_plan(ask: AskPlan) -> dict[int, dict[str, float]]:
        return await _store_plan(db, ask)

    return await assemble(db, metrics=metrics, first=first, last=last, by=by,
                          unit_ids=unit_ids, user_ids=user_ids, definition_id=definition_id,
                          fetch=fetch, fetch_plan=fetch_plan, item=item, levels=levels)
