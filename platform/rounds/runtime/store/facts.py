"""The store's facts computed from the raw tables: what each measure means, in SQL.

One function per source (visits, submissions, their failed items, issues) sums the
measures of the rows whose time falls in ``[start, end)`` (UTC), grouped by one of:

- ``"grain"``: the store's day row key (user, site, org unit, definition): the refresh;
- ``"user"``, ``"org_unit"``, ``"all"``: the keys the live figures are asked by
  (``live.py``, the tests' oracle and the benchmark's baseline).

Each returns ``{key: {measure: value}}``; :func:`merge` adds sources up. The meaning of each
measure (SPEC "Facts"):

- visits, keyed by the visitor, the site and the site's org unit, definition ``''``:
  ``checkins`` checked in in the window, ``checkins_flagged`` of them flagged, ``checkouts``
  of them checked out, ``visit_seconds`` Σ their ``duration_s``, ``visits_done`` those that
  count for the plan under the visitor's role (a form submitted during the visit, or every
  check-in where the role says ``"visit_done": "checked_in"``);
- submissions by ``happened_at`` (the visit's check-in, else when stored), keyed by the
  submitter, the site (0: none), the site's org unit (else the submitter's) and the
  definition;
- survey responses of campaigns (``survey_responses``) by ``happened_at``, on their survey's
  rows like a survey submitted by staff: keyed by the staff member the response is about
  (``about_user_id``: a satisfaction survey after a customer manager's visit counts for that
  customer manager; 0 when it is about nobody, as an anonymous consumer's), the shop (0:
  none), the shop's org unit as stored with the response (else the site's, else 0: a unit no
  scope or roll-up reaches) and the survey; ``submissions`` counts them, ``scored`` /
  ``score_sum`` and ``percentage_count`` / ``percentage_sum`` sum their scores (a response
  is never judged pass or fail, raises no failed items and no alerts in the store);
- issues, keyed by the assignee (0: none), the site (0: none), the issue's org unit and the
  definition (``''``: none), each measure by its own time: opened (``created_at``),
  rectified (``assignee_signed_at``), verified (``assigner_signed_at``), closed
  (``closed_at``, status closed), overdue (``due_at``, passed by ``now``, not cancelled, not
  closed by then), escalated (``escalated_at``), cancelled (``updated_at``, status
  cancelled).

A form done during a visit "happened" at the visit's check-in, so the forms of the visits
checked in in a window are among the submissions that happened in it: whether a visit has a
form is read from the window's submissions (``happened_at`` is indexed; ``visit_id`` is
not). Each query reads its rows through an index on the time it filters on, so a day costs
about that day's rows whatever the history.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Literal

from sqlalchemy import Float, and_, case, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from rounds.db import as_utc, table_of
from rounds.runtime.definitions.models import Definition
from rounds.runtime.definitions.service import current_contents
from rounds.runtime.issues.models import CANCELLED, CLOSED, Issue
from rounds.runtime.people.models import User
from rounds.runtime.sites.models import Site
from rounds.runtime.submissions.models import FailedItem, Submission
from rounds.runtime.surveys.models import SurveyResponse
from rounds.runtime.visits.models import Visit

By = Literal["grain", "user", "org_unit", "all"]
Key = tuple[Any, ...]
Sums = dict[Key, dict[str, float]]

# The kinds of definition a row can be of (``definition_kind``); any other is ''.
ROW_KINDS = ("standard", "survey")
DONE_CHECKED_IN = "checked_in"  # a role's ``visit_done``: every check-in counts (else: a form)

_V, _S, _U = table_of(Visit).c, table_of(Site).c, table_of(User).c
_SUB, _F, _I = table_of(Submission).c, table_of(FailedItem).c, table_of(Issue).c
_R = table_of(SurveyResponse).c


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The local day ``day`` in ``tz`` as [start, end) in UTC (23 or 25 hours across a change
    of summer time)."""
    start = datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)
    return start, end


def local_day(at: datetime, tz: tzinfo) -> date:
    """The local day (in ``tz``) an instant falls on."""
    return as_utc(at).astimezone(tz).date()


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


