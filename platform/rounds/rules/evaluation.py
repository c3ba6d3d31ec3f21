"""A compiled standard or survey evaluated against answers: :class:`StandardRules`.

Its entry points, cheapest first:

- ``visibility(answers, ctx)``: which items are shown;
- ``requirements(answers, ctx)``: which items must be answered;
- ``form(answers, ctx)``: what the forms engine enforces on submit (kept answers, calculated
  values, visibility, required-ness and evidence, per group entry too, and the failed
  checks between fields);
- ``evaluate(answers, ctx)``: all of that, plus failed items, the score with its
  explanation (``rules.scoring``), outcomes and alerts.

How it runs (docs/definitions.md, "Evaluation details"), in this order:

1. **Settle** the items whose rules do not read the score: answers of items that don't exist
   are ignored; items are settled in dependency order (an item after every item its
   ``visible_if`` or ``calculate`` reads), and a hidden item's answer is dropped before any
   later rule reads it. A number sent for a single_choice with ``points: "value"`` is kept as
   the choice's value string (``2`` → ``"2"``). ``required_if``, ``evidence_if`` and the
   definition's **checks** see the settled data (answers, calculated values, ``ctx``).
2. **Score** (``rules.scoring``). Rules read it as ``score`` (``scoring.score_data``).
3. **Settle the late items**: calculated items whose ``calculate`` reads ``score``, directly
   or through another calculated value (a group, when a calculate in its entries does). They
   never score and nothing that decides the score reads them (``compile_standard`` reports
   ``score_cycle`` otherwise). ``form()`` settles them too, when there are any.
4. **Failed items**: ``fail_if`` (it may read ``score``), else the type's default: a yes_no
   answered with the bad answer (not ``good``, not ``"na"``); a check only when ``good`` is
   given and the answer is not good.
5. **Outcomes**: for each, the forced level that comes first (items that failed and
   ``forces`` one of its levels), else the first level whose criteria hold (the band
   ``min``/``max`` on the ``of`` value first, never on null; then its ``when`` rule), a level
   with no criteria being the fallback; else none. Their ``when`` and messages read the data of
   ``fail_if`` plus ``failed`` (ids of the failed items).
6. **passed**: the chosen level's ``passed`` of the first outcome whose level says one; else
   ``percentage >= pass_percentage`` in the percentage model (unrounded); else null.
7. **Alerts**: ``when`` and messages read that data plus ``score.passed`` and ``outcome``
   (``{outcome id: level id or null}``).

A rule that raises while running (``throw``, NaN) does not abort the evaluation: it counts as
null (a check that raises does not fail) and is listed in ``errors``.

``rules.standards.compile_standard`` makes one from a definition.

May import: ``rounds.i18n``, ``rounds.pointer`` and the ``rounds.rules`` modules below it
(``semantics``, ``alerts``, ``results``, ``structure``, ``scoring``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from rounds import i18n
from rounds import pointer as json_pointer
from rounds.rules import semantics as js
from rounds.rules.alerts import Alert, format_labels, format_value, message
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
    AlertRule,
    Check,
    Item,
    Level,
    Outcome,
    OutcomeLevel,
    Run,
    ScoreModel,
    Section,
    Settled,
    Template,
    as_number,
)

_DEFAULT_MODEL = ScoreModel()


class StandardRules:
    """A standard's or survey's rules, compiled; evaluate answers with :meth:`evaluate`.

    Immutable and safe to share between threads. Answers are the JSON object a client sends
    (item id → answer); ``ctx`` is the submission's context (``now``, ``today``, ``site``,
    ``user``, ``visit``), seen by rules as ``ctx``.
    """

    def __init__(self, *, definition_id: str, scored: bool, pass_percentage: float | None,
                 sections: tuple[Section, ...], level: Level,
                 alerts: tuple[AlertRule, ...], model: ScoreModel = _DEFAULT_MODEL,
                 has_total: bool = True, outcomes: tuple[Outcome, ...] = (),
                 checks: tuple[Check, ...] = (), form_scores: bool = False) -> None:
        self.id = definition_id
        self.scored = scored
        self.pass_percentage = pass_percentage
        self.model = model
        self.has_total = has_total
        self.checks = checks
        # form() scores when late items need the score, or a group entry's fail_if reads it
        # (the entries' failed items are part of the form state).
        self._form_scores = form_scores or bool(level.late)
        self._sections = sections
        self._level = level
        self._alerts = alerts
        self._outcomes = outcomes
        self._digits = {"score": model.digits,
                        **{f"score.sections.{sec.id}": sec.model.digits for sec in sections}}
        self._forces: dict[str, dict[str, str]] = {}
        todo = [level]
        while todo:  # every item's forces, at any depth (ids are unique in a definition)
            lv = todo.pop()
            for it in lv.items:
                if it.forces:
                    self._forces[it.id] = it.forces
                if it.sub is not None:
                    todo.append(it.sub)

    @property
    def reads_score(self) -> bool:
        """Whether some calculated items read the score (``form`` then scores too)."""
        return bool(self._level.late)

    # -- entry points -----------------------------------------------------------------------

    def visibility(self, answers: Mapping[str, Any], ctx: Mapping[str, Any] | None = None
                   ) -> dict[str, bool]:
        """Item id → shown, for every top-level item (group entries: see :meth:`form`)."""
        run = Run(self._digits)
        s = self._settle(run, answers, ctx)
        if self._level.late:
            self._score_and_settle_late(run, s, answers, self._required(run, s))
        return s.visible

    def requirements(self, answers: Mapping[str, Any], ctx: Mapping[str, Any] | None = None
                     ) -> dict[str, bool]:
        """Item id → must be answered: visible, not calculated, and ``required`` or
        ``required_if``. For every top-level item (group entries: see :meth:`form`)."""
        run = Run(self._digits)
        s = self._settle(run, answers, ctx)
        required = self._required(run, s)
        if self._level.late:
            self._score_and_settle_late(run, s, answers, required)
            required = self._required(run, s, required)
        return required

    def form(self, answers: Mapping[str, Any], ctx: Mapping[str, Any] | None = None
             ) -> FormState:
        """Visibility, required-ness and evidence of every item and group entry, and the
        checks that failed."""
        run = Run(self._digits)
        s = self._settle(run, answers, ctx)
        checks = self._check(run, s)
        required = self._required(run, s)
        if self._form_scores:
            self._score_and_settle_late(run, s, answers, required)
            if self._level.late:
                required = self._required(run, s, required)
        evidence = _evidence(run, self._level, s, s.data, "")
        entries: list[EntryResult] = []
        for it in self._level.items:
            if it.sub is not None and s.visible[it.id]:
                _entries(run, it, s.entries.get(it.id, []), s.data, "", out=entries)
        return FormState(answers=s.answers, calculated=s.calculated, visible=s.visible,
                         required=required, evidence=evidence, entries=entries,
                         errors=run.errors, checks=checks)

    def evaluate(self, answers: Mapping[str, Any], ctx: Mapping[str, Any] | None = None
                 ) -> Evaluation:
        """Everything: calculated values, visibility, required-ness, evidence, failed checks,
        failed items, scores (with their explanation), outcomes and alerts."""
        run = Run(self._digits)
        s = self._settle(run, answers, ctx)
        data = s.data
        checks = self._check(run, s)
        required = self._required(run, s)
        score = self._score_and_settle_late(run, s, answers, required)
        if self._level.late:
            required = self._required(run, s, required)
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
        seen = dict(data)
        seen["failed"] = [f.item for f in failed]
        outcomes = self._decide(run, seen, score, self._forced(failed, entries))
        passed = next((o.passed for o in outcomes if o.passed is not None), score.passed)
        if passed is not score.passed:
            score = msgspec.structs.replace(score, passed=passed)
        alerts = self._raise_alerts(run, seen, score, outcomes)
        return Evaluation(definition=self.id, answers=s.answers, calculated=s.calculated,
                          visible=s.visible, required=required, evidence=evidence,
                          entries=entries, failed=failed, score=score, alerts=alerts,
                          errors=run.errors, checks=checks, outcomes=outcomes)

    # -- the steps ----------------------------------------------------------------------------

    def _settle(self, run: Run, answers: Mapping[str, Any], ctx: Mapping[str, Any] | None
                ) -> Settled:
        base: dict[str, Any] = {"ctx": dict(ctx) if ctx else {}}
        return _settle(run, self._level, answers if isinstance(answers, Mapping) else {},
                       base, "")

    def _required(self, run: Run, s: Settled, early: dict[str, bool] | None = None
                  ) -> dict[str, bool]:
        """Required-ness of the top-level items settled so far; with ``early`` (those of
        the first settle), the late items' added, all in document order."""
        if early is None:
            return _required(run, (it for it in self._level.items if it.id in s.visible),
                             s, s.data, "")
        late = _required(run, self._level.late, s, s.data, "")
        return {it.id: early[it.id] if it.id in early else late[it.id]
                for it in self._level.items}

    def _score_and_settle_late(self, run: Run, s: Settled, answers: Mapping[str, Any],
                               required: dict[str, bool]) -> Score:
        """Steps 2 and 3: the score, put in the data as ``score``, then the late items."""
        score = score_of(run, self._sections, s, required, scored=self.scored,
                         model=self.model, has_total=self.has_total,
                         pass_percentage=self.pass_percentage)
        s.data["score"] = score_data(score)
        if self._level.late:
            raw = answers if isinstance(answers, Mapping) else {}
            _settle_items(run, self._level.late, s, raw, "")
        return score

    def _check(self, run: Run, s: Settled) -> list[CheckFailure]:
        """The checks that fail (their ``when`` holds) on items that are shown."""
        out: list[CheckFailure] = []
        for c in self.checks:
            if c.when is None or not s.visible.get(c.item, True):
                continue
            if run.test(c.when, s.data, ""):
                out.append(CheckFailure(check=c.id, item=c.item,
                                        pointer=json_pointer.join("answers", c.item),
                                        message=_fill(run, c.message, s.data)))
        return out

    def _forced(self, failed: list[Failure], entries: list[EntryResult]
                ) -> list[tuple[str, dict[str, str]]]:
        """(item id, its forces) of the failed items that force levels, in document order;
        a failed group's entries' failed items after it, entry by entry."""
        if not self._forces:
            return []
        out: list[tuple[str, dict[str, str]]] = []
        for f in failed:
            if f.item in self._forces:
                out.append((f.item, self._forces[f.item]))
            if f.entries:
                below = json_pointer.join(f.item)
                for e in entries:
                    if e.pointer.startswith(below + "/"):
                        out += [(i, self._forces[i]) for i in e.failed if i in self._forces]
        return out

    def _decide(self, run: Run, seen: dict[str, Any], score: Score,
                forced: list[tuple[str, dict[str, str]]]) -> list[OutcomeResult]:
        """Step 5: the level of each outcome."""
        return decide(run, self._outcomes, seen, forced, total=score.value,
                      sections={sec.section: sec.value for sec in score.sections})

    def _raise_alerts(self, run: Run, seen: dict[str, Any], score: Score,
                      outcomes: list[OutcomeResult]) -> list[Alert]:
        if not self._alerts:
            return []
        data = dict(seen)
        data["score"] = {**seen["score"], "passed": score.passed}
        data["outcome"] = {o.outcome: o.level for o in outcomes}
        raised: list[Alert] = []
        for a in self._alerts:
            if run.test(a.when, data, ""):
                raised.append(Alert(code=a.code, severity=a.severity,
                                    message=_fill(run, a.message, data), items=list(a.items)))
        return raised


