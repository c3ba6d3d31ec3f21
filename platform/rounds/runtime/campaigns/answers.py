"""A campaign's answers, aggregated per question: what a market survey task found.

Only the answers of the campaign's own work count: for the current draw, the latest
submission of each assignment, matched as progress matches them (``service._worked``: the
campaign's form, the drawn site, a member of its team, within the period). A submission
at another site, by someone else, of another form or outside the period is not in any
question's figures; an earlier submission of an assignment that was submitted again is
replaced by the later one.

The questions are the items of the form's current version, in its order (an item of an
older version that the current one dropped is not shown; answers are matched by item id).
Per type:

- ``single_choice``, ``multiple_choice``, ``yes_no``, ``check``: a count and a share (of
  the submissions) per choice, labels in Chinese and English from the definition (yes/no
  from the catalogue); a multiple choice's shares may add up to more than 1;
- ``number``, ``scale``: n, mean, median, min and max, and the mean per stratum;
- ``text``: the answers with their site's code and name, by site code;
- every question: how many submissions answered it and how many did not (a hidden item's
  answer is dropped at submission, so it counts as not answered).

Photos, signatures, positions, dates and groups are not aggregated.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.definitions.items import items_of
from rounds.errors import NotFound
from rounds.i18n import pick, text
from rounds.runtime.access import Principal
from rounds.runtime.campaigns.models import CampaignAssignment, CampaignDraw, CheckCampaign
from rounds.runtime.campaigns.service import MANAGE, _campaign, _draws, _worked, spec_of
from rounds.runtime.definitions.service import current_versions
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.sites.models import Site
from rounds.runtime.submissions.models import Submission

CHOICE_TYPES = ("single_choice", "multiple_choice", "yes_no", "check")
NUMBER_TYPES = ("number", "scale")
TEXT_TYPES = ("text",)
LANGS = ("zh", "en")


@dataclass(frozen=True)
class Label:
    zh: str
    en: str

    def of(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


def _label(value: Any, fallback: str) -> Label:
    return Label(*(pick(value, lang, fallback) for lang in LANGS))


def _word(key: str) -> Label:
    return Label(*(text("fieldwork", lang, key) for lang in LANGS))


@dataclass(frozen=True)
class ChoiceCount:
    value: str
    label: Label
    count: int
    share: float | None  # of the submissions; None when there are none


@dataclass(frozen=True)
class StratumMean:
    stratum: str  # the draw's stratum key: an org unit's id, a grade, or "all"
    label: Label  # the org unit's name for an org unit's id, else the key
    n: int
    mean: float


@dataclass(frozen=True)
class NumberStats:
    n: int
    mean: float | None
    median: float | None
    min: float | None
    max: float | None
    by_stratum: list[StratumMean]


@dataclass(frozen=True)
class TextAnswer:
    site_id: int | None
    site_code: str
    site_name: str
    submission_id: str
    text: str


@dataclass(frozen=True)
class QuestionAnswers:
    item_id: str
    type: str
    section_id: str
    title: Label
    unit: Label | None
    answered: int
    not_answered: int
    choices: list[ChoiceCount] = field(default_factory=list)
    number: NumberStats | None = None
    texts: list[TextAnswer] = field(default_factory=list)


@dataclass(frozen=True)
class CampaignAnswers:
    campaign: CheckCampaign
    form_id: str
    form_kind: str
    form_title: Label
    version_number: int | None  # the form version whose questions are listed
    draw_number: int | None
    sample_size: int  # the sites the current draw drew
    submissions: int  # the assignments with a submission (each counted once)
    questions: list[QuestionAnswers]


@dataclass(frozen=True)
class _Filled:
    """One counted submission: its answers, its site and its assignment's stratum."""

    id: str
    answers: Mapping[str, Any]
    stratum: str
    site_id: int | None
    site_code: str
    site_name: str


