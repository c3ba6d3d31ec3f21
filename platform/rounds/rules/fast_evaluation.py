"""A standard version's evaluation compiled once: :class:`CompiledEvaluation`.

``StandardRules.evaluate`` is the generic evaluation: it walks the compiled structure
(``rules.structure``) and looks every rule up by name on every item, for every entry of every
group, on every submission. This module does the same steps (``rules.evaluation``'s module
docstring says which, in what order) from a plan made once per version:

- each item's rules are taken out of their dict once (:class:`_Step`), so the loops read
  attributes and skip what an item does not have;
- a level with no rules at all (most group entries: a brand, a price, a reason) is *plain*:
  its entries are settled without copying the data of the level above (nothing in them reads
  it) and their required-ness, evidence and failed items are the same for every entry, so
  they are worked out once, at compile time.

No code is generated: the plan is data (tuples of steps) read by ordinary functions, and the
rules themselves are the ones ``rules.compiler`` already made. The result is the same
:class:`~rounds.rules.results.Evaluation` as the generic one, field by field and in the same
order; ``tests/unit/rules/test_fast_evaluation.py`` holds the two equal on random answers for
every standard and survey in ``definitions/``.

Messages (failed items' problems, alerts) are filled from their texts split at the
placeholders once (``alerts.split_texts``), not by a regular expression on every submission.

The submission write path does not use this module's ``evaluate``: it stores what
``rules.generated`` gives (one function generated per version, no explanation). This one
builds the whole :class:`~rounds.rules.results.Evaluation` when a reader asks for it, and
``form`` is what the forms engine's slow path enforces.

May import: ``rounds.i18n`` and the ``rounds.rules`` modules below it (``evaluation``,
``alerts``, ``scoring``, ``semantics``, ``structure``, ``results``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from rounds import i18n
from rounds.rules import evaluation
from rounds.rules import semantics as js
from rounds.rules.alerts import (
    Alert,
    SplitTexts,
    format_labels,
    format_value,
    message_split,
    split_texts,
)
from rounds.rules.evaluation import StandardRules, _fill
from rounds.rules.results import (
    CheckFailure,
    EntryResult,
    Evaluation,
    Evidence,
    Failure,
    FormState,
    OutcomeResult,
    Score,
)
from rounds.rules.scoring import score_data, score_of
from rounds.rules.structure import (
    Check,
    Item,
    Level,
    PlacedRule,
    Run,
    Settled,
    Template,
    as_number,
)

_truthy = js.truthy


@dataclass(frozen=True, slots=True)
class _Step:
    """One item with its rules taken out of their dict."""

    it: Item
    id: str
    visible_if: PlacedRule | None
    calculate: PlacedRule | None
    required_if: PlacedRule | None
    evidence_if: PlacedRule | None
    fail_if: PlacedRule | None
    sub: _Plan | None
    numbers: dict[float, str] | None
    check: bool  # type "check": unanswered is false
    required: bool
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class _Plan:
    """A level's steps: document order, settle order, late ones (after the score)."""

    items: tuple[_Step, ...]
    order: tuple[_Step, ...]
    late: tuple[_Step, ...]
    early: tuple[_Step, ...]  # document order without the late ones (settled before scoring)
    ids: frozenset[str]
    plain: bool  # no rule in the level or below it, no numeric choices
    # For a plain level: each item's required-ness (no rule decides it), in document order.
    required: dict[str, bool]
    # A plain level without groups: (id, is a check) in settle order, and every item shown.
    flat: tuple[tuple[str, bool], ...] | None
    shown: dict[str, bool]


def _step(it: Item) -> _Step:
    r = it.rules.get
    return _Step(it=it, id=it.id, visible_if=r("visible_if"), calculate=r("calculate"),
                 required_if=r("required_if"), evidence_if=r("evidence_if"),
                 fail_if=r("fail_if"), sub=None if it.sub is None else _plan(it.sub),
                 numbers=it.numbers, check=it.type == "check", required=it.required,
                 evidence=it.evidence)


