"""A standard or survey definition evaluated against answers: scores, failures, alerts.

``compile_standard(definition)`` compiles every rule of a definition at once (cached by
content) into :class:`StandardRules`. Its entry points, cheapest first:

- ``visibility(answers, ctx)``: which items are shown;
- ``requirements(answers, ctx)``: which items must be answered;
- ``form(answers, ctx)``: what the forms engine enforces on submit (kept answers, calculated
  values, visibility, required-ness and evidence, per group entry too);
- ``evaluate(answers, ctx)``: all of that, plus failed items, scores with their explanation,
  and alerts.

How it runs (docs/definitions.md, "Evaluation details"): answers of items that don't exist are
ignored; items are settled in dependency order (an item after every item its ``visible_if``
or ``calculate`` reads), and a hidden item's answer is dropped before any later rule reads it;
every other rule then sees the settled data. A rule that raises while running (``throw``,
NaN) does not abort the evaluation: it counts as null and is listed in ``errors``.
"""

from __future__ import annotations

import heapq
import json
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from rounds.errors import Problem, RuleError, RuleEvaluationError
from rounds.rules import semantics as js
from rounds.rules.alerts import (
    Alert,
    format_labels,
    format_number,
    format_value,
    item_labels,
    items_by_path,
    message,
    param_rule,
    round_half_up,
)
from rounds.rules.analysis import reads
from rounds.rules.compiler import CompiledRule, compile_many

RULE_FIELDS = ("visible_if", "required_if", "evidence_if", "fail_if", "score", "calculate")
DEFAULT_WEIGHTED = frozenset({"check", "yes_no", "scale", "single_choice"})
_NA_TYPES = frozenset({"yes_no", "scale"})
_POINTS_DIGITS = 4


# -- results -----------------------------------------------------------------------------------

class Evidence(msgspec.Struct, frozen=True, kw_only=True):
    """What must come with an answer when its ``evidence_if`` holds."""

    photo_min: int = 1
    note: bool = False


class ItemScore(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the explanation: how an item contributed to its section and the total.

    ``counted`` items add ``points`` out of ``weight``; the others (N/A, hidden, an optional
    item left unanswered) add nothing to either. ``decided_by``: ``default:check``,
    ``default:yes_no``, ``default:scale``, ``choice:<value>``, ``rule:<pointer of the score
    rule>``, ``na``, ``hidden`` or ``missing``.
    """

    item: str
    section: str
    title: dict[str, str]
    weight: float
    fraction: float | None
    points: float | None
    counted: bool
    decided_by: str


class SectionScore(msgspec.Struct, frozen=True, kw_only=True):
    section: str
    title: dict[str, str]
    points: float
    max: float
    percentage: float | None


class Score(msgspec.Struct, frozen=True, kw_only=True):
    """Points over max (the counted weights); ``percentage`` is null when max is 0.

    ``items`` is the explanation: the counted items' points add up to ``points``.
    """

    scored: bool
    points: float
    max: float
    percentage: float | None
    pass_percentage: float | None
    passed: bool | None
    sections: list[SectionScore]
    items: list[ItemScore]


class Failure(msgspec.Struct, frozen=True, kw_only=True):
    """A failed item (it becomes an issue). For a group, ``entries`` are the failing entries.

    ``problem`` is the item's problem title filled in both languages (empty when the item
    has none: its title is then the name of the problem)."""

    item: str
    section: str
    severity: str
    decided_by: str
    entries: list[int] = []
    problem: dict[str, str] = {}


class EntryResult(msgspec.Struct, frozen=True, kw_only=True):
    """The rules of a group's items, evaluated for one entry (``pointer`` is into the answers)."""

    group: str
    index: int
    pointer: str
    calculated: dict[str, Any]
    visible: dict[str, bool]
    required: dict[str, bool]
    evidence: dict[str, Evidence]
    failed: list[str]


class RuleFailure(msgspec.Struct, frozen=True, kw_only=True):
    """A rule that raised while evaluating; it counted as null (a score rule: as 0)."""

    pointer: str
    error: dict[str, Any]
    entry: str | None = None