async def _counted(db: AsyncSession, campaign: CheckCampaign, current: CampaignDraw,
                   tz: dt.tzinfo) -> tuple[int, list[_Filled]]:
    """The current draw's size and the latest submission of each of its assignments."""
    assignments = list((await db.execute(select(CampaignAssignment).where(
        CampaignAssignment.draw_id == current.id))).scalars())
    worked = await _worked(db, campaign, assignments, tz)
    stratum = {worked[a.id].submission_id: a.stratum for a in assignments
               if worked[a.id].submission_id is not None}
    if not stratum:
        return len(assignments), []
    rows = (await db.execute(
        select(Submission.id, Submission.answers, Submission.site_id, Site.code, Site.name)
        .outerjoin(Site, Site.id == Submission.site_id)
        .where(Submission.id.in_(list(stratum)))
        .order_by(Site.code, Submission.id))).all()
    return len(assignments), [
        _Filled(sid, answers or {}, stratum[sid], site_id, code or "", name or "")
        for sid, answers, site_id, code, name in rows]


def _key(value: Any) -> str:
    """A stored answer as a choice's value: numeric choices may arrive as numbers."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _answered(value: Any) -> bool:
    return value is not None and value != "" and value != []


def _choices(item: Mapping[str, Any], filled: list[_Filled]) -> list[ChoiceCount]:
    kind = item.get("type")
    if kind in ("yes_no", "check"):
        options = [("yes", _word("yes")), ("no", _word("no"))]
        if kind == "yes_no" and item.get("allow_na"):
            options.append(("na", _word("na")))
    else:
        options = [(_key(c.get("value")), _label(c.get("label"), _key(c.get("value"))))
                   for c in item.get("choices") or [] if isinstance(c, Mapping)]
    counts: dict[str, int] = defaultdict(int)
    for f in filled:
        value = f.answers.get(str(item.get("id")))
        for v in value if isinstance(value, list) else [value]:
            if _answered(v):
                counts[_key(v)] += 1
    known = {v for v, _ in options}
    # An answer the current version no longer offers is still counted, under its value.
    options += [(v, Label(v, v)) for v in sorted(counts) if v not in known]
    n = len(filled)
    return [ChoiceCount(v, label, counts[v], counts[v] / n if n else None)
            for v, label in options]


def _number(values: list[tuple[str, float]], strata: Mapping[str, Label]) -> NumberStats:
    if not values:
        return NumberStats(0, None, None, None, None, [])
    numbers = [v for _, v in values]
    per: dict[str, list[float]] = defaultdict(list)
    for stratum, v in values:
        per[stratum].append(v)
    return NumberStats(
        n=len(numbers), mean=statistics.fmean(numbers), median=statistics.median(numbers),
        min=min(numbers), max=max(numbers),
        by_stratum=[StratumMean(s, strata.get(s) or Label(s, s), len(vs), statistics.fmean(vs))
                    for s, vs in sorted(per.items())])


def _question(item: Mapping[str, Any], section: str, filled: list[_Filled],
              strata: Mapping[str, Label]) -> QuestionAnswers | None:
    kind, item_id = str(item.get("type")), str(item.get("id"))
    if kind not in (*CHOICE_TYPES, *NUMBER_TYPES, *TEXT_TYPES):
        return None
    given = [(f, f.answers.get(item_id)) for f in filled]
    answered = sum(1 for _, v in given if _answered(v))
    unit = _label(item["unit"], "") if item.get("unit") else None
    base = QuestionAnswers(item_id=item_id, type=kind, section_id=section,
                           title=_label(item.get("title"), item_id), unit=unit,
                           answered=answered, not_answered=len(filled) - answered)
    if kind in CHOICE_TYPES:
        return replace(base, choices=_choices(item, filled))
    if kind in NUMBER_TYPES:
        # A scale's "na" (not applicable) is an answer, but no number.
        values = [(f.stratum, float(v)) for f, v in given
                  if isinstance(v, int | float) and not isinstance(v, bool)]
        return replace(base, number=_number(values, strata))
    return replace(base, texts=[
        TextAnswer(f.site_id, f.site_code, f.site_name, f.id, str(v))
        for f, v in given if _answered(v)])


async def _strata(db: AsyncSession, by: str | None, keys: set[str]) -> dict[str, Label]:
    """The strata's names: an org unit's stratum key is its id (named by the unit), a
    grade's is the grade (``""``: none); one stratum is ``"all"``."""
    def word(key: str) -> Label:
        return Label(*(text("campaign_answers", lang, key) for lang in LANGS))

    out = {k: Label(k, k) for k in keys}
    if "all" in keys and by is None:
        out["all"] = word("stratum_all")
    if by == "grade":
        out = {k: Label(*(text("campaign_answers", lang, "stratum_grade", grade=k)
                          for lang in LANGS)) if k else word("stratum_no_grade")
               for k in keys}
    ids = [int(k) for k in keys if k.isdigit()] if by == "org_unit" else []
    if ids:
        rows = await db.execute(select(OrgUnit.id, OrgUnit.name_zh, OrgUnit.name_en).where(
            OrgUnit.id.in_(ids)))
        out |= {str(i): Label(zh, en or zh) for i, zh, en in rows}
    return out


