"""The metrics catalogue: every figure an OKR key result or a dashboard can name.

A metric is declared once, as data: its meaning and unit in both languages, which way is
better, the query store's facts it reads (``rounds.runtime.store.models.MEASURES``) and how
they make its value over a period:

- ``ratio``: Σ numerator / Σ denominator (× ``scale``); no value when the denominator is 0;
- ``mean``: Σ sum / Σ count (× ``scale``), the same with a count;
- ``total``: Σ of the facts;
- ``stock``: Σ plus − Σ minus over all history up to the period's end (what is still open);
- ``plan``: from the plan per person and site (``store_month_sites``): ``done_ratio`` is
  Σ min(done, planned) / Σ planned (visits beyond a site's plan do not make up for another
  site), ``coverage`` planned sites visited at least once / planned sites, ``per_site``
  check-ins / planned sites.

``rows`` keeps a metric to the rows of standards or of surveys (their ``definition_kind``);
``definition`` says whether a key result may (``optional``) or must (``required``) name one
definition to read, or may not (``none``). ``parameter`` names what else a key result must
say: ``item`` (a scale item of its survey: ``surveys.item_mean``) or ``level`` (an outcome
level of its survey: ``surveys.outcome_share``); those metrics read the survey answers'
facts (:data:`ANSWER_FACTS`) instead of the day rows' measures. Extensions add metrics with
:func:`register_metric`; ``rounds definitions validate`` refuses a key result whose metric is
not in the catalogue (``unknown_metric``). ``docs/metrics.md`` is this catalogue for people.

Pure: no database. The store slice reads the facts and calls :func:`value_of`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

HIGHER_BETTER = "higher_better"
LOWER_BETTER = "lower_better"
# ``submissions.avg_score`` is better the way its definition scores (``scoring.direction``).
DEFINITION_DIRECTION = "definition"

UNITS = ("ratio", "percent", "count", "points", "minutes", "hours")
FORMULAS = ("ratio", "mean", "total", "stock", "plan")
PLAN_FIGURES = ("done_ratio", "coverage", "per_site")
PARAMETERS = ("", "item", "level")
# What the metrics with a parameter read (the store's survey answer facts, for the item or
# the levels named): Σ answers and how many of the item; responses at or above the level,
# and responses with an outcome.
ANSWER_FACTS = ("answer_sum", "answer_count", "at_level", "with_outcome")


@dataclass(frozen=True)
class Metric:
    id: str
    title: Mapping[str, str]
    description: Mapping[str, str]
    unit: str
    direction: str
    formula: str
    # ratio: (numerator, denominator); mean: (sum, count); total: the facts; stock:
    # (plus, minus...); plan: (figure,)
    facts: tuple[str, ...]
    scale: float = 1.0
    rows: str = ""  # "", "standard" or "survey"
    definition: str = "optional"  # none, optional, required
    minus: tuple[str, ...] = field(default=())  # stock: what is taken away
    parameter: str = ""  # "", "item" or "level": what else a key result names

    @property
    def reads(self) -> tuple[str, ...]:
        """The store's facts this metric reads."""
        if self.formula == "plan":
            return ("planned", "visits_done", "checkins")
        return self.facts + self.minus


CATALOGUE: dict[str, Metric] = {}


def register_metric(metric: Metric) -> Metric:
    """Add a metric (an extension's); the same id twice is a mistake, not an override."""
    if metric.id in CATALOGUE and CATALOGUE[metric.id] != metric:
        raise ValueError(f"metric {metric.id!r} is registered already")
    if metric.unit not in UNITS or metric.formula not in FORMULAS:
        raise ValueError(f"metric {metric.id!r}: unit or formula not known")
    if metric.direction not in (HIGHER_BETTER, LOWER_BETTER, DEFINITION_DIRECTION):
        raise ValueError(f"metric {metric.id!r}: direction {metric.direction!r}")
    if metric.parameter not in PARAMETERS or (
            metric.parameter and metric.definition != "required"):
        raise ValueError(f"metric {metric.id!r}: parameter {metric.parameter!r} (a metric "
                         "with a parameter reads one definition: definition='required')")
    CATALOGUE[metric.id] = metric
    return metric


