"""A standard version's scoring generated as one Python function: :class:`Scorer`.

The submission write path stores the score with its lines, the outcomes, the failed items
with their problem titles, the raised alerts with their messages, the calculated values and
the rules that raised (``runtime.submissions.documents.stored_evaluation``); it keeps the
answers and evidence of shown items. It does not store visibility and required-ness maps,
the evidence asked for, nor per-entry results: that is the explanation, built only when
asked for (:meth:`Scored.evaluation`, the full :class:`~rounds.rules.results.Evaluation`).

So per version one function is generated that does the steps of ``rules.evaluation`` (its
module docstring says which, in what order) in straight-line code: each item's settling,
each scoring item's points, each section's tally in local variables, each failed item and
alert written out, and the stored parts built directly as plain data (what
``msgspec.to_builtins`` of the result types gives, field by field and in the same order), so
nothing is converted afterwards. Every rule the generic evaluation runs is run here too, in
the same order, so that the rules that raise are listed alike, even a ``required_if`` or
``evidence_if`` whose result is not stored.

The function is built as a Python syntax tree node by node, as ``rules.compiler`` builds a
rule: names we generate, the definition's strings and numbers only as ``ast.Constant``, its
dicts (titles, choices' fractions, templates) and the compiled rules kept in the function's
namespace and read by name. Nothing from a definition is parsed as code.

What it does not cover falls back to ``CompiledEvaluation`` (the same record, made from the
whole evaluation): late items (calculated from the score), groups whose entries' items force
outcome levels, a calculated group. ``tests/unit/rules/test_fast_evaluation.py`` holds the
record equal to the generic evaluation's on random answers for every definition in
``definitions/``. :func:`source` shows the code generated for a definition.

The record shares the definition's titles (read only); what is stored is encoded at once,
and readers get their own copies from the database.

May import: ``msgspec``, ``rounds.errors``, ``rounds.i18n`` and the ``rounds.rules`` modules
below it (``fast_evaluation``, ``evaluation``, ``alerts``, ``scoring``, ``semantics``,
``structure``, ``results``).
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec

from rounds import i18n
from rounds import pointer as json_pointer
from rounds.errors import RuleEvaluationError
from rounds.rules import semantics as js
from rounds.rules import syntax
from rounds.rules.alerts import (
    MISSING,
    format_labels,
    format_value,
    picked_labels,
    placeholder_digits,
    shown_value,
    split_texts,
)
from rounds.rules.evaluation import StandardRules, _fill, decide
from rounds.rules.fast_evaluation import (
    CompiledEvaluation,
    _entries,
    _Plan,
    _plan,
    _settle,
    _Step,
)
from rounds.rules.results import CheckFailure, Evaluation, RuleFailure
from rounds.rules.scoring import _points, rule_fraction
from rounds.rules.structure import (
    RAISED,
    Check,
    Item,
    PlacedRule,
    Run,
    Settled,
    Template,
    as_number,
)
from rounds.rules.syntax import call as _call
from rounds.rules.syntax import name as _n

# -- the record --------------------------------------------------------------------------------


class Scored:
    """What the write path needs of an evaluation; the rest on first ask (:meth:`evaluation`).

    ``answers``, ``calculated`` and ``visible`` are the evaluation's; ``entries`` the
    visibility of each top-level group's entries, in order (:meth:`entry_visible`); ``score``,
    ``outcomes``, ``failed``, ``alerts`` and ``errors`` are the evaluation's as plain data
    (``msgspec.to_builtins``), the form they are stored in.
    """

    __slots__ = ("_ctx", "_evaluation", "_evaluator", "_raw", "alerts", "answers",
                 "calculated", "entries", "errors", "failed", "outcomes", "score",
                 "visible")

    def __init__(self, evaluator: CompiledEvaluation, raw: Mapping[str, Any],
                 ctx: Mapping[str, Any] | None, *, answers: dict[str, Any],
                 calculated: dict[str, Any], visible: dict[str, bool],
                 entries: dict[str, list[Mapping[str, bool]]], score: dict[str, Any],
                 outcomes: list[dict[str, Any]], failed: list[dict[str, Any]],
                 alerts: list[dict[str, Any]], errors: list[dict[str, Any]],
                 evaluation: Evaluation | None = None) -> None:
        self._evaluator = evaluator
        self._raw = raw
        self._ctx = ctx
        self._evaluation = evaluation
        self.answers = answers
        self.calculated = calculated
        self.visible = visible
        self.entries = entries
        self.score = score
        self.outcomes = outcomes
        self.failed = failed
        self.alerts = alerts
        self.errors = errors

    def entry_visible(self, group: str, index: int) -> Mapping[str, bool] | None:
        """Item id → shown, in an entry of a shown top-level group (None: no such entry)."""
        entries = self.entries.get(group)
        return entries[index] if entries is not None and 0 <= index < len(entries) else None

    def stored(self) -> dict[str, Any]:
        """What a submission keeps of its evaluation (``documents.stored_evaluation``)."""
        return {"score": self.score, "outcomes": self.outcomes, "failed": self.failed,
                "alerts": self.alerts, "calculated": msgspec.to_builtins(self.calculated),
                "errors": self.errors}

    def evaluation(self) -> Evaluation:
        """The whole evaluation, explanation included (computed on first ask)."""
        ev = self._evaluation
        if ev is None:
            ev = self._evaluation = self._evaluator.evaluate(self._raw, self._ctx)
        return ev


def record_of(evaluator: CompiledEvaluation, raw: Mapping[str, Any],
              ctx: Mapping[str, Any] | None, ev: Evaluation) -> Scored:
    """The record of a whole evaluation (where no function is generated)."""
    entries: dict[str, list[Mapping[str, bool]]] = {}
    for e in ev.entries:
        if e.pointer.count("/") == 2:  # a top-level group's entry (they come in order)
            entries.setdefault(e.group, []).append(e.visible)
    return Scored(evaluator, raw, ctx, answers=ev.answers, calculated=ev.calculated,
                  visible=ev.visible, entries=entries, score=msgspec.to_builtins(ev.score),
                  outcomes=msgspec.to_builtins(ev.outcomes),
                  failed=msgspec.to_builtins(ev.failed), alerts=msgspec.to_builtins(ev.alerts),
                  errors=msgspec.to_builtins(ev.errors), evaluation=ev)


# -- helpers the generated code calls ----------------------------------------------------------

def _raised(run: Run, pointer: str, e: RuleEvaluationError, where: str) -> None:
    """As ``Run.call`` does with a rule that raises."""
    run.errors.append(RuleFailure(pointer=pointer, error=dict(e.error), entry=where or None))


def _group(run: Run, plan: _Plan, data: dict[str, Any], gid: str) -> list[Settled]:
    """A shown group's entries settled (``fast_evaluation._settle_items``' group step)."""
    settled = [_settle(run, plan, e if isinstance(e, Mapping) else {}, data, f"/{gid}/{n}")
               for n, e in enumerate(data[gid])]
    data[gid] = [{**e.answers, **{k: v for k, v in e.calculated.items() if v is not None}}
                 if e.calculated else dict(e.answers) for e in settled]
    return settled


def _extremes(values: tuple[float | None, ...]) -> tuple[float | None, float | None]:
    given = [v for v in values if v is not None]
    return (max(given), min(given)) if given else (None, None)


def _check_failure(run: Run, check: Check, data: dict[str, Any]) -> CheckFailure:
    """A check that failed (``StandardRules._check``; its message filled only then)."""
    return CheckFailure(check=check.id, item=check.item,
                        pointer=json_pointer.join("answers", check.item),
                        message=_fill(run, check.message, data))


_to_builtins = msgspec.to_builtins

_HELPERS: dict[str, Any] = {
    "_Run": Run, "_EvalError": RuleEvaluationError, "_raised": _raised, "_truthy": js.truthy,
    "_group": _group, "_entries": _entries,
    "_extremes": _extremes, "_points": _points, "_decide": decide, "_RAISED": RAISED,
    "_check_failure": _check_failure, "_to_builtins": _to_builtins, "_dict": dict,
    "_list": list, "_bool": bool, "_isinstance": isinstance, "_Mapping": Mapping,
    "_len": len, "_format_value": format_value,
    "_format_labels": format_labels, "_rule_fraction": rule_fraction, "_str": str,
    "_shown_value": shown_value, "_var_path": js.var_path, "_MISSING": MISSING,
}

# -- AST builders ------------------------------------------------------------------------------


def _c(v: str | int | float | bool | None) -> ast.Constant:
    assert v is None or isinstance(v, str | int | float | bool)
    return ast.Constant(value=v)


def _method(obj: str, name: str, *args: ast.expr) -> ast.Call:
    return _call(ast.Attribute(value=_n(obj), attr=name, ctx=ast.Load()), *args)


def _set(name: str, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())], value=value, lineno=0)


def _setitem(obj: str, key: ast.expr, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[ast.Subscript(value=_n(obj), slice=key, ctx=ast.Store())],
                      value=value, lineno=0)


def _item(obj: str, key: ast.expr) -> ast.Subscript:
    return ast.Subscript(value=_n(obj), slice=key, ctx=ast.Load())


def _do(e: ast.expr) -> ast.Expr:
    return ast.Expr(value=e)


def _if(test: ast.expr, body: Sequence[ast.stmt], orelse: Sequence[ast.stmt] | None = None
        ) -> ast.If:
    return ast.If(test=test, body=list(body) or [ast.Pass()], orelse=list(orelse or []))


def _cmp(a: ast.expr, op: ast.cmpop, b: ast.expr) -> ast.Compare:
    return ast.Compare(left=a, ops=[op], comparators=[b])


def _ifexp(test: ast.expr, a: ast.expr, b: ast.expr) -> ast.IfExp:
    return ast.IfExp(test=test, body=a, orelse=b)


def _and(*vs: ast.expr) -> ast.expr:
    return vs[0] if len(vs) == 1 else ast.BoolOp(op=ast.And(), values=list(vs))


def _not(e: ast.expr) -> ast.expr:
    return ast.UnaryOp(op=ast.Not(), operand=e)


def _dict_of(pairs: list[tuple[str, ast.expr]]) -> ast.Dict:
    return ast.Dict(keys=[_c(k) for k, _ in pairs], values=[v for _, v in pairs])


def _tuple(*vs: ast.expr) -> ast.Tuple:
    return ast.Tuple(elts=list(vs), ctx=ast.Load())


def _list(*vs: ast.expr) -> ast.List:
    return ast.List(elts=list(vs), ctx=ast.Load())


def _bin(a: ast.expr, op: ast.operator, b: ast.expr) -> ast.BinOp:
    return ast.BinOp(left=a, op=op, right=b)


def _truth(v: ast.expr) -> ast.expr:
    """JsonLogic truthiness of a name: a bool decides by itself, anything else by ``_truthy``."""
    return _ifexp(_cmp(ast.Attribute(value=v, attr="__class__", ctx=ast.Load()), ast.Is(),
                       _n("_bool")), v, _call("_truthy", v))


# -- the generator ----------------------------------------------------------------------------

class _Gen:
    def __init__(self, rules: StandardRules, plan: _Plan) -> None:
        self.r = rules
        self.p = plan
        self.ns: dict[str, Any] = dict(_HELPERS)
        self._count = itertools.count(1)
        self.out: list[ast.stmt] = []
        self.vis: dict[str, ast.expr] = {}  # item id → whether shown (a name, or True)
        self.raw: dict[str, str] = {}  # item id → the local holding its answer in the data
        self._scoring: tuple[Any, Item, str]  # the section, item and tally being written
        self.module = ast.Module(body=[], type_ignores=[])  # what build() compiled

    def fresh(self, prefix: str) -> str:
        return f"{prefix}{next(self._count)}"

    def shared(self, value: Any, prefix: str = "_k") -> ast.Name:
        name = self.fresh(prefix)
        self.ns[name] = value
        return _n(name)

    def call_rule(self, target: str, rule: PlacedRule, data: str = "data",
                  failed: ast.expr | None = None) -> list[ast.stmt]:
        """``target = rule(data)``; a rule that raises gives ``failed`` (null) and is listed."""
        fn = self.shared(rule.fn, "_r")
        handler = ast.ExceptHandler(type=_n("_EvalError"), name="e", body=[
            _set(target, failed if failed is not None else _c(None)),
            _do(_call("_raised", _n("run"), _c(rule.pointer), _n("e"), _c("")))])
        return [ast.Try(body=[_set(target, _call(fn, _n(data)))], handlers=[handler],
                        orelse=[], finalbody=[])]

    def test_rule(self, target: str, rule: PlacedRule | None) -> list[ast.stmt]:
        """``target`` = the rule holds (``Run.test``)."""
        if rule is None:
            return [_set(target, _c(False))]
        t = self.fresh("_t")
        return [*self.call_rule(t, rule), _set(target, _truth(_n(t)))]

    def fill(self, template: Template | None, data: str) -> tuple[list[ast.stmt], ast.expr]:
        """A template filled in every language (``message_split`` of the evaluation's
        ``_fill``), written out: each param's rule run once, formatted in each language, the
        texts joined from their parts. A constant when it has neither params nor
        placeholders."""
        if template is None:
            return [], _dict_of([])
        split = split_texts(template.texts)
        if not template.params and all(len(parts) == 1 for _, parts in split):
            return [], _call("_dict", self.shared({lang: parts[0] for lang, parts in split}))
        stmts: list[ast.stmt] = []
        given: dict[str, dict[str, ast.expr]] = {}
        for p in template.params:
            v = self.fresh("_m")
            if p.rule is not None:
                stmts += self.call_rule(v, p.rule, data)
            else:
                stmts.append(_set(v, _c(None)))
            texts: dict[str, ast.expr] = {}
            labels = self.shared(p.labels) if p.labels is not None else None
            for lang in i18n.LANGUAGES:
                t = self.fresh("_m")
                stmts.append(_set(t, _call(
                    "_format_labels", _n(v), labels, _c(lang),
                    self.shared(picked_labels(p.labels or {}, lang)))
                    if labels is not None else _call("_format_value", _n(v), _c(lang))))
                texts[lang] = _n(t)
            given[p.name] = texts
        # Each placeholder's value read once, shown in each language.
        values: dict[str, str] = {}
        for _, parts in split:
            for name in parts[1::2]:
                if name not in given and name not in values:
                    values[name] = self.fresh("_m")
                    stmts.append(_set(values[name], _call("_var_path", _n(data), _c(name))))
        out: list[tuple[str, ast.expr]] = []
        for lang, parts in split:
            if len(parts) == 1:
                out.append((lang, _c(parts[0])))
                continue
            pieces: list[ast.expr] = [_c(parts[0])]
            for k in range(1, len(parts), 2):
                name = parts[k]
                if name in given:
                    pieces.append(given[name].get(lang, _n("_MISSING")))
                else:
                    pieces.append(_call("_shown_value", _n(values[name]), _c(lang), _c(
                        placeholder_digits(name, self.r._digits))))
                pieces.append(_c(parts[k + 1]))
            out.append((lang, _method_c("", "join", _list(*(x for x in pieces
                                                             if not _empty(x))))))
        return stmts, _dict_of(out)

    # -- step 1: settle ---------------------------------------------------------------------

    def settle(self) -> None:
        o = self.out
        for st in self.p.items:  # the answers kept, as evaluation._settle takes them
            i, v = st.id, self.fresh("_a")
            self.raw[i] = v
            if st.calculate is not None:
                if i == "ctx":
                    o.append(_do(_method("data", "pop", _c(i), _c(None))))
                continue
            o.append(_set(v, _method("raw", "get", _c(i))))
            if st.sub is not None:
                o.append(_if(_not(_call("_isinstance", _n(v), _n("_list"))),
                             [_set(v, _list())]))
                o.append(_setitem("data", _c(i), _n(v)))
                continue
            if st.numbers is not None:
                o.append(_set(v, _call(self.shared(_numeric_choice), _n(v),
                                       self.shared(st.numbers))))
            if i == "ctx":
                o.append(_do(_method("data", "pop", _c(i), _c(None))))
            o.append(_if(_cmp(_n(v), ast.IsNot(), _c(None)), [_setitem("data", _c(i), _n(v))]))
        for st in self.p.order:
            self.settle_item(st)

    def settle_item(self, st: _Step) -> None:
        i, v = st.id, self.raw[st.id]
        body: list[ast.stmt] = []
        if st.calculate is not None:
            body += self.call_rule(v, st.calculate)
            body.append(_setitem("calculated", _c(i), _n(v)))
            body.append(_if(_cmp(_n(v), ast.Is(), _c(None)),
                            [_do(_method("data", "pop", _c(i), _c(None)))],
                            [_setitem("data", _c(i), _n(v))]))
        elif st.sub is not None and st.sub.flat is not None:
            body += self.flat_group(st, st.sub.flat)
        elif st.sub is not None:
            body.append(_setitem("groups", _c(i), _call(
                "_group", _n("run"), self.shared(st.sub, "_p"), _n("data"), _c(i))))
            body.append(_if(_cmp(_method("raw", "get", _c(i)), ast.IsNot(), _c(None)), [
                _setitem("answers", _c(i), ast.ListComp(
                    elt=ast.Attribute(value=_n("_e"), attr="answers", ctx=ast.Load()),
                    generators=[ast.comprehension(
                        target=ast.Name(id="_e", ctx=ast.Store()),
                        iter=_item("groups", _c(i)), ifs=[], is_async=0)]))]))
        elif st.check:
            body.append(_if(_cmp(_n(v), ast.Is(), _c(None)), [
                _set(v, _c(False)), _setitem("data", _c(i), _c(False))]))
            body.append(_setitem("answers", _c(i), _n(v)))
        else:
            body.append(_if(_cmp(_n(v), ast.IsNot(), _c(None)),
                            [_setitem("answers", _c(i), _n(v))]))
        if st.visible_if is None:
            self.vis[i] = _c(True)
            self.out += body
            return
        shown = self.fresh("_v")
        self.vis[i] = _n(shown)
        self.out += self.test_rule(shown, st.visible_if)
        hidden: list[ast.stmt] = [_set(v, _c(None))]
        if st.sub is not None:
            hidden.append(_setitem("data", _c(i), _list()))
        else:
            hidden.append(_do(_method("data", "pop", _c(i), _c(None))))
        self.out.append(_if(_n(shown), body, hidden))

    def flat_group(self, st: _Step, flat: tuple[tuple[str, bool], ...]) -> list[ast.stmt]:
        """A shown group whose entries have no rule, no numeric choice and no group: each
        entry's kept answers are its answers (an unanswered check false), every item shown
        (``fast_evaluation._settle`` of a flat level, without its ``Settled``). The kept
        entries are what later rules see too: nothing changes them."""
        i = st.id
        loop: list[ast.stmt] = [
            _if(_and(_cmp(ast.Attribute(value=_n("_e"), attr="__class__", ctx=ast.Load()),
                          ast.IsNot(), _n("_dict")),
                     _not(_call("_isinstance", _n("_e"), _n("_Mapping")))),
                [_set("_e", _dict_of([]))]),
            _set("_x", _dict_of([]))]
        for sub, check in flat:
            kept = [_setitem("_x", _c(sub), _n("_w"))]
            loop += [_set("_w", _method("_e", "get", _c(sub))),
                     _if(_cmp(_n("_w"), ast.IsNot(), _c(None)), kept,
                         [_setitem("_x", _c(sub), _c(False))] if check else [])]
        loop.append(_do(_method("_ents", "append", _n("_x"))))
        return [
            _set("_ents", _list()),
            ast.For(target=ast.Name(id="_e", ctx=ast.Store()), iter=_item("data", _c(i)),
                    body=loop, orelse=[], lineno=0),
            _setitem("data", _c(i), _n("_ents")),
            _setitem("flat", _c(i), ast.Tuple(elts=[self.shared(st.sub.shown if st.sub else {}),
                                                    _call("_len", _n("_ents"))], ctx=ast.Load())),
            _if(_cmp(_method("raw", "get", _c(i)), ast.IsNot(), _c(None)),
                [_setitem("answers", _c(i), _call("_list", _n("_ents")))])]

    # -- step 2: checks ---------------------------------------------------------------------

    def checks(self) -> None:
        for c in self.r.checks:
            if c.when is None:
                continue
            t = self.fresh("_t")
            body = [*self.test_rule(t, c.when), _if(_n(t), [_do(_method(
                "checks", "append", _call("_check_failure", _n("run"), self.shared(c),
                                          _n("data"))))])]
            shown = self.vis.get(c.item)
            self.out.append(_if(shown, body) if shown is not None else _if(_c(True), body))

    # -- required-ness (only what scoring reads; every required_if run for its errors) -------

    def required(self) -> dict[str, ast.expr]:
        req: dict[str, ast.expr] = {}
        for st in self.p.items:
            if st.calculate is not None:
                req[st.id] = _c(False)
            elif st.required:
                req[st.id] = self.vis[st.id]
            elif st.required_if is None:
                req[st.id] = _c(False)
            else:
                t = self.fresh("_q")
                self.out.append(_set(t, _c(False)))
                self.out.append(_if(self.vis[st.id], self.test_rule(t, st.required_if)))
                req[st.id] = _n(t)
        return req

    # -- step 2 of the docstring: the score ---------------------------------------------------

    def points(self, it: Item, req: ast.expr, direction: str) -> list[ast.stmt]:
        """``pts, cnt, dec, rev`` of a shown scoring item (``scoring._points``)."""
        lower = direction == "lower_better"
        rule = it.rules.get("score")
        if rule is not None:
            return self.ruled_points(it, rule, req)
        if not it.absolute and it.type == "single_choice":
            return self.choice_points(it, req)
        if it.absolute or it.type not in ("check", "yes_no"):
            return [ast.Assign(targets=[ast.Tuple(elts=[ast.Name(id=n, ctx=ast.Store())
                                                        for n in ("pts", "cnt", "dec", "rev")],
                                                  ctx=ast.Store())],
                               value=_call("_points", _n("run"), self.shared(it), _n("data"),
                                           req, _c(direction)), lineno=0),
                    *self._outcome(_n("pts"), _n("cnt"), _n("dec"), _n("rev"))]
        v = self.fresh("_p")
        get = _set(v, _method("data", "get", _c(it.id)))

        def got(counted: bool, decided: str) -> list[ast.stmt]:
            return self._outcome(_c(it.weight if counted else 0.0), _c(True), _c(decided),
                                 _c(False))

        missing = self._outcome(_ifexp(req, _c(0.0), _c(None)), req, _c("missing"), _c(False))
        if it.type == "check":
            good = it.good if isinstance(it.good, bool) else True
            return [get, _if(_cmp(_truth(_n(v)), ast.Eq(), _c(good != lower)),
                             got(True, "default:check"), got(False, "default:check"))]
        good_answer = it.good if it.good in ("yes", "no") else "yes"
        na = self._outcome(_c(None), _c(False), _c("na"), _c(False))
        return [get, _if(_cmp(_n(v), ast.Eq(), _c("na")), na, [
            _if(_cmp(_n(v), ast.Eq(), _c("yes")),
                got((good_answer == "yes") != lower, "default:yes_no"),
                [_if(_cmp(_n(v), ast.Eq(), _c("no")),
                     got((good_answer == "no") != lower, "default:yes_no"), missing)])])]

    def _outcome(self, pts: ast.expr, cnt: ast.expr, dec: ast.expr, rev: ast.expr
                 ) -> list[ast.stmt]:
        """An item's points, counted, decided_by, reversed (``scoring._points``) into its
        section's and the total's tallies and its line of the explanation (``score_of``).
        What is known here is written as constants: most branches count or do not."""
        sec, it, k = self._scoring
        if isinstance(pts, ast.IfExp) and isinstance(pts.test, ast.Constant):
            pts = pts.body if pts.test.value else pts.orelse
        w = it.weight

        def line(points: ast.expr, fraction: ast.expr, counted: ast.expr) -> ast.stmt:
            return _do(_method("lines", "append", _dict_of([
                ("item", _c(it.id)), ("section", _c(sec.id)), ("title", self.shared(it.title)),
                ("weight", _c(w)), ("fraction", fraction), ("points", points),
                ("counted", counted), ("decided_by", dec), ("reversed", rev)])))

        def add(points: ast.expr) -> list[ast.stmt]:
            return [_set(f"{k}p", _bin(_n(f"{k}p"), ast.Add(), points)),
                    _set(f"{k}m", _bin(_n(f"{k}m"), ast.Add(), _c(w))),
                    _set(f"{k}a", _bin(_n(f"{k}a"), ast.Add(), _c(1))),
                    _set("tp", _bin(_n("tp"), ast.Add(), points)),
                    _set("tm", _bin(_n("tm"), ast.Add(), _c(w))),
                    _set("ta", _bin(_n("ta"), ast.Add(), _c(1)))]

        if (isinstance(cnt, ast.Constant) and not cnt.value) or (
                isinstance(pts, ast.Constant) and pts.value is None):
            return [line(_c(None), _c(None), _c(False))]
        if isinstance(cnt, ast.Constant) and isinstance(pts, ast.Constant):
            p = pts.value
            assert isinstance(p, float)
            return [*add(_c(p)), line(_c(p), _c(None if w == 0 else p / w), _c(True))]
        out: list[ast.stmt] = []
        if not (isinstance(pts, ast.Name) and pts.id == "pts"):
            out.append(_set("pts", pts))
        counts = _cmp(_n("pts"), ast.IsNot(), _c(None))
        out.append(_if(counts if isinstance(cnt, ast.Constant) else _and(cnt, counts),
                       add(_n("pts")), [_set("pts", _c(None))]))
        fraction = _c(None) if w == 0 else _ifexp(
            _cmp(_n("pts"), ast.Is(), _c(None)), _c(None), _bin(_n("pts"), ast.Div(), _c(w)))
        out.append(line(_n("pts"), fraction, _cmp(_n("pts"), ast.IsNot(), _c(None))))
        return out

    def ruled_points(self, it: Item, rule: PlacedRule, req: ast.expr) -> list[ast.stmt]:
        """``scoring._points`` of an item with a ``score`` rule."""
        v, r = self.fresh("_p"), self.fresh("_p")
        label = _c(f"rule:{rule.pointer}")
        missing = self._outcome(_ifexp(req, _c(0.0), _c(None)), req, _c("missing"), _c(False))
        ruled: list[ast.stmt] = [
            *self.call_rule(r, rule, failed=_n("_RAISED")),
            _if(_cmp(_n(r), ast.Is(), _c(None)),
                self._outcome(_c(None), _c(False), label, _c(False)),
                self._outcome(_bin(_call("_rule_fraction", _n("run"), _c(rule.pointer), _n(r)),
                                   ast.Mult(), _c(it.weight)), _c(True), label, _c(False)))]
        if it.type != "check":
            ruled = [_if(_cmp(_n(v), ast.Is(), _c(None)), missing, ruled)]
        if it.type in ("yes_no", "scale"):
            ruled = [_if(_cmp(_n(v), ast.Eq(), _c("na")),
                         self._outcome(_c(None), _c(False), _c("na"), _c(False)), ruled)]
        return [_set(v, _method("data", "get", _c(it.id))), *ruled]

    def choice_points(self, it: Item, req: ast.expr) -> list[ast.stmt]:
        """``scoring._points`` of a single_choice whose choices score a fraction."""
        v, f = self.fresh("_p"), self.fresh("_p")
        choices = self.shared(it.choices)
        dec = _bin(_c("choice:"), ast.Add(), _n(v))
        fraction: ast.expr = _bin(_c(1.0), ast.Sub(), _n(f)) if it.reverse else _n(f)
        return [_set(v, _method("data", "get", _c(it.id))), _if(
            _and(_call("_isinstance", _n(v), _n("_str")), _cmp(_n(v), ast.In(), choices)),
            [_set(f, ast.Subscript(value=choices, slice=_n(v), ctx=ast.Load())),
             _if(_cmp(_n(f), ast.Is(), _c(None)),
                 self._outcome(_c(None), _c(False), dec, _c(False)),
                 self._outcome(_bin(fraction, ast.Mult(), _c(it.weight)), _c(True), dec,
                               _c(it.reverse)))],
            self._outcome(_ifexp(req, _c(0.0), _c(None)), req, _c("missing"), _c(False)))]

    def model_value(self, points: ast.expr, most: ast.expr, answered: ast.expr,
                    scoring: bool, model: Any) -> ast.expr:
        """``scoring._value`` of a tally held in locals."""
        if not scoring:
            return _c(None)
        if model.model == "sum":
            value: ast.expr = points
        elif model.model == "mean":
            value = _ifexp(_cmp(answered, ast.Eq(), _c(0)), _c(None),
                           _bin(points, ast.Div(), answered))
        else:
            value = _ifexp(_cmp(most, ast.Eq(), _c(0)), _c(None),
                           _bin(_bin(_c(100), ast.Mult(), points), ast.Div(), most))
        if model.min_answered:
            value = _ifexp(_cmp(answered, ast.Lt(), _c(model.min_answered)), _c(None), value)
        return value

    def score(self, req: dict[str, ast.expr]) -> None:
        r, o = self.r, self.out
        o += [_set("tp", _c(0.0)), _set("tm", _c(0.0)), _set("ta", _c(0)),
              _set("lines", _list())]
        total_scoring = False
        sections: list[tuple[Any, str, bool]] = []
        for sec in r._sections:
            k = self.fresh("_s")
            o += [_set(f"{k}p", _c(0.0)), _set(f"{k}m", _c(0.0)), _set(f"{k}a", _c(0))]
            scoring = False
            for it in sec.items:
                if not it.scores:
                    continue
                scoring = total_scoring = True
                self._scoring = (sec, it, k)
                shown = self.vis[it.id]
                pts = self.points(it, req[it.id], sec.model.direction)
                if isinstance(shown, ast.Constant):
                    o += pts
                else:
                    o.append(_if(shown, pts, self._outcome(_c(None), _c(False), _c("hidden"),
                                                           _c(False))))
            o.append(_set(f"{k}v", self.model_value(_n(f"{k}p"), _n(f"{k}m"), _n(f"{k}a"),
                                                    scoring, sec.model)))
            sections.append((sec, k, scoring))
        value = self.model_value(_n("tp"), _n("tm"), _n("ta"), total_scoring, r.model) \
            if r.has_total else _c(None)
        o.append(_set("value", value))
        pct = r.model.model == "percentage"
        o.append(_set("pct", _n("value") if pct else _c(None)))
        if r.scored and r.pass_percentage is not None and pct:
            o.append(_set("passed", _ifexp(_cmp(_n("pct"), ast.Is(), _c(None)), _c(None),
                                           _cmp(_n("pct"), ast.GtE(),
                                                _c(r.pass_percentage)))))
        else:
            o.append(_set("passed", _c(None)))
        o.append(ast.Assign(targets=[_tuple_store("smax", "smin")], value=_call(
            "_extremes", _tuple(*(_n(f"{k}v") for _, k, _ in sections))), lineno=0))
        self.sections = sections

        def sec_pct(k: str, sec: Any) -> ast.expr:
            return _n(f"{k}v") if sec.model.model == "percentage" else _c(None)

        o.append(_setitem("data", _c("score"), _dict_of([
            ("value", _n("value")), ("total", _n("tp")), ("points", _n("tp")),
            ("max", _n("tm")), ("percentage", _n("pct")), ("answered", _n("ta")),
            ("section_max", _n("smax")), ("section_min", _n("smin")),
            ("sections", _dict_of([(sec.id, _dict_of([
                ("value", _n(f"{k}v")), ("points", _n(f"{k}p")), ("max", _n(f"{k}m")),
                ("percentage", sec_pct(k, sec)), ("answered", _n(f"{k}a"))]))
                for sec, k, _ in sections]))])))
        o.append(_set("section_scores", _list(*(_dict_of([
            ("section", _c(sec.id)), ("title", self.shared(sec.title)),
            ("model", _c(sec.model.model)), ("direction", _c(sec.model.direction)),
            ("digits", _c(sec.model.digits)), ("points", _n(f"{k}p")), ("max", _n(f"{k}m")),
            ("answered", _n(f"{k}a")), ("value", _n(f"{k}v")),
            ("percentage", sec_pct(k, sec))]) for sec, k, _ in sections))))

    # -- evidence (not stored: run for the errors of evidence_if) -----------------------------

    def evidence(self) -> None:
        for st in self.p.items:
            if st.evidence_if is not None:
                t = self.fresh("_t")
                self.out.append(_if(self.vis[st.id], self.call_rule(t, st.evidence_if)))

    # -- failed items --------------------------------------------------------------------------

    def failed(self) -> None:
        o = self.out
        o.append(_set("failed", _list()))
        for st in self.p.items:
            it = st.it
            body: list[ast.stmt] = []
            bad: ast.expr = _list()
            if st.sub is not None:
                if st.sub.plain:
                    continue  # no rule below: an entry fails nothing (an explicit fail_if)
                body.append(ast.Assign(targets=[_tuple_store("bad", "dec")], value=ast.Call(
                    func=_n("_entries"), args=[
                        _n("run"), self.shared(st), _method("groups", "get", _c(st.id), _list()),
                        _n("data"), _c("")],
                    keywords=[ast.keyword(arg="out", value=_list())]), lineno=0))
                bad = _n("bad")
            elif st.fail_if is not None:
                t = self.fresh("_t")
                body += self.test_rule(t, st.fail_if)
                body.append(_set("dec", _ifexp(_n(t), _c(f"rule:{st.fail_if.pointer}"),
                                               _c(None))))
            elif it.type == "yes_no":
                v = self.fresh("_f")
                good = it.good or "yes"
                body.append(_set(v, _method("data", "get", _c(st.id))))
                body.append(_set("dec", _ifexp(_and(
                    ast.BoolOp(op=ast.Or(), values=[_cmp(_n(v), ast.Eq(), _c("yes")),
                                                    _cmp(_n(v), ast.Eq(), _c("no"))]),
                    _cmp(_n(v), ast.NotEq(), _c(good))), _c("default:yes_no"), _c(None))))
            elif st.check and isinstance(it.good, bool):
                v = self.fresh("_f")
                body.append(_set(v, _method("data", "get", _c(st.id))))
                body.append(_set("dec", _ifexp(_cmp(_truth(_n(v)), ast.NotEq(), _c(it.good)),
                                               _c("default:check"), _c(None))))
            else:
                continue
            fill, problem = self.fill(it.problem, "data")
            body.append(_if(_cmp(_n("dec"), ast.IsNot(), _c(None)), [
                *fill, _do(_method("failed", "append", _dict_of([
                    ("item", _c(it.id)), ("section", _c(it.section)),
                    ("severity", _c(it.severity)), ("decided_by", _n("dec")),
                    ("entries", bad), ("problem", problem)])))]))
            shown = self.vis[st.id]
            o += body if isinstance(shown, ast.Constant) else [_if(shown, body)]

    # -- outcomes, passed, alerts ------------------------------------------------------------

    def finish(self) -> None:
        r, o = self.r, self.out
        # The data is not read again as it was: the outcomes' and alerts' data are made from
        # it in place rather than copied (``seen``, then the alerts' ``data``).
        o.append(_set("seen", _n("data")))
        o.append(_setitem("seen", _c("failed"), ast.ListComp(
            elt=_item("_x", _c("item")), generators=[ast.comprehension(
                target=ast.Name(id="_x", ctx=ast.Store()), iter=_n("failed"), ifs=[],
                is_async=0)])))
        if r._outcomes:
            forces = self.shared(r._forces)
            forced = ast.ListComp(elt=_tuple(_item("_x", _c("item")),
                                             _item(forces.id, _item("_x", _c("item")))),
                                  generators=[ast.comprehension(
                                      target=ast.Name(id="_x", ctx=ast.Store()),
                                      iter=_n("failed"),
                                      ifs=[_cmp(_item("_x", _c("item")), ast.In(), forces)],
                                      is_async=0)])
            o.append(_set("outcomes", ast.Call(
                func=_n("_decide"), args=[_n("run"), self.shared(r._outcomes), _n("seen"),
                                          forced],
                keywords=[ast.keyword(arg="total", value=_n("value")),
                          ast.keyword(arg="sections", value=_dict_of([
                              (sec.id, _n(f"{k}v")) for sec, k, _ in self.sections]))])))
            o.append(ast.For(target=ast.Name(id="_o", ctx=ast.Store()), iter=_n("outcomes"),
                             body=[_if(_cmp(ast.Attribute(value=_n("_o"), attr="passed",
                                                          ctx=ast.Load()), ast.IsNot(),
                                            _c(None)),
                                       [_set("passed", ast.Attribute(
                                           value=_n("_o"), attr="passed", ctx=ast.Load())),
                                        ast.Break()])],
                             orelse=[], lineno=0))
        else:
            o.append(_set("outcomes", _list()))
        o.append(_set("alerts", _list()))
        if r._alerts:
            o.append(_set("adata", _n("seen")))
            o.append(_setitem("adata", _c("score"), ast.Dict(
                keys=[None, _c("passed")], values=[_item("seen", _c("score")), _n("passed")])))
            o.append(_setitem("adata", _c("outcome"), ast.DictComp(
                key=ast.Attribute(value=_n("_o"), attr="outcome", ctx=ast.Load()),
                value=ast.Attribute(value=_n("_o"), attr="level", ctx=ast.Load()),
                generators=[ast.comprehension(target=ast.Name(id="_o", ctx=ast.Store()),
                                              iter=_n("outcomes"), ifs=[], is_async=0)])))
            for a in r._alerts:
                if a.when is None:
                    continue
                t = self.fresh("_t")
                o += self.call_rule(t, a.when, "adata")
                fill, text = self.fill(a.message, "adata")
                o.append(_if(_truth(_n(t)), [*fill, _do(_method("alerts", "append", _dict_of([
                    ("code", _c(a.code)), ("severity", _c(a.severity)),
                    ("message", text),
                    ("items", _list(*(_c(x) for x in a.items)))])))]))

    def build(self) -> _Function:
        o = self.out
        o += [_set("run", _call("_Run", self.shared(self.r._digits))),
              _set("data", _dict_of([("ctx", _ifexp(_n("ctx"), _call("_dict", _n("ctx")),
                                                    _dict_of([])))])),
              _set("answers", _dict_of([])), _set("calculated", _dict_of([])),
              _set("groups", _dict_of([])), _set("flat", _dict_of([])),
              _set("checks", _list())]
        o.append(_if(_not(_call("_isinstance", _n("raw"), _n("_Mapping"))),
                     [_set("raw", _dict_of([]))]))
        self.settle()
        self.checks()
        req = self.required()
        self.score(req)
        self.evidence()
        self.failed()
        self.finish()
        visible = _dict_of([(st.id, self.vis[st.id]) for st in self.p.order])
        o.append(ast.Return(value=_tuple(
            _n("answers"), _n("calculated"), visible, _n("groups"), _n("flat"), _dict_of([
                ("scored", _c(self.r.scored)), ("model", _c(self.r.model.model)),
                ("direction", _c(self.r.model.direction)), ("digits", _c(self.r.model.digits)),
                ("has_total", _c(self.r.has_total)), ("points", _n("tp")), ("max", _n("tm")),
                ("answered", _n("ta")), ("value", _n("value")), ("percentage", _n("pct")),
                ("pass_percentage", _c(self.r.pass_percentage if self.r.scored else None)),
                ("passed", _n("passed")), ("section_max", _n("smax")),
                ("section_min", _n("smin")), ("sections", _n("section_scores")),
                ("items", _n("lines"))]),
            _n("outcomes"), _n("failed"), _n("alerts"), _ifexp(
                ast.Attribute(value=_n("run"), attr="errors", ctx=ast.Load()),
                _call("_to_builtins", ast.Attribute(value=_n("run"), attr="errors",
                                                    ctx=ast.Load())), _list()),
            _n("checks"))))
        fn = ast.FunctionDef(
            name="_evaluate",
            args=ast.arguments(posonlyargs=[], args=[ast.arg(arg="raw"), ast.arg(arg="ctx")],
                               vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
                               defaults=[]),
            body=o, decorator_list=[], returns=None, lineno=0)
        module = ast.Module(body=[fn], type_ignores=[])
        self.module = module
        made: _Function = syntax.functions(module, f"<rounds evaluation {self.r.id}>",
                                           self.ns)["_evaluate"]
        return made


def _method_c(obj: str, name: str, *args: ast.expr) -> ast.Call:
    """A method of a string constant (``"".join``)."""
    return _call(ast.Attribute(value=_c(obj), attr=name, ctx=ast.Load()), *args)


def _empty(e: ast.expr) -> bool:
    return isinstance(e, ast.Constant) and e.value == ""


def _tuple_store(*names: str) -> ast.Tuple:
    return ast.Tuple(elts=[ast.Name(id=n, ctx=ast.Store()) for n in names], ctx=ast.Store())


def _numeric_choice(v: Any, numbers: dict[float, str]) -> Any:
    """A number sent for a single_choice with ``points: "value"``: its choice's value."""
    n = as_number(v)  # a string is kept as it is, so is anything but a number
    return v if n is None else numbers.get(n, v)


