"""A survey campaign's results: responses against the target, each question's distribution,
scores and outcome levels overall and by station, staff member and shop grade, the free-text
answers; and the industry users' view of the same, where no group smaller than the minimum
group size is shown (``settings.surveys.min_group``), with the market's demand trends.

Pure reads with explicit arguments (the campaign, the reader's language, the time zone, the
org units a reader may see). Labels come from the survey version the campaign pinned, in
the reader's language; the product's own words from the ``survey_results`` catalogue.

Cost. The scores are aggregated in the database: one ``GROUP BY (site, unit, staff member,
outcome)`` over the campaign's responses (index ``campaign_id, submitted_at``) gives a few
rows per shop, rolled up here into overall, station, staff and grade figures. The
per-question counts read the ``answers`` JSON: only that column, streamed from a
server-side cursor a batch at a time (one pass, constant memory), because a multiple
choice's list, a scale's ``"na"`` and a number are not counted alike by SQLite's and
PostgreSQL's JSON functions. The free-text search reads the same column (a substring of a
JSON string cannot be matched in SQL alike on both databases: SQLite may keep ``\\uXXXX``
escapes). A campaign holds thousands to tens of thousands of responses; a pass is a few
hundred milliseconds at most.

Groups. A station is the response's ``org_unit_id`` (the shop's unit; a consumer's response
through a campaign-wide link has none: "no station"). A staff member is the one the response
is about (a survey that follows a visit), else the shop's customer manager (its
``SiteAssignment``); none for an anonymous response without a shop. Shop grades (档位
1–30) are grouped in bands of five: 1–5, 6–10, …, 26–30, then "above 30" and "no grade".

Imports: definitions (the pinned version), orgs, people, sites, submissions (the market
survey's submissions for the demand trends), this slice's models.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import as_utc
from rounds.definitions.items import items_of
from rounds.errors import NotFound
from rounds.i18n import pick
from rounds.i18n import text as i18n_text
from rounds.runtime.definitions.models import DefinitionVersion
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.people.models import User
from rounds.runtime.sites.models import Site, SiteAssignment
from rounds.runtime.submissions.models import Submission
from rounds.runtime.surveys.models import DRAFT, SurveyCampaign, SurveyResponse

DOMAIN = "survey_results"
BATCH = 500  # answers read from the cursor at a time
CHOICE_TYPES = ("single_choice", "multiple_choice", "yes_no", "check")
NUMBER_TYPES = ("scale", "number")
TEXT_TYPES = ("text",)
NA = "na"
GRADE_BAND = 5  # shop grades grouped five at a time
GRADE_TOP = 30  # the highest grade of the scheme; above it: "above 30"
MARKET_SURVEY = "market_price_stock"  # the staff's market survey the demand trends read
TREND_MONTHS = 6


def say(lang: str, key: str, /, **fields: Any) -> str:
    return i18n_text(DOMAIN, lang, key, **fields)


# -- what the results are made of ----------------------------------------------------------

@dataclass(frozen=True)
class KindCount:
    kind: str  # retailer, consumer, industry
    label: str
    count: int


@dataclass(frozen=True)
class Overview:
    campaign_id: int
    title: str
    survey_id: str
    survey_title: str
    audience: str
    status: str
    count: int
    target: int
    rate: float | None  # count / target (may pass 1)
    by_kind: list[KindCount]
    first_day: dt.date | None  # in the company's time zone
    last_day: dt.date | None


@dataclass(frozen=True)
class ChoiceCount:
    value: str
    label: str
    count: int
    share: float | None  # of the responses that answered the question


@dataclass(frozen=True)
class Question:
    item_id: str
    type: str
    title: str
    answered: int  # with an answer other than "not applicable"
    not_applicable: int
    unanswered: int
    choices: list[ChoiceCount] = field(default_factory=list)  # choice types and scales
    mean: float | None = None  # numbers and scales
    min: float | None = None
    max: float | None = None
    suppressed: bool = False  # the industry view: fewer answers than the minimum group


@dataclass(frozen=True)
class LevelCount:
    level: str
    label: str
    count: int
    share: float | None


@dataclass(frozen=True)
class ScoreGroup:
    key: str
    name: str
    count: int
    mean_percentage: float | None
    mean_value: float | None
    levels: list[LevelCount]
    suppressed: bool = False


@dataclass(frozen=True)
class Scores:
    model: str  # percentage | sum | mean
    direction: str
    outcome_title: str | None  # the survey's first outcome, whose levels are counted
    overall: ScoreGroup
    by_station: list[ScoreGroup]
    by_staff: list[ScoreGroup]
    by_grade: list[ScoreGroup]
    # Each level's place from worst (0) to best (1), in the levels' order: what colours a
    # level in a chart (red for the worst, green for the best), whichever order they are in.
    level_tones: tuple[float, ...] = ()


def level_tones(levels: Sequence[Mapping[str, Any]], direction: str) -> tuple[float, ...]:
    """Each level's place from worst (0) to best (1): by the lower bound of its band (a
    level without one counts as the lowest), reversed when lower scores are better."""
    if len(levels) < 2:
        return tuple(1.0 for _ in levels)
    lows = [float(lv["min"]) if isinstance(lv.get("min"), int | float) else float("-inf")
            for lv in levels]
    order = sorted(range(len(levels)), key=lambda i: (lows[i], i))
    rank = {i: n / (len(levels) - 1) for n, i in enumerate(order)}
    return tuple((1 - rank[i]) if direction == "lower_better" else rank[i]
                 for i in range(len(levels)))


@dataclass(frozen=True)
class Results:
    overview: Overview
    questions: list[Question]
    scores: Scores
    texts_total: int


@dataclass(frozen=True)
class TextAnswer:
    response_id: str
    at: dt.datetime
    item_id: str
    question: str
    text: str
    site_name: str | None  # the shop's name; never a consumer's identity


# -- the campaign and its survey version -----------------------------------------------------

async def campaign_of(db: AsyncSession, campaign_id: int, *, drafts: bool = True
                      ) -> SurveyCampaign:
    campaign = await db.get(SurveyCampaign, campaign_id)
    if campaign is None or (not drafts and campaign.status == DRAFT):
        raise NotFound(f"no survey campaign {campaign_id}")
    return campaign


async def survey_content(db: AsyncSession, campaign: SurveyCampaign) -> dict[str, Any]:
    content = (await db.execute(select(DefinitionVersion.content).where(
        DefinitionVersion.id == campaign.version_id))).scalar_one_or_none()
    if not isinstance(content, Mapping):
        raise NotFound(f"the survey version of campaign {campaign.id} is missing")
    return dict(content)


def question_items(content: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The survey's questions in its order (group entry fields and photos aside)."""
    return [ref.item for ref in items_of(dict(content)) if ref.group is None
            and ref.item.get("type") in (*CHOICE_TYPES, *NUMBER_TYPES, *TEXT_TYPES)]