def value_of(metric: Metric, sums: Mapping[str, float]) -> float | None:
    """The metric's value from the summed facts of a period (``plan`` figures come in
    ``sums`` under their own name, computed by the store: they are not sums of rows)."""
    if metric.formula == "plan":
        return sums.get(metric.facts[0])
    if metric.formula in ("ratio", "mean"):
        top, bottom = sums.get(metric.facts[0], 0.0), sums.get(metric.facts[1], 0.0)
        return None if not bottom else top / bottom * metric.scale
    if metric.formula == "stock":
        return (sum(sums.get(f, 0.0) for f in metric.facts)
                - sum(sums.get(f, 0.0) for f in metric.minus))
    return sum(sums.get(f, 0.0) for f in metric.facts) * metric.scale


def _m(id: str, zh: str, en: str, zh_about: str, en_about: str,  # noqa: PLR0917 (a table row)
       unit: str, direction: str, formula: str, *facts: str, **more: object) -> None:
    register_metric(Metric(id, {"zh": zh, "en": en}, {"zh": zh_about, "en": en_about}, unit,
                           direction, formula, facts, **more))  # type: ignore[arg-type]


_m("visits.done_ratio", "计划走访完成率", "Planned visits done",
   "按户计：每户完成的走访不超过该户计划数，合计后除以计划走访总数。",
   "Per site: visits done up to the site's plan, summed, over all planned visits.",
   "ratio", HIGHER_BETTER, "plan", "done_ratio", definition="none")
_m("visits.coverage", "走访覆盖率", "Coverage of assigned sites",
   "计划内的零售户中，本期至少走访过一次的占比。",
   "Share of the planned sites visited at least once in the period.",
   "ratio", HIGHER_BETTER, "plan", "coverage", definition="none")
_m("visits.per_site", "户均走访次数", "Visits per site",
   "本期到店打卡次数除以计划内零售户数。",
   "Check-ins in the period over the planned sites.",
   "count", HIGHER_BETTER, "plan", "per_site", definition="none")
_m("visits.count", "走访次数", "Visits",
   "本期到店打卡的次数（含异常打卡）。", "Check-ins in the period, flagged ones included.",
   "count", HIGHER_BETTER, "total", "checkins", definition="none")
_m("visits.avg_minutes", "平均在店时长", "Average time on site",
   "已签退的走访，从打卡到签退的平均分钟数。",
   "Minutes from check-in to check-out, on average, of the visits checked out.",
   "minutes", HIGHER_BETTER, "mean", "visit_seconds", "checkouts", scale=1 / 60,
   definition="none")
_m("checkins.flagged_ratio", "异常打卡占比", "Share of flagged check-ins",
   "定位超出范围或精度不足的打卡占全部打卡的比例，越低越好。",
   "Check-ins out of range or with a poor fix, over all check-ins; lower is better.",
   "ratio", LOWER_BETTER, "ratio", "checkins_flagged", "checkins", definition="none")
_m("submissions.count", "提交表单数", "Forms submitted",
   "本期提交的标准表单份数。", "Standard forms submitted in the period.",
   "count", HIGHER_BETTER, "total", "submissions", rows="standard")
_m("submissions.avg_percentage", "平均得分率", "Average score (percent)",
   "按百分制计分的标准表单，得分率的平均值。",
   "The average percentage of the standard forms scored as a percentage.",
   "percent", HIGHER_BETTER, "mean", "percentage_sum", "percentage_count", rows="standard")
_m("submissions.avg_score", "平均得分", "Average score",
   "所选标准按其计分方式的平均得分；扣分制越低越好。",
   "The average score of one standard in its own model; for demerits lower is better.",
   "points", DEFINITION_DIRECTION, "mean", "score_sum", "scored", rows="standard",
   definition="required")
_m("submissions.pass_ratio", "合格率", "Pass rate",
   "判定了合格与否的标准表单中，合格的占比。",
   "Of the standard forms judged pass or fail, the share that passed.",
   "ratio", HIGHER_BETTER, "ratio", "passed", "judged", rows="standard")
