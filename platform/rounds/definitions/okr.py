"""Grading an OKR: key-result values in, grades, scores and their explanation out.

Pure: no database. The runtime (``rounds.runtime.okr``) reads each key result's value from
the query store and calls :func:`grade`; this module decides what the value is worth:

- each key result's grade rule (JsonLogic over ``{"value": …, "target": …}``) is compiled
  once per OKR content (:func:`compile_okr`, cached by the content's hash);
- the rule gives a grade id (its score from the OKR's ``grades`` table) or a number (the
  score itself, held to 0..1; the grade shown is the best one whose score it reaches);
- an objective's score is the weighted mean of its key results' scores, the whole's the
  weighted mean of the objectives'. A key result with no value (no rows in the period: no
  planned visits, no forms) is left out and the others' weights renormalised, and the
  result says which were left out and why, rather than counting a 0 that nobody earned;
- the overall grade is the best grade whose score is at most the overall score (the lowest
  grade below all of them).

The result is plain data (:meth:`Result.as_json`), stored with a frozen grade and read back
by the explanation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rounds.cache import BoundedCache
from rounds.definitions.loader import content_hash
from rounds.definitions.metrics import CATALOGUE, Metric
from rounds.errors import RuleEvaluationError
from rounds.rules import CompiledRule, compile_many

DEFAULT_GRADES: tuple[dict[str, Any], ...] = (
    {"id": "A", "title": {"zh": "A", "en": "A"}, "score": 1.0},
    {"id": "B", "title": {"zh": "B", "en": "B"}, "score": 0.75},
    {"id": "C", "title": {"zh": "C", "en": "C"}, "score": 0.5},
    {"id": "D", "title": {"zh": "D", "en": "D"}, "score": 0.25},
)
DEFAULT_NOTIFY_BELOW = 0.5

# Why a key result (or an objective) has no score.
NO_VALUE = "no_value"  # the metric has no value over the period (nothing to divide by)
NO_WEIGHT = "no_weight"  # every key result with a value weighs 0
RULE_FAILED = "rule_failed"  # the grade rule raised or gave something that is no grade


@dataclass(frozen=True)
class GradeLevel:
    id: str
    title: Mapping[str, str]
    score: float


@dataclass(frozen=True)
class KeyResultSpec:
    id: str
    objective_id: str
    title: Mapping[str, str]
    metric: Metric
    definition: str | None
    weight: float
    target: float
    rule: CompiledRule
    item: str | None = None  # the scale item a metric with that parameter reads
    level: str | None = None  # the outcome level (the share at it or above)


@dataclass(frozen=True)
class ObjectiveSpec:
    id: str
    title: Mapping[str, str]
    weight: float
    key_results: tuple[KeyResultSpec, ...]


@dataclass(frozen=True)
class CompiledOkr:
    id: str
    title: Mapping[str, str]
    period: str  # week | month | quarter | year
    applies_to: tuple[str, ...]
    grades: tuple[GradeLevel, ...]  # best first
    notify_below: float
    objectives: tuple[ObjectiveSpec, ...]
    content_hash: str

    @property
    def key_results(self) -> tuple[KeyResultSpec, ...]:
        return tuple(kr for o in self.objectives for kr in o.key_results)

    def grade_for(self, score: float) -> GradeLevel:
        """The best grade whose score is at most ``score`` (the lowest one if none is)."""
        for g in sorted(self.grades, key=lambda g: -g.score):
            if g.score <= score + 1e-9:
                return g
        return min(self.grades, key=lambda g: g.score)

    def level(self, grade_id: str) -> GradeLevel | None:
        return next((g for g in self.grades if g.id == grade_id), None)


_compiled: BoundedCache[str, CompiledOkr] = BoundedCache(256)


def compile_okr(content: Mapping[str, Any]) -> CompiledOkr:
    """An OKR definition's content, compiled (its grade rules once, for every grading).

    The content is a validated definition: an unknown metric here is a ``KeyError``.
    """
    digest = content_hash(dict(content))
    return _compiled.get_or_make(digest, lambda: _compile(content, digest))


def _compile(content: Mapping[str, Any], digest: str) -> CompiledOkr:
    rules: dict[str, Any] = {}
    for objective in content["objectives"]:
        for kr in objective["key_results"]:
            rules[f"{objective['id']}/{kr['id']}"] = kr["grade"]
    fns = compile_many(rules)
    objectives = tuple(
        ObjectiveSpec(str(o["id"]), dict(o["title"]), float(o.get("weight", 1)), tuple(
            KeyResultSpec(str(kr["id"]), str(o["id"]), dict(kr["title"]),
                          CATALOGUE[kr["metric"]], kr.get("definition"),
                          float(kr.get("weight", 1)), float(kr["target"]),
                          fns[f"{o['id']}/{kr['id']}"], kr.get("item"), kr.get("level"))
            for kr in o["key_results"]))
        for o in content["objectives"])
    grades = tuple(GradeLevel(str(g["id"]), dict(g["title"]), float(g["score"]))
                   for g in content.get("grades") or DEFAULT_GRADES)
    return CompiledOkr(str(content["id"]), dict(content["title"]), str(content["period"]),
                       tuple(content["applies_to"]), grades,
                       float(content.get("notify_below", DEFAULT_NOTIFY_BELOW)), objectives,
                       digest)


# -- results --------------------------------------------------------------------------------

@dataclass
class KeyResultGrade:
    id: str
    objective_id: str
    metric: str
    definition: str | None
    value: float | None
    target: float
    sums: dict[str, float]
    weight: float
    grade: str | None = None
    score: float | None = None
    weight_used: float = 0.0  # its share of the objective, after renormalising
    left_out: str | None = None  # NO_VALUE | RULE_FAILED
    error: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "objective_id": self.objective_id, "metric": self.metric,
                "definition": self.definition, "value": self.value, "target": self.target,
                "sums": self.sums, "weight": self.weight, "grade": self.grade,
                "score": self.score, "weight_used": self.weight_used,
                "left_out": self.left_out, "error": self.error}


@dataclass
class ObjectiveGrade:
    id: str
    weight: float
    key_results: list[KeyResultGrade]
    score: float | None = None
    weight_used: float = 0.0
    left_out: str | None = None  # NO_VALUE | NO_WEIGHT

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "weight": self.weight, "score": self.score,
                "weight_used": self.weight_used, "left_out": self.left_out,
                "key_results": [k.as_json() for k in self.key_results]}


@dataclass
class Result:
    okr_id: str
    objectives: list[ObjectiveGrade]
    score: float | None = None
    grade: str | None = None
    # key results left out (no value, or a rule that failed), so the weights were renormalised
    left_out: list[str] = field(default_factory=list)

    @property
    def key_results(self) -> list[KeyResultGrade]:
        return [k for o in self.objectives for k in o.key_results]

    def as_json(self) -> dict[str, Any]:
        return {"okr_id": self.okr_id, "score": self.score, "grade": self.grade,
                "left_out": self.left_out, "renormalised": bool(self.left_out),
                "objectives": [o.as_json() for o in self.objectives]}


def grade_value(okr: CompiledOkr, kr: KeyResultSpec, value: float
                ) -> tuple[str, float] | str:
    """A key result's grade and score for ``value``; or why it has none (an error text)."""
    try:
        out = kr.rule({"value": value, "target": kr.target})
    except RuleEvaluationError as exc:
        return f"the grade rule failed: {exc}"
    if isinstance(out, str):
        level = okr.level(out)
        if level is None:
            return f"the grade rule gave {out!r}, which is not a grade of this OKR"
        return level.id, level.score
    if isinstance(out, int | float) and not isinstance(out, bool) and math.isfinite(out):
        score = min(1.0, max(0.0, float(out)))
        return okr.grade_for(score).id, score
    return f"the grade rule gave {out!r}, neither a grade id nor a score"