def outcome_levels(content: Mapping[str, Any]) -> tuple[dict[str, Any] | None,
                                                         list[dict[str, Any]]]:
    """The survey's first outcome (the one a response's ``outcome`` column holds the level
    of) and its levels in the definition's order."""
    outcomes = content.get("outcomes") or []
    first = outcomes[0] if outcomes and isinstance(outcomes[0], Mapping) else None
    levels = [lv for lv in (first or {}).get("levels") or [] if isinstance(lv, Mapping)]
    return (dict(first) if first else None), [dict(lv) for lv in levels]


def _in_units(units: Sequence[int] | None) -> Any:
    return True if units is None else SurveyResponse.org_unit_id.in_(list(units))


def _where(campaign: SurveyCampaign, units: Sequence[int] | None) -> list[Any]:
    conds: list[Any] = [SurveyResponse.campaign_id == campaign.id]
    if units is not None:
        conds.append(_in_units(units))
    return conds


# -- responses ---------------------------------------------------------------------------------

async def overview(db: AsyncSession, campaign: SurveyCampaign, content: Mapping[str, Any], *,
                   lang: str, tz: dt.tzinfo, units: Sequence[int] | None = None) -> Overview:
    r = SurveyResponse
    rows = (await db.execute(
        select(r.respondent, func.count(), func.min(r.submitted_at), func.max(r.submitted_at))
        .where(*_where(campaign, units)).group_by(r.respondent))).all()
    by_kind = [KindCount(kind, say(lang, f"kind_{kind}"), n) for kind, n, _, _ in
               sorted(rows, key=lambda row: str(row[0]))]
    count = sum(k.count for k in by_kind)
    firsts = [as_utc(row[2]) for row in rows if row[2] is not None]
    lasts = [as_utc(row[3]) for row in rows if row[3] is not None]
    return Overview(
        campaign_id=campaign.id, title=campaign.title, survey_id=campaign.survey_id,
        survey_title=pick(content.get("title"), lang, campaign.survey_id),
        audience=campaign.audience, status=campaign.status, count=count,
        target=campaign.target_responses,
        rate=count / campaign.target_responses if campaign.target_responses else None,
        by_kind=by_kind,
        first_day=min(firsts).astimezone(tz).date() if firsts else None,
        last_day=max(lasts).astimezone(tz).date() if lasts else None)


