"""OKR grades by person and by org unit, each explained; who may see which.

Figures come ONLY from the query store, through ``rounds.runtime.store.read.metric_table``
(never from the raw tables): a key result's value is its metric over the period, for one
person (``by="user"``) or for an org unit's whole subtree (``by="org_unit"``, counting the
rows of the people the OKR applies to). A period already frozen (``freeze``) is read back
from ``okr_grades`` as it was; any other is computed now from the store.

Scope (404 for anything else, so nobody learns what exists beyond it):

- everyone sees their own grade (a person whose role an OKR applies to);
- ``report.view_scope`` sees the persons and org units inside their site scope: ``city``
  everything, ``org_subtree`` the units under theirs (path prefix) and their people,
  ``org_unit`` their unit and its people. Other scopes (own sites, a shop) see only their own.

The answers (``views``):

- ``await okrs(db) -> list[OkrSummary]``: the OKRs in force.
- ``await grades(db, principal, *, okr_id, period, level, unit_id=None) -> list[GradeRow]``:
  ``level`` ``"person"`` (the people the OKR applies to) or ``"org_unit"`` (every unit), in
  scope, inside ``unit_id``'s subtree when given (a unit out of scope: 404); best score
  first, no score last. A field user gets their own row only; ``org_unit`` is 404 for them.
- ``await grade_of(db, principal, *, okr_id, period, subject_kind, subject_id) ->
  GradeDetail``: one grade with its explanation (each key result: metric title, value, the
  facts it came from in words, grade, score, weight and its renormalised share; what was
  left out; the link to the rows behind it).
- ``await my_grades(db, principal, period) -> list[GradeDetail]``: the principal's grade on
  every OKR in force for their role, for the period of the OKR's kind that holds the first
  day of ``period`` (a monthly OKR for ``2026-11``, a quarterly one for ``2026-Q4``).
- ``await rows_behind(db, principal, *, okr_id, period, subject_kind, subject_id,
  key_result_id, page=1, per_page=50) -> DrillPage``: the visits, submissions or issues
  behind one key result (``drill``).

Periods are ``2026-11``, ``2026-Q4``, ``2026``, ``2026-W48`` (``periods``); a bad one is 422.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from rounds import i18n
from rounds.definitions.metrics import value_of
from rounds.definitions.okr import CompiledOkr, Result, compile_okr, grade
from rounds.definitions.validation import outcome_levels
from rounds.errors import InvalidInput, NotFound, Problem
from rounds.runtime.access import Principal
from rounds.runtime.definitions.models import DefinitionVersion
from rounds.runtime.definitions.service import current_contents, current_versions
from rounds.runtime.okr import texts
from rounds.runtime.okr.models import ORG_UNIT, PERSON, OkrGrade
from rounds.runtime.okr.periods import period_bounds, period_of
from rounds.runtime.okr.views import (
    GradeDetail,
    GradeLevelView,
    GradeRow,
    KeyResultBrief,
    KeyResultView,
    ObjectiveView,
    OkrSummary,
)
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.people.models import User
from rounds.runtime.store.read import metric_table

LEVELS = (PERSON, ORG_UNIT)
REPORT = "report.view_scope"
REPORT_SCOPES = ("city", "org_subtree", "org_unit")


# -- the OKRs in force ----------------------------------------------------------------------

@dataclass(frozen=True)
class OkrInForce:
    version_id: int
    okr: CompiledOkr


async def okrs_in_force(db: AsyncSession) -> list[OkrInForce]:
    versions = await current_versions(db, kind="okr")
    return [OkrInForce(v.id, compile_okr(v.content))
            for _, v in sorted(versions.items())]


async def okr_in_force(db: AsyncSession, okr_id: str) -> OkrInForce:
    versions = await current_versions(db, kind="okr", ids=[okr_id])
    if okr_id not in versions:
        raise NotFound(f"no OKR {okr_id!r}")
    v = versions[okr_id]
    return OkrInForce(v.id, compile_okr(v.content))


async def _okr_version(db: AsyncSession, version_id: int) -> CompiledOkr:
    """The OKR as it was graded (a frozen grade keeps the version it was graded against)."""
    content = (await db.execute(select(DefinitionVersion.content).where(
        DefinitionVersion.id == version_id))).scalar_one()
    return compile_okr(content)


def _levels(okr: CompiledOkr) -> list[GradeLevelView]:
    return [GradeLevelView(id=g.id, title=dict(g.title), score=g.score) for g in okr.grades]


async def okrs(db: AsyncSession) -> list[OkrSummary]:
    """The OKRs in force, for choosing one (anyone signed in may read the definitions)."""
    return [OkrSummary(id=o.okr.id, version_id=o.version_id, title=dict(o.okr.title),
                       period=o.okr.period, applies_to=list(o.okr.applies_to),
                       grades=_levels(o.okr), notify_below=o.okr.notify_below,
                       key_results=[KeyResultBrief(id=k.id, objective_id=k.objective_id,
                                                   title=dict(k.title), metric=k.metric.id)
                                    for k in o.okr.key_results])
            for o in await okrs_in_force(db)]


# -- subjects and scope ---------------------------------------------------------------------

@dataclass(frozen=True)
class Subject:
    kind: str  # person | org_unit
    id: int
    name: dict[str, str]
    org_unit_id: int
    unit_kind: str
    parent_id: int | None
    path: str  # the unit's path (a person: their unit's)


def sees_reports(principal: Principal) -> bool:
    return principal.can(REPORT) and principal.org_scope in REPORT_SCOPES


def unit_visible(principal: Principal, unit: OrgUnit) -> bool:
    """Whether the principal may see this unit's figures (and its people's)."""
    if not sees_reports(principal):
        return False
    if principal.org_scope == "city":
        return True
    if principal.org_scope == "org_subtree":
        return unit.path.startswith(principal.org_path)
    return unit.id == principal.org_unit_id


def _unit_condition(principal: Principal) -> ColumnElement[bool]:
    if principal.org_scope == "city":
        return true()
    if principal.org_scope == "org_subtree":
        return OrgUnit.path.startswith(principal.org_path)
    same: ColumnElement[bool] = OrgUnit.id == principal.org_unit_id
    return same


def _names(unit: OrgUnit) -> dict[str, str]:
    return {"zh": unit.name_zh, "en": unit.name_en}


async def people_of(db: AsyncSession, okr: CompiledOkr, *, where: Sequence[Any] = ()
                  ) -> list[Subject]:
    """The active people the OKR applies to (with their unit), by id."""
    rows = await db.execute(
        select(User.id, User.display_name, OrgUnit)
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .where(User.role_id.in_(okr.applies_to), User.active.is_(True), *where)
        .order_by(User.id))
    return [Subject(PERSON, int(uid), {"zh": name, "en": name}, unit.id, unit.kind, unit.id,
                    unit.path) for uid, name, unit in rows]


async def _units(db: AsyncSession, *, where: Sequence[Any] = ()) -> list[Subject]:
    rows = (await db.execute(select(OrgUnit).where(*where).order_by(OrgUnit.path))).scalars()
    return [Subject(ORG_UNIT, u.id, _names(u), u.id, u.kind, u.parent_id, u.path)
            for u in rows]


async def all_people_ids(db: AsyncSession, okr: CompiledOkr) -> list[int]:
    """Everyone (active or not) whose role the OKR applies to: an org unit's figures are
    those of its people the OKR grades, including any who left during the period."""
    rows = await db.execute(select(User.id).where(User.role_id.in_(okr.applies_to)))
    return sorted(int(u) for u in rows.scalars())


async def subject_of(db: AsyncSession, principal: Principal, okr: CompiledOkr, kind: str,
                   subject_id: int) -> Subject:
    """One subject the principal may see; 404 for anything else."""
    if kind == PERSON:
        found = await people_of(db, okr, where=[User.id == subject_id])
        if found and (subject_id == principal.user_id or unit_visible(
                principal, await _unit(db, found[0].org_unit_id))):
            return found[0]
        raise NotFound(f"no grade of person {subject_id} on OKR {okr.id!r} for you to see")
    if kind == ORG_UNIT:
        unit = await db.get(OrgUnit, subject_id)
        if unit is not None and unit_visible(principal, unit):
            return Subject(ORG_UNIT, unit.id, _names(unit), unit.id, unit.kind,
                           unit.parent_id, unit.path)
        raise NotFound(f"no grade of org unit {subject_id} for you to see")
    raise _bad_level(kind, "subject_kind")


async def _unit(db: AsyncSession, unit_id: int) -> OrgUnit:
    unit = await db.get(OrgUnit, unit_id)
    assert unit is not None  # a user's unit is a foreign key
    return unit


def _bad_level(level: str, name: str = "level") -> InvalidInput:
    message = f"{name} is person or org_unit, not {level!r}"
    return InvalidInput(message, [Problem(f"/{name}", message, "invalid")])


# -- computing from the store ---------------------------------------------------------------

def at_or_above(survey: Mapping[str, Any], level: str) -> list[str]:
    """The levels of the survey's first outcome that count for ``surveys.outcome_share``:
    ``level`` and those listed after it (none if it has no such level)."""
    levels = outcome_levels(dict(survey))
    return levels[levels.index(level):] if level in levels else []


async def compute(db: AsyncSession, okr: CompiledOkr, period: str, kind: str,
                  subject_ids: Collection[int], *, people: Collection[int] | None = None
                  ) -> dict[int, Result]:
    """Grade each subject from the store's figures over the period.

    ``people``: for org units, whose rows count (default: everyone the OKR applies to).
    A subject with no rows at all has no value for ratios and means, and 0 for totals and
    stocks (nothing happened is a count of 0)."""
    first, last = period_bounds(period)
    ids = sorted(set(subject_ids))
    if not ids:
        return {}
    if kind == ORG_UNIT and people is None:
        people = await all_people_ids(db, okr)
    # One table per (definition, item, level) the key results read.
    Read = tuple[str | None, str | None, str | None]
    by_definition: dict[Read, list[str]] = {}
    for kr in okr.key_results:
        metrics = by_definition.setdefault((kr.definition, kr.item, kr.level), [])
        if kr.metric.id not in metrics:
            metrics.append(kr.metric.id)
    surveys = (await current_contents(db, "survey")
               if any(kr.level for kr in okr.key_results) else {})
    tables: dict[Read, Mapping[int, Mapping[str, Any]]] = {}
    for (definition, item, level), metrics in by_definition.items():
        levels = at_or_above(surveys.get(definition or "", {}), level) if level else None
        if kind == PERSON:
            tables[(definition, item, level)] = await metric_table(
                db, metrics=metrics, first=first, last=last, by="user", user_ids=ids,
                definition_id=definition, item=item, levels=levels)
        else:
            tables[(definition, item, level)] = await metric_table(
                db, metrics=metrics, first=first, last=last, by="org_unit", unit_ids=ids,
                user_ids=list(people or ()), definition_id=definition, item=item,
                levels=levels)
    out: dict[int, Result] = {}
    for sid in ids:
        figures: dict[str, tuple[float | None, Mapping[str, float]]] = {}
        for kr in okr.key_results:
            figure = tables[(kr.definition, kr.item, kr.level)].get(sid, {}).get(kr.metric.id)
            if figure is not None:
                figures[kr.id] = (figure.value, dict(figure.sums))
            elif kr.metric.formula in ("total", "stock"):
                figures[kr.id] = (value_of(kr.metric, {}), {})
        out[sid] = grade(okr, figures)
    return out


@dataclass
class Graded:
    """A subject's grade, frozen (read back) or computed now."""

    subject: Subject
    okr: CompiledOkr  # the version it was graded against
    version_id: int
    result: dict[str, Any]  # Result.as_json()
    frozen: bool
    computed_at: str | None