def _supported(rules: StandardRules, plan: _Plan) -> bool:
    if plan.late or any(st.sub is not None and st.calculate is not None for st in plan.items):
        return False
    top = {st.id for st in plan.items}
    return all(i in top for i in rules._forces)


def source(rules: StandardRules) -> str:
    """The code generated for a definition's rules, as Python text (to read, never to run)."""
    gen = _Gen(rules, _plan(rules._level, top=True))
    gen.build()
    return ast.unparse(gen.module)


_Function = Callable[[Mapping[str, Any], Mapping[str, Any] | None], tuple[Any, ...]]


class Scorer:
    """The generated evaluation of one version (``scorer(raw, ctx)`` → :class:`Scored`).
    Share it between threads. The function is generated on the first call (some 20 ms for a
    standard of thirty items): a form compiled only to check a draft never pays for it."""

    __slots__ = ("_fn", "_made", "evaluator")

    def __init__(self, evaluator: CompiledEvaluation) -> None:
        self.evaluator = evaluator
        self._fn: _Function | None = None
        self._made = False

    def _function(self) -> _Function | None:
        if not self._made:  # two threads racing here make the same function: no lock needed
            rules = self.evaluator.rules
            plan = _plan(rules._level, top=True)
            self._fn = _Gen(rules, plan).build() if _supported(rules, plan) else None
            self._made = True
        return self._fn

    @property
    def generated(self) -> bool:
        """Whether this version has a generated function (else the whole evaluation runs)."""
        return self._function() is not None

    def __call__(self, raw: Mapping[str, Any], ctx: Mapping[str, Any] | None = None
                 ) -> Scored:
        fn = self._fn if self._made else self._function()
        if fn is None:
            return record_of(self.evaluator, raw, ctx, self.evaluator.evaluate(raw, ctx))
        answers, calculated, visible, groups, flat, score, outcomes, failed, alerts, errors, \
            _ = fn(raw, ctx)
        entries: dict[str, list[Mapping[str, bool]]] = {
            g: [s.visible for s in settled] for g, settled in groups.items()}
        for g, (shown, n) in flat.items():
            entries[g] = [shown] * n  # every item of every entry shown (read only)
        return Scored(self.evaluator, raw, ctx, answers=answers, calculated=calculated,
                      visible=visible, entries=entries, score=score,
                      outcomes=_to_builtins(outcomes) if outcomes else [], failed=failed,
                      alerts=alerts, errors=errors)