async def definition_kinds(db: AsyncSession) -> dict[str, str]:
    """Definition id → its row kind (standard or survey), for the definitions that have one."""
    rows = await db.execute(select(Definition.id, Definition.kind).where(
        Definition.kind.in_(ROW_KINDS)))
    return {str(i): str(k) for i, k in rows}


async def done_rules(db: AsyncSession) -> dict[str, str]:
    """Role id → when its visits count as done (``visit_done``; ``submitted`` by default)."""
    latest = await current_contents(db, "role")
    return {i: str(c.get("visit_done") or "submitted") for i, c in latest.items()}


@dataclass(frozen=True)
class RowFilter:
    """Which rows a figure reads (the live figures; the refresh reads every row).

    ``definitions``: only rows of these definitions (a kind's, or the one a key result
    names); the visits' rows (definition ``''``) are then out. ``unit_ids``: rows of these org
    units only (a scope, already expanded to subtrees). ``user_ids``: rows of these people
    only (0: the issues nobody is assigned)."""

    definitions: frozenset[str] | None = None
    unit_ids: frozenset[int] | None = None
    user_ids: frozenset[int] | None = None


EVERY_ROW = RowFilter()


def _seconds(later: Any, earlier: Any, dialect: str) -> ColumnElement[Any]:
    """``later - earlier`` in seconds (SQLite: to the millisecond, as julianday allows)."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", later - earlier), Float)
    return func.round((func.julianday(later) - func.julianday(earlier)) * 86400.0, 3)


def _where(user: Any, unit: Any, definition: Any | None, rows: RowFilter
           ) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if rows.user_ids is not None:
        out.append(user.in_(sorted(rows.user_ids)))
    if rows.unit_ids is not None:
        out.append(unit.in_(sorted(rows.unit_ids)))
    if rows.definitions is not None and definition is not None:
        out.append(definition.in_(sorted(rows.definitions)))
    return out


def _key_columns(by: By, *, user: Any, site: Any, unit: Any, definition: Any
                 ) -> list[Any]:
    if by == "grain":
        return [user, site, unit, definition]
    if by == "user":
        return [user]
    if by == "org_unit":
        return [unit]
    return []


def _add(out: Sums, key: Key, values: Mapping[str, Any]) -> None:
    row = out.setdefault(key, {})
    for name, value in values.items():
        if value:
            row[name] = row.get(name, 0.0) + float(value)
        else:
            row.setdefault(name, 0.0)


def merge(*parts: Sums) -> Sums:
    out: Sums = {}
    for part in parts:
        for key, values in part.items():
            _add(out, key, values)
    return out


async def visit_sums(db: AsyncSession, start: datetime, end: datetime, by: By, *,
                     rules: Mapping[str, str], rows: RowFilter = EVERY_ROW) -> Sums:
    """The visits checked in in [start, end)."""
    if rows.definitions is not None:
        return {}  # visits are on the rows of no definition
    user, site, unit = _V.user_id, _V.site_id, _S.org_unit_id
    keys = _key_columns(by, user=user, site=site, unit=unit, definition=literal(""))
    if by == "grain":
        keys = keys[:3]  # the definition is '' for every visit
    # The visits with a form: the forms that happened in the window (at their visit's
    # check-in) name them.
    with_form = (select(_SUB.visit_id.label("visit_id"))
                 .where(_SUB.happened_at >= start, _SUB.happened_at < end,
                        _SUB.visit_id.is_not(None))
                 .group_by(_SUB.visit_id).subquery())
    stmt = (select(*keys, _U.role_id, func.count(),
                   func.sum(case((_V.flagged.is_(True), 1), else_=0)),
                   func.count(_V.checked_out_at),
                   func.sum(case((_V.checked_out_at.is_not(None), _V.duration_s), else_=0)),
                   func.count(with_form.c.visit_id))
            .select_from(table_of(Visit).join(table_of(Site), _S.id == _V.site_id)
                         .join(table_of(User), _U.id == _V.user_id)
                         .outerjoin(with_form, with_form.c.visit_id == _V.id))
            .where(_V.checked_in_at >= start, _V.checked_in_at < end,
                   *_where(user, unit, None, rows))
            .group_by(*keys, _U.role_id))
    out: Sums = {}
    n = len(keys)
    for row in await db.execute(stmt):
        key = tuple(row[:n]) + (("",) if by == "grain" else ())
        role, count, flagged, outs, seconds, forms = row[n:]
        done = count if rules.get(role) == DONE_CHECKED_IN else forms
        _add(out, key, {"checkins": count, "checkins_flagged": flagged, "checkouts": outs,
                        "visit_seconds": seconds, "visits_done": done})
    return out


def _submission_columns() -> tuple[Any, Any, Any, Any]:
    user = _SUB.user_id
    site = func.coalesce(_SUB.site_id, 0)
    unit = func.coalesce(_S.org_unit_id, _U.org_unit_id)
    return user, site, unit, _SUB.definition_id


def _submissions_from() -> Any:
    return (table_of(Submission).outerjoin(table_of(Site), _S.id == _SUB.site_id)
            .join(table_of(User), _U.id == _SUB.user_id))


async def submission_sums(db: AsyncSession, start: datetime, end: datetime, by: By, *,
                          rows: RowFilter = EVERY_ROW) -> Sums:
    """The submissions that happened in [start, end)."""
    user, site, unit, definition = _submission_columns()
    keys = _key_columns(by, user=user, site=site, unit=unit, definition=definition)
    stmt = (select(*keys, func.count(), func.count(_SUB.score_value),
                   func.sum(_SUB.score_value), func.count(_SUB.percentage),
                   func.sum(_SUB.percentage), func.count(_SUB.passed),
                   func.sum(case((_SUB.passed.is_(True), 1), else_=0)),
                   func.sum(_SUB.failed_count), func.sum(_SUB.alert_count))
            .select_from(_submissions_from())
            .where(_SUB.happened_at >= start, _SUB.happened_at < end,
                   *_where(user, unit, definition, rows))
            .group_by(*keys))
    out: Sums = {}
    n = len(keys)
    names = ("submissions", "scored", "score_sum", "percentage_count", "percentage_sum",
             "judged", "passed", "failed_items", "alerts")
    for row in await db.execute(stmt):
        _add(out, tuple(row[:n]), dict(zip(names, row[n:], strict=True)))
    return out


def _response_columns() -> tuple[Any, Any, Any, Any]:
    user = func.coalesce(_R.about_user_id, 0)
    site = func.coalesce(_R.site_id, 0)
    unit = func.coalesce(_R.org_unit_id, _S.org_unit_id, 0)
    return user, site, unit, _R.definition_id


async def response_sums(db: AsyncSession, start: datetime, end: datetime, by: By, *,
                        rows: RowFilter = EVERY_ROW) -> Sums:
    """The campaigns' survey responses that happened in [start, end)."""
    user, site, unit, definition = _response_columns()
    keys = _key_columns(by, user=user, site=site, unit=unit, definition=definition)
    stmt = (select(*keys, func.count(), func.count(_R.score_value), func.sum(_R.score_value),
                   func.count(_R.percentage), func.sum(_R.percentage))
            .select_from(table_of(SurveyResponse).outerjoin(table_of(Site),
                                                            _S.id == _R.site_id))
            .where(_R.happened_at >= start, _R.happened_at < end,
                   *_where(user, unit, definition, rows))
            .group_by(*keys))
    out: Sums = {}
    n = len(keys)
    names = ("submissions", "scored", "score_sum", "percentage_count", "percentage_sum")
    for row in await db.execute(stmt):
        _add(out, tuple(row[:n]), dict(zip(names, row[n:], strict=True)))
    return out