def _plan(level: Level, *, top: bool = False) -> _Plan:
    steps = {it.id: _step(it) for it in level.items}
    items = tuple(steps[it.id] for it in level.items)
    plain = all(not st.it.rules and st.numbers is None
                and (st.sub is None or st.sub.plain) for st in items)
    order = tuple(steps[it.id] for it in level.order)
    # Not the top level: its data gets ``score`` and ``ctx``, which are not answers.
    flat = not top and plain and not level.late and all(st.sub is None for st in items)
    late = {it.id for it in level.late}
    return _Plan(items=items, order=order, late=tuple(steps[it.id] for it in level.late),
                 early=tuple(st for st in items if st.id not in late), ids=level.ids,
                 plain=plain, required={st.id: st.required for st in items},
                 flat=tuple((st.id, st.check) for st in order) if flat else None,
                 shown={st.id: True for st in order})


def _test(run: Run, rule: PlacedRule | None, data: dict[str, Any], where: str) -> bool:
    return rule is not None and _truthy(run.call(rule, data, where))


# -- settling ---------------------------------------------------------------------------------

def _settle(run: Run, p: _Plan, raw: Mapping[str, Any], base: dict[str, Any], where: str
            ) -> Settled:
    """As ``evaluation._settle``; a plain level does not copy ``base`` (nothing reads it)."""
    if p.flat is not None:
        # Every item shown, none calculated: the data is the answers kept.
        answers: dict[str, Any] = {}
        for i, check in p.flat:
            v = raw.get(i)
            if v is not None:
                answers[i] = v
            elif check:
                answers[i] = False
        return Settled(answers, answers=answers, visible=dict(p.shown))
    data = {} if p.plain else dict(base)
    for st in p.items:
        i = st.id
        data.pop(i, None)
        if st.calculate is None:
            v = raw.get(i)
            if v is not None:
                if st.numbers is not None and not isinstance(v, str):
                    n = as_number(v)
                    if n is not None and n in st.numbers:
                        v = st.numbers[n]
                data[i] = v
        if st.sub is not None and not isinstance(data.get(i), list):
            data[i] = []
    s = Settled(data)
    _settle_items(run, p.order, s, raw, where)
    return s


def _settle_items(run: Run, steps: tuple[_Step, ...], s: Settled, raw: Mapping[str, Any],
                  where: str) -> None:
    data = s.data
    visible = s.visible
    answers = s.answers
    for st in steps:
        i = st.id
        rule = st.visible_if
        if rule is not None and not _truthy(run.call(rule, data, where)):
            visible[i] = False
            if st.sub is not None:
                data[i] = []
            else:
                data.pop(i, None)
            continue
        visible[i] = True
        calc = st.calculate
        if calc is not None:
            value = run.call(calc, data, where)
            s.calculated[i] = value
            if value is None:
                data.pop(i, None)
            else:
                data[i] = value
            continue
        sub = st.sub
        if sub is not None:
            settled = []
            for n, entry in enumerate(data[i]):
                e = entry if isinstance(entry, Mapping) else {}
                settled.append(_settle(run, sub, e, data, f"{where}/{i}/{n}"))
            s.entries[i] = settled
            data[i] = [{**e.answers, **{k: v for k, v in e.calculated.items() if v is not None}}
                       if e.calculated else dict(e.answers) for e in settled]
            if raw.get(i) is not None:
                answers[i] = [e.answers for e in settled]
            continue
        if st.check and data.get(i) is None:
            data[i] = False
        if i in data:
            answers[i] = data[i]


# -- required-ness, evidence, failed items ----------------------------------------------------

def _required(run: Run, steps: tuple[_Step, ...], s: Settled, data: dict[str, Any],
              where: str) -> dict[str, bool]:
    visible = s.visible
    out: dict[str, bool] = {}
    for st in steps:
        out[st.id] = (visible[st.id] and st.calculate is None
                      and (st.required or _test(run, st.required_if, data, where)))
    return out


