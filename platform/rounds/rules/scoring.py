"""How a standard's answers become a score: scoring models, each item's points, the totals.

This module is the reference for every port of the scoring (the browser's ``rules.js``
follows it bit for bit); docs/scoring.md explains the models with worked examples.

**Which items score** (:func:`item_scoring`, compile time). Only top-level items of a
definition that scores (a standard; a survey with ``scored: true``), never a group:

- *fraction* items earn a fraction of their ``weight`` (default 1 on ``check``, ``yes_no``,
  ``scale``, ``single_choice``, else 0): the ``score`` rule's (0..1, true/false; null: not
  applicable), else by type — ``check``/``yes_no``: 1 for the counted answer, else 0;
  ``scale``: (v − min)/(max − min); ``single_choice``: the choice's ``score`` (a choice
  without one is not applicable). The item's most is its weight. They score when the weight
  is above 0 and the item has a way to score.
- *absolute* items (a ``scale`` or ``single_choice`` with ``points: "value"``, or a
  ``single_choice`` whose choices have ``points``) earn points: the choice's ``points``
  (``null``: not applicable), or the answer's number. The item's most is the highest points
  it can give (a scale: its max); a ``weight`` on such an item is ignored (the validator
  reports it), but for ``0``, which still says the item does not score. A ``score`` rule
  on one gives a fraction of that most.

**The counted answer** of a ``check``/``yes_no`` is the *good* one (``good``: ``"yes"``
(default) or ``"no"``; ``true`` (default) or ``false``) when the item's section counts
``higher_better``, and the *bad* one when it counts ``lower_better``: a demerit counts what
is wrong. ``reverse`` turns a default over: a fraction f becomes 1 − f, absolute points p
become (highest + lowest) − p. It does not apply to a ``score`` rule (the rule says it all).

**Not counted** (neither points nor most): hidden, ``"na"`` (yes_no, scale), a score rule
giving null, a choice that scores nothing, an optional item left unanswered. A required
item left unanswered earns 0 and counts.

**Sections and the total** (:func:`score_of`). A section counts in its own model (its
``scoring``, each field defaulting to the definition's); the total in the definition's,
over every counted item of every section (never over section values):

- ``points`` = Σ points, ``max`` = Σ most, ``answered`` = the number of counted items;
- ``value``: ``percentage`` → 100 × points / max (null when max is 0); ``sum`` → points;
  ``mean`` → points / answered (null when 0 counted); null when answered < ``min_answered``,
  and null for a section (or total) without any scoring item;
- ``percentage`` = the value in the percentage model, else null;
- the total has no value when ``scoring.total`` is false;
- ``section_max``/``section_min``: the highest/lowest non-null section value.

**Numbers.** Nothing is rounded here: points, values and percentages keep full precision,
and ``passed`` and outcome bands compare them as they are (a 0.1-point failure beside a
2,000-point item is 99.995%, not 100%). ``digits`` says how many decimals to *show*. Sums
run left to right in document order, an explicit loop (never ``sum()`` or ``math.fsum``), so
that JavaScript adding the same floats in the same order gets the same bits.

May import: ``rounds.rules`` modules below it (``semantics``, ``alerts``, ``results``,
``structure``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rounds.rules import semantics as js
from rounds.rules.results import ItemScore, RuleFailure, Score, SectionScore
from rounds.rules.structure import RAISED, Item, Run, ScoreModel, Section, Settled, as_number

MODELS = ("percentage", "sum", "mean")
DIRECTIONS = ("higher_better", "lower_better")
DEFAULT_WEIGHTED = frozenset({"check", "yes_no", "scale", "single_choice"})
_NA_TYPES = frozenset({"yes_no", "scale"})
# A choice value that is a number: "0", "2", "1.5" (no sign, exponent or "inf": choice codes
# start with a letter or digit). Validation, the forms engine and scoring all read this one.
NUMERIC_VALUE = re.compile(r"[0-9]+(\.[0-9]+)?")


# -- compile time: the models and what scores ------------------------------------------------

def score_model(spec: Any, base: ScoreModel | None = None) -> ScoreModel:
    """A ``scoring`` object (of the definition, or of a section over ``base``) as a model;
    fields missing or of the wrong kind keep the default (the validator reports them)."""
    b = base or ScoreModel()
    s = spec if isinstance(spec, Mapping) else {}
    model = s.get("model") if s.get("model") in MODELS else b.model
    direction = s.get("direction") if s.get("direction") in DIRECTIONS else b.direction
    n = as_number(s.get("min_answered"))
    d = as_number(s.get("digits"))
    return ScoreModel(model=str(model), direction=str(direction),
                      min_answered=int(n) if n is not None and n >= 0 else b.min_answered,
                      digits=int(d) if d is not None and 0 <= d <= 4 else b.digits)


@dataclass(frozen=True, slots=True)
class ItemScoring:
    """What :func:`item_scoring` makes of an item: see :class:`structure.Item`."""

    weight: float
    scores: bool
    choices: dict[str, float | None]
    absolute: bool = False
    least: float = 0.0
    reverse: bool = False
    good: str | bool | None = None
    numbers: dict[float, str] | None = None


def _choice_list(item: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [c for c in item.get("choices") or []
            if isinstance(c, Mapping) and isinstance(c.get("value"), str)]


def item_scoring(item: Mapping[str, Any], kind: str, rules: Mapping[str, Any], *,
                 scored: bool, top: bool) -> ItemScoring:
    """How one item scores: its most, whether it is listed in the explanation (``scores``:
    a top-level item of a scored definition with something to earn and a way to earn it),
    its choices' fractions or points, polarity and reversal."""
    choices = _choice_list(item)
    by_value = item.get("points") == "value" and kind in ("scale", "single_choice")
    absolute = by_value or (kind == "single_choice" and any("points" in c for c in choices))
    good = item.get("good")
    good = good if (kind == "yes_no" and good in ("yes", "no")) or (
        kind == "check" and isinstance(good, bool)) else None
    reverse = item.get("reverse") is True and kind in ("scale", "single_choice")
    eligible = scored and top and kind != "group"
    can_rule = "score" in rules
    if not absolute:
        fractions = {str(c["value"]): as_number(c.get("score")) for c in choices}
        w = as_number(item.get("weight"))
        weight = 0.0
        if eligible:
            weight = w if w is not None and w >= 0 else (1.0 if kind in DEFAULT_WEIGHTED else 0.0)
        can_score = can_rule or kind in ("check", "yes_no", "scale") or (
            kind == "single_choice" and any(f is not None for f in fractions.values()))
        return ItemScoring(weight=weight, scores=weight > 0 and can_score and eligible,
                           choices=fractions, reverse=reverse, good=good)
    points: dict[str, float | None] = {}
    numbers: dict[float, str] | None = None
    if kind == "scale":
        lo, hi = as_number(item.get("min")), as_number(item.get("max"))
        most, least = (hi, lo) if lo is not None and hi is not None else (None, None)
    else:
        if by_value:
            numbers = {float(c["value"]): str(c["value"]) for c in choices
                       if NUMERIC_VALUE.fullmatch(c["value"])}
        for c in choices:
            v = str(c["value"])
            if "points" in c:  # an explicit choice's points win, null scoring nothing
                points[v] = as_number(c.get("points"))
            else:
                points[v] = float(v) if by_value and NUMERIC_VALUE.fullmatch(v) else None
        given = [p for p in points.values() if p is not None]
        most, least = (max(given), min(given)) if given else (None, None)
    if most is None or least is None:
        return ItemScoring(weight=0.0, scores=False, choices=points, absolute=True,
                           numbers=numbers, good=good)
    off = as_number(item.get("weight")) == 0  # "weight": 0 still says: this does not score
    return ItemScoring(weight=most, scores=eligible and not off, choices=points, absolute=True,
                       least=least, reverse=reverse, good=good, numbers=numbers)


