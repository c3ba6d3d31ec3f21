"""How a standard's answers become a score: weights, each item's fraction, the totals.

The score model of today (docs/definitions.md, "Scoring"): every scoring item of a
standard (a survey only with ``scored: true``) has a weight (``weight``, else 1 for
``check``, ``yes_no``, ``scale`` and ``single_choice``, else 0) and earns a fraction of it:

- a ``score`` rule decides when the item has one (0..1, true/false; null: not applicable);
- else by type: a ticked check 1; yes 1, no 0; a scale value its place between min and max;
  a choice its ``score`` (a choice without one is not applicable);
- N/A (``na``), hidden and optional unanswered items count for nothing, neither points
  nor weight; a required item left unanswered earns 0.

A section's score is the sum of its items' points over the sum of their weights, the total
the same over every section, a percentage rounded to one decimal (half up), ``passed``
against the definition's ``pass_percentage``. Each item's line (:class:`ItemScore`) says how
it was decided, which is what ``rules.explain`` puts in words.

This is the home of scoring models: one that counts otherwise (demerits subtracted from a
full mark, bands mapped to grades, the mean of a sub-scale's items) belongs here, next to
:func:`weighing` (compile time: which items score and by how much) and :func:`score_of`
(evaluation time: from settled answers to a :class:`Score`).

May import: ``rounds.rules`` modules below it (``semantics``, ``alerts``, ``results``,
``structure``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from rounds.rules import semantics as js
from rounds.rules.alerts import round_half_up
from rounds.rules.results import ItemScore, RuleFailure, Score, SectionScore
from rounds.rules.structure import RAISED, Item, Run, Section, Settled, as_number

DEFAULT_WEIGHTED = frozenset({"check", "yes_no", "scale", "single_choice"})
_NA_TYPES = frozenset({"yes_no", "scale"})
_POINTS_DIGITS = 4


# -- compile time: what scores ---------------------------------------------------------------

def weighing(item: Mapping[str, Any], kind: str, rules: Mapping[str, Any],
             choices: Mapping[str, float | None], *, scored: bool, top: bool
             ) -> tuple[float, bool]:
    """(weight, scores) of one item: ``scores`` when it is listed in the explanation (it has
    a weight and a way to earn it). Only top-level items of a scored definition weigh."""
    w = as_number(item.get("weight"))
    weight = 0.0
    if scored and top:
        weight = w if w is not None and w >= 0 else (1.0 if kind in DEFAULT_WEIGHTED else 0.0)
    can_score = "score" in rules or kind in ("check", "yes_no", "scale") or (
        kind == "single_choice" and any(s is not None for s in choices.values()))
    return weight, weight > 0 and can_score and kind != "group"


# -- evaluation time: the score --------------------------------------------------------------

def score_of(run: Run, sections: tuple[Section, ...], s: Settled, required: dict[str, bool],
             *, scored: bool, pass_percentage: float | None) -> Score:
    """The score of settled answers, with a line per scoring item."""
    lines: list[ItemScore] = []
    section_scores: list[SectionScore] = []
    all_points: list[float] = []
    all_weights: list[float] = []
    for sec in sections:
        points: list[float] = []
        weights: list[float] = []
        for it in sec.items:
            if not it.scores:
                continue
            if s.visible[it.id]:
                fraction, counted, decided = _fraction(run, it, s.data, required[it.id])
            else:
                fraction, counted, decided = None, False, "hidden"
            pts = _round(fraction * it.weight) if counted and fraction is not None else None
            if pts is not None:
                points.append(pts)
                weights.append(it.weight)
            lines.append(ItemScore(item=it.id, section=sec.id, title=it.title,
                                   weight=it.weight, fraction=fraction, points=pts,
                                   counted=pts is not None, decided_by=decided))
        section_scores.append(_section_score(sec, points, weights))
        all_points += points
        all_weights += weights
    total, most = _round(math.fsum(all_points)), _round(math.fsum(all_weights))
    pct = _percentage(total, most)
    passed = None
    if scored and pass_percentage is not None and pct is not None:
        passed = pct >= pass_percentage
    return Score(scored=scored, points=total, max=most, percentage=pct,
                 pass_percentage=pass_percentage if scored else None,
                 passed=passed, sections=section_scores, items=lines)


def _missing(required: bool) -> tuple[float | None, bool, str]:
    # A required item left unanswered scores 0; an optional one is left out.
    return (0.0, True, "missing") if required else (None, False, "missing")


def _fraction(run: Run, it: Item, data: dict[str, Any], required: bool
              ) -> tuple[float | None, bool, str]:
    """(fraction of the weight, counted, decided_by) of a visible scoring item."""
    v = data.get(it.id)
    if it.type in _NA_TYPES and v == "na":
        return None, False, "na"
    if v is None and it.type != "check":
        return _missing(required)
    rule = it.rule("score")
    if rule is not None:
        label = f"rule:{rule.pointer}"
        r = run.call(rule, data, "", failed=RAISED)
        if r is None:
            return None, False, label  # the rule says: not applicable
        if isinstance(r, bool):
            return (1.0 if r else 0.0), True, label
        if isinstance(r, int | float) and r == r:
            return min(1.0, max(0.0, float(r))), True, label
        if r is not RAISED:
            run.errors.append(RuleFailure(pointer=rule.pointer, error={
                "type": "Invalid score", "message": "a score rule gives 0 to 1 or null",
                "value": r if isinstance(r, str | list | dict) else repr(r)}))
        return 0.0, True, label
    if it.type == "check":
        return (1.0 if js.truthy(v) else 0.0), True, "default:check"
    if it.type == "yes_no":
        if v in ("yes", "no"):
            return (1.0 if v == "yes" else 0.0), True, "default:yes_no"
        return _missing(required)
    if it.type == "scale":
        n = as_number(v)
        if n is None or it.scale is None:
            return _missing(required)
        lo, hi = it.scale
        f = 1.0 if hi <= lo else (n - lo) / (hi - lo)
        return min(1.0, max(0.0, f)), True, "default:scale"
    if it.type == "single_choice" and isinstance(v, str) and v in it.choices:
        s = it.choices[v]
        return (None, False, f"choice:{v}") if s is None else (s, True, f"choice:{v}")
    return _missing(required)


def _round(x: float) -> float:
    return round_half_up(x, _POINTS_DIGITS)


def _percentage(points: float, most: float) -> float | None:
    return None if most == 0 else round_half_up(100 * points / most, 1)


def _section_score(sec: Section, points: list[float], weights: list[float]) -> SectionScore:
    p, m = _round(math.fsum(points)), _round(math.fsum(weights))
    return SectionScore(section=sec.id, title=sec.title, points=p, max=m,
                        percentage=_percentage(p, m))