async def _answers(db: AsyncSession, campaign: SurveyCampaign,
                   units: Sequence[int] | None) -> AsyncIterator[dict[str, Any]]:
    """The campaign's answers, one response at a time, from a server-side cursor."""
    stmt = (select(SurveyResponse.answers).where(*_where(campaign, units))
            .execution_options(yield_per=BATCH))
    result = await db.stream(stmt)
    async for (answers,) in result:
        yield answers if isinstance(answers, dict) else {}


def _choice_labels(item: Mapping[str, Any], lang: str) -> list[tuple[str, str]]:
    t = item.get("type")
    if t == "yes_no":
        pairs = [("yes", say(lang, "yes")), ("no", say(lang, "no"))]
    elif t == "check":
        pairs = [("true", say(lang, "checked")), ("false", say(lang, "not_checked"))]
    elif t == "scale":
        lo, hi = int(item.get("min", 1)), int(item.get("max", 5))
        labels = item.get("labels") or {}
        pairs = [(str(n), say(lang, "scale_point", n=n, label=pick(labels.get(str(n)), lang, ""))
                  if labels.get(str(n)) else str(n)) for n in range(lo, hi + 1)]
    else:
        pairs = [(str(c.get("value")), pick(c.get("label"), lang, str(c.get("value"))))
                 for c in item.get("choices") or [] if isinstance(c, Mapping)]
    if item.get("allow_na"):
        pairs.append((NA, say(lang, "not_applicable")))
    return pairs


