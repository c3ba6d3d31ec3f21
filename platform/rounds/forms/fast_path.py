"""The fast path of a form's check: conditional checks run on the decoded Structs.

When msgspec has decoded a body into the form's Structs (``forms.decoder``), the body is
well formed and only the conditional checks remain: ``required`` / ``required_if`` of shown
items, ``evidence_if``, unique choices, date bounds, and the definition's checks between
fields (a check fails when its item is shown and its ``when`` holds; the plan says which
failed, ``CompiledForm`` fills their messages). :class:`FastPlan`, compiled once from
the definition's rules, runs them doing only the work a check needs: an answered item's
``required_if`` never runs, sufficient evidence never runs ``evidence_if``, and decisions
that depend only on yes/no, check, scale or choice answers are remembered across
submissions (:class:`_Decision`). Its result must be what the slow path
(``forms.slow_path``, ``StandardRules.form``) decides for the same body; the tests hold the
two to it.

A valid body takes this path alone, so :meth:`FastPlan.check` is the hot path of every
submission: the checks are inlined there, and a decision is asked of its :class:`_Decision`
(the one place that remembers decisions) only when a check needs it.

May import: ``rounds.errors``, ``rounds.rules`` and ``rounds.forms`` modules below it
(``schema``, ``messages``, ``conditions``).
"""

from __future__ import annotations

import datetime
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from rounds.errors import RuleEvaluationError
from rounds.forms.conditions import evidence_raws
from rounds.forms.messages import Path, Raw
from rounds.forms.schema import FormItem, evidence_demand, numeric_choices
from rounds.rules import compile_many
from rounds.rules import semantics as js
from rounds.rules.analysis import reads
from rounds.rules.compiler import CompiledRule

UNSET = msgspec.UNSET

_NO_CTX: Mapping[str, Any] = {}
_MEMO_SIZE = 4096  # decisions remembered per check; past that, they are worked out each time
# Answers with few possible values: decisions that depend only on them are worth remembering
# (numbers, texts and dates would fill the memo with values that never come again).
_FEW_VALUES = frozenset({"check", "yes_no", "scale", "single_choice"})


def _date(value: Any) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class _Node:
    """One top-level item as the rules see it."""

    id: str
    type: str
    visible_if: CompiledRule | None
    visible_reads: tuple[str, ...]  # the other items its visible_if reads
    reads_self: bool  # its visible_if reads its own answer, as sent
    calculate: CompiledRule | None
    calculate_reads: tuple[str, ...]


def _outcome(rule: CompiledRule, data: dict[str, Any]) -> Any:
    """What a rule gives; one that raises counts as null, as in ``StandardRules``."""
    try:
        return rule(data)
    except RuleEvaluationError:
        return None


def _no_key(_answers: Any) -> tuple[()]:
    return ()


