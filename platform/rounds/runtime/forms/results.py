"""A score and its outcomes in the reader's words: what the result page, the lists and a
form's check result show.

A definition says how it scores (``scoring``: the model, the direction, the decimals shown)
and what it makes of the score (``outcomes``). Stored scores keep full precision; here they
are rounded to the definition's ``digits`` for display only, in the model's own form:

- percentage: ``83.3%（25 / 30 分）``; sum: ``27 分``; mean: ``均分 3.4``;
- no figure where there is none (a sub-scale with too few answers says so, a form without a
  total says it has none), and "lower is better" where the direction is ``lower_better``;
- each outcome: its title, its level, why that level (a band the value is in, a failed item
  that forces it, the level's rule, the fallback) and its message.

Pure (no database, no web): it reads plain data, the stored score document (or the
engine's, as builtins) and the definition's content, so the pages and the check API say
the same thing. Its words are the ``results`` catalogue's (:mod:`rounds.i18n`).

May import: the foundation and the engines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from rounds import i18n
from rounds.rules.alerts import format_number
from rounds.rules.scoring import score_model
from rounds.rules.structure import ScoreModel, as_number

DOMAIN = "results"


def say(lang: str, key: str, /, **fields: Any) -> str:
    return i18n.text(DOMAIN, lang, key, **fields)


def words(lang: str) -> Mapping[str, str]:
    return i18n.table(DOMAIN, lang)


def model_of(definition: Mapping[str, Any]) -> ScoreModel:
    """How a definition scores: its ``scoring`` read as the engine reads it."""
    return score_model(definition.get("scoring"))


def digits_of(definition: Mapping[str, Any]) -> int:
    """The decimals a definition's total is shown with (``scoring.digits``, default 1)."""
    return model_of(definition).digits


def figure(value: float | None, model: str, digits: int, lang: str) -> str:
    """A score as a list shows it: ``83.3%``, ``27 分``, ``均分 3.4``; "" when it has none."""
    if value is None:
        return ""
    shown = format_number(value, digits)
    model = score_model({"model": model}).model  # a row scored before models: a percentage
    key = "figure.sum_one" if model == "sum" and shown == "1" else \
        f"figure.{model}"  # "1 point", "2 points"
    return say(lang, key, value=shown)


def direction_note(direction: str | None, lang: str) -> str:
    """"Lower is better" for a demerit or hazard score; nothing for the usual direction."""
    return say(lang, "lower_better") if direction == "lower_better" else ""


def outcome_label(definition: Mapping[str, Any], level: str | None, lang: str) -> str:
    """The label of a level of the definition's first outcome (what a submission row
    keeps), "" when there is none."""
    outcomes = definition.get("outcomes")
    if not level or not isinstance(outcomes, list) or not outcomes:
        return ""
    for lv in outcomes[0].get("levels") or []:
        if isinstance(lv, Mapping) and lv.get("id") == level:
            return i18n.pick(lv.get("label"), lang, level)
    return level


# -- a total's or a section's score --------------------------------------------------------

@dataclass(frozen=True)
class ScoreLine:
    """A total or a section: its value in its model, as a line and as a short figure."""

    model: str
    direction: str
    digits: int
    value: float | None
    line: str  # "83.3%（25 / 30 分）", "27 分", "均分 3.4（作答 4 项）", or why there is none
    figure: str  # "83.3%", "27 分", "均分 3.4"; "" when there is no value
    note: str  # "分数越低越好" where lower is better, else ""


def _score_line(part: Mapping[str, Any], lang: str, *, min_answered: int,
                no_total: bool = False) -> ScoreLine:
    m = score_model(part)  # the stored model, direction and digits (defaults for old rows)
    model, direction, digits = m.model, m.direction, m.digits
    value = as_number(part.get("value"))
    if value is None and model == "percentage" and "value" not in part:
        value = as_number(part.get("percentage"))  # a score stored before the models
    answered = part.get("answered")
    n = format_number
    if value is None:
        if no_total:
            line = say(lang, "no_total")
        elif isinstance(answered, int) and answered < min_answered:
            line = say(lang, "too_few", answered=answered, min=min_answered)
        else:
            line = say(lang, "nothing_scored")
    elif model == "percentage":
        line = say(lang, "line.percentage", value=n(value, digits),
                   points=n(as_number(part.get("points")) or 0),
                   max=n(as_number(part.get("max")) or 0))
    elif model == "mean" and isinstance(answered, int):
        line = say(lang, "line.mean", value=n(value, digits), answered=answered)
    else:
        line = figure(value, model, digits, lang)
    return ScoreLine(model=model, direction=direction, digits=digits, value=value, line=line,
                     figure=figure(value, model, digits, lang),
                     note=direction_note(direction, lang))