class FormState(msgspec.Struct, frozen=True, kw_only=True):
    """What the forms engine enforces on submit.

    ``answers`` are the answers to keep: hidden items' dropped, unknown ids ignored, calculated
    values left out (they are in ``calculated``), an unanswered visible ``check`` as false.
    """

    answers: dict[str, Any]
    calculated: dict[str, Any]
    visible: dict[str, bool]
    required: dict[str, bool]
    evidence: dict[str, Evidence]
    entries: list[EntryResult]
    errors: list[RuleFailure]


class Evaluation(msgspec.Struct, frozen=True, kw_only=True):
    definition: str
    answers: dict[str, Any]
    calculated: dict[str, Any]
    visible: dict[str, bool]
    required: dict[str, bool]
    evidence: dict[str, Evidence]
    entries: list[EntryResult]
    failed: list[Failure]
    score: Score
    alerts: list[Alert]
    errors: list[RuleFailure]


# -- the compiled definition -------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Rule:
    fn: CompiledRule
    pointer: str


@dataclass(frozen=True, slots=True)
class _Param:
    name: str
    rule: _Rule | None
    labels: dict[str, dict[str, str]] | None


@dataclass(frozen=True, slots=True)
class _Template:
    """A message template: texts by language and the params its placeholders name."""

    texts: dict[str, str]
    params: tuple[_Param, ...] = ()


@dataclass(frozen=True, slots=True)
class _Item:
    id: str
    type: str
    section: str
    pointer: str
    title: dict[str, str]
    required: bool
    weight: float
    scores: bool  # listed in the explanation
    choices: dict[str, float | None]
    scale: tuple[float, float] | None
    evidence: Evidence
    severity: str
    rules: dict[str, _Rule]
    sub: _Level | None
    problem: _Template | None = None

    def rule(self, name: str) -> _Rule | None:
        return self.rules.get(name)


@dataclass(frozen=True, slots=True)
class _Level:
    """The items of the definition's top level, or of one group entry."""

    items: tuple[_Item, ...]  # document order
    order: tuple[_Item, ...]  # settle order: each item after what it depends on
    ids: frozenset[str]


@dataclass(frozen=True, slots=True)
class _AlertRule:
    code: str
    severity: str
    when: _Rule | None
    message: _Template
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Section:
    id: str
    title: dict[str, str]
    items: tuple[_Item, ...]


_ERROR = object()  # what a raising rule gives where null would be wrong


class _Run:
    """One evaluation: collects the rules that raised."""

    __slots__ = ("errors",)

    def __init__(self) -> None:
        self.errors: list[RuleFailure] = []

    def call(self, rule: _Rule, data: dict[str, Any], entry: str, failed: Any = None) -> Any:
        try:
            return rule.fn(data)
        except RuleEvaluationError as e:
            self.errors.append(RuleFailure(pointer=rule.pointer, error=dict(e.error),
                                           entry=entry or None))
            return failed

    def test(self, rule: _Rule | None, data: dict[str, Any], entry: str) -> bool:
        return rule is not None and js.truthy(self.call(rule, data, entry))


@dataclass(slots=True)
class _Settled:
    """A level after visibility and calculation: the data its later rules see."""

    data: dict[str, Any]
    answers: dict[str, Any] = field(default_factory=dict)
    calculated: dict[str, Any] = field(default_factory=dict)
    visible: dict[str, bool] = field(default_factory=dict)
    entries: dict[str, list[_Settled]] = field(default_factory=dict)


