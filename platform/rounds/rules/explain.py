"""A score explained in words: a few lines per section, each item's part in the total, and
the outcomes with why each came to its level.

``explain_text(evaluation, lang)`` reads the score's explanation lines (``Score.items``,
made by ``rules.scoring``) and the outcomes (``Evaluation.outcomes``) and writes them for a
person:

- each section: its points, then its value as its model says (a percentage "66.7%", a
  mean "mean 3.4"; a sum's value is its points; "no score" when it has none), rounded to
  the section's ``digits`` (only here: the numbers themselves keep full precision), and
  "lower is better" where the section counts demerits;
- each scoring item: in the percentage model ``fraction × weight = points``; in the sum and
  mean models, where points are what count, ``points of most``; then how it was decided
  (``decided_by``), and "reversed" for a reverse-scored item;
- the total as the sum of the sections, its value, and the pass mark (or "no total" for an
  instrument of sub-scales);
- each outcome: its level's label and why (its value is in the level's band, an item that
  failed forced it, its rule holds, the fallback, or no level), and whether it passes.

Its words are the ``scoring`` catalogue's ``explain.*`` (``rounds.i18n``); titles are picked
with ``rounds.i18n.pick``.

May import: ``rounds.i18n`` and ``rounds.rules`` modules below it (``alerts``, ``results``).
"""

from __future__ import annotations

from collections.abc import Mapping

from rounds import i18n
from rounds.rules.alerts import format_number
from rounds.rules.results import Evaluation, OutcomeResult, Score, SectionScore

DOMAIN = "scoring"


def _percentage(v: float | None, words: Mapping[str, str], digits: int = 1) -> str:
    if v is None:
        return words["explain.nothing_scored"]
    return words["explain.percentage"].format(value=format_number(v, digits))


def _value(sc: Score | SectionScore, words: Mapping[str, str]) -> str:
    """What follows a section's or the total's points: its value as its model says (a sum's
    value is its points, already said), and its direction."""
    parts: list[str] = []
    if sc.model == "percentage":
        parts.append(_percentage(sc.value if sc.value is not None else sc.percentage, words,
                                 sc.digits))
    elif sc.value is None:
        parts.append(words["explain.no_value"].format(n=sc.answered))
    elif sc.model == "mean":
        parts.append(words["explain.value.mean"].format(
            value=format_number(sc.value, sc.digits), n=sc.answered))
    if sc.direction == "lower_better":
        parts.append(words["explain.lower_better"])
    return "".join(f", {p}" for p in parts)


def explain_text(evaluation: Evaluation, lang: str = "en") -> str:
    """The score explained in a few lines per section, in ``lang`` (English when the
    language is not one of ours, as before languages were catalogues)."""
    lang = i18n.normalize(lang, default="en")
    w = i18n.table(DOMAIN, lang)
    sc = evaluation.score
    n = format_number

    def points(p: float, most: float) -> str:
        return w["explain.points"].format(points=n(p), max=n(most))

    lines: list[str] = []
    for sec in sc.sections:
        lines.append(f"{i18n.pick(sec.title, lang, sec.section)} [{sec.section}]: "
                     f"{points(sec.points, sec.max)}{_value(sec, w)}")
        for it in sc.items:
            if it.section != sec.section:
                continue
            name = f"{i18n.pick(it.title, lang, it.item)} [{it.item}]"
            how = it.decided_by
            if it.reversed:
                how = w["explain.reversed"].format(how=how)
            if it.counted and it.points is not None and it.fraction is not None and (
                    sec.model == "percentage"):
                lines.append(f"  {name}: {n(it.fraction)} × {n(it.weight)} = {n(it.points)}"
                             f" ({how})")
            elif it.counted and it.points is not None:
                lines.append(f"  {name}: {points(it.points, it.weight)} ({how})")
            else:
                lines.append(f"  {name}: {w['explain.not_counted']} ({how})")
    counted = [sec for sec in sc.sections if sec.max > 0]
    sums = " + ".join(n(sec.points) for sec in counted) or "0"
    total = f"{w['explain.total']}: {sums} = {points(sc.points, sc.max)}"
    total += _value(sc, w) if sc.has_total else f", {w['explain.no_total']}"
    if sc.pass_percentage is not None and sc.passed is not None and sc.model == "percentage" \
            and not any(o.passed is not None for o in evaluation.outcomes):
        verdict = w["explain.passed" if sc.passed else "explain.not_passed"]
        mark = w["explain.pass_mark"].format(value=n(sc.pass_percentage), verdict=verdict)
        total += f" ({mark})"
    lines.append(total)
    lines += [_outcome(o, evaluation, lang, w) for o in evaluation.outcomes]
    return "\n".join(lines)


def _outcome(o: OutcomeResult, ev: Evaluation, lang: str, w: Mapping[str, str]) -> str:
    """One outcome: ``Grade [grade]: level b [b] (15 is in its range), passed``."""
    kind, _, where = o.decided_by.partition(":")
    sc = ev.score
    if kind == "forced":
        titles = {it.item: it.title for it in sc.items}
        problem = next((f.problem for f in ev.failed if f.item == where), {})
        why = w["explain.why.forced"].format(
            item=i18n.pick(titles.get(where) or problem, lang, where))
    elif kind == "band":
        why = w["explain.why.band"].format(value=_num(o.value, sc.digits))
    else:
        why = w[f"explain.why.{kind}" if kind in ("rule", "fallback") else "explain.why.none"]
    label = (f"{i18n.pick(o.label, lang, o.level)} [{o.level}]" if o.level is not None
             else w["explain.no_level"])
    text = w["explain.outcome"].format(title=i18n.pick(o.title, lang, o.outcome), id=o.outcome,
                                       label=label, why=why)
    if o.passed is not None:
        text = w["explain.outcome_verdict"].format(
            text=text, verdict=w["explain.passed" if o.passed else "explain.not_passed"])
    return text


def _num(v: float | None, digits: int) -> str:
    return "—" if v is None else format_number(v, digits)