def _key(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class _Tally:
    """One question's counts, filled a response at a time."""

    def __init__(self, item: Mapping[str, Any]) -> None:
        self.item = item
        self.type = str(item.get("type"))
        self.counts: dict[str, int] = defaultdict(int)
        self.answered = self.na = self.unanswered = 0
        self.numbers: list[float] = []
        self.n_sum = 0.0
        self.n_min: float | None = None
        self.n_max: float | None = None
        self.n_count = 0

    def add(self, value: Any) -> None:
        if value is None or value == "" or value == []:
            self.unanswered += 1
            return
        if value == NA:
            self.na += 1
            self.counts[NA] += 1
            return
        self.answered += 1
        if self.type == "multiple_choice" and isinstance(value, list):
            for v in value:
                self.counts[_key(v)] += 1
        elif self.type in CHOICE_TYPES or self.type == "scale":
            self.counts[_key(value)] += 1
        if self.type in NUMBER_TYPES and isinstance(value, int | float) \
                and not isinstance(value, bool):
            x = float(value)
            self.n_sum += x
            self.n_count += 1
            self.n_min = x if self.n_min is None else min(self.n_min, x)
            self.n_max = x if self.n_max is None else max(self.n_max, x)

    def question(self, lang: str, min_group: int | None = None) -> Question:
        item = self.item
        title = pick(item.get("title"), lang, str(item.get("id")))
        hidden = min_group is not None and self.answered < min_group
        choices: list[ChoiceCount] = []
        if self.type in CHOICE_TYPES or self.type == "scale":
            base = self.answered + self.na
            choices = [ChoiceCount(v, label, 0 if hidden else self.counts.get(v, 0),
                                   None if hidden or not base else self.counts.get(v, 0) / base)
                       for v, label in _choice_labels(item, lang)]
        mean = None if hidden or not self.n_count else self.n_sum / self.n_count
        return Question(
            item_id=str(item.get("id")), type=self.type, title=title,
            answered=self.answered, not_applicable=self.na, unanswered=self.unanswered,
            choices=choices, mean=mean,
            min=None if hidden or min_group is not None else self.n_min,
            max=None if hidden or min_group is not None else self.n_max,
            suppressed=hidden)


async def questions(db: AsyncSession, campaign: SurveyCampaign, content: Mapping[str, Any], *,
                    lang: str, units: Sequence[int] | None = None,
                    min_group: int | None = None) -> tuple[list[Question], int]:
    """Each question's distribution (and mean where numeric), in the survey's order; and how
    many free-text answers there are. ``min_group``: the industry view (text questions left
    out, a question answered fewer times suppressed, no minimum or maximum: a single
    response's value)."""
    items = question_items(content)
    tallies = [_Tally(i) for i in items]
    texts = 0
    async for answers in _answers(db, campaign, units):
        for t in tallies:
            value = answers.get(str(t.item.get("id")))
            t.add(value)
            if t.type in TEXT_TYPES and isinstance(value, str) and value.strip():
                texts += 1
    shown = [t.question(lang, min_group) for t in tallies
             if min_group is None or t.type not in TEXT_TYPES]
    return shown, texts


# -- scores ------------------------------------------------------------------------------------

@dataclass
class _Acc:
    count: int = 0
    pct_sum: float = 0.0
    pct_n: int = 0
    val_sum: float = 0.0
    val_n: int = 0
    levels: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, row: tuple[int, float | None, int, float | None, int, str | None]
            ) -> None:
        n, pct_sum, pct_n, val_sum, val_n, outcome = row
        self.count += n
        self.pct_sum += pct_sum or 0.0
        self.pct_n += pct_n
        self.val_sum += val_sum or 0.0
        self.val_n += val_n
        if outcome is not None:
            self.levels[outcome] += n

    def group(self, key: str, name: str, levels: Sequence[tuple[str, str]],
              min_group: int | None) -> ScoreGroup:
        hidden = min_group is not None and self.count < min_group
        return ScoreGroup(
            key=key, name=name, count=self.count,
            mean_percentage=None if hidden or not self.pct_n else self.pct_sum / self.pct_n,
            mean_value=None if hidden or not self.val_n else self.val_sum / self.val_n,
            levels=[LevelCount(lv, label, 0 if hidden else self.levels.get(lv, 0),
                               None if hidden or not self.count
                               else self.levels.get(lv, 0) / self.count)
                    for lv, label in levels],
            suppressed=hidden)


def grade_band(grade: Any) -> str:
    """A shop grade's band: ``"1-5"``, ``"6-10"`` … ``"26-30"``, ``"31+"``, or ``""`` (none)."""
    try:
        g = int(str(grade).strip())
    except (TypeError, ValueError):
        return ""
    if g < 1:
        return ""
    if g > GRADE_TOP:
        return f"{GRADE_TOP + 1}+"
    lo = (g - 1) // GRADE_BAND * GRADE_BAND + 1
    return f"{lo}-{lo + GRADE_BAND - 1}"


def grade_band_name(band: str, lang: str) -> str:
    if not band:
        return say(lang, "no_grade")
    if band.endswith("+"):
        return say(lang, "grade_above", grade=band[:-1])
    lo, hi = band.split("-")
    return say(lang, "grade_band", lo=lo, hi=hi)


def _band_order(band: str) -> int:
    return 10_000 if not band else int(band.rstrip("+").split("-")[0])


def staff_member() -> Any:
    """The staff member a response counts for, as a column: the one it is about (a survey
    that follows a visit), else its shop's customer manager (the first assignment); NULL for
    an anonymous response without a shop. The staff table and the export both read it."""
    r = SurveyResponse
    manager = (select(SiteAssignment.user_id)
               .where(SiteAssignment.site_id == r.site_id,
                      SiteAssignment.role_id == "customer_manager")
               .order_by(SiteAssignment.id).limit(1).correlate(r).scalar_subquery())
    return func.coalesce(r.about_user_id, manager)