class StandardRules:
    """A standard's or survey's rules, compiled; evaluate answers with :meth:`evaluate`.

    Immutable and safe to share between threads. Answers are the JSON object a client sends
    (item id → answer); ``ctx`` is the submission's context (``now``, ``today``, ``site``,
    ``user``, ``visit``), seen by rules as ``ctx``.
    """

    def __init__(self, *, definition_id: str, scored: bool, pass_percentage: float | None,
                 sections: tuple[_Section, ...], level: _Level,
                 alerts: tuple[_AlertRule, ...]) -> None:
        self.id = definition_id
        self.scored = scored
        self.pass_percentage = pass_percentage
        self._sections = sections
        self._level = level
        self._alerts = alerts

    # -- entry points -----------------------------------------------------------------------

    def visibility(self, answers: Mapping[str, Any], ctx: Mapping[str, Any] | None = None
                   ) -> dict[str, bool]:
        """Item id → shown, for every top-level item (group entries: see :meth:`form`)."""
        return self._settle(_Run(), answers, ctx).visible

    def requirements(self, answers: Mapping[str, Any], ctx: Mapping[str, Any] | None = None
                     ) -> dict[str, bool]:
        """Item id → must be answered: visible, not calculated, and ``required`` or
        ``required_if``. For every top-level item (group entries: see :meth:`form`)."""
        run = _Run()
        s = self._settle(run, answers, ctx)
        return _required(run, self._level, s, s.data, "")

    def form(self, answers: Mapping[str, Any], ctx: Mapping[str, Any] | None = None
             ) -> FormState:
        """Visibility, required-ness and evidence of every item and group entry."""
        run = _Run()
        s = self._settle(run, answers, ctx)
        required = _required(run, self._level, s, s.data, "")
        evidence = _evidence(run, self._level, s, s.data, "")
        entries: list[EntryResult] = []
        for it in self._level.items:
            if it.sub is not None and s.visible[it.id]:
                _entries(run, it, s.entries.get(it.id, []), s.data, "", out=entries)
        return FormState(answers=s.answers, calculated=s.calculated, visible=s.visible,
                         required=required, evidence=evidence, entries=entries,
                         errors=run.errors)

    def evaluate(self, answers: Mapping[str, Any], ctx: Mapping[str, Any] | None = None
                 ) -> Evaluation:
        """Everything: calculated values, visibility, required-ness, evidence, failed items,
        scores (with their explanation) and alerts."""
        run = _Run()
        s = self._settle(run, answers, ctx)
        data = s.data
        required = _required(run, self._level, s, data, "")
        evidence = _evidence(run, self._level, s, data, "")
        entries: list[EntryResult] = []
        failed: list[Failure] = []
        for it in self._level.items:
            if not s.visible[it.id]:
                continue
            if it.sub is not None:
                bad, rule = _entries(run, it, s.entries.get(it.id, []), data, "", out=entries)
                decided = rule
            else:
                bad, decided = [], _fails(run, it, data, "")
            if decided is not None:
                problem = _fill(run, it.problem, data) if it.problem is not None else {}
                failed.append(Failure(item=it.id, section=it.section, severity=it.severity,
                                      decided_by=decided, entries=bad, problem=problem))
        score = self._score(run, s, required)
        alerts = self._raise_alerts(run, data, score, failed)
        return Evaluation(definition=self.id, answers=s.answers, calculated=s.calculated,
                          visible=s.visible, required=required, evidence=evidence,
                          entries=entries, failed=failed, score=score, alerts=alerts,
                          errors=run.errors)

    # -- the steps ----------------------------------------------------------------------------

    def _settle(self, run: _Run, answers: Mapping[str, Any], ctx: Mapping[str, Any] | None
                ) -> _Settled:
        base: dict[str, Any] = {"ctx": dict(ctx) if ctx else {}}
        return _settle(run, self._level, answers if isinstance(answers, Mapping) else {},
                       base, "")

    def _score(self, run: _Run, s: _Settled, required: dict[str, bool]) -> Score:
        lines: list[ItemScore] = []
        sections: list[SectionScore] = []
        all_points: list[float] = []
        all_weights: list[float] = []
        for sec in self._sections:
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
            sections.append(_section_score(sec, points, weights))
            all_points += points
            all_weights += weights
        total, most = _round(math.fsum(all_points)), _round(math.fsum(all_weights))
        pct = _percentage(total, most)
        passed = None
        if self.scored and self.pass_percentage is not None and pct is not None:
            passed = pct >= self.pass_percentage
        return Score(scored=self.scored, points=total, max=most, percentage=pct,
                     pass_percentage=self.pass_percentage if self.scored else None,
                     passed=passed, sections=sections, items=lines)

    def _raise_alerts(self, run: _Run, data: dict[str, Any], score: Score,
                      failed: list[Failure]) -> list[Alert]:
        if not self._alerts:
            return []
        seen = dict(data)
        seen["score"] = {
            "total": score.points, "points": score.points, "max": score.max,
            "percentage": score.percentage, "passed": score.passed,
            "sections": {sec.section: {"points": sec.points, "max": sec.max,
                                       "percentage": sec.percentage}
                         for sec in score.sections},
        }
        seen["failed"] = [f.item for f in failed]
        raised: list[Alert] = []
        for a in self._alerts:
            if run.test(a.when, seen, ""):
                raised.append(Alert(code=a.code, severity=a.severity,
                                    message=_fill(run, a.message, seen), items=list(a.items)))
        return raised