async def item_sums(db: AsyncSession, start: datetime, end: datetime, *,
                    surveys: Collection[str] = ()) -> dict[tuple[int, int, str, str], int]:
    """Failed items of the submissions that happened in [start, end), per (user, org unit,
    definition, item); with the survey answers' facts (:func:`answer_sums`) of the
    definitions ``surveys``, under their own item ids."""
    user, _, unit, definition = _submission_columns()
    stmt = (select(user, unit, definition, _F.item_id, func.count())
            .select_from(_submissions_from().join(table_of(FailedItem),
                                                  _F.submission_id == _SUB.id))
            .where(_SUB.happened_at >= start, _SUB.happened_at < end)
            .group_by(user, unit, definition, _F.item_id))
    out = {(int(u), int(o), str(d), str(i)): int(n)
           for u, o, d, i, n in await db.execute(stmt)}
    if surveys:
        answers = await answer_sums(db, start, end, "grain", surveys=surveys)
        for (u, _s, o, d), facts in answers.items():
            for item, n in facts.items():
                k = (int(u), int(o), str(d), item)
                out[k] = out.get(k, 0) + int(n)
    return out


# The survey answers' facts, on the item rows (``store_item_*_facts``) of their survey, under
# item ids no item has (an item id has no colon): Σ of a scale item's answers and how many
# answered it (a number, not "not applicable"), and the responses at each outcome level.
ANSWER_SUM, ANSWER_COUNT, OUTCOME = "answer_sum:", "answer_count:", "outcome:"