async def scores(db: AsyncSession, campaign: SurveyCampaign, content: Mapping[str, Any], *,
                 lang: str, units: Sequence[int] | None = None,
                 min_group: int | None = None) -> Scores:
    """Mean score and the outcome levels' distribution, overall and by station, staff member
    (not in the industry view: ``min_group`` given) and shop grade band."""
    r = SurveyResponse
    grouped = (select(r.site_id, r.org_unit_id, staff_member().label("staff"), r.outcome,
                      r.percentage, r.score_value)
               .where(*_where(campaign, units)).subquery())
    g = grouped.c
    rows = (await db.execute(
        select(g.site_id, g.org_unit_id, g.staff, g.outcome, func.count(),
               func.sum(g.percentage), func.count(g.percentage),
               func.sum(g.score_value), func.count(g.score_value))
        .group_by(g.site_id, g.org_unit_id, g.staff, g.outcome))).all()
    first, level_defs = outcome_levels(content)
    levels = [(str(lv.get("id")), pick(lv.get("label"), lang, str(lv.get("id"))))
              for lv in level_defs]
    site_ids = {row[0] for row in rows if row[0] is not None}
    sites: dict[int, tuple[str, Any]] = {}
    if site_ids:
        for sid, name, attrs in (await db.execute(select(Site.id, Site.name, Site.attributes)
                                                  .where(Site.id.in_(site_ids)))).all():
            sites[sid] = (name, (attrs or {}).get("grade"))
    overall = _Acc()
    by_unit: dict[int | None, _Acc] = defaultdict(_Acc)
    by_user: dict[int | None, _Acc] = defaultdict(_Acc)
    by_band: dict[str, _Acc] = defaultdict(_Acc)
    for site_id, unit_id, staff, outcome, n, ps, pn, vs, vn in rows:
        parts = (n, ps, pn, vs, vn, outcome)
        overall.add(parts)
        by_unit[unit_id].add(parts)
        by_user[staff].add(parts)
        by_band[grade_band(sites[site_id][1]) if site_id in sites else ""].add(parts)
    unit_names = await _unit_names(db, [u for u in by_unit if u is not None], lang)
    user_names: dict[int, str] = {}
    if min_group is None and any(u is not None for u in by_user):
        user_names = {uid: name for uid, name in (await db.execute(
            select(User.id, User.display_name).where(
                User.id.in_([u for u in by_user if u is not None])))).all()}

    def ordered(groups: Mapping[Any, _Acc], name: Any, order: Any) -> list[ScoreGroup]:
        return [acc.group("" if k is None else str(k), name(k), levels, min_group)
                for k, acc in sorted(groups.items(), key=lambda kv: order(kv[0]))]

    def unit_name(u: int | None) -> str:
        return say(lang, "no_station") if u is None else unit_names.get(u, str(u))

    def user_name(u: int | None) -> str:
        return say(lang, "no_staff") if u is None else user_names.get(u, str(u))

    direction = str((content.get("scoring") or {}).get("direction") or "higher_better")
    return Scores(
        model=str((content.get("scoring") or {}).get("model") or "percentage"),
        direction=direction, level_tones=level_tones(level_defs, direction),
        outcome_title=pick(first.get("title"), lang, str(first.get("id"))) if first else None,
        overall=overall.group("all", say(lang, "all_responses"), levels, min_group),
        by_station=ordered(by_unit, unit_name, lambda u: (u is None, unit_name(u))),
        by_staff=[] if min_group is not None else ordered(
            by_user, user_name, lambda u: (u is None, user_name(u))),
        by_grade=ordered(by_band, lambda b: grade_band_name(b, lang), _band_order))


async def _unit_names(db: AsyncSession, ids: Iterable[int], lang: str) -> dict[int, str]:
    ids = list(ids)
    if not ids:
        return {}
    rows = (await db.execute(select(OrgUnit.id, OrgUnit.name_zh, OrgUnit.name_en)
                             .where(OrgUnit.id.in_(ids)))).all()
    return {uid: (en if lang == "en" and en else zh) for uid, zh, en in rows}


async def campaign_results(db: AsyncSession, campaign: SurveyCampaign, *, lang: str,
                           tz: dt.tzinfo, units: Sequence[int] | None = None) -> Results:
    """Everything the results page shows but the free-text list (:func:`free_texts`)."""
    content = await survey_content(db, campaign)
    qs, texts = await questions(db, campaign, content, lang=lang, units=units)
    return Results(
        overview=await overview(db, campaign, content, lang=lang, tz=tz, units=units),
        questions=qs, scores=await scores(db, campaign, content, lang=lang, units=units),
        texts_total=texts)


# -- free text ---------------------------------------------------------------------------------