# -- evaluation helpers ------------------------------------------------------------------------

def _fill(run: _Run, template: _Template, data: dict[str, Any]) -> dict[str, str]:
    """A template filled in both languages: each param's rule runs once."""
    params: dict[str, dict[str, str]] = {}
    for p in template.params:
        value = run.call(p.rule, data, "") if p.rule is not None else None
        params[p.name] = {
            lang: (format_labels(value, p.labels, lang) if p.labels is not None
                   else format_value(value, lang)) for lang in ("zh", "en")}
    return message(template.texts, data, params)


def _settle(run: _Run, level: _Level, raw: Mapping[str, Any], base: dict[str, Any],
            where: str) -> _Settled:
    """Visibility and calculated values of one level, in dependency order.

    ``base`` is the data around the level (``ctx``; for a group entry, the level above, whose
    ids the entry's own items shadow).
    """
    data = dict(base)
    for it in level.items:
        data.pop(it.id, None)
        if it.rule("calculate") is None:  # calculated values are never taken from a client
            v = raw.get(it.id)
            if v is not None:
                data[it.id] = v
        if it.sub is not None and not isinstance(data.get(it.id), list):
            data[it.id] = []  # some/all/none over null is an error in JsonLogic (2024)
    s = _Settled(data)
    for it in level.order:
        shown = True
        rule = it.rule("visible_if")
        if rule is not None:
            shown = js.truthy(run.call(rule, data, where))
        s.visible[it.id] = shown
        if not shown:
            if it.sub is not None:
                data[it.id] = []
            else:
                data.pop(it.id, None)
            continue
        calc = it.rule("calculate")
        if calc is not None:
            value = run.call(calc, data, where)
            s.calculated[it.id] = value
            if value is None:
                data.pop(it.id, None)
            else:
                data[it.id] = value
            continue
        if it.sub is not None:
            settled = []
            for i, entry in enumerate(data[it.id]):
                e = entry if isinstance(entry, Mapping) else {}
                settled.append(_settle(run, it.sub, e, data, f"{where}/{it.id}/{i}"))
            s.entries[it.id] = settled
            # Later rules see each entry's kept answers and calculated values.
            data[it.id] = [{**e.answers, **{k: v for k, v in e.calculated.items()
                                            if v is not None}} for e in settled]
            if raw.get(it.id) is not None:
                s.answers[it.id] = [e.answers for e in settled]
            continue
        if it.type == "check" and data.get(it.id) is None:
            data[it.id] = False  # an unticked check may simply not be sent
        if it.id in data:
            s.answers[it.id] = data[it.id]
    return s


def _entry_data(parent: dict[str, Any], level: _Level, entry: _Settled) -> dict[str, Any]:
    """An entry's data over the final data of the level above (the entry's ids shadow it)."""
    data = dict(parent)
    for i in level.ids:
        data.pop(i, None)
        if i in entry.data:
            data[i] = entry.data[i]
    return data


def _required(run: _Run, level: _Level, s: _Settled, data: dict[str, Any], where: str
              ) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for it in level.items:
        out[it.id] = (s.visible[it.id] and it.rule("calculate") is None
                      and (it.required or run.test(it.rule("required_if"), data, where)))
    return out


def _evidence(run: _Run, level: _Level, s: _Settled, data: dict[str, Any], where: str
              ) -> dict[str, Evidence]:
    return {it.id: it.evidence for it in level.items
            if s.visible[it.id] and run.test(it.rule("evidence_if"), data, where)}


def _fails(run: _Run, it: _Item, data: dict[str, Any], where: str,
           defaults: bool = True) -> str | None:
    """How the item failed (``rule:<pointer>`` or the type's default), None if it did not."""
    rule = it.rule("fail_if")
    if rule is not None:
        return f"rule:{rule.pointer}" if run.test(rule, data, where) else None
    if not defaults:
        return None
    v = data.get(it.id)
    # An unticked check is not a failure by default: many checks say what staff did ("advised
    # to reorder"), and leaving one unticked scores 0 but is no problem at the shop. A check
    # that states a condition of the site fails only where its fail_if says so.
    if it.type == "yes_no" and v == "no":
        return "default:yes_no"
    return None