async def _graded(db: AsyncSession, oif: OkrInForce, period: str, kind: str,
                  subjects: Sequence[Subject]) -> list[Graded]:
    """Each subject's frozen grade if the period has one, else computed now."""
    okr = oif.okr
    ids = [s.id for s in subjects]
    frozen: dict[int, OkrGrade] = {}
    for chunk in _chunks(ids, 500):
        for found in (await db.execute(select(OkrGrade).where(
                OkrGrade.okr_id == okr.id, OkrGrade.period == period,
                OkrGrade.subject_kind == kind, OkrGrade.subject_id.in_(chunk),
                OkrGrade.frozen.is_(True)))).scalars():
            frozen[found.subject_id] = found
    live = await compute(db, okr, period, kind, [i for i in ids if i not in frozen])
    versions: dict[int, CompiledOkr] = {oif.version_id: okr}
    out: list[Graded] = []
    for s in subjects:
        kept = frozen.get(s.id)
        if kept is None:
            out.append(Graded(s, okr, oif.version_id, live[s.id].as_json(), False, None))
            continue
        row = kept
        if row.version_id not in versions:
            versions[row.version_id] = await _okr_version(db, row.version_id)
        out.append(Graded(s, versions[row.version_id], row.version_id, dict(row.result), True,
                          row.computed_at.isoformat()))
    return out