async def free_texts(db: AsyncSession, campaign: SurveyCampaign, *, lang: str,
                     q: str = "", limit: int = 20, offset: int = 0,
                     units: Sequence[int] | None = None) -> tuple[list[TextAnswer], int]:
    """The free-text answers, newest first, those holding ``q`` (any case) only, a page of
    them and how many there are; with the shop's name where the response is about a shop."""
    content = await survey_content(db, campaign)
    items = [i for i in question_items(content) if i.get("type") in TEXT_TYPES]
    if not items:
        return [], 0
    needle = q.strip().casefold()
    r = SurveyResponse
    stmt = (select(r.id, r.submitted_at, r.answers, Site.name)
            .outerjoin(Site, Site.id == r.site_id).where(*_where(campaign, units))
            .order_by(r.submitted_at.desc(), r.id.desc()).execution_options(yield_per=BATCH))
    found: list[TextAnswer] = []
    total = 0
    result = await db.stream(stmt)
    async for rid, at, answers, site_name in result:
        for item in items:
            value = (answers or {}).get(str(item.get("id")))
            if not isinstance(value, str) or not value.strip():
                continue
            if needle and needle not in value.casefold() \
                    and needle not in (site_name or "").casefold():
                continue
            if offset <= total < offset + limit:
                found.append(TextAnswer(rid, as_utc(at), str(item.get("id")),
                                        pick(item.get("title"), lang, str(item.get("id"))),
                                        value, site_name))
            total += 1
    return found, total


# -- the export: one row per response ------------------------------------------------------------

def _cell(item: Mapping[str, Any], value: Any, lang: str) -> Any:
    if value is None:
        return None
    labels = dict(_choice_labels(item, lang)) if item.get("type") != "scale" else {
        NA: say(lang, "not_applicable")}
    if isinstance(value, bool):
        return say(lang, "yes") if value else say(lang, "no")
    if isinstance(value, int | float):
        return labels.get(_key(value), value) if item.get("type") not in NUMBER_TYPES \
            else value
    if isinstance(value, list):
        return "; ".join(str(_cell(item, v, lang)) for v in value)
    return labels.get(str(value), str(value))


@dataclass(frozen=True)
class Export:
    labels: list[str]
    items: list[dict[str, Any]]
    levels: dict[str, str]
    filename: str
    lang: str
    tz: dt.tzinfo

    def row(self, r: Any) -> list[Any]:
        answers = r.answers or {}
        return [as_utc(r.submitted_at).astimezone(self.tz).strftime("%Y-%m-%d %H:%M"),
                say(self.lang, f"kind_{r.respondent}"), r.site_name, r.unit_name,
                r.staff_name, r.percentage, r.score_value,
                self.levels.get(r.outcome, r.outcome) if r.outcome else None] + [
            _cell(i, answers.get(str(i.get("id"))), self.lang) for i in self.items]


async def export_of(db: AsyncSession, campaign: SurveyCampaign, *, lang: str,
                    tz: dt.tzinfo) -> Export:
    content = await survey_content(db, campaign)
    items = question_items(content)
    _, levels = outcome_levels(content)
    labels = [say(lang, k) for k in ("col_time", "col_kind", "col_shop", "col_station",
                                     "col_staff", "col_percentage", "col_score",
                                     "col_outcome")]
    labels += [pick(i.get("title"), lang, str(i.get("id"))) for i in items]
    return Export(labels, items,
                  {str(lv.get("id")): pick(lv.get("label"), lang, str(lv.get("id")))
                   for lv in levels},
                  f"survey-{campaign.id}-results", lang, tz)


def export_query(campaign: SurveyCampaign, units: Sequence[int] | None, lang: str) -> Any:
    """The export's rows, oldest first: the staff member as in the staff table
    (:func:`staff_member`: the one the response is about, else the shop's customer
    manager)."""
    r = SurveyResponse
    name = OrgUnit.name_en if lang == "en" else OrgUnit.name_zh
    return (select(r.submitted_at, r.respondent, r.answers, r.percentage, r.score_value,
                   r.outcome, Site.name.label("site_name"), name.label("unit_name"),
                   User.display_name.label("staff_name"))
            .outerjoin(Site, Site.id == r.site_id)
            .outerjoin(OrgUnit, OrgUnit.id == r.org_unit_id)
            .outerjoin(User, User.id == staff_member())
            .where(*_where(campaign, units))
            .order_by(r.submitted_at, r.id).execution_options(yield_per=BATCH))