def _sections(definition: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(s.get("id")): s for s in definition.get("sections") or []
            if isinstance(s, Mapping)}


def total_line(score: Mapping[str, Any], definition: Mapping[str, Any], lang: str
               ) -> ScoreLine:
    return _score_line(score, lang, min_answered=model_of(definition).min_answered,
                       no_total=score.get("has_total") is False)


def section_line(section: Mapping[str, Any], definition: Mapping[str, Any], lang: str
                 ) -> ScoreLine:
    """A section's score (its own model and direction, by default the definition's)."""
    own = _sections(definition).get(str(section.get("section")), {}).get("scoring")
    return _score_line(section, lang,
                       min_answered=score_model(own, model_of(definition)).min_answered)


# -- outcomes --------------------------------------------------------------------------------

@dataclass(frozen=True)
class OutcomeLine:
    """An outcome of a submission: which level, and why."""

    outcome: str
    title: str
    level: str | None
    label: str  # the level's label ("未定级" when no level applies)
    heading: str  # "卫生等级：5 级"
    why: str  # "总分 27，在 20–27 之间", "因未达标项「发现假冒卷烟」直接判定", ...
    message: str
    passed: bool | None
    how: str  # forced, band, rule, fallback or none (for styling and tests)


def _outcome_def(definition: Mapping[str, Any], outcome_id: str) -> Mapping[str, Any]:
    for o in definition.get("outcomes") or []:
        if isinstance(o, Mapping) and o.get("id") == outcome_id:
            return o
    return {}


def _level_def(outcome: Mapping[str, Any], level_id: str | None) -> Mapping[str, Any]:
    for lv in outcome.get("levels") or []:
        if isinstance(lv, Mapping) and lv.get("id") == level_id:
            return lv
    return {}


def _item_title(definition: Mapping[str, Any], item_id: str, lang: str) -> str:
    for s in definition.get("sections") or []:
        for it in s.get("items") or [] if isinstance(s, Mapping) else []:
            if isinstance(it, Mapping) and it.get("id") == item_id:
                return i18n.pick(it.get("problem") or it.get("title"), lang, item_id)
    return item_id


def _problem(failed: Sequence[Mapping[str, Any]], definition: Mapping[str, Any],
             item_id: str, lang: str) -> str:
    """A failed item named as its problem (its problem title), else by its title."""
    for f in failed:
        if f.get("item") == item_id and f.get("problem"):
            return i18n.pick(f["problem"], lang, item_id)
    return _item_title(definition, item_id, lang)


def _band(o: Mapping[str, Any], level: Mapping[str, Any], score: Mapping[str, Any],
          definition: Mapping[str, Any], lang: str) -> str:
    """"总分 27，在 20–27 之间": the value the bands read, and the level's bounds."""
    of = str(o.get("of") or "total")
    part: Mapping[str, Any] = score
    if of == "total":
        subject = say(lang, "subject.mean" if score_model(score).model == "mean"
                      else "subject.total")
    else:
        part = next((s for s in score.get("sections") or [] if s.get("section") == of), {})
        subject = i18n.pick(part.get("title") or _sections(definition).get(of, {}).get(
            "title"), lang, of)
    shows = score_model(part)
    digits = shows.digits
    unit = "%" if shows.model == "percentage" else ""

    def shown(v: Any) -> str:
        return f"{format_number(float(v), digits)}{unit}"

    value = o.get("value")
    lo, hi = as_number(level.get("min")), as_number(level.get("max"))
    fields = {"subject": subject, "value": shown(value) if as_number(value) is not None else "—",
              "min": shown(lo) if lo is not None else "", "max": shown(hi) if hi is not None
              else ""}
    key = "why.band" if lo is not None and hi is not None else \
        "why.band_min" if lo is not None else "why.band_max"
    return say(lang, key, **fields)