async def campaign_answers(db: AsyncSession, principal: Principal, campaign_id: int,
                           tz: dt.tzinfo = dt.UTC) -> CampaignAnswers:
    """The campaign's answers per question (see the module's notes); ``tz`` is the
    company's time zone, in which the period's days are taken."""
    principal.require(MANAGE)
    return await answers_of(db, await _campaign(db, campaign_id), tz)


async def answers_of(db: AsyncSession, campaign: CheckCampaign, tz: dt.tzinfo = dt.UTC,
                     *, texts: bool = True) -> CampaignAnswers:
    """:func:`campaign_answers` of a campaign already read, whoever asks: the caller has
    checked that they may see it (the public record asks for a closed campaign's, without
    ``texts``: a free-text answer may hold personal data, so it is never published)."""
    campaign_id = campaign.id
    spec = spec_of(campaign)
    current = next((d for d in await _draws(db, campaign_id) if d.superseded_by is None),
                   None)
    size, filled = (await _counted(db, campaign, current, tz)) if current else (0, [])
    version = (await current_versions(db, ids=[campaign.standard_id])).get(
        campaign.standard_id)
    if version is None:  # the spec was checked against it: it was withdrawn since
        raise NotFound(f"the form {campaign.standard_id!r} of check campaign {campaign_id} "
                       "no longer exists")
    content = dict(version.content)
    strata = await _strata(db, spec.sample.stratify_by, {f.stratum for f in filled})
    questions = [q for ref in items_of(content) if ref.group is None
                 for q in [_question(ref.item, ref.section, filled, strata)] if q is not None
                 and (texts or q.type not in TEXT_TYPES)]
    return CampaignAnswers(
        campaign=campaign, form_id=campaign.standard_id, form_kind=spec.form_kind,
        form_title=_label(content.get("title"), campaign.standard_id),
        version_number=version.number, draw_number=current.number if current else None,
        sample_size=size, submissions=len(filled), questions=questions)


# -- as a table (the CSV export) -----------------------------------------------------------------


def _stat_words(lang: str) -> dict[str, str]:
    return {k: text("campaign_answers", lang, k) for k in (
        "n", "mean", "median", "min", "max", "not_answered", "submissions", "sample_size")}


def header(lang: str) -> list[str]:
    return [text("campaign_answers", lang, k) for k in (
        "col_question_id", "col_question", "col_type", "col_row", "col_key", "col_label",
        "col_value", "col_share", "col_unit")]


def rows(answers: CampaignAnswers, lang: str) -> Iterator[list[Any]]:
    """One row per question × choice, per statistic, per stratum's mean and per text
    answer; first the whole campaign's submissions and sample size."""
    words = _stat_words(lang)
    form = answers.form_title.of(lang)
    yield ["", form, answers.form_kind, "stat", "submissions", words["submissions"],
           answers.submissions, None, None]
    yield ["", form, answers.form_kind, "stat", "sample_size", words["sample_size"],
           answers.sample_size, None, None]
    n = answers.submissions
    for q in answers.questions:
        head = [q.item_id, q.title.of(lang), q.type]
        unit = q.unit.of(lang) if q.unit else None
        for c in q.choices:
            yield [*head, "choice", c.value, c.label.of(lang), c.count, c.share, None]
        yield [*head, "not_answered", "not_answered", words["not_answered"], q.not_answered,
               q.not_answered / n if n else None, None]
        if q.number is not None:
            stats = q.number
            for key in ("n", "mean", "median", "min", "max"):
                yield [*head, "stat", key, words[key], getattr(stats, key), None,
                       None if key == "n" else unit]
            for s in stats.by_stratum:
                yield [*head, "stratum_mean", s.stratum, text(
                    "campaign_answers", lang, "stratum_mean", stratum=s.label.of(lang), n=s.n),
                       s.mean, None, unit]
        for t in q.texts:
            yield [*head, "text", t.site_code, t.site_name, t.text, None, None]