def answer_fact_ids(item: str) -> tuple[str, str]:
    """The item ids of a scale item's sum and count of answers."""
    return ANSWER_SUM + item, ANSWER_COUNT + item


def _answer_facts(answers: Mapping[str, Any], outcome: str | None) -> dict[str, int]:
    out: dict[str, int] = {}
    for item, value in answers.items():
        if isinstance(value, int) and not isinstance(value, bool):  # a scale's answer
            total, count = answer_fact_ids(item)
            out[total] = value
            out[count] = 1
    if outcome:
        out[OUTCOME + outcome] = 1
    return out


async def answer_sums(db: AsyncSession, start: datetime, end: datetime, by: By, *,
                      surveys: Collection[str], rows: RowFilter = EVERY_ROW) -> Sums:
    """The answers of the surveys ``surveys`` that happened in [start, end) — the campaigns'
    responses and the surveys staff submitted, keyed as their facts are — as
    ``{key: {"answer_sum:<item>": Σ, "answer_count:<item>": n, "outcome:<level>": n}}``:
    the integer answers (scale items) and the first outcome's level. Read row by row (the
    answers are JSON): a day's surveys, not the history."""
    if not surveys:
        return {}
    wanted = sorted(set(surveys) & rows.definitions if rows.definitions is not None
                    else set(surveys))
    out: Sums = {}
    parts = []
    user, site, unit, definition = _response_columns()
    keys = _key_columns(by, user=user, site=site, unit=unit, definition=definition)
    parts.append(select(*keys, _R.answers, _R.outcome)
                 .select_from(table_of(SurveyResponse).outerjoin(table_of(Site),
                                                                 _S.id == _R.site_id))
                 .where(_R.happened_at >= start, _R.happened_at < end,
                        _R.definition_id.in_(wanted), *_where(user, unit, None, rows)))
    user, site, unit, definition = _submission_columns()
    keys = _key_columns(by, user=user, site=site, unit=unit, definition=definition)
    parts.append(select(*keys, _SUB.answers, _SUB.outcome)
                 .select_from(_submissions_from())
                 .where(_SUB.happened_at >= start, _SUB.happened_at < end,
                        _SUB.definition_id.in_(wanted), *_where(user, unit, None, rows)))
    n = len(keys)
    for stmt in parts:
        for row in await db.execute(stmt):
            facts = _answer_facts(row[n] or {}, row[n + 1])
            if facts:
                _add(out, tuple(row[:n]), facts)
    return out