# -- the industry view ---------------------------------------------------------------------------

@dataclass(frozen=True)
class IndustryResults:
    """A campaign's results for industry users: counts, distributions and scores of groups
    of at least ``min_group`` responses; no free text, no single response, no names of staff
    or shops."""

    campaign_id: int
    title: str
    survey_title: str
    audience: str
    status: str
    min_group: int
    count: int
    target: int
    rate: float | None
    suppressed: bool  # the whole campaign has fewer responses than the minimum group
    questions: list[Question]
    scores: Scores | None


async def industry_view(db: AsyncSession, campaign: SurveyCampaign, *, lang: str,
                        tz: dt.tzinfo, min_group: int) -> IndustryResults:
    content = await survey_content(db, campaign)
    ov = await overview(db, campaign, content, lang=lang, tz=tz)
    hidden = ov.count < min_group
    qs: list[Question] = []
    sc: Scores | None = None
    if not hidden:
        qs, _ = await questions(db, campaign, content, lang=lang, min_group=min_group)
        sc = await scores(db, campaign, content, lang=lang, min_group=min_group)
    return IndustryResults(
        campaign_id=campaign.id, title=campaign.title, survey_title=ov.survey_title,
        audience=campaign.audience, status=campaign.status, min_group=min_group,
        count=ov.count, target=ov.target, rate=ov.rate, suppressed=hidden,
        questions=qs, scores=sc)


async def industry_campaigns(db: AsyncSession) -> list[SurveyCampaign]:
    """The campaigns industry users may read (through :func:`industry_view` only): every
    campaign that is open or closed, whatever its audience; drafts never."""
    return list((await db.execute(select(SurveyCampaign).where(
        SurveyCampaign.status != DRAFT).order_by(SurveyCampaign.opens_at.desc(),
                                                 SurveyCampaign.id.desc()))).scalars())


# -- demand trends (the staff's market survey) ------------------------------------------------

@dataclass(frozen=True)
class BrandMonth:
    month: str  # "2026-07"
    count: int
    suppressed: bool
    tight_share: float | None  # tight or out of stock, of the answers on the brand's stock
    out_share: float | None
    mean_price: float | None


@dataclass(frozen=True)
class BrandTrend:
    brand: str
    name: str
    months: list[BrandMonth]


@dataclass(frozen=True)
class TrendMonth:
    month: str
    count: int
    suppressed: bool
    sales: list[ChoiceCount]  # the sales trend's answers: rising, steady, falling, can't say


@dataclass(frozen=True)
class StationTrend:
    key: str
    name: str
    count: int
    suppressed: bool
    tight_share: float | None  # over every brand's stock answers of the period
    rising_share: float | None
    falling_share: float | None


@dataclass(frozen=True)
class DemandTrends:
    months: list[str]
    min_group: int
    count: int
    brands: list[BrandTrend]
    sales: list[TrendMonth]
    stations: list[StationTrend]


def month_keys(today: dt.date, months: int) -> list[str]:
    """The ``months`` months up to ``today``'s, oldest first ("2026-07")."""
    y, m = today.year, today.month
    keys = []
    for _ in range(months):
        keys.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return keys[::-1]


def _brands(content: Mapping[str, Any], lang: str) -> list[tuple[str, str, str | None]]:
    """The market survey's brands: a section with a ``<brand>_stock`` choice (and maybe a
    ``<brand>_price`` number), its title the brand's name."""
    out = []
    for section in content.get("sections") or []:
        ids = {str(i.get("id")) for i in section.get("items") or []}
        sid = str(section.get("id"))
        if f"{sid}_stock" in ids:
            out.append((sid, pick(section.get("title"), lang, sid),
                        f"{sid}_price" if f"{sid}_price" in ids else None))
    return out