def _entries(run: _Run, group: _Item, settled: list[_Settled], parent: dict[str, Any],
             where: str, *, out: list[EntryResult]) -> tuple[list[int], str | None]:
    """Per-entry results of a visible group (appended to ``out``).

    Returns the failing entries and the rule that failed first: inside a group only an
    explicit ``fail_if`` fails (an unticked check in an entry is a detail, not an issue).
    """
    assert group.sub is not None
    level = group.sub
    failing: list[int] = []
    first: str | None = None
    for i, s in enumerate(settled):
        here = f"{where}/{group.id}/{i}"
        data = _entry_data(parent, level, s)
        failed: list[str] = []
        for it in level.items:
            if not s.visible[it.id]:
                continue
            if it.sub is not None:
                bad, rule = _entries(run, it, s.entries.get(it.id, []), data, here, out=out)
                decided = rule if bad else None
            else:
                decided = _fails(run, it, data, here, defaults=False)
            if decided is not None:
                failed.append(it.id)
                first = first or decided
        out.append(EntryResult(
            group=group.id, index=i, pointer=here, calculated=s.calculated, visible=s.visible,
            required=_required(run, level, s, data, here),
            evidence=_evidence(run, level, s, data, here), failed=failed))
        if failed:
            failing.append(i)
    return failing, first


def _missing(required: bool) -> tuple[float | None, bool, str]:
    # A required item left unanswered scores 0; an optional one is left out.
    return (0.0, True, "missing") if required else (None, False, "missing")