async def issue_sums(db: AsyncSession, start: datetime, end: datetime, by: By, *,
                     now: datetime, rows: RowFilter = EVERY_ROW) -> Sums:
    """The issues' measures whose times fall in [start, end) (overdue: as of ``now``)."""
    dialect = db.get_bind().dialect.name
    user = func.coalesce(_I.assignee_id, 0)
    site = func.coalesce(_I.site_id, 0)
    unit = _I.org_unit_id
    definition = func.coalesce(_I.definition_id, "")
    keys = _key_columns(by, user=user, site=site, unit=unit, definition=definition)
    scope = _where(user, unit, definition, rows)

    def within(at: Any) -> ColumnElement[bool]:
        return and_(at >= start, at < end)

    on_time = case((or_null(_I.due_at, _I.closed_at), 1), else_=0)
    # (time filter, {measure: aggregate}); one query each, through that time's index.
    parts: list[tuple[list[ColumnElement[bool]], dict[str, Any]]] = [
        ([within(_I.created_at)],
         {"issues_opened": func.count(),
          "complaints_opened": func.sum(case((_I.source == "complaint", 1), else_=0))}),
        ([within(_I.assignee_signed_at)], {"issues_rectified": func.count()}),
        ([within(_I.assigner_signed_at)], {"issues_verified": func.count()}),
        ([within(_I.closed_at), _I.status == CLOSED],
         {"issues_closed": func.count(), "issues_closed_on_time": func.sum(on_time),
          "close_seconds": func.sum(_seconds(_I.closed_at, _I.created_at, dialect))}),
        ([within(_I.due_at), _I.due_at < as_utc(now), _I.status != CANCELLED,
          or_(_I.closed_at.is_(None), _I.closed_at > _I.due_at)],
         {"issues_overdue": func.count()}),
        ([within(_I.escalated_at)], {"issues_escalated": func.count()}),
        ([within(_I.updated_at), _I.status == CANCELLED], {"issues_cancelled": func.count()}),
    ]
    out: Sums = {}
    n = len(keys)
    for where, measures in parts:
        stmt = (select(*keys, *measures.values()).where(*where, *scope).group_by(*keys))
        for row in await db.execute(stmt):
            _add(out, tuple(row[:n]), dict(zip(measures, row[n:], strict=True)))
    return out


def or_null(due: Any, closed: Any) -> ColumnElement[bool]:
    """Closed on time: no deadline, or closed by it."""
    return or_(due.is_(None), closed <= due)


async def raw_sums(db: AsyncSession, start: datetime, end: datetime, by: By, *, now: datetime,
                   rules: Mapping[str, str], rows: RowFilter = EVERY_ROW) -> Sums:
    """Every source's measures in [start, end), added up per key."""
    return merge(await visit_sums(db, start, end, by, rules=rules, rows=rows),
                 await submission_sums(db, start, end, by, rows=rows),
                 await response_sums(db, start, end, by, rows=rows),
                 await issue_sums(db, start, end, by, now=now, rows=rows))


async def first_raw_day(db: AsyncSession, tz: tzinfo) -> date | None:
    """The first local day with any raw data (a check-in, a submission, a survey response,
    an issue)."""
    found = [at for at in [
        (await db.execute(select(func.min(_V.checked_in_at)))).scalar(),
        (await db.execute(select(func.min(_SUB.happened_at)))).scalar(),
        (await db.execute(select(func.min(_R.happened_at)))).scalar(),
        (await db.execute(select(func.min(_I.created_at)))).scalar()] if at is not None]
    return local_day(min(as_utc(a) for a in found), tz) if found else None


def subtree_ids(paths: Mapping[int, str], roots: Iterable[int]) -> frozenset[int]:
    """The org units under (and including) ``roots``, by their materialised paths."""
    prefixes = [paths[r] for r in roots if r in paths]
    return frozenset(u for u, p in paths.items() if any(p.startswith(x) for x in prefixes))


def roll_up(per_unit: Mapping[int, Mapping[str, float]], paths: Mapping[int, str],
            targets: Collection[int]) -> dict[int, dict[str, float]]:
    """Each target unit's sums over its whole subtree, from sums per unit."""
    wanted = set(targets)
    out: dict[int, dict[str, float]] = {t: {} for t in targets}
    for unit, sums in per_unit.items():
        path = paths.get(unit)
        ancestors = [int(p) for p in path.strip("/").split("/") if p] if path else [unit]
        for above in ancestors:
            if above in wanted:
                row = out[above]
                for name, value in sums.items():
                    row[name] = row.get(name, 0.0) + value
    return out