async def demand_trends(db: AsyncSession, *, lang: str, tz: dt.tzinfo, today: dt.date,
                        months: int, min_group: int) -> DemandTrends:
    """Per month of the last ``months`` (in the company's time zone) and per brand: how often
    its stock was tight or out, its mean price; the sales trend's answers per month; per
    station over the period. Read from the submissions of the staff's market survey; a
    month or station with fewer than ``min_group`` submissions is suppressed."""
    keys = month_keys(today, months)
    content = (await db.execute(
        select(DefinitionVersion.content).where(DefinitionVersion.definition_id == MARKET_SURVEY)
        .order_by(DefinitionVersion.number.desc()).limit(1))).scalar_one_or_none() or {}
    brands = _brands(content, lang)
    sales_item = next((i for i in question_items(content) if i.get("id") == "sales_trend"), {})
    sales_labels = [(str(c.get("value")), pick(c.get("label"), lang, str(c.get("value"))))
                    for c in sales_item.get("choices") or []]
    y, m = (int(p) for p in keys[0].split("-"))
    since = dt.datetime(y, m, 1, tzinfo=tz)
    s = Submission
    stmt = (select(s.happened_at, Site.org_unit_id, s.answers)
            .outerjoin(Site, Site.id == s.site_id)
            .where(s.definition_id == MARKET_SURVEY, s.happened_at >= since)
            .execution_options(yield_per=BATCH))
    # month → counters; station → counters. Streamed: one pass over the period's rows.
    n_month: dict[str, int] = defaultdict(int)
    stock: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])  # n, tight, out
    price: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])  # sum, n
    sales: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    st_n: dict[int | None, int] = defaultdict(int)
    st_stock: dict[int | None, list[int]] = defaultdict(lambda: [0, 0])  # n, tight or out
    st_sales: dict[int | None, list[int]] = defaultdict(lambda: [0, 0, 0])  # n, rising, fall
    result = await db.stream(stmt)
    async for at, unit, answers in result:
        key = as_utc(at).astimezone(tz).strftime("%Y-%m")
        if key not in keys:
            continue
        a = answers or {}
        n_month[key] += 1
        st_n[unit] += 1
        for bid, _, price_id in brands:
            v = a.get(f"{bid}_stock")
            if isinstance(v, str):
                c = stock[(key, bid)]
                c[0] += 1
                c[1] += v in ("tight", "out")
                c[2] += v == "out"
                st_stock[unit][0] += 1
                st_stock[unit][1] += v in ("tight", "out")
            p = a.get(price_id) if price_id else None
            if isinstance(p, int | float) and not isinstance(p, bool):
                pr = price[(key, bid)]
                pr[0] += float(p)
                pr[1] += 1
        trend = a.get("sales_trend")
        if isinstance(trend, str):
            sales[key][trend] += 1
            st_sales[unit][0] += 1
            st_sales[unit][1] += trend == "rising"
            st_sales[unit][2] += trend == "falling"

    def share(part: int, whole: int, hidden: bool) -> float | None:
        return None if hidden or not whole else part / whole

    brand_rows = []
    for bid, name, _ in brands:
        cells = []
        for key in keys:
            hidden = n_month[key] < min_group
            c, pr = stock[(key, bid)], price[(key, bid)]
            cells.append(BrandMonth(key, n_month[key], hidden, share(c[1], c[0], hidden),
                                    share(c[2], c[0], hidden),
                                    None if hidden or not pr[1] else pr[0] / pr[1]))
        brand_rows.append(BrandTrend(bid, name, cells))
    sales_rows = []
    for key in keys:
        hidden = n_month[key] < min_group
        total = sum(sales[key].values())
        sales_rows.append(TrendMonth(key, n_month[key], hidden, [
            ChoiceCount(v, label, 0 if hidden else sales[key].get(v, 0),
                        share(sales[key].get(v, 0), total, hidden))
            for v, label in sales_labels]))
    names = await _unit_names(db, [u for u in st_n if u is not None], lang)
    stations = []
    for unit in sorted(st_n, key=lambda u: (u is None, names.get(u, "") if u else "")):
        hidden = st_n[unit] < min_group
        stations.append(StationTrend(
            "" if unit is None else str(unit),
            say(lang, "no_station") if unit is None else names.get(unit, str(unit)),
            st_n[unit], hidden, share(st_stock[unit][1], st_stock[unit][0], hidden),
            share(st_sales[unit][1], st_sales[unit][0], hidden),
            share(st_sales[unit][2], st_sales[unit][0], hidden)))
    return DemandTrends(keys, min_group, sum(n_month.values()), brand_rows, sales_rows,
                        stations)


# -- who may read ----------------------------------------------------------------------------

async def subtree_units(db: AsyncSession, org_path: str) -> list[int]:
    return list((await db.execute(select(OrgUnit.id).where(
        OrgUnit.path.startswith(org_path)))).scalars())