def decide(run: Run, outcomes: tuple[Outcome, ...], seen: dict[str, Any],
           forced: list[tuple[str, dict[str, str]]], *, total: float | None,
           sections: Mapping[str, float | None]) -> list[OutcomeResult]:
    """Step 5: the level of each outcome, from the total's value and the sections'."""
    out: list[OutcomeResult] = []
    for o in outcomes:
        value = total if o.of is None else sections.get(o.of)
        level, decided = _choose(run, o, value, seen, forced)
        out.append(OutcomeResult(
            outcome=o.id, title=o.title, level=level.id if level else None,
            label=dict(level.label) if level else {},
            passed=level.passed if level else None, value=value, decided_by=decided,
            message=(_fill(run, level.message, seen)
                     if level is not None and level.message is not None else {})))
    return out


def _choose(run: Run, o: Outcome, value: float | None, seen: dict[str, Any],
            forced: list[tuple[str, dict[str, str]]]) -> tuple[OutcomeLevel | None, str]:
    """An outcome's level and why (see the module's step 5)."""
    by: dict[str, str] = {}  # level id → the first failed item forcing it
    for item, forces in forced:
        if o.id in forces:
            by.setdefault(forces[o.id], item)
    for lv in o.levels:
        if lv.id in by:
            return lv, f"forced:{by[lv.id]}"
    for lv in o.levels:
        if lv.forced_only:
            continue
        banded = lv.low is not None or lv.high is not None
        if banded and (value is None or (lv.low is not None and value < lv.low)
                       or (lv.high is not None and value > lv.high)):
            continue
        if lv.when is not None and not run.test(lv.when, seen, ""):
            continue
        if banded:
            return lv, f"band:{lv.pointer}"
        if lv.when is not None:
            return lv, f"rule:{lv.when.pointer}"
        return lv, f"fallback:{lv.pointer}"
    return None, "none"