def outcome_lines(outcomes: Sequence[Mapping[str, Any]], score: Mapping[str, Any],
                  failed: Sequence[Mapping[str, Any]], definition: Mapping[str, Any],
                  lang: str) -> list[OutcomeLine]:
    """Each outcome (the engine's ``OutcomeResult`` as stored) with its level and why."""
    out = []
    for o in outcomes:
        oid = str(o.get("outcome") or "")
        odef = _outcome_def(definition, oid)
        title = i18n.pick(o.get("title") or odef.get("title"), lang, oid)
        level = o.get("level")
        ldef = _level_def(odef, level)
        label = i18n.pick(o.get("label") or ldef.get("label"), lang, str(level)) if level \
            else say(lang, "no_level")
        decided = str(o.get("decided_by") or "none")
        how = decided.split(":", 1)[0] if level else "none"
        if how == "forced":
            why = say(lang, "why.forced",
                      problem=_problem(failed, definition, decided.split(":", 1)[1], lang))
        elif how in ("band", "rule"):
            # The level's criteria as the definition states them: its band, its rule, both.
            if ldef.get("min") is not None or ldef.get("max") is not None:
                why = _band({**odef, **o}, ldef, score, definition, lang)
                if ldef.get("when") is not None:
                    why += say(lang, "why.and_rule")
            else:
                why = say(lang, "why.rule")
        elif how == "fallback":
            why = say(lang, "why.fallback")
        else:
            how, why = "none", say(lang, "why.none")
        message = o.get("message")
        passed = o.get("passed")
        out.append(OutcomeLine(
            outcome=oid, title=title, level=str(level) if level else None, label=label,
            heading=say(lang, "outcome_heading", title=title, label=label), why=why,
            message=i18n.pick(message, lang, "") if message else "",
            passed=passed if isinstance(passed, bool) else None, how=how))
    return out


# -- the whole result ------------------------------------------------------------------------

@dataclass(frozen=True)
class SectionView:
    section: str
    title: str
    score: ScoreLine
    note: str  # "lower is better" only where it differs from the total's direction


@dataclass(frozen=True)
class ResultView:
    """A submission's (or a check's) score and outcomes, in the reader's words."""

    scored: bool
    total: ScoreLine
    verdict: str  # "合格", "不合格" or "" (no pass / fail)
    passed: bool | None
    pass_mark: str  # "（合格线 80%）" in the percentage model with a pass mark, else ""
    sections: list[SectionView]
    outcomes: list[OutcomeLine]
    sections_title: str
    outcomes_title: str

    def as_builtins(self) -> dict[str, Any]:
        return asdict(self)


def result_view(score: Mapping[str, Any], outcomes: Sequence[Mapping[str, Any]],
                failed: Sequence[Mapping[str, Any]], definition: Mapping[str, Any],
                lang: str) -> ResultView:
    total = total_line(score, definition, lang)
    passed = score.get("passed")
    mark = as_number(score.get("pass_percentage"))
    sections = []
    for sec in score.get("sections") or []:
        line = section_line(sec, definition, lang)
        sid = str(sec.get("section"))
        sections.append(SectionView(
            section=sid, title=i18n.pick(sec.get("title"), lang, sid), score=line,
            note=line.note if line.direction != total.direction else ""))
    return ResultView(
        scored=bool(score.get("scored")),
        total=total, passed=passed if isinstance(passed, bool) else None,
        verdict=say(lang, "passed" if passed else "not_passed")
        if isinstance(passed, bool) else "",
        pass_mark=say(lang, "pass_mark", **{"pass": format_number(mark)})
        if mark is not None and total.model == "percentage" else "",
        sections=sections,
        outcomes=outcome_lines(outcomes, score, failed, definition, lang),
        sections_title=say(lang, "sections_title"), outcomes_title=say(lang, "outcomes_title"))


# -- a submission in a list --------------------------------------------------------------------

@dataclass(frozen=True)
class Listed:
    """A submission's score as a list row shows it, from its row's columns."""

    figure: str  # "83.3%", "27 分", "均分 3.4"; "" when it has none
    note: str  # "越低越好" where lower is better
    outcome: str  # the first outcome's level, by its label ("" when none)
    lower_better: bool


def listed(value: float | None, model: str | None, direction: str | None,
           outcome: str | None, *, definition: Mapping[str, Any], lang: str) -> Listed:
    """``definition``: the content of the version filled (its digits, its outcomes' labels)."""
    lower = direction == "lower_better"
    return Listed(figure=figure(value, model or "percentage", digits_of(definition), lang),
                  note=say(lang, "lower_better_short") if lower and value is not None else "",
                  outcome=outcome_label(definition, outcome, lang), lower_better=lower)