def _evidence(run: Run, p: _Plan, s: Settled, data: dict[str, Any], where: str
              ) -> dict[str, Evidence]:
    visible = s.visible
    return {st.id: st.evidence for st in p.items
            if st.evidence_if is not None and visible[st.id]
            and _truthy(run.call(st.evidence_if, data, where))}


def _fails(run: Run, st: _Step, data: dict[str, Any], where: str) -> str | None:
    """As ``evaluation._fails`` (of a top-level item: the type's defaults apply)."""
    rule = st.fail_if
    if rule is not None:
        return f"rule:{rule.pointer}" if _test(run, rule, data, where) else None
    it = st.it
    v = data.get(st.id)
    if it.type == "yes_no" and v in ("yes", "no"):
        return "default:yes_no" if v != (it.good or "yes") else None
    if st.check and isinstance(it.good, bool) and _truthy(v) != it.good:
        return "default:check"
    return None


def _entries(run: Run, group: _Step, settled: list[Settled], parent: dict[str, Any],
             where: str, *, out: list[EntryResult]) -> tuple[list[int], str | None]:
    """As ``evaluation._entries``; a plain level's entries fail nothing and need no data.
    Entries whose level has rules are ``evaluation._entries``' own (one loop, not two)."""
    p = group.sub
    assert p is not None
    if not p.plain:
        return evaluation._entries(run, group.it, settled, parent, where, out=out)
    gid = group.id
    for n, s in enumerate(settled):
        here = f"{where}/{gid}/{n}"
        # No rule: every item is shown, required as written, no evidence, nothing fails
        # (inside a group only a fail_if fails; a plain level below fails nothing either).
        for st in p.items:
            if st.sub is not None:
                _entries(run, st, s.entries.get(st.id, []), {}, here, out=out)
        out.append(EntryResult(
            group=gid, index=n, pointer=here, calculated=s.calculated, visible=s.visible,
            required=dict(p.required), evidence={}, failed=[]))
    return [], None


# -- the whole evaluation ---------------------------------------------------------------------