def _tuple_getter(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    if len(names) > 1:
        return operator.attrgetter(*names)
    if names:
        one = operator.attrgetter(names[0])
        return lambda obj: (one(obj),)
    return _no_key


class _Decision:
    """A yes/no that a check needs: is ``target`` shown, and (when ``rule`` is given) does its
    ``required_if`` or ``evidence_if`` hold.

    A small program settles only what the rules behind it read, in dependency order, the way
    ``StandardRules`` settles a whole form: raw answers loaded, each ``visible_if`` run (a hidden
    item's answer dropped before a later rule reads it, an unticked shown check read as false),
    each calculated value computed, a rule that raises counting as null.

    The result is remembered by the raw answers it depends on when those all have few possible
    values (yes/no, check, scale, choice) and no ``ctx`` is read: such decisions repeat across
    submissions, and the rules behind them need not run again.
    """

    __slots__ = ("converts", "fills", "get", "key", "loads", "memo", "numbers", "rule", "steps",
                 "target")

    def __init__(self, target: str, rule: CompiledRule | None, loads: list[str], *,
                 converts: list[str], fills: list[str],
                 steps: list[tuple[str, CompiledRule | None, CompiledRule | None, bool]],
                 memo: bool, numbers: list[tuple[str, dict[float, str]]] | None = None
                 ) -> None:
        self.target = target
        self.rule = rule
        self.loads = tuple(loads)
        self.get = _tuple_getter(loads)
        self.converts = tuple(converts)
        self.numbers = tuple(numbers or ())
        self.fills = tuple(fills)
        self.steps = tuple(steps)
        # One answer: the value itself is the key (attrgetter of one name returns it bare).
        self.key: Callable[[Any], Any] | None = (
            operator.attrgetter(*loads) if loads else _no_key) if memo else None
        self.memo: dict[Any, bool] = {}

    def __call__(self, answers: Any, ctx: Mapping[str, Any] | None) -> bool:
        key = self.key
        if key is None:
            return self.solve(answers, ctx)
        k = key(answers)
        found = self.memo.get(k)
        if found is None:
            found = self.solve(answers, ctx)
            if len(self.memo) < _MEMO_SIZE:
                self.memo[k] = found
        return found

    def solve(self, answers: Any, ctx: Mapping[str, Any] | None) -> bool:
        data: dict[str, Any] = {"ctx": ctx if ctx is not None else _NO_CTX}
        for name, v in zip(self.loads, self.get(answers)):  # noqa: B905 - same length
            if v is not UNSET:
                data[name] = v
        for name in self.converts:
            if name in data:
                data[name] = msgspec.to_builtins(data[name])
        for name, table in self.numbers:
            v = data.get(name)
            if v is not None and not isinstance(v, str | bool):
                data[name] = table.get(v, v)  # a choice sent as its number: its value string
        for name in self.fills:
            if name not in data:
                data[name] = False
        truthy = js.truthy
        for name, visible_if, calculate, fill in self.steps:
            if visible_if is not None:
                if not truthy(_outcome(visible_if, data)):
                    if name == self.target:
                        return False
                    data.pop(name, None)
                    continue
                if fill and name not in data:
                    data[name] = False
            if calculate is not None:
                value = _outcome(calculate, data)
                if value is None:
                    data.pop(name, None)
                else:
                    data[name] = value
        return self.rule is None or truthy(_outcome(self.rule, data))


@dataclass(frozen=True, slots=True)
class _Required:
    """An item whose required-ness depends on the rules (``visible_if`` or ``required_if``)."""

    id: str
    tick: bool
    needed: _Decision  # shown and (required or required_if)


@dataclass(frozen=True, slots=True)
class _EvidenceIf:
    id: str
    wanted: _Decision  # shown and evidence_if
    photo_min: int
    note: bool


@dataclass(frozen=True, slots=True)
class _Values:
    """What msgspec cannot check on one level (top or group entries): unique choices, dates."""

    unique: tuple[tuple[str, _Decision], ...]
    dates: tuple[tuple[str, datetime.date | None, datetime.date | None, _Decision], ...]

    def raws(self, obj: Any, base: Path) -> list[tuple[Raw, _Decision]]:
        """Value errors, each with the decision whether its item is shown."""
        out: list[tuple[Raw, _Decision]] = []
        for name, shown in self.unique:
            v = getattr(obj, name)
            if v is not UNSET and len(v) > 1 and len(set(v)) != len(v):
                out.append((((*base, name), "uniqueItems", {}), shown))
        for name, lo, hi, shown in self.dates:
            v = getattr(obj, name)
            if v is UNSET:
                continue
            if lo is not None and v < lo:
                out.append((((*base, name), "formatMinimum", {"limit": lo.isoformat()}), shown))
            if hi is not None and v > hi:
                out.append((((*base, name), "formatMaximum", {"limit": hi.isoformat()}), shown))
        return out


class FastPlan:
    """The conditional checks of one form, run on the decoded Structs.

    Does only the work a check needs: an answered item's ``required_if`` is never run,
    sufficient evidence never runs ``evidence_if``, a visibility is worked out only for an item
    that is unanswered but maybe required or has a value error, and decisions are remembered
    when they can be (:class:`_Decision`). ``build`` returns None when the rules do what this
    plan does not follow (rules inside group entries, rules reading a group, computed ``var``
    paths): such forms use ``StandardRules.form`` after decoding.
    """

    def __init__(self, required: list[_Required], evidence: list[_EvidenceIf],
                 values: _Values | None, groups: list[tuple[str, _Values]],
                 checks: list[tuple[str, str, _Decision]] | None = None, *,
                 shown: dict[str, _Decision] | None = None) -> None:
        self.required = tuple(required)
        self.evidence = tuple(evidence)
        self.values = values
        self.groups = tuple(groups)
        self.checks = tuple(checks or ())  # (check id, item, fails)
        # Whether an item is shown, for the items with a visible_if (the others always are):
        # the slow path asks it of the items that have errors.
        self.shown = dict(shown or {})

    @classmethod
    def build(cls, items: list[FormItem], checks: list[tuple[str, str, Any]] | None = None
              ) -> FastPlan | None:
        """The plan of a form's items and its checks between fields (``(id, item, when)``)."""
        rule_keys = ("visible_if", "required_if", "evidence_if", "calculate")
        top = {fi.id: fi for fi in items}
        for fi in items:
            for sub in fi.entry_items() if fi.type == "group" else ():
                if sub.type == "group" or any(k in sub.item for k in rule_keys):
                    return None
        sources = {f"{fi.id}/{k}": fi.item[k] for fi in items for k in rule_keys if k in fi.item}
        checks = checks or []
        for n, (_, target, when) in enumerate(checks):
            if target not in top or top[target].type == "group":
                return None  # the rules' own way (StandardRules.form) reports it
            sources[f"{target}/checks/{n}"] = when
        deps: dict[str, tuple[str, ...]] = {}  # "<id>/<rule>" → the items it reads
        with_ctx: set[str] = set()  # rules that read ctx
        for label, rule in sources.items():
            roots: list[str] = []
            for r in reads(rule):
                if r.dynamic or not r.path or r.unknown:
                    return None
                if r.root == "ctx":
                    with_ctx.add(label)
                    continue
                if r.root in top and top[r.root].type == "group":
                    return None
                if r.root not in roots:
                    roots.append(r.root)
            deps[label] = tuple(roots)
        fns = compile_many(sources) if sources else {}
        # points: "value" choices sent as numbers: the rules see the choice's value string
        numbers = {fi.id: {float(n): v for v, n in numeric_choices(fi.item).items()}
                   for fi in items if numeric_choices(fi.item)}
        nodes: dict[str, _Node] = {}
        for fi in items:
            vis = deps.get(f"{fi.id}/visible_if", ())
            nodes[fi.id] = _Node(
                id=fi.id, type=fi.type, visible_if=fns.get(f"{fi.id}/visible_if"),
                visible_reads=tuple(r for r in vis if r != fi.id),
                reads_self=fi.id in vis and not fi.calculated,
                calculate=fns.get(f"{fi.id}/calculate"),
                calculate_reads=deps.get(f"{fi.id}/calculate", ()))
        order = _settle_order(nodes)
        if order is None:
            return None  # a cycle: compile_standard reports it

        def decision(target: str, kind: str | None) -> _Decision:
            """``target`` shown and (``kind`` given) its ``required_if``/``evidence_if`` true."""
            node = nodes[target]
            rule = fns[f"{target}/{kind}"] if kind else None
            labels = [f"{target}/{kind}"] if kind else []
            stepped: set[str] = set()
            loads: set[str] = set()
            todo = list(deps.get(f"{target}/{kind}", ())) if kind else []
            if node.visible_if is not None:
                labels.append(f"{target}/visible_if")
                stepped.add(target)
                todo += node.visible_reads
                if node.reads_self:
                    loads.add(target)
            seen: set[str] = set()
            while todo:
                name = todo.pop()
                n = nodes.get(name)
                if name in seen or n is None:
                    continue  # not an item: the rules find nothing there
                seen.add(name)
                if n.visible_if is not None:
                    stepped.add(name)
                    labels.append(f"{name}/visible_if")
                    todo += n.visible_reads
                    if n.reads_self:
                        loads.add(name)
                if n.calculate is not None:
                    stepped.add(name)
                    labels.append(f"{name}/calculate")
                    todo += n.calculate_reads
                else:
                    loads.add(name)
            load_list = sorted(loads)
            memo = not any(label in with_ctx for label in labels) and all(
                nodes[n].type in _FEW_VALUES for n in load_list)
            return _Decision(
                target, rule, load_list,
                converts=[n for n in load_list
                          if nodes[n].type in ("gps", "date", "signature")],
                fills=[n for n in load_list if nodes[n].type == "check"
                       and nodes[n].visible_if is None],
                steps=[(n, nodes[n].visible_if, nodes[n].calculate, nodes[n].type == "check")
                       for n in order if n in stepped],
                memo=memo, numbers=[(n, numbers[n]) for n in load_list if n in numbers])

        def values(level: list[FormItem], shown: Callable[[str], _Decision]) -> _Values | None:
            unique = tuple((fi.id, shown(fi.id)) for fi in level if fi.type == "multiple_choice")
            dates = tuple((fi.id, _date(fi.item.get("min")), _date(fi.item.get("max")),
                           shown(fi.id)) for fi in level if fi.type == "date"
                          and (fi.item.get("min") is not None or fi.item.get("max") is not None))
            return _Values(unique, dates) if unique or dates else None

        required = [
            _Required(fi.id, fi.type == "check",
                      decision(fi.id, None if fi.item.get("required") is True else "required_if"))
            for fi in items if not fi.calculated and not fi.unconditionally_required
            and (fi.item.get("required") is True or "required_if" in fi.item)]
        evidence = []
        for fi in items:
            if "evidence_if" in fi.item:
                demand = evidence_demand(fi.item)
                evidence.append(_EvidenceIf(fi.id, decision(fi.id, "evidence_if"),
                                            int(demand.get("photo_min") or 0),
                                            demand.get("note") is True))
        groups = []
        for fi in items:
            if fi.type == "group":
                group_shown = decision(fi.id, None)

                def same(_name: str, d: _Decision = group_shown) -> _Decision:
                    return d  # an entry's items are checked when the group is shown

                v = values(fi.entry_items(), same)
                if v is not None:
                    groups.append((fi.id, v))
        return cls(required, evidence, values(items, lambda name: decision(name, None)), groups,
                   [(cid, target, decision(target, f"checks/{n}"))
                    for n, (cid, target, _) in enumerate(checks)],
                   shown={fi.id: decision(fi.id, None) for fi in items if "visible_if" in fi.item})

    def check(self, answers: Any, evidence: Any, ctx: Mapping[str, Any] | None) -> list[Raw]:
        # The hot path of every valid body: checks inlined; a decision is asked for only
        # when a check needs it, and its rules run only when it is not remembered.
        out: list[Raw] = []
        for req in self.required:
            v = getattr(answers, req.id)
            if v is not UNSET and (v is True if req.tick else (
                    (v.__class__ is not str and v.__class__ is not list) or v)):
                continue  # answered: whether it had to be does not matter
            if req.needed(answers, ctx):
                out.append((("answers", req.id), "must_tick" if req.tick else "required", {}))
        for ev in self.evidence:
            sent = UNSET if evidence is UNSET else getattr(evidence, ev.id)
            if sent is not UNSET:
                photos, note = sent.photos, sent.note
                if (ev.photo_min == 0 or (photos is not UNSET and len(photos) >= ev.photo_min)
                        ) and (not ev.note or (note is not UNSET and note.strip())):
                    continue  # enough evidence, whether it was asked for or not
            elif ev.photo_min == 0 and not ev.note:
                continue
            if ev.wanted(answers, ctx):
                out.extend(evidence_raws(ev.id, sent, ev.photo_min, ev.note))
        values = self.values
        if values is not None:
            for name, _shown in values.unique:
                v = getattr(answers, name)
                if v is not UNSET and (n := len(v)) > 1 and (
                        v[0] == v[1] if n == 2 else len(set(v)) != n):
                    break
            else:
                if not values.dates:
                    values = None  # nothing wrong: skip the general pass below
            if values is not None:
                out += [raw for raw, shown in values.raws(answers, ("answers",))
                        if shown(answers, ctx)]
        for name, values in self.groups:
            entries = getattr(answers, name)
            if entries is UNSET:
                continue
            for i, entry in enumerate(entries):
                out += [raw for raw, shown in values.raws(entry, ("answers", name, i))
                        if shown(answers, ctx)]
        for check, target, fails in self.checks:
            if fails(answers, ctx):
                out.append((("answers", target), "check_failed", {"check": check}))
        return out


def _settle_order(nodes: Mapping[str, _Node]) -> list[str] | None:
    """The items in an order where each comes after what its visible_if or calculate reads
    (document order otherwise); None if they depend on each other in a cycle."""
    state: dict[str, int] = {}  # 1: on the path, 2: placed
    order: list[str] = []

    def visit(name: str) -> bool:
        if state.get(name) == 2 or name not in nodes:
            return True
        if state.get(name) == 1:
            return False
        state[name] = 1
        node = nodes[name]
        if not all(visit(d) for d in (*node.visible_reads, *node.calculate_reads)):
            return False
        state[name] = 2
        order.append(name)
        return True

    return order if all(visit(n) for n in nodes) else None