def _fraction(run: _Run, it: _Item, data: dict[str, Any], required: bool
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
        r = run.call(rule, data, "", failed=_ERROR)
        if r is None:
            return None, False, label  # the rule says: not applicable
        if isinstance(r, bool):
            return (1.0 if r else 0.0), True, label
        if isinstance(r, int | float) and r == r:
            return min(1.0, max(0.0, float(r))), True, label
        if r is not _ERROR:
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
        n = _number(v)
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


def _section_score(sec: _Section, points: list[float], weights: list[float]) -> SectionScore:
    p, m = _round(math.fsum(points)), _round(math.fsum(weights))
    return SectionScore(section=sec.id, title=sec.title, points=p, max=m,
                        percentage=_percentage(p, m))


# -- compiling ---------------------------------------------------------------------------------

def _param_sources(template: Any, base: str, out: dict[str, Any]) -> None:
    params = template.get("params") if isinstance(template, dict) else None
    for name, spec in (params.items() if isinstance(params, dict) else ()):
        rule, _, below = param_rule(spec)
        out[f"{base}/params/{name}{below}"] = rule


def _rule_sources(items: Any, base: str, out: dict[str, Any]) -> None:
    for j, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            continue
        p = f"{base}/{j}"
        for name in RULE_FIELDS:
            if item.get(name) is not None:
                out[f"{p}/{name}"] = item[name]
        _param_sources(item.get("problem"), f"{p}/problem", out)
        if item.get("type") == "group":
            _rule_sources(item.get("items"), f"{p}/items", out)


def _sub_items(item: dict[str, Any], ptr: str) -> list[tuple[dict[str, Any], str]] | None:
    subs = item.get("items")
    if item.get("type") != "group" or not isinstance(subs, list):
        return None
    return [(s, f"{ptr}/items/{j}") for j, s in enumerate(subs) if isinstance(s, dict)]


_Edges = dict[int, dict[str, str]]  # item it depends on → {rule kind: pointer of the rule}


def _plan(entries: list[tuple[dict[str, Any], str]], key: str, plans: dict[str, list[int]],
          problems: list[Problem], source: str) -> list[tuple[str, str, str]]:
    """The settle order of one level, into ``plans[key]``; cycles into ``problems``.

    Returns the reads of this level's rules that name no item of the level (kind, id,
    rule pointer): the level above orders its group by them.
    """
    index: dict[Any, int] = {}
    for n, (item, _) in enumerate(entries):
        index.setdefault(item.get("id"), n)
    deps: list[_Edges] = [{} for _ in entries]
    external: list[tuple[str, str, str]] = []

    def edge(x: int, root: str, kind: str, rule_ptr: str) -> None:
        y = index.get(root)
        if y is None:
            external.append((kind, root, rule_ptr))
        elif y != x or kind == "calculate":  # visible_if may read its own answer as sent
            deps[x].setdefault(y, {}).setdefault(kind, rule_ptr)

    for x, (item, ptr) in enumerate(entries):
        for kind in ("visible_if", "calculate"):
            rule = item.get(kind)
            if rule is None:
                continue
            for r in reads(rule):
                if r.path and not r.dynamic and not r.unknown:
                    edge(x, r.root, kind, f"{ptr}/{kind}")
        subs = _sub_items(item, ptr)
        if subs is not None:
            for kind, root, rule_ptr in _plan(subs, ptr, plans, problems, source):
                if index.get(root) != x:  # an entry reading its own group sees it as sent
                    edge(x, root, kind, rule_ptr)

    waiting = [len(d) for d in deps]
    users: list[list[int]] = [[] for _ in entries]
    for x, d in enumerate(deps):
        for y in d:
            users[y].append(x)
    ready = [x for x, w in enumerate(waiting) if w == 0]
    heapq.heapify(ready)  # among items ready together, document order
    order: list[int] = []
    while ready:
        y = heapq.heappop(ready)
        order.append(y)
        for x in users[y]:
            waiting[x] -= 1
            if waiting[x] == 0:
                heapq.heappush(ready, x)
    left = [x for x, w in enumerate(waiting) if w > 0]
    if left:
        _report_cycles(entries, deps, left, problems, source)
    plans[key] = order + left
    return external


def _report_cycles(entries: list[tuple[dict[str, Any], str]], deps: list[_Edges],
                   left: list[int], problems: list[Problem], source: str) -> None:
    inside = set(left)

    def reach(v: int) -> set[int]:
        seen: set[int] = set()
        todo = [y for y in deps[v] if y in inside]
        while todo:
            u = todo.pop()
            if u not in seen:
                seen.add(u)
                todo += [y for y in deps[u] if y in inside]
        return seen

    done: set[int] = set()
    for v in left:
        if v in done:
            continue
        from_v = reach(v)
        if v not in from_v:
            continue  # waits on a cycle without being on one
        members = {v} | {u for u in from_v if v in reach(u)}
        done |= members
        path = _cycle_path(v, members, deps)
        kinds = {k for u in members for y, ks in deps[u].items() if y in members for k in ks}
        ids = [str(entries[u][0].get("id")) for u in path]
        first = deps[v][path[1]]
        if kinds == {"calculate"}:
            code, what = "calculation_cycle", "calculated values depend on each other"
        else:
            code, what = "visibility_cycle", "visible_if and calculated values depend on each other"
        problems.append(Problem(
            pointer=first.get("calculate") or next(iter(first.values())),
            message=f"{what} in a cycle: {' → '.join(ids)}",
            code=code, source=source, params={"cycle": ids}))


def _cycle_path(v: int, members: set[int], deps: list[_Edges]) -> list[int]:
    """A shortest way from ``v`` back to itself through ``members`` (breadth first)."""
    came: dict[int, int] = {}
    frontier = [v]
    while frontier:
        nxt: list[int] = []
        for u in frontier:
            for y in sorted(deps[u]):
                if y == v:
                    back = [u]
                    while back[-1] != v:
                        back.append(came[back[-1]])
                    return [*reversed(back), v]
                if y in members and y not in came:
                    came[y] = u
                    nxt.append(y)
        frontier = nxt
    return [v, v]


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _localized(v: Any) -> dict[str, str]:
    return {k: t for k, t in v.items() if isinstance(t, str)} if isinstance(v, dict) else {}


def _template(v: Any, base: str, fns: dict[str, CompiledRule],
              paths: dict[str, dict[str, Any]]) -> _Template:
    params: list[_Param] = []
    raw = v.get("params") if isinstance(v, dict) else None
    for name, spec in (raw.items() if isinstance(raw, dict) else ()):
        _, labels_of, below = param_rule(spec)
        ptr = f"{base}/params/{name}{below}"
        rule = _Rule(fns[ptr], ptr) if ptr in fns else None
        labels = item_labels(paths.get(labels_of)) if labels_of is not None else None
        params.append(_Param(name=str(name), rule=rule,
                             labels=labels if labels_of is None else (labels or {})))
    return _Template(texts={k: t for k, t in _localized(v).items() if k in ("zh", "en")},
                     params=tuple(params))


def _build_level(entries: list[tuple[dict[str, Any], str]], key: str, sections: list[str], *,
                 plans: dict[str, list[int]], fns: dict[str, CompiledRule], scored: bool,
                 severity: str, top: bool, paths: dict[str, dict[str, Any]]) -> _Level:
    items: list[_Item] = []
    for (item, ptr), section in zip(entries, sections, strict=True):
        kind = str(item.get("type", ""))
        rules = {name: _Rule(fns[f"{ptr}/{name}"], f"{ptr}/{name}") for name in RULE_FIELDS
                 if f"{ptr}/{name}" in fns}
        choices: dict[str, float | None] = {}
        for c in item.get("choices") or []:
            if isinstance(c, dict) and isinstance(c.get("value"), str):
                choices[c["value"]] = _number(c.get("score"))
        lo, hi = _number(item.get("min")), _number(item.get("max"))
        w = _number(item.get("weight"))
        weight = 0.0
        if scored and top:
            weight = w if w is not None and w >= 0 else (1.0 if kind in DEFAULT_WEIGHTED else 0.0)
        can_score = "score" in rules or kind in ("check", "yes_no", "scale") or (
            kind == "single_choice" and any(s is not None for s in choices.values()))
        ev: dict[str, Any] = item["evidence"] if isinstance(item.get("evidence"), dict) else {}
        subs = _sub_items(item, ptr)
        items.append(_Item(
            id=str(item.get("id")), type=kind, section=section, pointer=ptr,
            title=_localized(item.get("title")), required=item.get("required") is True,
            weight=weight, scores=weight > 0 and can_score and kind != "group",
            choices=choices, scale=(lo, hi) if lo is not None and hi is not None else None,
            evidence=Evidence(photo_min=int(ev.get("photo_min", 1)),
                              note=ev.get("note") is True),
            severity=str(item.get("severity") or severity), rules=rules,
            sub=None if subs is None else _build_level(
                subs, ptr, [section] * len(subs), plans=plans, fns=fns, scored=scored,
                severity=severity, top=False, paths=paths),
            problem=(_template(item["problem"], f"{ptr}/problem", fns, paths)
                     if isinstance(item.get("problem"), dict) else None)))
    order = plans.get(key, list(range(len(items))))
    return _Level(items=tuple(items), order=tuple(items[i] for i in order),
                  ids=frozenset(it.id for it in items))


def _compile(definition: dict[str, Any]) -> StandardRules:
    source = str(definition.get("id") or "definition")
    sources: dict[str, Any] = {}
    top: list[tuple[dict[str, Any], str]] = []
    top_sections: list[str] = []
    for si, sec in enumerate(definition.get("sections") or []):
        if not isinstance(sec, dict):
            continue
        _rule_sources(sec.get("items"), f"/sections/{si}/items", sources)
        for j, item in enumerate(sec.get("items") or []):
            if isinstance(item, dict):
                top.append((item, f"/sections/{si}/items/{j}"))
                top_sections.append(str(sec.get("id")))
    alerts = definition.get("alerts") or []
    for ai, a in enumerate(alerts):
        if isinstance(a, dict) and a.get("when") is not None:
            sources[f"/alerts/{ai}/when"] = a["when"]
        if isinstance(a, dict):
            _param_sources(a.get("message"), f"/alerts/{ai}/message", sources)

    problems: list[Problem] = []
    fns: dict[str, CompiledRule] = {}
    try:
        fns = compile_many(sources)
    except RuleError as e:
        # The compiler names the rule by its label (its place in the definition) as source.
        problems += [Problem(pointer=f"{p.source}{p.pointer}" if p.source else p.pointer,
                             message=p.message, code=p.code, source=source, params=p.params)
                     for p in e.problems]
    plans: dict[str, list[int]] = {}
    _plan(top, "", plans, problems, source)
    if problems:
        raise RuleError.of(problems)

    issues: dict[str, Any] = (definition["issues"] if isinstance(definition.get("issues"), dict)
                              else {})
    severity = str(issues.get("default_severity") or "medium")
    scored = definition.get("kind") != "survey" or definition.get("scored") is True
    paths = items_by_path(definition)
    level = _build_level(top, "", top_sections, plans=plans, fns=fns, scored=scored,
                         severity=severity, top=True, paths=paths)
    by_id = {it.pointer: it for it in level.items}
    secs = tuple(
        _Section(id=str(sec.get("id")), title=_localized(sec.get("title")),
                 items=tuple(by_id[f"/sections/{si}/items/{j}"]
                             for j in range(len(sec.get("items") or []))
                             if f"/sections/{si}/items/{j}" in by_id))
        for si, sec in enumerate(definition.get("sections") or []) if isinstance(sec, dict))
    alert_rules = tuple(
        _AlertRule(code=str(a.get("code")), severity=str(a.get("severity") or "medium"),
                   when=(_Rule(fns[f"/alerts/{ai}/when"], f"/alerts/{ai}/when")
                         if f"/alerts/{ai}/when" in fns else None),
                   message=_template(a.get("message"), f"/alerts/{ai}/message", fns, paths),
                   items=tuple(str(i) for i in a.get("items") or []))
        for ai, a in enumerate(alerts) if isinstance(a, dict))
    pp = _number(definition.get("pass_percentage"))
    return StandardRules(definition_id=source, scored=scored, pass_percentage=pp,
                         sections=secs, level=level, alerts=alert_rules)


_cache: dict[str, StandardRules] = {}
_cache_lock = threading.Lock()
_CACHE_SIZE = 256


def compile_standard(definition: dict[str, Any]) -> StandardRules:
    """Compile every rule of a standard or survey definition; cached by the content.

    Raises :class:`RuleError` with every problem at once: rules that don't compile (pointer
    inside the definition, e.g. ``/sections/0/items/3/visible_if/and/1``), and calculated
    values (``calculation_cycle``) or visibility (``visibility_cycle``) depending on
    themselves in a cycle. Each problem's ``source`` is the definition's id.
    """
    key = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    rules = _cache.get(key)
    if rules is not None:
        return rules
    rules = _compile(definition)
    with _cache_lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = rules
    return rules


# -- the explanation as text ------------------------------------------------------------------

_WORDS = {
    "en": {"of": "{p} of {m} points", "pct": "{v}%", "none": "nothing scored",
           "not": "not counted", "pass": "pass mark {v}%: {r}", "yes": "passed",
           "no": "not passed", "total": "Total"},
    "zh": {"of": "{p} / {m} 分", "pct": "{v}%", "none": "无计分项",
           "not": "不计分", "pass": "合格线 {v}%：{r}", "yes": "合格",
           "no": "不合格", "total": "合计"},
}


def _title(title: dict[str, str], fallback: str, lang: str) -> str:
    return title.get(lang) or title.get("en") or fallback


def _pct(v: float | None, w: dict[str, str]) -> str:
    return w["none"] if v is None else w["pct"].format(v=format_number(v, 1))


def explain_text(evaluation: Evaluation, lang: str = "en") -> str:
    """The score explained in a few lines per section, in ``lang`` (``en`` or ``zh``)."""
    w = _WORDS.get(lang, _WORDS["en"])
    sc = evaluation.score
    n = format_number
    lines: list[str] = []
    for sec in sc.sections:
        lines.append(f"{_title(sec.title, sec.section, lang)} [{sec.section}]: "
                     f"{w['of'].format(p=n(sec.points), m=n(sec.max))}, {_pct(sec.percentage, w)}")
        for it in sc.items:
            if it.section != sec.section:
                continue
            name = f"{_title(it.title, it.item, lang)} [{it.item}]"
            if it.counted and it.points is not None and it.fraction is not None:
                lines.append(f"  {name}: {n(it.fraction)} × {n(it.weight)} = {n(it.points)}"
                             f" ({it.decided_by})")
            else:
                lines.append(f"  {name}: {w['not']} ({it.decided_by})")
    counted = [sec for sec in sc.sections if sec.max > 0]
    sums = " + ".join(n(sec.points) for sec in counted) or "0"
    total = f"{w['total']}: {sums} = {w['of'].format(p=n(sc.points), m=n(sc.max))}"
    total += f", {_pct(sc.percentage, w)}"
    if sc.pass_percentage is not None and sc.passed is not None:
        verdict = w["yes" if sc.passed else "no"]
        total += f" ({w['pass'].format(v=n(sc.pass_percentage), r=verdict)})"
    lines.append(total)
    return "\n".join(lines)
