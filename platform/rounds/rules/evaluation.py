"""A compiled standard or survey evaluated against answers: :class:`StandardRules`.

Its entry points, cheapest first:

- ``visibility(answers, ctx)``: which items are shown;
- ``requirements(answers, ctx)``: which items must be answered;
- ``form(answers, ctx)``: what the forms engine enforces on submit (kept answers, calculated
  values, visibility, required-ness and evidence, per group entry too);
- ``evaluate(answers, ctx)``: all of that, plus failed items, the score with its
  explanation (``rules.scoring``) and alerts.

How it runs (docs/definitions.md, "Evaluation details"): answers of items that don't exist are
ignored; items are settled in dependency order (an item after every item its ``visible_if``
or ``calculate`` reads), and a hidden item's answer is dropped before any later rule reads it;
every other rule then sees the settled data. A rule that raises while running (``throw``,
NaN) does not abort the evaluation: it counts as null and is listed in ``errors``.

``rules.standards.compile_standard`` makes one from a definition.

May import: ``rounds.i18n`` and the ``rounds.rules`` modules below it (``semantics``,
``alerts``, ``results``, ``structure``, ``scoring``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rounds import i18n
from rounds.rules import semantics as js
from rounds.rules.alerts import Alert, format_labels, format_value, message
from rounds.rules.results import (
    EntryResult,
    Evaluation,
    Evidence,
    Failure,
    FormState,
    Score,
)
from rounds.rules.scoring import score_data, score_of
from rounds.rules.structure import (
    AlertRule,
    Item,
    Level,
    Run,
    ScoreModel,
    Section,
    Settled,
    Template,
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
                 has_total: bool = True) -> None:
        self.id = definition_id
        self.scored = scored
        self.pass_percentage = pass_percentage
        self.model = model
        self.has_total = has_total
        self._sections = sections
        self._level = level
        self._alerts = alerts

    # -- entry points -----------------------------------------------------------------------

    def visibility(self, answers: Mapping[str, Any], ctx: Mapping[str, Any] | None = None
                   ) -> dict[str, bool]:
        """Item id → shown, for every top-level item (group entries: see :meth:`form`)."""
        return self._settle(Run(), answers, ctx).visible

    def requirements(self, answers: Mapping[str, Any], ctx: Mapping[str, Any] | None = None
                     ) -> dict[str, bool]:
        """Item id → must be answered: visible, not calculated, and ``required`` or
        ``required_if``. For every top-level item (group entries: see :meth:`form`)."""
        run = Run()
        s = self._settle(run, answers, ctx)
        return _required(run, self._level, s, s.data, "")

    def form(self, answers: Mapping[str, Any], ctx: Mapping[str, Any] | None = None
             ) -> FormState:
        """Visibility, required-ness and evidence of every item and group entry."""
        run = Run()
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
        run = Run()
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
        score = score_of(run, self._sections, s, required, scored=self.scored,
                         model=self.model, has_total=self.has_total,
                         pass_percentage=self.pass_percentage)
        alerts = self._raise_alerts(run, data, score, failed)
        return Evaluation(definition=self.id, answers=s.answers, calculated=s.calculated,
                          visible=s.visible, required=required, evidence=evidence,
                          entries=entries, failed=failed, score=score, alerts=alerts,
                          errors=run.errors)

    # -- the steps ----------------------------------------------------------------------------

    def _settle(self, run: Run, answers: Mapping[str, Any], ctx: Mapping[str, Any] | None
                ) -> Settled:
        base: dict[str, Any] = {"ctx": dict(ctx) if ctx else {}}
        return _settle(run, self._level, answers if isinstance(answers, Mapping) else {},
                       base, "")

    def _raise_alerts(self, run: Run, data: dict[str, Any], score: Score,
                      failed: list[Failure]) -> list[Alert]:
        if not self._alerts:
            return []
        seen = dict(data)
        seen["score"] = {**score_data(score), "passed": score.passed}
        seen["failed"] = [f.item for f in failed]
        raised: list[Alert] = []
        for a in self._alerts:
            if run.test(a.when, seen, ""):
                raised.append(Alert(code=a.code, severity=a.severity,
                                    message=_fill(run, a.message, seen), items=list(a.items)))
        return raised


# -- evaluation helpers ------------------------------------------------------------------------

def _fill(run: Run, template: Template, data: dict[str, Any]) -> dict[str, str]:
    """A template filled in both languages: each param's rule runs once."""
    params: dict[str, dict[str, str]] = {}
    for p in template.params:
        value = run.call(p.rule, data, "") if p.rule is not None else None
        params[p.name] = {
            lang: (format_labels(value, p.labels, lang) if p.labels is not None
                   else format_value(value, lang)) for lang in i18n.LANGUAGES}
    return message(template.texts, data, params)


def _settle(run: Run, level: Level, raw: Mapping[str, Any], base: dict[str, Any],
            where: str) -> Settled:
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
    s = Settled(data)
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


def _entry_data(parent: dict[str, Any], level: Level, entry: Settled) -> dict[str, Any]:
    """An entry's data over the final data of the level above (the entry's ids shadow it)."""
    data = dict(parent)
    for i in level.ids:
        data.pop(i, None)
        if i in entry.data:
            data[i] = entry.data[i]
    return data


def _required(run: Run, level: Level, s: Settled, data: dict[str, Any], where: str
              ) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for it in level.items:
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
    # An unticked check is not a failure by default: many checks say what staff did ("advised
    # to reorder"), and leaving one unticked scores 0 but is no problem at the shop. A check
    # that states a condition of the site fails only where its fail_if says so.
    if it.type == "yes_no" and v == "no":
        return "default:yes_no"
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
            required=_required(run, level, s, data, here),
            evidence=_evidence(run, level, s, data, here), failed=failed))
        if failed:
            failing.append(i)
    return failing, first