# -- evaluation time: the score --------------------------------------------------------------

@dataclass(slots=True)
class _Tally:
    """Running sums of counted items, added left to right (see the module's *Numbers*)."""

    points: float = 0.0
    most: float = 0.0
    answered: int = 0
    scoring: bool = False  # has any scoring item at all

    def add(self, points: float, most: float) -> None:
        self.points = self.points + points
        self.most = self.most + most
        self.answered += 1


def _value(t: _Tally, m: ScoreModel) -> float | None:
    """What the model makes of a tally (see the module's *Sections and the total*)."""
    if not t.scoring or t.answered < m.min_answered:
        return None
    if m.model == "sum":
        return t.points
    if m.model == "mean":
        return None if t.answered == 0 else t.points / t.answered
    return None if t.most == 0 else 100 * t.points / t.most


def score_of(run: Run, sections: tuple[Section, ...], s: Settled, required: dict[str, bool],
             *, scored: bool, model: ScoreModel, has_total: bool,
             pass_percentage: float | None) -> Score:
    """The score of settled answers, with a line per scoring item.

    ``passed`` here is the percentage model's (``percentage >= pass_percentage``); outcomes
    that say whether the submission passed override it (``rules.evaluation``).
    """
    lines: list[ItemScore] = []
    section_scores: list[SectionScore] = []
    total = _Tally()
    for sec in sections:
        tally = _Tally()
        for it in sec.items:
            if not it.scores:
                continue
            tally.scoring = total.scoring = True
            rev = False
            if s.visible[it.id]:
                pts, counted, decided, rev = _points(run, it, s.data, required[it.id],
                                                     sec.model.direction)
            else:
                pts, counted, decided = None, False, "hidden"
            if counted and pts is not None:
                tally.add(pts, it.weight)
                total.add(pts, it.weight)
            else:
                pts = None
            lines.append(ItemScore(
                item=it.id, section=sec.id, title=it.title, weight=it.weight,
                fraction=None if pts is None or it.weight == 0 else pts / it.weight,
                points=pts, counted=pts is not None, decided_by=decided, reversed=rev))
        value = _value(tally, sec.model)
        section_scores.append(SectionScore(
            section=sec.id, title=sec.title, model=sec.model.model,
            direction=sec.model.direction, digits=sec.model.digits, points=tally.points,
            max=tally.most, answered=tally.answered, value=value,
            percentage=value if sec.model.model == "percentage" else None))
    value = _value(total, model) if has_total else None
    pct = value if model.model == "percentage" else None
    passed = None
    if scored and pass_percentage is not None and pct is not None:
        passed = pct >= pass_percentage
    values = [sec.value for sec in section_scores if sec.value is not None]
    return Score(scored=scored, model=model.model, direction=model.direction,
                 digits=model.digits, has_total=has_total, points=total.points,
                 max=total.most, answered=total.answered, value=value, percentage=pct,
                 pass_percentage=pass_percentage if scored else None, passed=passed,
                 section_max=max(values) if values else None,
                 section_min=min(values) if values else None,
                 sections=section_scores, items=lines)


