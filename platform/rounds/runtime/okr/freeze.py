"""Freezing closed periods, and recomputing them on purpose.

A period of an OKR (of the OKR's own kind: a monthly OKR's months) is frozen once its last
local day is over and closed in the store (``store_closed_days``: the nightly close has
recomputed it, and every day before it). Freezing grades every person the OKR applies to
and every org unit from the store and keeps the results in ``okr_grades``; from then on the
grade tables read them back, whatever data arrives later, until someone runs ``rounds okr
recompute PERIOD`` — which grades again, writes what changed and records who, when and why
(``okr_recomputes``).

Key results scored below the OKR's ``notify_below`` notify the person and their head (the
nearest unit, from the person's up, with someone whose role hands out issues and sees
reports in its scope), once: the notice's dedupe key names the OKR, period, person and key
result, so a second freeze or a recompute adds nothing already said.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import as_utc
from rounds.definitions.okr import CompiledOkr, Result, below
from rounds.errors import InvalidInput, Problem
from rounds.runtime.definitions.service import current_contents
from rounds.runtime.issues.routing import unit_chain, users_by_unit
from rounds.runtime.notifications.service import notify
from rounds.runtime.okr import service, texts
from rounds.runtime.okr.models import ORG_UNIT, PERSON, OkrGrade, OkrRecompute
from rounds.runtime.okr.periods import kind_of, last_ones, period_bounds
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.people.models import User
from rounds.runtime.store.models import ClosedDay

# How many past periods of its kind an OKR's freezing looks back over (a new installation,
# or a store rebuilt for months of history, freezes them all once they are closed).
LOOK_BACK = 24
NOTICE = "okr_below"
HEAD_NEEDS = frozenset({"issue.assign", service.REPORT})
ADMINISTRATOR = "definition.publish"


@dataclass
class Change:
    subject_kind: str
    subject_id: int
    before: tuple[float | None, str | None] | None  # (score, grade); None: no row before
    after: tuple[float | None, str | None]


@dataclass
class FreezeReport:
    okr_id: str
    period: str
    rows: int = 0
    changes: list[Change] = field(default_factory=list)
    notified: int = 0  # notifications added


def _today(now: datetime, tz: tzinfo) -> date:
    return as_utc(now).astimezone(tz).date()


async def freeze_due(db: AsyncSession, *, now: datetime, tz: tzinfo) -> int:
    """Freeze every period that is over, closed in the store and not frozen yet; returns
    how many periods (of all OKRs) were frozen now."""
    today = _today(now, tz)
    done = 0
    for oif in await service.okrs_in_force(db):
        periods = last_ones(oif.okr.period, today, LOOK_BACK)
        lasts = {period_bounds(p)[1]: p for p in periods}
        closed = set((await db.execute(select(ClosedDay.day).where(
            ClosedDay.day.in_(list(lasts))))).scalars())
        frozen = set((await db.execute(select(OkrGrade.period).where(
            OkrGrade.okr_id == oif.okr.id, OkrGrade.period.in_(periods),
            OkrGrade.frozen.is_(True)).distinct())).scalars())
        for last, period in sorted(lasts.items()):
            if last in closed and period not in frozen:
                await freeze(db, oif, period, now=now)
                done += 1
    return done


async def freeze(db: AsyncSession, oif: service.OkrInForce, period: str, *,
                 now: datetime) -> FreezeReport:
    """Grade every person the OKR applies to and every org unit for the period, keep the
    results frozen (replacing what was kept), and notify the key results below the mark."""
    okr = oif.okr
    report = FreezeReport(okr.id, period)
    people = [s.id for s in await service.people_of(db, okr)]
    units = [int(u) for u in (await db.execute(select(OrgUnit.id))).scalars()]
    graded = {PERSON: await service.compute(db, okr, period, PERSON, people),
              ORG_UNIT: await service.compute(db, okr, period, ORG_UNIT, units)}
    kept = {(g.subject_kind, g.subject_id): g for g in (await db.execute(select(OkrGrade).where(
        OkrGrade.okr_id == okr.id, OkrGrade.period == period))).scalars()}
    for kind, results in graded.items():
        for sid, result in sorted(results.items()):
            row = kept.get((kind, sid))
            before = (row.score, row.grade) if row is not None else None
            after = (result.score, result.grade)
            if row is None:
                row = OkrGrade(okr_id=okr.id, period=period, subject_kind=kind, subject_id=sid)
                db.add(row)
            row.version_id, row.score, row.grade = oif.version_id, result.score, result.grade
            row.result, row.frozen, row.computed_at = result.as_json(), True, as_utc(now)
            report.rows += 1
            if before is None or not _same(before, after):
                report.changes.append(Change(kind, sid, before, after))
    await db.flush()
    report.notified = await notify_below(db, okr, period, graded[PERSON])
    return report


def _same(a: tuple[float | None, str | None], b: tuple[float | None, str | None]) -> bool:
    if a[1] != b[1] or (a[0] is None) != (b[0] is None):
        return False
    return a[0] is None or b[0] is None or abs(a[0] - b[0]) < 1e-9


async def recompute(db: AsyncSession, *, period: str, okr_id: str | None = None, by: str,
                    reason: str, now: datetime, tz: tzinfo) -> list[FreezeReport]:
    """Grade a period again on purpose (every OKR of the period's kind, or ``okr_id``),
    freeze the results and record the recompute. A period not over yet is refused: it would
    freeze grades that are still moving."""
    kind = kind_of(period)
    if period_bounds(period)[1] >= _today(now, tz):
        message = f"{period} is not over yet: only a period that is over can be frozen"
        raise InvalidInput(message, [Problem("/period", message, "period_not_over")])
    chosen = ([await service.okr_in_force(db, okr_id)] if okr_id else
              [o for o in await service.okrs_in_force(db) if o.okr.period == kind])
    reports: list[FreezeReport] = []
    for oif in chosen:
        report = await freeze(db, oif, period, now=now)
        db.add(OkrRecompute(okr_id=oif.okr.id, period=period, by=by, reason=reason,
                            at=as_utc(now), rows=report.rows, changed=len(report.changes),
                            changes=_changes_json(report.changes)))
        reports.append(report)
    await db.flush()
    return reports


def _changes_json(changes: Sequence[Change]) -> dict[str, Any]:
    return {f"{c.subject_kind}:{c.subject_id}": {
        "before": list(c.before) if c.before is not None else None, "after": list(c.after)}
        for c in changes}


# -- notices --------------------------------------------------------------------------------

async def heads_of(db: AsyncSession, user_ids: Sequence[int]) -> dict[int, list[int]]:
    """Each person's heads: active users of the nearest unit (from the person's up) whose
    role hands out issues and sees reports in its scope (administrators aside)."""
    roles = await current_contents(db, "role")
    able = [r for r, c in roles.items()
            if set(c.get("capabilities") or ()) >= HEAD_NEEDS
            and ADMINISTRATOR not in set(c.get("capabilities") or ())
            and c.get("org_scope") in service.REPORT_SCOPES]
    rows = await db.execute(select(User.id, OrgUnit).join(
        OrgUnit, OrgUnit.id == User.org_unit_id).where(User.id.in_(list(user_ids))))
    out: dict[int, list[int]] = {}
    for uid, unit in rows:
        chain = unit_chain(unit)
        found = await users_by_unit(db, able, chain)
        out[int(uid)] = next((
            [h for h in found[u] if h != uid] for u in chain
            if [h for h in found.get(u, []) if h != uid]), [])
    return out


async def notify_below(db: AsyncSession, okr: CompiledOkr, period: str,
                       results: dict[int, Result]) -> int:
    """Notify each person of their key results below ``notify_below``, and their heads."""
    low = {uid: below(okr, r) for uid, r in results.items()}
    low = {uid: krs for uid, krs in low.items() if krs}
    if not low:
        return 0
    heads = await heads_of(db, list(low))
    names = {int(i): str(n) for i, n in await db.execute(
        select(User.id, User.display_name).where(User.id.in_(list(low))))}
    specs = {k.id: k for k in okr.key_results}
    added = 0
    for uid, krs in sorted(low.items()):
        for kr in krs:
            fields: dict[str, Any] = {
                "okr": dict(okr.title), "period": period, "title": dict(specs[kr.id].title),
                "score": texts.number(kr.score, 2),
                "grade": service.grade_words(okr, kr.grade),
                "threshold": texts.number(okr.notify_below, 2)}
            key = f"{NOTICE}:{okr.id}:{period}:{uid}:{kr.id}"
            added += len(await notify(db, user_ids=[uid], kind=NOTICE,
                                      message=texts.each("notify_below", **fields),
                                      link=service.grade_page(period, uid, own=True),
                                      dedupe_key=key))
            if heads.get(uid):
                added += len(await notify(
                    db, user_ids=heads[uid], kind=NOTICE,
                    message=texts.each("notify_below_head", person=names.get(uid, ""),
                                       **fields),
                    link=service.grade_page(period, uid, own=False), dedupe_key=key))
    return added
