"""The raw rows behind one key result of one subject: the visits, submissions or issues its
metric counted, a page at a time, each with the page that shows it.

This is the one place of the slice that reads the raw tables: a person asks "which visits?"
about a figure, and only the rows themselves answer. The grade itself never comes from here.
Which rows: those of the metric's population over the period, in local days:

- visit facts (and the plan's figures): the check-ins of the period;
- submission facts: the submissions whose work was done in the period (``happened_at``), of
  the key result's definition or of the metric's kind of definition (standards, surveys);
  with them the campaigns' survey responses of the period, for the facts the store counts
  them in (answered, scored, their scores, the survey answers' facts), each about the staff
  member it counts for (``about_user_id``), with its shop, survey, score and outcome level
  and nothing of who answered;
- issue facts: by the date the fact counts (opened: created; closed, on time, time to close:
  closed; overdue: due; escalated; rectified and accepted: the signatures; cancelled); a
  ratio's rows are its denominator's (the closed issues of "closed on time"); a stock (still
  open at the end) the issues opened by the end and neither closed nor cancelled by then.

A person's rows are theirs (an issue's: its assignee's); an org unit's those of its subtree
(a visit's by its site, a submission's by its site else its submitter's unit, an issue's
own unit) made by the people the OKR applies to, as the grade counts them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    String,
    and_,
    cast,
    false,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import as_utc
from rounds.definitions.metrics import Metric
from rounds.errors import NotFound
from rounds.runtime.access import Principal
from rounds.runtime.definitions.models import Definition
from rounds.runtime.issues.models import Issue
from rounds.runtime.okr import service
from rounds.runtime.okr.models import PERSON
from rounds.runtime.okr.periods import period_bounds
from rounds.runtime.okr.views import DrillPage, DrillRow
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.people.models import User
from rounds.runtime.sites.models import Site
from rounds.runtime.store.models import ISSUE_MEASURES, SUBMISSION_MEASURES
from rounds.runtime.submissions.models import Submission
from rounds.runtime.surveys.models import SurveyResponse
from rounds.runtime.visits.models import Visit

Query = Select[*tuple[Any, ...]]  # rows of several columns

# The submission facts the store also counts the campaigns' survey responses in.
RESPONSE_FACTS = frozenset({"submissions", "scored", "score_sum", "percentage_count",
                            "percentage_sum"})

# The issue's column each issue fact is counted by.
ISSUE_DATES: dict[str, Any] = {
    "issues_opened": Issue.created_at, "complaints_opened": Issue.created_at,
    "issues_rectified": Issue.assignee_signed_at, "issues_verified": Issue.assigner_signed_at,
    "issues_closed": Issue.closed_at, "issues_closed_on_time": Issue.closed_at,
    "close_seconds": Issue.closed_at, "issues_overdue": Issue.due_at,
    "issues_escalated": Issue.escalated_at, "issues_cancelled": Issue.updated_at,
}


def population(metric: Metric) -> tuple[str, str]:
    """Which table a metric counts (visit, submission, issue) and by which fact."""
    if metric.formula == "plan":
        return "visit", "checkins"
    if metric.formula == "stock":
        return "issue", "stock"
    if metric.parameter:  # the survey answers' facts: the survey's submissions
        return "submission", metric.facts[-1]
    fact = metric.facts[-1] if metric.formula in ("ratio", "mean") else metric.facts[0]
    if fact in ISSUE_MEASURES:
        return "issue", fact
    if fact in SUBMISSION_MEASURES:
        return "submission", fact
    return "visit", fact


def local_range(first: date, last: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the local days first..last."""
    start = datetime.combine(first, time(), tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=tz)
    return as_utc(start), as_utc(end)