def _chunks(ids: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


# -- shapes ---------------------------------------------------------------------------------

def grade_link(okr_id: str, period: str, kind: str, subject_id: int) -> str:
    return f"/api/okr/{okr_id}/grades/{period}/{kind}/{subject_id}"


def grade_page(period: str, user_id: int, *, own: bool) -> str:
    """The page that shows a person's month with their grade explained (the dashboards
    slice's ``/me/month`` for themselves, ``/dashboard/people/{id}`` for their heads): the
    month of the period's last day."""
    month = period_bounds(period)[1].strftime("%Y-%m")
    return f"/me/month?month={month}" if own else f"/dashboard/people/{user_id}?month={month}"


def grade_title(okr: CompiledOkr, grade_id: str | None) -> dict[str, str] | None:
    level = okr.level(grade_id) if grade_id else None
    return dict(level.title) if level else None


def grade_words(okr: CompiledOkr, grade_id: str | None) -> dict[str, str]:
    """A grade as said in a sentence: its id, with its title when it has one of its own
    (``B (Good)``, ``B（良好）``)."""
    level = okr.level(grade_id) if grade_id else None
    if level is None:
        return {lang: grade_id or "—" for lang in i18n.LANGUAGES}
    return {lang: level.id if i18n.pick(level.title, lang) == level.id else texts.words(
        lang, "grade_named", id=level.id, title=i18n.pick(level.title, lang))
        for lang in i18n.LANGUAGES}


def _row(g: Graded, period: str) -> GradeRow:
    titles = {k.id: k for k in g.okr.key_results}
    briefs = []
    for o in g.result["objectives"]:
        for k in o["key_results"]:
            spec = titles.get(k["id"])
            briefs.append(KeyResultBrief(
                id=k["id"], objective_id=o["id"],
                title=dict(spec.title) if spec else {"en": k["id"]}, metric=k["metric"],
                value=k["value"], grade=k["grade"], score=k["score"]))
    s = g.subject
    return GradeRow(okr_id=g.okr.id, period=period, subject_kind=s.kind, subject_id=s.id,
                    name=s.name, org_unit_id=s.org_unit_id, unit_kind=s.unit_kind,
                    parent_id=s.parent_id, score=g.result["score"], grade=g.result["grade"],
                    grade_title=grade_title(g.okr, g.result["grade"]), frozen=g.frozen,
                    computed_at=g.computed_at, key_results=briefs,
                    link=grade_link(g.okr.id, period, s.kind, s.id))


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


async def answer_labels(db: AsyncSession, okr: CompiledOkr) -> dict[str, dict[str, texts.Texts]]:
    """Per key result of ``surveys.outcome_share``, the words of the responses it counts,
    with the names of the outcome levels (key result id → fact → {lang: words})."""
    named = [kr for kr in okr.key_results if kr.level and kr.definition]
    if not named:
        return {}
    surveys = await current_contents(db, "survey")
    out: dict[str, dict[str, texts.Texts]] = {}
    for kr in named:
        survey = surveys.get(kr.definition or "", {})
        counted = set(at_or_above(survey, kr.level or ""))
        outcomes = survey.get("outcomes") or [{}]
        levels = [lv for lv in outcomes[0].get("levels") or [] if lv.get("id") in counted]
        if levels:
            out[kr.id] = {"at_level": texts.level_labels(levels)}
    return out


def _detail(g: Graded, period: str, labels: Mapping[str, dict[str, texts.Texts]] | None = None
            ) -> GradeDetail:
    okr, result = g.okr, g.result
    row = _row(g, period)
    specs = {k.id: k for k in okr.key_results}
    objectives_spec = {o.id: o for o in okr.objectives}
    objectives: list[ObjectiveView] = []
    explanation: list[dict[str, str]] = []
    if result["score"] is None:
        explanation.append(texts.each("overall_none"))
    else:
        explanation.append(texts.each("overall", score=texts.number(result["score"], 3),
                                      grade=grade_words(okr, result["grade"])))
    if result["left_out"]:
        explanation.append({lang: texts.words(lang, "renormalised", names=texts.words(
            lang, "names_sep").join(i18n.pick(specs[k].title, lang, k) if k in specs else k
                                    for k in result["left_out"]))
            for lang in i18n.LANGUAGES})
    first, last = period_bounds(period)
    for o in result["objectives"]:
        ospec = objectives_spec.get(o["id"])
        otitle = dict(ospec.title) if ospec else {"en": o["id"]}
        krs: list[KeyResultView] = []
        for k in o["key_results"]:
            spec = specs.get(k["id"])
            title = dict(spec.title) if spec else {"en": k["id"]}
            metric = spec.metric if spec else None
            if k["left_out"] == "no_value":
                line = texts.each("kr_no_value", title=title)
            elif k["left_out"]:
                line = texts.each("kr_rule_failed", title=title, error=k.get("error", ""))
            else:
                line = texts.each("kr_line", title=title, value=texts.number(k["value"], 4),
                                  target=texts.number(k["target"], 4),
                                  grade=grade_words(okr, k["grade"]),
                                  score=texts.number(k["score"], 3),
                                  weight=_percent(k["weight_used"]))
            krs.append(KeyResultView(
                id=k["id"], title=title, metric=k["metric"],
                metric_title=dict(metric.title) if metric else {"en": k["metric"]},
                unit=metric.unit if metric else "", direction=metric.direction if metric
                else "", definition=k["definition"], value=k["value"], target=k["target"],
                sums=dict(k["sums"]),
                sums_in_words=texts.sums_in_words(metric, k["sums"], k["value"],
                                                  (labels or {}).get(k["id"])) if metric
                else {}, grade=k["grade"], grade_title=grade_title(okr, k["grade"]),
                score=k["score"], weight=k["weight"], weight_used=k["weight_used"],
                left_out=k["left_out"], line=line,
                rows=grade_link(okr.id, period, g.subject.kind, g.subject.id)
                + f"/key-results/{k['id']}/rows"))
        oline = (texts.each("objective_none", title=otitle) if o["score"] is None else
                 texts.each("objective_line", title=otitle, score=texts.number(o["score"], 3),
                            weight=_percent(o["weight_used"])))
        explanation.append(oline)
        objectives.append(ObjectiveView(id=o["id"], title=otitle, weight=o["weight"],
                                        weight_used=o["weight_used"], score=o["score"],
                                        left_out=o["left_out"], line=oline, key_results=krs))
    return GradeDetail(**{f: getattr(row, f) for f in row.__struct_fields__},
                       okr_title=dict(okr.title), version_id=g.version_id,
                       first_day=first.isoformat(), last_day=last.isoformat(),
                       objectives=objectives, left_out=list(result["left_out"]),
                       explanation=explanation)


def _ranked(rows: list[GradeRow]) -> list[GradeRow]:
    return sorted(rows, key=lambda r: (r.score is None, -(r.score or 0.0), r.subject_id))


# -- the service ----------------------------------------------------------------------------

async def grades(db: AsyncSession, principal: Principal, *, okr_id: str, period: str | None,
                 level: str, unit_id: int | None = None, today: date | None = None
                 ) -> list[GradeRow]:
    """The grade table of an OKR for a period (see the module: shapes and scope); no
    period: the OKR's current one (of its kind, holding ``today``)."""
    oif = await okr_in_force(db, okr_id)
    if period is None:
        period = period_of(oif.okr.period, today or datetime.now(UTC).date())
    period_bounds(period)
    if level not in LEVELS:
        raise _bad_level(level)
    where: list[Any] = []
    if unit_id is not None:
        unit = await db.get(OrgUnit, unit_id)
        if unit is None or not unit_visible(principal, unit):
            raise NotFound(f"no org unit {unit_id} for you to see")
        where.append(OrgUnit.path.startswith(unit.path))
    if level == ORG_UNIT:
        if not sees_reports(principal):
            raise NotFound("no org unit grades for you to see")
        subjects = await _units(db, where=[_unit_condition(principal), *where])
    elif sees_reports(principal):
        subjects = await people_of(db, oif.okr, where=[_unit_condition(principal), *where])
    else:
        subjects = await people_of(db, oif.okr, where=[User.id == principal.user_id, *where])
    return _ranked([_row(g, period) for g in await _graded(db, oif, period, level, subjects)])


async def grade_of(db: AsyncSession, principal: Principal, *, okr_id: str, period: str,
                   subject_kind: str, subject_id: int) -> GradeDetail:
    """One grade with its explanation (see the module)."""
    oif = await okr_in_force(db, okr_id)
    period_bounds(period)
    subject = await subject_of(db, principal, oif.okr, subject_kind, subject_id)
    (graded,) = await _graded(db, oif, period, subject_kind, [subject])
    return _detail(graded, period, await answer_labels(db, graded.okr))


async def my_grades(db: AsyncSession, principal: Principal, period: str
                    ) -> list[GradeDetail]:
    """The principal's own grade on each OKR in force for their role (see the module)."""
    first, _ = period_bounds(period)
    out: list[GradeDetail] = []
    for oif in await okrs_in_force(db):
        if principal.role_id not in oif.okr.applies_to:
            continue
        own = period_of(oif.okr.period, first)
        found = await people_of(db, oif.okr, where=[User.id == principal.user_id])
        if found:
            (graded,) = await _graded(db, oif, own, PERSON, found)
            out.append(_detail(graded, own, await answer_labels(db, graded.okr)))
    return out


__all__ = [
    "LEVELS",
    "OkrInForce",
    "Subject",
    "all_people_ids",
    "compute",
    "grade_link",
    "grade_of",
    "grade_page",
    "grade_title",
    "grades",
    "my_grades",
    "okr_in_force",
    "okrs",
    "okrs_in_force",
    "people_of",
    "sees_reports",
    "subject_of",
    "unit_visible",
]
