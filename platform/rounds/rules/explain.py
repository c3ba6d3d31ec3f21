"""A score explained in words: a few lines per section, each item's part in the total.

``explain_text(evaluation, lang)`` reads the score's explanation lines (``Score.items``,
made by ``rules.scoring``) and writes them for a person: each section's points and
percentage, then each scoring item as ``fraction × weight = points (decided by)``, then the
total as the sum of the sections, with the pass mark. Its words are the ``scoring``
catalogue's ``explain.*`` (``rounds.i18n``); titles are picked with ``rounds.i18n.pick``.

May import: ``rounds.i18n`` and ``rounds.rules`` modules below it (``alerts``, ``results``).
"""

from __future__ import annotations

from collections.abc import Mapping

from rounds import i18n
from rounds.rules.alerts import format_number
from rounds.rules.results import Evaluation

DOMAIN = "scoring"


def _percentage(v: float | None, words: Mapping[str, str]) -> str:
    if v is None:
        return words["explain.nothing_scored"]
    return words["explain.percentage"].format(value=format_number(v, 1))


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
                     f"{points(sec.points, sec.max)}, {_percentage(sec.percentage, w)}")
        for it in sc.items:
            if it.section != sec.section:
                continue
            name = f"{i18n.pick(it.title, lang, it.item)} [{it.item}]"
            if it.counted and it.points is not None and it.fraction is not None:
                lines.append(f"  {name}: {n(it.fraction)} × {n(it.weight)} = {n(it.points)}"
                             f" ({it.decided_by})")
            else:
                lines.append(f"  {name}: {w['explain.not_counted']} ({it.decided_by})")
    counted = [sec for sec in sc.sections if sec.max > 0]
    sums = " + ".join(n(sec.points) for sec in counted) or "0"
    total = f"{w['explain.total']}: {sums} = {points(sc.points, sc.max)}"
    total += f", {_percentage(sc.percentage, w)}"
    if sc.pass_percentage is not None and sc.passed is not None:
        verdict = w["explain.passed" if sc.passed else "explain.not_passed"]
        mark = w["explain.pass_mark"].format(value=n(sc.pass_percentage), verdict=verdict)
        total += f" ({mark})"
    lines.append(total)
    return "\n".join(lines)