# -- evaluation helpers ------------------------------------------------------------------------

def _fill(run: Run, template: Template, data: dict[str, Any]) -> dict[str, str]:
    """A template filled in both languages: each param's rule runs once."""
    params: dict[str, dict[str, str]] = {}
    for p in template.params:
        value = run.call(p.rule, data, "") if p.rule is not None else None
        params[p.name] = {
            lang: (format_labels(value, p.labels, lang) if p.labels is not None
                   else format_value(value, lang)) for lang in i18n.LANGUAGES}
    return message(template.texts, data, params, run.digits)


def _settle(run: Run, level: Level, raw: Mapping[str, Any], base: dict[str, Any],
            where: str) -> Settled:
    """Visibility and calculated values of one level, in dependency order (the top level's
    late items are left for :func:`_settle_items` after scoring).

    ``base`` is the data around the level (``ctx``; for a group entry, the level above, whose
    ids the entry's own items shadow).
    """
    data = dict(base)
    for it in level.items:
        data.pop(it.id, None)
        if it.rule("calculate") is None:  # calculated values are never taken from a client
            v = raw.get(it.id)
            if v is not None:
                if it.numbers is not None and not isinstance(v, str):
                    n = as_number(v)  # a number sent for a numeric choice: its value string
                    if n is not None and n in it.numbers:
                        v = it.numbers[n]
                data[it.id] = v
        if it.sub is not None and not isinstance(data.get(it.id), list):
            data[it.id] = []  # some/all/none over null is an error in JsonLogic (2024)
    s = Settled(data)
    _settle_items(run, level.order, s, raw, where)
    return s