def _in(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


async def rows_behind(db: AsyncSession, principal: Principal, *, okr_id: str, period: str,
                      subject_kind: str, subject_id: int, key_result_id: str, tz: tzinfo,
                      page: int = 1, per_page: int = 50) -> DrillPage:
    """A page of the rows behind a key result (see the module); 404 out of scope."""
    oif = await service.okr_in_force(db, okr_id)
    spec = next((k for k in oif.okr.key_results if k.id == key_result_id), None)
    if spec is None:
        raise NotFound(f"OKR {okr_id!r} has no key result {key_result_id!r}")
    subject = await service.subject_of(db, principal, oif.okr, subject_kind, subject_id)
    first, last = period_bounds(period)
    start, end = local_range(first, last, tz)
    kind, fact = population(spec.metric)
    people = None if subject_kind == PERSON else await service.all_people_ids(db, oif.okr)
    w = _Rows(subject_kind, subject_id,
              select(OrgUnit.id).where(OrgUnit.path.startswith(subject.path)), people,
              start, end)
    if kind == "visit":
        stmt = _visits(w)
    elif kind == "submission":
        stmt = _submissions(w, definition=spec.definition, rows=spec.metric.rows,
                            responses=bool(spec.metric.parameter) or fact in RESPONSE_FACTS)
    else:
        stmt = _issues(w, fact=fact, definition=spec.definition)
    total = int((await db.execute(select(func.count()).select_from(stmt.subquery()))
                 ).scalar_one())
    result = await db.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    items = [_row(kind, r) for r in result.all()]
    facts = list(spec.metric.reads)
    return DrillPage(items=items, total=total, page=page, per_page=per_page, facts=facts)


@dataclass(frozen=True)
class _Rows:
    """Whose rows, where and when: a person's, or an org unit's subtree's of ``people``."""

    subject_kind: str
    subject_id: int
    units: Select[Any]  # the subtree's unit ids
    people: Collection[int] | None
    start: datetime
    end: datetime

    def whose(self, column: Any) -> ColumnElement[bool]:
        if self.subject_kind == PERSON:
            mine: ColumnElement[bool] = column == self.subject_id
            return mine
        return column.in_(list(self.people)) if self.people else false()

    @property
    def of_unit(self) -> bool:
        return self.subject_kind != PERSON


def _visits(w: _Rows) -> Query:
    stmt: Query = (select(Visit.id, Visit.checked_in_at, Visit.user_id, Visit.site_id,
                   Site.org_unit_id, Site.name, Visit.flagged, Visit.checked_out_at)
            .join(Site, Site.id == Visit.site_id)
            .where(_in(Visit.checked_in_at, w.start, w.end), w.whose(Visit.user_id)))
    if w.of_unit:
        stmt = stmt.where(Site.org_unit_id.in_(w.units))
    return stmt.order_by(Visit.checked_in_at, Visit.id)


def _submissions(w: _Rows, *, definition: str | None, rows: str, responses: bool) -> Query:
    """The submissions, and with ``responses`` the campaigns' survey responses, oldest
    first."""
    unit = func.coalesce(Site.org_unit_id, User.org_unit_id)
    stmt: Query = (select(literal("submission", String).label("kind"),
                          Submission.id.label("id"), Submission.happened_at.label("at"),
                          Submission.user_id.label("user_id"),
                          Submission.site_id.label("site_id"), unit.label("unit_id"),
                          Site.name.label("site_name"),
                          Submission.definition_id.label("definition_id"),
                          Submission.percentage.label("percentage"),
                          Submission.score_value.label("score_value"),
                          Submission.passed.label("passed"),
                          Submission.outcome.label("outcome"))
            .join(User, User.id == Submission.user_id)
            .outerjoin(Site, Site.id == Submission.site_id)
            .where(_in(Submission.happened_at, w.start, w.end), w.whose(Submission.user_id)))
    if definition:
        stmt = stmt.where(Submission.definition_id == definition)
    elif rows:
        stmt = stmt.where(Submission.definition_id.in_(
            select(Definition.id).where(Definition.kind == rows)))
    if w.of_unit:
        stmt = stmt.where(unit.in_(w.units))
    if not responses or rows not in ("", "survey"):
        return stmt.order_by(Submission.happened_at, Submission.id)
    r = SurveyResponse
    r_unit = func.coalesce(r.org_unit_id, Site.org_unit_id)
    answered: Query = (select(literal("survey_response", String), r.id, r.happened_at,
                              r.about_user_id, r.site_id, r_unit, Site.name, r.definition_id,
                              r.percentage, r.score_value, cast(null(), Boolean), r.outcome)
                       .outerjoin(Site, Site.id == r.site_id)
                       .where(_in(r.happened_at, w.start, w.end), w.whose(r.about_user_id)))
    if definition:
        answered = answered.where(r.definition_id == definition)
    if w.of_unit:
        answered = answered.where(r_unit.in_(w.units))
    both = union_all(stmt, answered).subquery()
    out: Query = select(*both.c).order_by(both.c.at, both.c.id)
    return out


def _issues(w: _Rows, *, fact: str, definition: str | None) -> Query:
    stmt: Query = select(Issue.id, Issue.created_at, Issue.assignee_id, Issue.site_id,
                  Issue.org_unit_id, Issue.title, Issue.status, Issue.closed_at, Issue.due_at)
    when: Any
    if fact == "stock":
        when = Issue.created_at
        stmt = stmt.where(Issue.created_at < w.end, Issue.status != "cancelled",
                          or_(Issue.closed_at.is_(None), Issue.closed_at >= w.end))
    else:
        when = ISSUE_DATES[fact]
        stmt = stmt.where(_in(when, w.start, w.end))
        if fact in ("issues_closed", "issues_closed_on_time", "close_seconds"):
            stmt = stmt.where(Issue.status == "closed")
        elif fact == "issues_cancelled":
            stmt = stmt.where(Issue.status == "cancelled")
        elif fact == "complaints_opened":
            stmt = stmt.where(Issue.source == "complaint")
    stmt = stmt.where(w.whose(Issue.assignee_id))
    if w.of_unit:
        stmt = stmt.where(Issue.org_unit_id.in_(w.units))
    if definition:
        stmt = stmt.where(Issue.definition_id == definition)
    return stmt.add_columns(when).order_by(when, Issue.id)


def _iso(value: datetime | None) -> str:
    return as_utc(value).isoformat() if value is not None else ""


def _row(kind: str, r: Any) -> DrillRow:
    if kind == "visit":
        vid, at, user_id, site_id, unit_id, name, flagged, out = r
        status = "flagged" if flagged else "checked_out" if out else "checked_in"
        return DrillRow(kind="visit", id=str(vid), at=_iso(at), user_id=user_id,
                        site_id=site_id, org_unit_id=unit_id, title=name, status=status,
                        value=None, link=f"/visits/{vid}")
    if kind == "submission":
        (row_kind, sid, at, user_id, site_id, unit_id, site_name, definition_id, percentage,
         value, passed, outcome) = r
        score = percentage if percentage is not None else value
        if row_kind == "survey_response":  # no page of its own; nothing of who answered
            return DrillRow(kind="survey_response", id=str(sid), at=_iso(at),
                            user_id=user_id, site_id=site_id, org_unit_id=unit_id,
                            title=site_name or "", status=outcome or "", value=percentage,
                            link="", definition_id=definition_id)
        status = ("submitted" if passed is None else "passed" if passed else "failed")
        return DrillRow(kind="submission", id=str(sid), at=_iso(at), user_id=user_id,
                        site_id=site_id, org_unit_id=unit_id, title=definition_id,
                        status=status, value=score, link=f"/submissions/{sid}",
                        definition_id=definition_id)
    iid, _created, assignee, site_id, unit_id, title, status, _closed, _due, when = r
    return DrillRow(kind="issue", id=str(iid), at=_iso(when), user_id=assignee,
                    site_id=site_id, org_unit_id=unit_id, title=title, status=status,
                    value=None, link=f"/issues/{iid}")