_m("submissions.failed_item_rate", "每份未达标项数", "Failed items per form",
   "每份标准表单平均的未达标项数，越低越好。",
   "Failed items per standard form, on average; lower is better.",
   "count", LOWER_BETTER, "ratio", "failed_items", "submissions", rows="standard")
_m("alerts.count", "预警次数", "Alerts",
   "表单触发的预警条数，越少越好。", "Alerts raised by forms; fewer is better.",
   "count", LOWER_BETTER, "total", "alerts")
_m("surveys.count", "回收答卷数", "Surveys answered",
   "本期回收的答卷份数。", "Survey answers received in the period.",
   "count", HIGHER_BETTER, "total", "submissions", rows="survey")
_m("surveys.avg_percentage", "问卷平均得分率", "Average survey score (percent)",
   "按百分制计分的答卷，得分率的平均值。",
   "The average percentage of the surveys scored as a percentage.",
   "percent", HIGHER_BETTER, "mean", "percentage_sum", "percentage_count", rows="survey")
_m("surveys.item_mean", "问卷单题平均分", "Survey question mean",
   "所选问卷中某一量表题（如 1–5 分）的平均分，不含“不适用”。",
   "The mean answer to one scale question of a survey (such as 1–5), “not applicable” left "
   "out.",
   "points", HIGHER_BETTER, "mean", "answer_sum", "answer_count", rows="survey",
   definition="required", parameter="item")
_m("surveys.outcome_share", "问卷结果达标占比", "Share at or above an outcome level",
   "所选问卷的答卷中，结果等级达到所选等级或更高（按问卷中等级的先后）的占比。",
   "Of the survey's responses with an outcome, the share at the named level or one listed "
   "after it in the survey's outcome.",
   "ratio", HIGHER_BETTER, "ratio", "at_level", "with_outcome", rows="survey",
   definition="required", parameter="level")
_m("issues.opened", "新增问题数", "Issues opened",
   "本期新发现（未达标项、交办、投诉）的问题数。", "Issues opened in the period, from any source.",
   "count", LOWER_BETTER, "total", "issues_opened")
_m("issues.closed", "销号问题数", "Issues closed",
   "本期验收销号的问题数。", "Issues closed (signed off) in the period.",
   "count", HIGHER_BETTER, "total", "issues_closed")
_m("issues.closed_on_time_ratio", "问题按期销号率", "Issues closed on time",
   "本期销号的问题中，在整改期限内销号的占比。",
   "Of the issues closed in the period, the share closed by their deadline.",
   "ratio", HIGHER_BETTER, "ratio", "issues_closed_on_time", "issues_closed")
_m("issues.overdue_count", "逾期问题数", "Issues overdue",
   "整改期限落在本期、到期仍未销号的问题数。",
   "Issues due in the period and not closed by their deadline.",
   "count", LOWER_BETTER, "total", "issues_overdue")
_m("issues.escalated_count", "督办问题数", "Issues escalated",
   "本期因逾期督办的问题数。", "Issues escalated for being overdue in the period.",
   "count", LOWER_BETTER, "total", "issues_escalated")
_m("issues.open_count", "期末未销号问题数", "Issues still open at the end",
   "截至期末仍未销号（也未撤销）的问题数，越少越好。",
   "Issues opened by the period's end and neither closed nor cancelled by then.",
   "count", LOWER_BETTER, "stock", "issues_opened",
   minus=("issues_closed", "issues_cancelled"))
_m("issues.avg_close_hours", "平均销号用时", "Average time to close",
   "本期销号的问题，从发现到销号的平均小时数。",
   "Hours from opening to closing, on average, of the issues closed in the period.",
   "hours", LOWER_BETTER, "mean", "close_seconds", "issues_closed", scale=1 / 3600)
_m("complaints.count", "投诉数", "Complaints",
   "本期收到的投诉类问题数。", "Complaints received in the period.",
   "count", LOWER_BETTER, "total", "complaints_opened")