def _settle_items(run: Run, items: Iterable[Item], s: Settled, raw: Mapping[str, Any],
                  where: str) -> None:
    """Settle ``items`` (in settle order) into ``s``: visibility, calculated values, group
    entries, kept answers."""
    data = s.data
    for it in items:
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


def _entry_data(parent: dict[str, Any], level: Level, entry: Settled) -> dict[str, Any]:
    """An entry's data over the final data of the level above (the entry's ids shadow it)."""
    data = dict(parent)
    for i in level.ids:
        data.pop(i, None)
        if i in entry.data:
            data[i] = entry.data[i]
    return data


def _required(run: Run, items: Iterable[Item], s: Settled, data: dict[str, Any], where: str
              ) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for it in items:
        out[it.id] = (s.visible[it.id] and it.rule("calculate") is None
                      and (it.required or run.test(it.rule("required_if"), data, where)))
    return out


def _evidence(run: Run, level: Level, s: Settled, data: dict[str, Any], where: str
              ) -> dict[str, Evidence]:
    return {it.id: it.evidence for it in level.items
            if s.visible[it.id] and run.test(it.rule("evidence_if"), data, where)}


def _fails(run: Run, it: Item, data: dict[str, Any], where: str,
           defaults: bool = True) -> str | None:
    """How the item failed (``rule:<pointer>`` or the type's default), None if it did not."""
    rule = it.rule("fail_if")
    if rule is not None:
        return f"rule:{rule.pointer}" if run.test(rule, data, where) else None
    if not defaults:
        return None
    v = data.get(it.id)
    if it.type == "yes_no" and v in ("yes", "no"):
        return "default:yes_no" if v != (it.good or "yes") else None
    # An unticked check is not a failure by default: many checks say what staff did ("advised
    # to reorder"), and leaving one unticked scores 0 but is no problem at the shop. A check
    # fails by default only when its ``good`` says which answer is good.
    if it.type == "check" and isinstance(it.good, bool) and js.truthy(v) != it.good:
        return "default:check"
    return None


def _entries(run: Run, group: Item, settled: list[Settled], parent: dict[str, Any],
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
            required=_required(run, level.items, s, data, here),
            evidence=_evidence(run, level, s, data, here), failed=failed))
        if failed:
            failing.append(i)
    return failing, first