class CompiledEvaluation:
    """``StandardRules.evaluate`` and ``form`` from a plan made once per standard version.
    Immutable; share it between threads."""

    __slots__ = ("_plan", "_texts", "rules")

    def __init__(self, rules: StandardRules) -> None:
        self.rules = rules
        self._plan = _plan(rules._level, top=True)
        # The messages this evaluation fills (problems of top-level items, alerts), split at
        # their placeholders once; by the template's identity (the rules hold them all).
        self._texts: dict[int, SplitTexts] = {
            id(t): split_texts(t.texts)
            for t in [*(it.problem for it in rules._level.items if it.problem is not None),
                      *(a.message for a in rules._alerts)]}

    def _fill(self, run: Run, template: Template, data: dict[str, Any]) -> dict[str, str]:
        """As ``evaluation._fill``, on the texts split once."""
        split = self._texts.get(id(template))
        if split is None:
            return _fill(run, template, data)
        params: dict[str, dict[str, str]] = {}
        for p in template.params:
            value = run.call(p.rule, data, "") if p.rule is not None else None
            params[p.name] = {
                lang: (format_labels(value, p.labels, lang) if p.labels is not None
                       else format_value(value, lang)) for lang in i18n.LANGUAGES}
        return message_split(split, data, params, run.digits)

    def _raise_alerts(self, run: Run, seen: dict[str, Any], score: Score,
                      outcomes: list[OutcomeResult]) -> list[Alert]:
        """As ``StandardRules._raise_alerts``."""
        alerts = self.rules._alerts
        if not alerts:
            return []
        data = dict(seen)
        data["score"] = {**seen["score"], "passed": score.passed}
        data["outcome"] = {o.outcome: o.level for o in outcomes}
        raised: list[Alert] = []
        for a in alerts:
            if a.when is not None and _truthy(run.call(a.when, data, "")):
                raised.append(Alert(code=a.code, severity=a.severity,
                                    message=self._fill(run, a.message, data),
                                    items=list(a.items)))
        return raised

    @property
    def checks(self) -> tuple[Check, ...]:
        return self.rules.checks

    def _start(self, answers: Mapping[str, Any], ctx: Mapping[str, Any] | None
               ) -> tuple[Run, Mapping[str, Any], Settled, list[CheckFailure], dict[str, bool]]:
        """What ``form`` and ``evaluate`` do first: settle, the checks, the early items'
        required-ness."""
        run = Run(self.rules._digits)
        raw = answers if isinstance(answers, Mapping) else {}
        s = _settle(run, self._plan, raw, {"ctx": dict(ctx) if ctx else {}}, "")
        checks = self.rules._check(run, s)
        return run, raw, s, checks, _required(run, self._plan.early, s, s.data, "")

    def _score(self, run: Run, raw: Mapping[str, Any], s: Settled, required: dict[str, bool]
               ) -> tuple[Score, dict[str, bool]]:
        """Steps 2 and 3: the score, in the data as ``score``, then the late items; the
        required-ness of every item after them."""
        r, p, data = self.rules, self._plan, s.data
        score = score_of(run, r._sections, s, required, scored=r.scored, model=r.model,
                         has_total=r.has_total, pass_percentage=r.pass_percentage)
        data["score"] = score_data(score)
        if p.late:
            _settle_items(run, p.late, s, raw, "")
            late = _required(run, p.late, s, data, "")
            required = {st.id: required[st.id] if st.id in required else late[st.id]
                        for st in p.items}
        return score, required

    def form(self, answers: Mapping[str, Any], ctx: Mapping[str, Any] | None = None
             ) -> FormState:
        """The same :class:`FormState` as ``StandardRules.form``."""
        run, raw, s, checks, required = self._start(answers, ctx)
        if self.rules._form_scores:
            required = self._score(run, raw, s, required)[1]
        entries: list[EntryResult] = []
        for st in self._plan.items:
            if st.sub is not None and s.visible[st.id]:
                _entries(run, st, s.entries.get(st.id, []), s.data, "", out=entries)
        return FormState(answers=s.answers, calculated=s.calculated, visible=s.visible,
                         required=required, evidence=_evidence(run, self._plan, s, s.data, ""),
                         entries=entries, errors=run.errors, checks=checks)

    def evaluate(self, answers: Mapping[str, Any], ctx: Mapping[str, Any] | None = None
                 ) -> Evaluation:
        """The same :class:`Evaluation` as ``StandardRules.evaluate``."""
        r, p = self.rules, self._plan
        run, raw, s, checks, required = self._start(answers, ctx)
        data, visible = s.data, s.visible
        score, required = self._score(run, raw, s, required)
        evidence = _evidence(run, p, s, data, "")
        entries: list[EntryResult] = []
        failed: list[Failure] = []
        for st in p.items:
            if not visible[st.id]:
                continue
            if st.sub is not None:
                bad, decided = _entries(run, st, s.entries.get(st.id, []), data, "",
                                        out=entries)
            else:
                bad, decided = [], _fails(run, st, data, "")
            if decided is not None:
                it = st.it
                problem = self._fill(run, it.problem, data) if it.problem is not None else {}
                failed.append(Failure(item=it.id, section=it.section, severity=it.severity,
                                      decided_by=decided, entries=bad, problem=problem))
        seen = dict(data)
        seen["failed"] = [f.item for f in failed]
        outcomes = r._decide(run, seen, score, r._forced(failed, entries))
        passed = next((o.passed for o in outcomes if o.passed is not None), score.passed)
        if passed is not score.passed:
            score = msgspec.structs.replace(score, passed=passed)
        alerts = self._raise_alerts(run, seen, score, outcomes)
        return Evaluation(definition=r.id, answers=s.answers, calculated=s.calculated,
                          visible=visible, required=required, evidence=evidence,
                          entries=entries, failed=failed, score=score, alerts=alerts,
                          errors=run.errors, checks=checks, outcomes=outcomes)
