"""The shapes OKR grades are shown in: the JSON of ``/api/okr/...`` and what the dashboards
render. Texts come in every language (``{"zh": …, "en": …}``): the reader picks theirs.

Imports nothing of the slice, so the services return these and the handlers send them.
"""

from __future__ import annotations

import msgspec

from rounds.web.paging import Page

Texts = dict[str, str]


class OkrSummary(msgspec.Struct, kw_only=True):
    """An OKR in force: what it is, whom it grades, how often, with which grades."""

    id: str
    version_id: int
    title: Texts
    period: str  # week | month | quarter | year
    applies_to: list[str]
    grades: list[GradeLevelView]
    notify_below: float
    key_results: list[KeyResultBrief]  # id, title, metric (value, grade, score None here)


class GradeLevelView(msgspec.Struct, kw_only=True):
    id: str
    title: Texts
    score: float


class KeyResultBrief(msgspec.Struct, kw_only=True):
    """A key result in a table's row: its value, grade and score (None: no value)."""

    id: str
    objective_id: str
    title: Texts
    metric: str
    value: float | None = None
    grade: str | None = None
    score: float | None = None


class GradeRow(msgspec.Struct, kw_only=True):
    """One subject's grade on an OKR for a period (a row of the grade tables)."""

    okr_id: str
    period: str
    subject_kind: str  # person | org_unit
    subject_id: int
    name: Texts  # the person's name, or the unit's name in each language
    org_unit_id: int  # the person's unit, or the unit itself
    unit_kind: str  # the unit's kind (city, station, area…)
    parent_id: int | None  # of the unit (a person: their unit)
    score: float | None  # 0..1; None: no key result had a value
    grade: str | None
    grade_title: Texts | None
    frozen: bool  # a snapshot of a closed period, or computed now from the store
    computed_at: str | None  # when the snapshot was made (None: computed now)
    key_results: list[KeyResultBrief]
    link: str  # the API address of this grade with its explanation


class KeyResultView(msgspec.Struct, kw_only=True):
    """A key result explained: the metric, its value, the facts it came from, the grade."""

    id: str
    title: Texts
    metric: str
    metric_title: Texts
    unit: str  # ratio, percent, count, points, minutes, hours
    direction: str  # higher_better, lower_better, definition
    definition: str | None
    value: float | None
    target: float
    sums: dict[str, float]  # the store's facts over the period
    sums_in_words: Texts  # "flagged check-ins 2 ÷ check-ins 40 = 0.05"
    grade: str | None
    grade_title: Texts | None
    score: float | None
    weight: float  # as the definition gives it
    weight_used: float  # its share of the objective, after leaving out those without value
    left_out: str | None  # no_value | rule_failed
    line: Texts  # the whole key result in one sentence
    rows: str  # API address of the visits / submissions / issues behind it


class ObjectiveView(msgspec.Struct, kw_only=True):
    id: str
    title: Texts
    weight: float
    weight_used: float
    score: float | None
    left_out: str | None
    line: Texts
    key_results: list[KeyResultView]


class GradeDetail(GradeRow, kw_only=True):
    """A grade with its explanation."""

    okr_title: Texts
    version_id: int
    first_day: str
    last_day: str
    objectives: list[ObjectiveView]
    left_out: list[str]  # key results left out (weights renormalised)
    explanation: list[Texts]  # the overall line, what was left out, each objective


class DrillRow(msgspec.Struct, kw_only=True):
    """A raw row behind a key result: a visit, a submission, a campaign's survey response
    or an issue, with its page."""

    kind: str  # visit | submission | survey_response | issue
    id: str
    at: str  # when it counts (check-in, when the work was done, the date that counts)
    user_id: int | None  # a survey response's: the staff member it is about
    site_id: int | None
    org_unit_id: int | None
    title: str  # site name, definition id, the response's shop name or issue title
    status: str  # visit: flagged, checked_in, checked_out; submission: submitted, passed,
    # failed; survey response: its outcome level id ('' without one); issue: its status
    value: float | None  # a submission's percentage (else its score value); a survey
    # response's percentage (None when its survey does not score as a percentage)
    link: str  # the page that shows it ('' for a survey response: none shows one alone)
    definition_id: str | None = None  # a submission's or survey response's definition


class DrillPage(Page[DrillRow]):
    items: list[DrillRow]
    facts: list[str]  # which facts the rows are counted in