def _weighted(parts: Sequence[tuple[float, float]]) -> tuple[float | None, list[float]]:
    """The weighted mean of (weight, score) pairs and each one's share of the weights."""
    total = sum(w for w, _ in parts)
    if total <= 0:
        return None, [0.0 for _ in parts]
    return sum(w * s for w, s in parts) / total, [w / total for w, _ in parts]


def grade(okr: CompiledOkr, figures: Mapping[str, tuple[float | None, Mapping[str, float]]]
          ) -> Result:
    """Grade one subject: ``figures`` maps each key result id to (value, sums) — the metric's
    value over the period and the facts it came from. A key result missing from it has no
    value."""
    objectives: list[ObjectiveGrade] = []
    left_out: list[str] = []
    for o in okr.objectives:
        krs: list[KeyResultGrade] = []
        for spec in o.key_results:
            value, sums = figures.get(spec.id, (None, {}))
            krg = KeyResultGrade(spec.id, o.id, spec.metric.id, spec.definition, value,
                                 spec.target, {k: float(v) for k, v in sums.items()},
                                 spec.weight)
            if value is None:
                krg.left_out = NO_VALUE
            else:
                graded = grade_value(okr, spec, float(value))
                if isinstance(graded, str):
                    krg.left_out, krg.error = RULE_FAILED, graded
                else:
                    krg.grade, krg.score = graded
            if krg.left_out:
                left_out.append(spec.id)
            krs.append(krg)
        scored = [k for k in krs if k.score is not None]
        og = ObjectiveGrade(o.id, o.weight, krs)
        og.score, shares = _weighted([(k.weight, k.score or 0.0) for k in scored])
        for k, share in zip(scored, shares, strict=True):
            k.weight_used = share
        if not scored:
            og.left_out = NO_VALUE
        elif og.score is None:
            og.left_out = NO_WEIGHT
        objectives.append(og)
    scored_o = [o for o in objectives if o.score is not None]
    result = Result(okr.id, objectives, left_out=left_out)
    result.score, shares = _weighted([(o.weight, o.score or 0.0) for o in scored_o])
    for og, share in zip(scored_o, shares, strict=True):
        og.weight_used = share
    if result.score is not None:
        result.grade = okr.grade_for(result.score).id
    return result


def below(okr: CompiledOkr, result: Result) -> list[KeyResultGrade]:
    """The key results scored below the OKR's ``notify_below``."""
    return [k for k in result.key_results
            if k.score is not None and k.score < okr.notify_below - 1e-9]