def score_data(score: Score) -> dict[str, Any]:
    """What rules read as ``score`` (calculate, fail_if, outcomes; alerts add ``passed``).
    ``total`` is ``points`` under the name older alerts use."""
    return {
        "value": score.value, "total": score.points, "points": score.points, "max": score.max,
        "percentage": score.percentage, "answered": score.answered,
        "section_max": score.section_max, "section_min": score.section_min,
        "sections": {sec.section: {"value": sec.value, "points": sec.points, "max": sec.max,
                                   "percentage": sec.percentage, "answered": sec.answered}
                     for sec in score.sections},
    }


_Points = tuple[float | None, bool, str, bool]  # points, counted, decided_by, reversed


def _missing(required: bool) -> _Points:
    # A required item left unanswered scores 0; an optional one is left out.
    return (0.0, True, "missing", False) if required else (None, False, "missing", False)


def _points(run: Run, it: Item, data: dict[str, Any], required: bool, direction: str
            ) -> _Points:
    """(points, counted, decided_by, reversed) of a visible scoring item."""
    v = data.get(it.id)
    if it.type in _NA_TYPES and v == "na":
        return None, False, "na", False
    if v is None and it.type != "check":
        return _missing(required)
    rule = it.rule("score")
    if rule is not None:
        label = f"rule:{rule.pointer}"
        r = run.call(rule, data, "", failed=RAISED)
        if r is None:
            return None, False, label, False  # the rule says: not applicable
        return rule_fraction(run, rule.pointer, r) * it.weight, True, label, False
    if it.absolute:
        return _absolute(it, v, required)
    lower = direction == "lower_better"
    if it.type == "check":
        good = it.good if isinstance(it.good, bool) else True
        counted = (js.truthy(v) == good) != lower
        return (it.weight if counted else 0.0), True, "default:check", False
    if it.type == "yes_no":
        if v in ("yes", "no"):
            good_answer = it.good if it.good in ("yes", "no") else "yes"
            counted = (v == good_answer) != lower
            return (it.weight if counted else 0.0), True, "default:yes_no", False
        return _missing(required)
    if it.type == "scale":
        n = as_number(v)
        if n is None or it.scale is None:
            return _missing(required)
        lo, hi = it.scale
        f = 1.0 if hi <= lo else min(1.0, max(0.0, (n - lo) / (hi - lo)))
        if it.reverse:
            f = 1.0 - f
        return f * it.weight, True, "default:scale", it.reverse
    if it.type == "single_choice" and isinstance(v, str) and v in it.choices:
        f2 = it.choices[v]
        if f2 is None:
            return None, False, f"choice:{v}", False
        if it.reverse:
            f2 = 1.0 - f2
        return f2 * it.weight, True, f"choice:{v}", it.reverse
    return _missing(required)


def rule_fraction(run: Run, pointer: str, r: Any) -> float:
    """The fraction a score rule's result (not null) gives: true 1, false 0, a number
    clamped to 0..1; anything else 0, listed as an error (a rule that raised, ``RAISED``,
    is listed already)."""
    if isinstance(r, bool):
        return 1.0 if r else 0.0
    if isinstance(r, int | float) and r == r:
        return min(1.0, max(0.0, float(r)))
    if r is not RAISED:
        run.errors.append(RuleFailure(pointer=pointer, error={
            "type": "Invalid score", "message": "a score rule gives 0 to 1 or null",
            "value": r if isinstance(r, str | list | dict) else repr(r)}))
    return 0.0


def _absolute(it: Item, v: Any, required: bool) -> _Points:
    """Points of an item with absolute points (a choice's, or a scale's value)."""
    if it.type == "scale":
        n = as_number(v)
        if n is None:
            return _missing(required)
        p = min(it.weight, max(it.least, n))
        decided = "value"
    elif it.type == "single_choice" and isinstance(v, str) and v in it.choices:
        got = it.choices[v]
        if got is None:
            return None, False, f"choice:{v}", False
        p, decided = got, f"choice:{v}"
    else:
        return _missing(required)
    if it.reverse:
        p = (it.weight + it.least) - p
    return p, True, decided, it.reverse
