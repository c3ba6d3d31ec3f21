"""JsonLogic compiled to Python functions.

A rule is turned, once, into a Python syntax tree built node by node from a whitelist
(names we generate, literals as ``ast.Constant``, calls of our own helpers) and then into
a code object. No text taken from a definition is ever parsed or evaluated as code: the
rule's strings and numbers only ever become constants in the tree.

Why statements rather than a tree of closures: a closure per node costs a Python call per
node on every evaluation; straight-line code with local temporaries, inlined fast paths for
the common cases (a key read from a dict, a comparison with a number, a boolean test) and
loops that break early costs close to what a person would write by hand. Where the types of
operands are not known, the code falls back to the helpers in ``semantics``, which follow
JavaScript's rules exactly.

Scopes (``val`` with ``[[n], ...]``) are resolved while compiling: iteration nests are lexical,
so "two levels up" is a variable we know by name.

What makes the code fast (see ``source(rule)``; benchmarks/rules.py measures it):

- Data is nearly always an object, so a rule function has two bodies: one under
  ``if d.__class__ is _dict:`` that reads keys with a plain ``d.get(k)``, and the general one.
  Loops over objects do the same per element. Paths like ``ctx.site.grade`` are read with
  subscripts in a ``try``, falling back to the general walk.
- Truthiness, arithmetic on two numbers, ``max``/``min``, ``cat`` of strings, ``in`` with a
  string, ``missing`` of literal names and the array a loop walks are inlined behind a class
  test; anything unusual goes to the helper, so both paths give the same value.
- A sub-rule met twice (a score compared with several bands) is computed once, where the
  first occurrence surely ran before the second (see ``emit_in_turn``).

Why one module of some 1,300 lines: it is one code generator. ``_Codegen`` walks a rule
once, and every operation's emitter shares its state (the frames of nested iterations, the
kinds it has inferred, the temporaries and sub-rules already computed, the problems found so
far) and the small AST builders above it. Split by operation, each part would need all of
that state and the others' emitters (``if`` emits comparisons, ``reduce`` emits arithmetic),
so the parts would only be one class spread over several files. What is separate is
separate already: JavaScript's semantics (``semantics``), the operation registry
(``operations``) and the static analysis of reads (``analysis``).

May import: ``rounds.errors``, ``rounds.cache``, ``rounds.pointer`` and the rest of
``rounds.rules`` below it (``semantics``, ``operations``).
"""

from __future__ import annotations

import ast
import contextlib
import copy
import itertools
import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from rounds.cache import BoundedCache, content_key
from rounds.errors import Problem, RuleError, RuleEvaluationError
from rounds.pointer import child as _child
from rounds.rules import semantics as js
from rounds.rules import syntax
from rounds.rules.operations import JSONLOGIC_OPERATIONS, OperationRegistry, default_registry
from rounds.rules.syntax import call as _call
from rounds.rules.syntax import const as _const
from rounds.rules.syntax import name as _name
from rounds.rules.syntax import store as _store

Rule = Any
CompiledRule = Callable[[Any], Any]

# Kinds: what the compiler knows statically about a value, to pick a fast path.
BOOL, NUM, STR, LIST, NULL, ANY = "bool", "num", "str", "list", "null", "any"

_HELPERS: dict[str, Any] = {
    "_truthy": js.truthy,
    "_loose_eq": js.loose_eq,
    "_strict_eq": js.strict_eq,
    "_lt": js.lt,
    "_le": js.le,
    "_gt": js.gt,
    "_ge": js.ge,
    "_add": js.add,
    "_sub": js.subtract,
    "_mul": js.multiply,
    "_div": js.divide,
    "_mod": js.modulo,
    "_max": js.maximum,
    "_min": js.minimum,
    "_cat": js.cat,
    "_substr": js.substr,
    "_contains": js.contains,
    "_merge": js.merge,
    "_arr": js.as_array,
    "_strict_arr": js.strict_array,
    "_coalesce": js.coalesce,
    "_var_path": js.var_path,
    "_var_dynamic": js.var_dynamic,
    "_val_path": js.val_path,
    "_exists_path": js.exists_path,
    "_missing": js.missing,
    "_missing_some": js.missing_some,
    "_throw": js.throw,
    "_number": js.number_or_raise,
    "_checked": js.checked,
    "_invalid": js.invalid,
    "_spread": lambda v: v if v.__class__ is list else [v],
    "_deepcopy": copy.deepcopy,
    "_EvalError": RuleEvaluationError,
    # What `data[k1][k2]...` raises on a path that is not all dicts: missing key, or a
    # list / string / number / null on the way. The fallback then walks the path the slow way.
    "_LookupErrors": (KeyError, TypeError),
    "_dict": dict,
    "_list": list,
    "_int": int,
    "_float": float,
    "_str": str,
    "_bool": bool,
    "_enumerate": enumerate,
    "_len": len,
}

# Operations whose arguments are evaluated eagerly and may come from one expression that
# yields the argument list ({"+": {"merge": [...]}}); all others need a literal array.
_DATA_OPS: dict[str, tuple[str, int, int | None, str]] = {
    # name: (helper, min args, max args, kind of result)
    "+": ("_add", 0, None, NUM),
    "*": ("_mul", 0, None, NUM),
    "-": ("_sub", 1, None, NUM),
    "/": ("_div", 1, None, NUM),
    "%": ("_mod", 2, None, NUM),
    "max": ("_max", 1, None, ANY),
    "min": ("_min", 1, None, ANY),
    "cat": ("_cat", 0, None, STR),
    "substr": ("_substr", 1, 3, STR),
    "in": ("_contains", 2, 2, BOOL),
    "merge": ("_merge", 0, None, LIST),
    "??": ("_coalesce", 0, None, ANY),
}
_COMPARISONS = {"<": "_lt", "<=": "_le", ">": "_gt", ">=": "_ge"}
_PY_COMPARE: dict[str, type[ast.cmpop]] = {"<": ast.Lt, "<=": ast.LtE, ">": ast.Gt, ">=": ast.GtE}
_EQUALITIES = {"==", "===", "!=", "!=="}
_CONTROL = {"if", "?:", "and", "or", "map", "filter", "reduce", "all", "some", "none",
            *_COMPARISONS, *_EQUALITIES}


# -- frames: what the data is at a point of the rule ------------------------------------------

@dataclass(frozen=True)
class DataFrame:
    expr: ast.expr
    # True where the code only runs once the data is known to be a dict (inside an
    # `if d.__class__ is _dict:` fast body): reads of a key need no type check.
    known_dict: bool = False
    # How many reads made use of `known_dict` (a fast body is only worth it for some).
    hits: list[int] = field(default_factory=lambda: [0], compare=False)


@dataclass(frozen=True)
class ContextFrame:
    """The iteration context one level above an element: ``{"index": i}``."""

    index: str | None  # name of the index variable, None where there is no index (try)
    uses: list[bool] = field(default_factory=lambda: [False], compare=False)


@dataclass(frozen=True)
class ReduceFrame:
    current: str
    accumulator: str
    acc_kind: str = ANY  # NUM when the start value and every step are numbers (a running sum)


Frame = DataFrame | ContextFrame | ReduceFrame


@dataclass
class Emitted:
    stmts: list[ast.stmt]
    expr: ast.expr
    kind: str = ANY
    # For arithmetic: the number before normalisation (see `normalised`). An operation that
    # normalises its own result may use it instead: a whole float or a NaN inside carries
    # through to that result, so normalising once at the end is the same.
    raw: ast.expr | None = None

    def unnormalised(self) -> Emitted:
        return self if self.raw is None else Emitted(self.stmts, self.raw, self.kind)

    @property
    def pure(self) -> bool:
        return not self.stmts


def _assign(n: str, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[_store(n)], value=value, lineno=0)


def _is_class(e: ast.expr, type_name: str) -> ast.expr:
    cls = ast.Attribute(value=e, attr="__class__", ctx=ast.Load())
    return ast.Compare(left=cls, ops=[ast.Is()], comparators=[_name(type_name)])


def _is_number(e: ast.expr) -> ast.expr:
    return ast.BoolOp(op=ast.Or(), values=[_is_class(e, "_int"), _is_class(e, "_float")])


def _not(e: ast.expr) -> ast.expr:
    return ast.UnaryOp(op=ast.Not(), operand=e)


def _is_none(e: ast.expr) -> bool:
    return isinstance(e, ast.Constant) and e.value is None


def _kind_of(v: Any) -> str:
    if v is None:
        return NULL
    if isinstance(v, bool):
        return BOOL
    if isinstance(v, int | float):
        return NUM
    if isinstance(v, str):
        return STR
    if isinstance(v, list):
        return LIST
    return ANY


class _Codegen:
    def __init__(self, registry: OperationRegistry) -> None:
        self.registry = registry
        self.ns: dict[str, Any] = dict(_HELPERS)
        self.problems: list[Problem] = []
        self._counter = itertools.count(1)
        # Common sub-rules (JsonLogic has no variables, so a rule repeats what it needs twice:
        # {"if": [{">=": [S, 30]}, "A", {">=": [S, 20]}, "B", "C"]}). `repeated` holds the
        # sub-rules met more than once; `memo` the values already computed, by scope: a value
        # computed where it may not have run (a branch, a loop body) is forgotten after it.
        self.repeated: set[str] = set()
        self.memo: list[dict[tuple[str, int], Emitted]] = [{}]
        self.reuses = 0

    # -- plumbing ------------------------------------------------------------------------

    def fresh(self, prefix: str = "_t") -> str:
        return f"{prefix}{next(self._counter)}"

    def problem(self, pointer: str, message: str, code: str = "bad_rule") -> Emitted:
        self.problems.append(Problem(pointer=pointer, message=message, code=code, source="rule"))
        return Emitted([], _const(None), NULL)

    def hold(self, e: Emitted) -> Emitted:
        """Make the value safe to read more than once: a name or a constant."""
        if isinstance(e.expr, ast.Name | ast.Constant):
            return e
        t = self.fresh()
        return Emitted([*e.stmts, _assign(t, e.expr)], _name(t), e.kind)

    def shared(self, value: Any) -> ast.expr:
        """A list or object from the rule, kept once in the namespace (read-only use)."""
        n = self.fresh("_k")
        self.ns[n] = value
        return _name(n)

    def literal(self, value: Any) -> Emitted:
        if isinstance(value, list | dict):
            # A fresh copy each time: callers may keep and change what a rule returns.
            return Emitted([], _call("_deepcopy", self.shared(value)), _kind_of(value))
        return Emitted([], _const(value), _kind_of(value))

    def test(self, e: Emitted) -> ast.expr:
        """An expression whose Python truthiness is the JsonLogic truthiness of ``e``.

        Only for tests (``if``, ``not``, loop conditions); it is not always a bool.
        """
        if isinstance(e.expr, ast.Constant):
            return _const(js.truthy(e.expr.value))
        if e.kind in (BOOL, STR, LIST):  # Python and JsonLogic agree on these
            return e.expr
        if e.kind == NULL:
            return _const(False)
        if e.kind == NUM:  # NaN is the one number they disagree on
            return _call("_truthy", e.expr)
        # Any value: booleans and null (ticked / unticked / unanswered items) decide by
        # identity; then Python's own truthiness, which is JsonLogic's for everything but an
        # object (always true) and NaN (false): those two, and only they, go to _truthy.
        #   v is True or v is not False and v is not None and
        #       (v if (c := v.__class__) is not dict and (c is not float or v == v)
        #        else _truthy(v))
        if isinstance(e.expr, ast.Name):
            v: ast.expr = e.expr
            first: ast.expr = v
        else:
            name = self.fresh()
            v = _name(name)
            first = ast.NamedExpr(target=_store(name), value=e.expr)
        c = self.fresh("_c")
        native = ast.BoolOp(op=ast.And(), values=[
            ast.Compare(left=ast.NamedExpr(
                target=_store(c), value=ast.Attribute(value=v, attr="__class__", ctx=ast.Load())),
                ops=[ast.IsNot()], comparators=[_name("_dict")]),
            ast.BoolOp(op=ast.Or(), values=[
                ast.Compare(left=_name(c), ops=[ast.IsNot()], comparators=[_name("_float")]),
                ast.Compare(left=v, ops=[ast.Eq()], comparators=[v]),
            ]),
        ])
        return ast.BoolOp(op=ast.Or(), values=[
            ast.Compare(left=first, ops=[ast.Is()], comparators=[_const(True)]),
            ast.BoolOp(op=ast.And(), values=[
                ast.Compare(left=v, ops=[ast.IsNot()], comparators=[_const(False)]),
                ast.Compare(left=v, ops=[ast.IsNot()], comparators=[_const(None)]),
                ast.IfExp(test=native, body=v, orelse=_call("_truthy", v)),
            ]),
        ])

    def test_bool(self, e: Emitted) -> ast.expr:
        """JsonLogic truthiness of ``e`` as a real bool (for ``!!``)."""
        t = self.test(e)
        if e.kind == BOOL or (isinstance(t, ast.Constant) and isinstance(t.value, bool)):
            return t
        return _not(_not(t))

    def to_value(self, e: Emitted, target: str) -> list[ast.stmt]:
        return [*e.stmts, _assign(target, e.expr)]

    # -- dispatch ------------------------------------------------------------------------

    def emit(self, node: Rule, ptr: str, frames: tuple[Frame, ...]) -> Emitted:
        if isinstance(node, dict):
            if not node:
                return self.literal({})
            if len(node) != 1:
                keys = ", ".join(sorted(map(str, node)))
                return self.problem(ptr, f"an operation is an object with one key; found {keys}")
            op, args = next(iter(node.items()))
            key = None
            if self.repeated:
                key = (_canonical(node), id(frames))
                if key[0] not in self.repeated:
                    key = None
                else:
                    for scope in reversed(self.memo):
                        hit = scope.get(key)
                        if hit is not None:
                            self.reuses += 1
                            return Emitted([], hit.expr, hit.kind)
            e = self.operation(op, args, _child(ptr, op), frames)
            if key is not None and _reusable(op, args, e):
                e = self.hold(e)
                self.memo[-1][key] = Emitted([], e.expr, e.kind)
            return e
        if isinstance(node, list):
            parts = [self.emit(x, _child(ptr, i), frames) for i, x in enumerate(node)]
            if all(p.pure and isinstance(p.expr, ast.Constant) for p in parts):
                return self.literal(node)
            return self.sequence(parts, lambda exprs: ast.List(elts=exprs, ctx=ast.Load()), LIST)
        if isinstance(node, float) and node != node:
            return self.problem(ptr, "NaN is not a JSON value")
        return Emitted([], _const(node), _kind_of(node))

    @contextlib.contextmanager
    def may_not_run(self) -> Iterator[None]:
        """Code that may not run (a loop body, a try): what it computes is not reused after."""
        self.memo.append({})
        try:
            yield
        finally:
            self.memo.pop()

    def emit_in_turn(self, nodes: list[tuple[Any, str]], frames: tuple[Frame, ...],
                     always: int = 1, branches: Callable[[int], bool] = lambda i: False
                     ) -> list[Emitted]:
        """Emit arguments that run one after another, each only if the ones before let it
        (and / or / ?? / if / a < b < c): the first ``always`` always run; a later one may
        reuse what the earlier ones computed, but nothing after a branch reuses the branch's.
        """
        parts: list[Emitted] = []
        kept = 0
        for i, (a, p) in enumerate(nodes):
            if i < always:
                parts.append(self.emit(a, p, frames))
                continue
            self.memo.append({})
            parts.append(self.emit(a, p, frames))
            if branches(i):
                self.memo.pop()
            else:
                kept += 1
        del self.memo[len(self.memo) - kept:]
        return parts

    def sequence(
        self, parts: list[Emitted], build: Callable[[list[ast.expr]], ast.expr], kind: str
    ) -> Emitted:
        """Evaluate parts in order, then combine their values."""
        stmts: list[ast.stmt] = []
        exprs: list[ast.expr] = []
        later_has_stmts = [any(not p.pure for p in parts[i + 1:]) for i in range(len(parts))]
        for p, later in zip(parts, later_has_stmts, strict=True):
            if later and not isinstance(p.expr, ast.Name | ast.Constant):
                p = self.hold(p)  # keep evaluation order when later parts run statements
            stmts += p.stmts
            exprs.append(p.expr)
        return Emitted(stmts, build(exprs), kind)

    def arg_nodes(self, op: str, args: Any, ptr: str) -> list[tuple[Any, str]] | None:
        """Arguments given as a literal array (or one scalar); None when given by an expression."""
        if isinstance(args, list):
            return [(a, _child(ptr, i)) for i, a in enumerate(args)]
        if isinstance(args, dict) and args:
            return None
        return [(args, ptr)]

    def operation(self, op: str, args: Any, ptr: str, frames: tuple[Frame, ...]) -> Emitted:
        method = _SPECIAL.get(op)
        if method is not None:
            return method(self, op, args, ptr, frames)
        if op in _CONTROL:
            return _CONTROL_METHODS[op](self, op, args, ptr, frames)
        if op in _DATA_OPS:
            return self.data_op(op, args, ptr, frames)
        operation = self.registry.get(op)
        if operation is not None:
            return self.registered(operation.name, args, ptr, frames)
        # The mistake is the object's key, so point at the object ({"nope": ...}), not into it.
        # `ptr` ends with the escaped key, which has no "/" of its own.
        return self.problem(ptr.rsplit("/", 1)[0], f"unknown operation {op!r}",
                            code="unknown_operation")

    def control_args(self, op: str, args: Any, ptr: str) -> list[tuple[Any, str]] | None:
        if isinstance(args, list):
            return [(a, _child(ptr, i)) for i, a in enumerate(args)]
        self.problem(ptr, f"Invalid Arguments: {op!r} takes an array of arguments, "
                          f"not {_describe(args)}",
                     code="bad_arguments")
        return None

    def arity(self, op: str, n: int, lo: int, hi: int | None, ptr: str) -> bool:
        if n < lo or (hi is not None and n > hi):
            if hi is None:
                want = f"at least {lo}"
            elif lo == hi:
                want = str(lo)
            else:
                want = f"{lo} to {hi}"
            s = "" if want.endswith(" 1") or want == "1" else "s"
            self.problem(ptr, f"Invalid Arguments: {op!r} takes {want} argument{s}, got {n}",
                         code="bad_arity")
            return False
        return True

    # -- data operations (eager) ---------------------------------------------------------

    def data_op(self, op: str, args: Any, ptr: str, frames: tuple[Frame, ...]) -> Emitted:
        helper, lo, hi, kind = _DATA_OPS[op]
        nodes = self.arg_nodes(op, args, ptr)
        if nodes is None:  # arguments computed by an expression: spread its value
            e = self.emit(args, ptr, frames)
            star = ast.Starred(value=_call("_spread", e.expr), ctx=ast.Load())
            return Emitted(e.stmts, _call(helper, star), kind)
        if not self.arity(op, len(nodes), lo, hi, ptr):
            return Emitted([], _const(None), NULL)
        if op == "in":
            return self.contains(nodes, frames)
        if op == "??":
            return self.coalesce(self.emit_in_turn(nodes, frames))
        parts = [self.emit(a, p, frames) for a, p in nodes]
        if op in ("+", "-", "*", "/"):  # these normalise their own result
            parts = [p.unnormalised() for p in parts]
        if op in ("+", "*") and len(parts) >= 2 and all(p.kind == NUM for p in parts):
            pyop = ast.Add() if op == "+" else ast.Mult()

            def fold(exprs: list[ast.expr]) -> ast.expr:
                acc = exprs[0]
                for x in exprs[1:]:
                    acc = ast.BinOp(left=acc, op=pyop, right=x)
                # Only the total is normalised: whole floats and ints add up alike, and a NaN
                # on the way stays NaN to the end.
                return acc

            return self.with_raw(self.sequence(parts, fold, NUM))
        if op == "-" and len(parts) == 2 and all(p.kind == NUM for p in parts):
            return self.with_raw(self.sequence(
                parts, lambda ex: ast.BinOp(left=ex[0], op=ast.Sub(), right=ex[1]), NUM))
        if op == "cat" and parts and all(p.kind == STR for p in parts):
            def concat(exprs: list[ast.expr]) -> ast.expr:
                acc = exprs[0]
                for x in exprs[1:]:
                    acc = ast.BinOp(left=acc, op=ast.Add(), right=x)
                return acc

            return self.sequence(parts, concat, STR)
        fast = self.typed_fast_path(op, parts)
        if fast is not None:
            return fast
        return self.sequence(parts, lambda ex: _call(helper, *ex), kind)

    def typed_fast_path(self, op: str, parts: list[Emitted]) -> Emitted | None:
        """Inline code for two numbers (or strings for ``cat``), guarded by a class test of
        each operand whose kind is not known; the helper handles every other case.

        Arithmetic results go through the same normalisation as the helpers (a whole float
        comes back as an int, NaN is an error), so both paths give the same value.
        """
        want = STR if op == "cat" else NUM
        if op == "cat":
            if not parts:
                return None
        elif len(parts) != 2 or op not in ("+", "-", "*", "/", "max", "min"):
            return None
        if any(isinstance(p.expr, ast.Constant) and p.kind != want for p in parts):
            return None  # a literal of another kind: the fast path could never run
        # A divisor that is not a non-zero literal is tested for zero too (the helper raises).
        zero_test = op == "/" and not (isinstance(parts[1].expr, ast.Constant)
                                       and parts[1].expr.value)
        helper = _DATA_OPS[op][0]
        held = [self.hold(p) for p in parts]
        pyops: dict[str, ast.operator] = {"+": ast.Add(), "-": ast.Sub(), "*": ast.Mult()}
        raw: list[ast.expr] = []  # + - *: the expression before normalisation (Emitted.raw)

        def guarded(ex: list[ast.expr], fast: ast.expr) -> ast.expr:
            guards = [_is_class(x, "_str") if want == STR else _is_number(x)
                      for x, p in zip(ex, held, strict=True) if p.kind != want]
            if zero_test:
                guards.append(ast.Compare(left=ex[1], ops=[ast.NotEq()],
                                          comparators=[_const(0)]))
            if not guards:
                return fast
            test = guards[0] if len(guards) == 1 else ast.BoolOp(op=ast.And(), values=guards)
            return ast.IfExp(test=test, body=fast, orelse=_call(helper, *ex))

        def build(ex: list[ast.expr]) -> ast.expr:
            fast: ast.expr
            if op == "cat":
                fast = ex[0]
                for x in ex[1:]:
                    fast = ast.BinOp(left=fast, op=ast.Add(), right=x)
            elif op in pyops:
                bare = ast.BinOp(left=ex[0], op=pyops[op], right=ex[1])
                raw.append(guarded(ex, bare))
                fast = self.normalised(bare)
            elif op == "/":
                fast = self.normalised(ast.BinOp(left=ex[0], op=ast.Div(), right=ex[1]))
            else:  # max / min, as Python's max(a, b) and min(a, b) choose
                cmp = ast.Gt() if op == "max" else ast.Lt()
                fast = ast.IfExp(test=ast.Compare(left=ex[1], ops=[cmp], comparators=[ex[0]]),
                                 body=ex[1], orelse=ex[0])
            return guarded(ex, fast)

        e = self.sequence(held, build, want)
        if raw:
            e.raw = raw[0]
        return e

    def with_raw(self, e: Emitted) -> Emitted:
        """A numeric result, normalised, that keeps its raw form for the next operation."""
        return Emitted(e.stmts, self.normalised(e.expr), NUM, raw=e.expr)

    def normalised(self, e: ast.expr) -> ast.expr:
        """``e`` (a number) as the helpers return it: an int, or a float that is neither NaN
        nor whole as it is; the rest (NaN: an error, a whole float: an int) via _checked.

            r if (r := e).__class__ is int or (r == r and not r.is_integer()) else _checked(r)
        """
        r = self.fresh("_r")
        fractional = ast.BoolOp(op=ast.And(), values=[
            ast.Compare(left=_name(r), ops=[ast.Eq()], comparators=[_name(r)]),
            _not(ast.Call(func=ast.Attribute(value=_name(r), attr="is_integer", ctx=ast.Load()),
                          args=[], keywords=[])),
        ])
        return ast.IfExp(
            test=ast.BoolOp(op=ast.Or(), values=[
                _is_class(ast.NamedExpr(target=_store(r), value=e), "_int"), fractional]),
            body=_name(r), orelse=_call("_checked", _name(r)))

    def coalesce(self, parts: list[Emitted]) -> Emitted:
        """``??``: the first value that is not null; later arguments are not evaluated."""
        if not parts:
            return Emitted([], _const(None), NULL)
        t = self.fresh()
        body: list[ast.stmt] = self.to_value(parts[-1], t)
        for p in reversed(parts[:-1]):
            body = [*self.to_value(p, t), ast.If(
                test=ast.Compare(left=_name(t), ops=[ast.Is()], comparators=[_const(None)]),
                body=body, orelse=[])]
        kinds = {p.kind for p in parts}
        return Emitted(body, _name(t), kinds.pop() if len(kinds) == 1 else ANY)

    def contains(self, nodes: list[tuple[Any, str]], frames: tuple[Frame, ...]) -> Emitted:
        (needle_node, nptr), (hay_node, hptr) = nodes
        needle = self.emit(needle_node, nptr, frames)
        if isinstance(hay_node, list) and all(
            isinstance(x, str) for x in hay_node
        ) and hay_node:
            needle = self.hold(needle)
            fast = ast.Compare(left=needle.expr, ops=[ast.In()],
                               comparators=[self.shared(frozenset(hay_node))])
            return Emitted(needle.stmts, ast.IfExp(
                test=_is_class(needle.expr, "_str"), body=fast,
                orelse=_const(False)), BOOL)
        if isinstance(hay_node, str):
            needle = self.hold(needle)
            fast = ast.Compare(left=needle.expr, ops=[ast.In()], comparators=[_const(hay_node)])
            return Emitted(needle.stmts, ast.IfExp(
                test=_is_class(needle.expr, "_str"), body=fast,
                orelse=_call("_contains", needle.expr, _const(hay_node))), BOOL)
        if isinstance(hay_node, list) and all(
            isinstance(x, str | int | float | bool) or x is None for x in hay_node
        ):
            hay = Emitted([], self.shared(hay_node), LIST)
        else:
            hay = self.emit(hay_node, hptr, frames)
        if needle.kind == STR and not isinstance(hay.expr, ast.Constant):
            # A string in a string is a substring test, in an array Python's `in` (a string
            # equals only a string, as === has it); anything else goes to the helper.
            needle, hay = self.hold(needle), self.hold(hay)

            def build(ex: list[ast.expr]) -> ast.expr:
                test = ast.BoolOp(op=ast.Or(), values=[_is_class(ex[1], "_str"),
                                                       _is_class(ex[1], "_list")])
                fast = ast.Compare(left=ex[0], ops=[ast.In()], comparators=[ex[1]])
                return ast.IfExp(test=test, body=fast, orelse=_call("_contains", *ex))

            return self.sequence([needle, hay], build, BOOL)
        return self.sequence([needle, hay], lambda ex: _call("_contains", *ex), BOOL)

    def registered(self, name: str, args: Any, ptr: str, frames: tuple[Frame, ...]) -> Emitted:
        operation = self.registry.get(name)
        assert operation is not None
        fn_name = self.fresh("_op")
        self.ns[fn_name] = operation.function
        nodes = self.arg_nodes(name, args, ptr)
        if nodes is None:
            e = self.emit(args, ptr, frames)
            star = ast.Starred(value=_call("_spread", e.expr), ctx=ast.Load())
            return Emitted(e.stmts, _call(fn_name, star), operation.kind)
        if not self.arity(name, len(nodes), operation.min_args, operation.max_args, ptr):
            return Emitted([], _const(None), NULL)
        parts = [self.emit(a, p, frames) for a, p in nodes]
        return self.sequence(parts, lambda ex: _call(fn_name, *ex), operation.kind)

    # -- unary and special forms ---------------------------------------------------------

    def unary_arg(self, args: Any, ptr: str) -> tuple[Any, str]:
        if isinstance(args, list):
            return (args[0], _child(ptr, 0)) if args else (None, ptr)
        return args, ptr

    def op_not(self, op: str, args: Any, ptr: str, frames: tuple[Frame, ...]) -> Emitted:
        node, p = self.unary_arg(args, ptr)
        e = self.emit(node, p, frames)
        return Emitted(e.stmts, _not(self.test(e)) if op == "!" else self.test_bool(e), BOOL)

    def op_preserve(self, op: str, args: Any, ptr: str, frames: tuple[Frame, ...]) -> Emitted:
        return self.literal(args)

    def op_log(self, op: str, args: Any, ptr: str, frames: tuple[Frame, ...]) -> Emitted:
        node, p = self.unary_arg(args, ptr)
        return self.emit(node, p, frames)

    def op_throw(self, op: str, args: Any, ptr: str, frames: tuple[Frame, ...]) -> Emitted:
        node, p = self.unary_arg(args, ptr)
        e = self.emit(node, p, frames)
        return Emitted([*e.stmts, ast.Raise(exc=_call("_throw", e.expr), cause=None)],
                       _const(None), ANY)

    def op_try(self, op: str, args: Any, ptr: str, frames: tuple[Frame, ...]) -> Emitted:
        nodes = self.arg_nodes(op, args, ptr) or [(args, ptr)]
        if not nodes:
            return Emitted([], _const(None), NULL)
        t = self.fresh()
        err = self.fresh("_err")
        exc = self.fresh("_exc")
        first, fptr = nodes[0]
        with self.may_not_run():
            body = self.to_value(self.emit(first, fptr, frames), t)
        for node, p in nodes[1:]:
            inner = (*frames, ContextFrame(None), DataFrame(_name(err)))
            with self.may_not_run():
                fallback = self.emit(node, p, inner)
            handler_body = [
                _assign(err, ast.Attribute(value=_name(exc), attr="error", ctx=ast.Load())),
                *self.to_value(fallback, t),
            ]
            body = [ast.Try(
                body=body,
                handlers=[ast.ExceptHandler(type=_name("_EvalError"), name=exc,
                                            body=handler_body)],
                orelse=[], finalbody=[])]
        return Emitted(body, _name(t), ANY)

    # -- data access ---------------------------------------------------------------------

    def current(self, frames: tuple[Frame, ...]) -> Emitted:
        return self.frame_value(frames[-1])

    def frame_value(self, frame: Frame) -> Emitted:
        if isinstance(frame, DataFrame):
            return Emitted([], frame.expr)
        if isinstance(frame, ReduceFrame):
            return Emitted([], ast.Dict(
                keys=[_const("current"), _const("accumulator")],
                values=[_name(frame.current), _name(frame.accumulator)]), ANY)
        frame.uses[0] = True
        if frame.index is None:
            return Emitted([], ast.Dict(keys=[], values=[]), ANY)
        return Emitted([], ast.Dict(keys=[_const("index")], values=[_name(frame.index)]), ANY)

    def read_keys(self, frame: Frame, keys: Sequence[Any], default: Emitted | None,
                  legacy: bool) -> Emitted:
        """Read a static path of keys from a frame; ``legacy`` for var's not-found default."""
        if isinstance(frame, ReduceFrame) and keys and keys[0] in ("current", "accumulator"):
            if keys[0] == "current":
                base = Emitted([], _name(frame.current))
            else:
                base = Emitted([], _name(frame.accumulator), frame.acc_kind)
            return self.read_from(base, list(keys[1:]), default, legacy)
        if isinstance(frame, ContextFrame) and list(keys) == ["index"] and frame.index:
            frame.uses[0] = True
            return Emitted(default.stmts if default else [], _name(frame.index), NUM)
        data = frame if isinstance(frame, DataFrame) else None
        return self.read_from(self.frame_value(frame), list(keys), default, legacy, data)

    def read_from(self, base: Emitted, keys: list[Any], default: Emitted | None,
                  legacy: bool, frame: DataFrame | None = None) -> Emitted:
        if not keys:  # the default is not needed, but it is evaluated all the same
            return Emitted([*base.stmts, *(default.stmts if default else [])], base.expr,
                           base.kind)
        if default is not None and not default.pure:
            default = self.hold(default)
        dflt = default.expr if default is not None else _const(None)
        pre = default.stmts if default is not None else []
        simple = (isinstance(base.expr, ast.Name) and isinstance(dflt, ast.Name | ast.Constant)
                  and all(isinstance(k, str) for k in keys))
        if simple and len(keys) == 1:
            # The hot path: one key from a dict, as `d.get(k)` would be written by hand.
            key = _const(keys[0])
            get_args: list[ast.expr] = [key] if _is_none(dflt) else [key, dflt]
            get = ast.Call(func=ast.Attribute(value=base.expr, attr="get", ctx=ast.Load()),
                           args=get_args, keywords=[])
            if frame is not None and frame.known_dict:
                frame.hits[0] += 1
                return Emitted([*base.stmts, *pre], get)
            slow = (_call("_var_path", base.expr, key, dflt) if legacy
                    else _call("_val_path", base.expr, _const(tuple(keys))))
            return Emitted([*base.stmts, *pre],
                           ast.IfExp(test=_is_class(base.expr, "_dict"), body=get, orelse=slow))
        if simple and not any(k.lstrip("-").isdigit() for k in keys):
            # A path through objects ("ctx.site.grade"): subscripts as a person would write,
            # and the general walk only when they fail (a missing key, a non-object on the
            # way). Paths with array indexes would always fail here, so they skip this.
            t = self.fresh()
            chain: ast.expr = base.expr
            for k in keys:
                chain = ast.Subscript(value=chain, slice=_const(k), ctx=ast.Load())
            slow = (_call("_var_path", base.expr, _const(".".join(keys)), dflt) if legacy
                    else _call("_val_path", base.expr, _const(tuple(keys))))
            return Emitted([*base.stmts, *pre, ast.Try(
                body=[_assign(t, chain)],
                handlers=[ast.ExceptHandler(type=_name("_LookupErrors"), name=None,
                                            body=[_assign(t, slow)])],
                orelse=[], finalbody=[])], _name(t))
        keys_const = _const(tuple(keys))
        if legacy:
            path = ".".join(str(k) for k in keys)
            return Emitted([*base.stmts, *pre], _call("_var_path", base.expr, _const(path), dflt))
        return Emitted(base.stmts, _call("_val_path", base.expr, keys_const))

    def op_var(self, op: str, args: Any, ptr: str, frames: tuple[Frame, ...]) -> Emitted:
        path, default_node, dptr = args, None, ptr
        if isinstance(args, list):
            if not args:
                return self.current(frames)
            path = args[0]
            if len(args) > 1:
                default_node, dptr = args[1], _child(ptr, 1)
        if isinstance(path, dict | list):  # computed path
            spec = self.emit(args, ptr, frames)
            data = self.current(frames)
            return Emitted(spec.stmts, _call("_var_dynamic", data.expr, spec.expr))
        if isinstance(path, bool) or not isinstance(path, str | int | float | None):
            return self.problem(ptr, f"var takes a path string or number, not {_describe(path)}")
        default = self.emit(default_node, dptr, frames) if default_node is not None else None
        if path is None or path == "":
            data = self.current(frames)
            return Emitted([*(default.stmts if default else []), *data.stmts], data.expr)
        keys: list[Any] = path.split(".") if isinstance(path, str) else [path]
        return self.read_keys(frames[-1], keys, default, legacy=True)

    def val_keys(self, args: Any, ptr: str, frames: tuple[Frame, ...]
                 ) -> tuple[int, list[Any]] | Emitted:
        """Static (levels up, keys) of a val/exists argument, or the emitted dynamic keys."""
        if isinstance(args, str | int | float) and not isinstance(args, bool):
            return 0, [args]
        if args is None:
            return 0, []
        if not isinstance(args, list):
            e = self.emit(args, ptr, frames)
            return Emitted(e.stmts, _call("_spread", e.expr))
        up = 0
        keys = list(args)
        if keys and isinstance(keys[0], list):
            level = keys[0]
            if len(level) != 1 or not isinstance(level[0], int) or isinstance(level[0], bool):
                self.problem(_child(ptr, 0), "a scope is written [n] with a whole number n")
                return 0, []
            up = abs(level[0])
            keys = keys[1:]
        if all(isinstance(k, str | int) and not isinstance(k, bool) for k in keys):
            return up, keys
        parts = [self.emit(k, _child(ptr, i), frames) for i, k in enumerate(args)]
        return self.sequence(parts, lambda ex: ast.List(elts=ex, ctx=ast.Load()), LIST)

    def scope(self, frames: tuple[Frame, ...], up: int) -> Frame:
        return frames[max(0, len(frames) - 1 - up)]

    def op_val(self, op: str, args: Any, ptr: str, frames: tuple[Frame, ...]) -> Emitted:
        spec = self.val_keys(args, ptr, frames)
        if isinstance(spec, Emitted):
            data = self.current(frames)
            return Emitted(spec.stmts, _call("_val_path", data.expr, spec.expr))
        up, keys = spec
        return self.read_keys(self.scope(frames, up), keys, None, legacy=False)

    def op_exists(self, op: str, args: Any, ptr: str, frames: tuple[Frame, ...]) -> Emitted:
        spec = self.val_keys(args, ptr, frames)
        if isinstance(spec, Emitted):
            data = self.current(frames)
            return Emitted(spec.stmts, _call("_exists_path", data.expr, spec.expr), BOOL)
        up, keys = spec
        data = self.frame_value(self.scope(frames, up))
        return Emitted(data.stmts, _call("_exists_path", data.expr, _const(tuple(keys))), BOOL)

    def op_missing(self, op: str, args: Any, ptr: str, frames: tuple[Frame, ...]) -> Emitted:
        data = self.current(frames)
        nodes = self.arg_nodes(op, args, ptr)
        fn = "_missing" if op == "missing" else "_missing_some"
        if nodes is None:
            e = self.emit(args, ptr, frames)
            star = ast.Starred(value=_call("_spread", e.expr), ctx=ast.Load())
            return Emitted(e.stmts, _call(fn, data.expr, star), LIST)
        if op == "missing_some" and not self.arity(op, len(nodes), 2, 2, ptr):
            return Emitted([], _const(None), NULL)
        inline = self.missing_inline(op, [n for n, _ in nodes], frames)
        if inline is not None:
            return inline
        parts = [self.emit(a, p, frames) for a, p in nodes]
        return self.sequence(parts, lambda ex: _call(fn, data.expr, *ex), LIST)

    def missing_inline(self, op: str, args: list[Any], frames: tuple[Frame, ...]
                       ) -> Emitted | None:
        """``missing`` / ``missing_some`` of literal field names, as one read per name."""
        need: Any = None
        if op == "missing_some":
            need, keys = args
            if not isinstance(need, int | float) or isinstance(need, bool):
                return None
        else:
            keys = args[0] if args and isinstance(args[0], list) else args
        if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
            return None
        out = self.fresh("_m")
        stmts: list[ast.stmt] = [_assign(out, ast.List(elts=[], ctx=ast.Load()))]
        for k in keys:
            v = self.read_keys(frames[-1], k.split("."), None, legacy=True)
            absent = ast.Compare(left=v.expr, ops=[ast.In()],
                                 comparators=[_const((None, ""))])  # null or ""
            append = ast.Call(func=ast.Attribute(value=_name(out), attr="append",
                                                 ctx=ast.Load()), args=[_const(k)], keywords=[])
            stmts += [*v.stmts, ast.If(test=absent, body=[ast.Expr(value=append)], orelse=[])]
        if op == "missing":
            return Emitted(stmts, _name(out), LIST)
        # missing_some: nothing is missing when at least `need` of the names are present
        enough = ast.Compare(
            left=ast.BinOp(left=_const(len(keys)), op=ast.Sub(), right=_call("_len", _name(out))),
            ops=[ast.GtE()], comparators=[_const(need)])
        return Emitted(stmts, ast.IfExp(test=enough, body=ast.List(elts=[], ctx=ast.Load()),
                                        orelse=_name(out)), LIST)

    # -- control -------------------------------------------------------------------------

    def op_if(self, op: str, args: Any, ptr: str, frames: tuple[Frame, ...]) -> Emitted:
        nodes = self.control_args(op, args, ptr)
        if nodes is None:
            return Emitted([], _const(None), NULL)
        if op == "?:" and not self.arity(op, len(nodes), 3, 3, ptr):
            return Emitted([], _const(None), NULL)
        # the "then" parts are branches; conditions and the final "else" run in turn
        parts = self.emit_in_turn(nodes, frames,
                                  branches=lambda i: i % 2 == 1)
        if not parts:
            return Emitted([], _const(None), NULL)
        if len(parts) % 2 == 0:
            parts.append(Emitted([], _const(None), NULL))
        branches = parts[1::2] + [parts[-1]]
        kinds = {b.kind for b in branches}
        kind = kinds.pop() if len(kinds) == 1 else ANY
        if all(p.pure for p in parts):
            expr = parts[-1].expr
            for i in range(len(parts) - 3, -1, -2):
                expr = ast.IfExp(test=self.test(parts[i]), body=parts[i + 1].expr, orelse=expr)
            return Emitted([], expr, kind)
        t = self.fresh()
        body = self.to_value(parts[-1], t)
        for i in range(len(parts) - 3, -1, -2):
            cond = parts[i]
            body = [*cond.stmts, ast.If(test=self.test(cond),
                                        body=self.to_value(parts[i + 1], t), orelse=body)]
        return Emitted(body, _name(t), kind)

    def op_and_or(self, op: str, args: Any, ptr: str, frames: tuple[Frame, ...]) -> Emitted:
        nodes = self.control_args(op, args, ptr)
        if nodes is None:
            return Emitted([], _const(None), NULL)
        if not nodes:
            return Emitted([], _const(False), BOOL)
        parts = self.emit_in_turn(nodes, frames)
        if len(parts) == 1:
            return parts[0]
        if all(p.pure and p.kind == BOOL for p in parts):
            pyop: ast.boolop = ast.And() if op == "and" else ast.Or()
            return Emitted([], ast.BoolOp(op=pyop, values=[p.expr for p in parts]), BOOL)
        t = self.fresh()
        body = self.to_value(parts[-1], t)
        for p in reversed(parts[:-1]):
            test = self.test(Emitted([], _name(t), p.kind))
            body = [*self.to_value(p, t),
                    ast.If(test=test if op == "and" else _not(test), body=body, orelse=[])]
        kinds = {p.kind for p in parts}
        return Emitted(body, _name(t), kinds.pop() if len(kinds) == 1 else ANY)

    def op_compare(self, op: str, args: Any, ptr: str, frames: tuple[Frame, ...]) -> Emitted:
        nodes = self.control_args(op, args, ptr)
        if nodes is None or not self.arity(op, len(nodes), 2, None, ptr):
            return Emitted([], _const(None), NULL)
        parts = self.emit_in_turn(nodes, frames, always=2)
        if len(parts) == 2:
            return self.pair(op, parts[0], parts[1])
        # Chained: a < b < c, each operand evaluated once, stopping at the first false.
        held = [self.hold(p) for p in parts]
        t = self.fresh()
        body: list[ast.stmt] = []
        for i in range(len(held) - 2, -1, -1):
            pair = self.pair(op, Emitted([], held[i].expr, held[i].kind),
                                     Emitted([], held[i + 1].expr, held[i + 1].kind))
            step = [*held[i + 1].stmts, _assign(t, pair.expr)]
            if body:
                step.append(ast.If(test=_name(t), body=body, orelse=[]))
            body = step
        return Emitted([*held[0].stmts, *body], _name(t), BOOL)

    def pair(self, op: str, a: Emitted, b: Emitted) -> Emitted:
        if op in _EQUALITIES:
            return self.equality_pair(op, a, b)
        return self.compare_pair(op, a, b)

    def compare_pair(self, op: str, a: Emitted, b: Emitted) -> Emitted:
        helper = _COMPARISONS[op]
        pyop = _PY_COMPARE[op]

        def build(ex: list[ast.expr]) -> ast.expr:
            x, y = ex
            fast = ast.Compare(left=x, ops=[pyop()], comparators=[y])
            if a.kind == NUM and b.kind == NUM:
                return fast
            guards = [_is_number(e) for e, k in ((x, a.kind), (y, b.kind)) if k != NUM]
            test = guards[0] if len(guards) == 1 else ast.BoolOp(op=ast.And(), values=guards)
            return ast.IfExp(test=test, body=fast, orelse=_call(helper, x, y))

        if a.kind == NUM and b.kind == NUM:
            return self.sequence([a, b], build, BOOL)
        return self.sequence([self.hold(a), self.hold(b)], build, BOOL)

    def equality_pair(self, op: str, a: Emitted, b: Emitted) -> Emitted:
        strict = op in ("===", "!==")
        negate = op in ("!=", "!==")
        if isinstance(a.expr, ast.Constant) and not isinstance(b.expr, ast.Constant):
            a, b = b, a  # keep a literal on the right
        e = self.equal(a, b, strict)
        return Emitted(e.stmts, _not(e.expr) if negate else e.expr, BOOL)

    def equal(self, a: Emitted, b: Emitted, strict: bool) -> Emitted:
        helper = "_strict_eq" if strict else "_loose_eq"
        lit = b.expr.value if isinstance(b.expr, ast.Constant) else ...
        if isinstance(a.expr, ast.Constant):  # two literals: no fast path worth having
            return self.sequence([a, b], lambda ex: _call(helper, *ex), BOOL)
        same_simple = a.kind == b.kind and a.kind in (NUM, STR)
        if same_simple or (a.kind in (NUM,) and b.kind == NUM):
            return self.sequence([a, b], lambda ex: ast.Compare(
                left=ex[0], ops=[ast.Eq()], comparators=[ex[1]]), BOOL)
        if lit is None:
            if strict:
                return Emitted(a.stmts, ast.Compare(left=a.expr, ops=[ast.Is()],
                                                    comparators=[_const(None)]), BOOL)
            return self.sequence([a, b], lambda ex: _call(helper, *ex), BOOL)
        if isinstance(lit, str):
            x = self.hold(a)
            eq = ast.Compare(left=x.expr, ops=[ast.Eq()], comparators=[b.expr])
            if strict:  # a Python str equals only a str
                return Emitted(x.stmts, eq, BOOL)
            return Emitted(x.stmts, ast.IfExp(test=_is_class(x.expr, "_str"), body=eq,
                                              orelse=_call(helper, x.expr, b.expr)), BOOL)
        if isinstance(lit, bool) and strict:
            return Emitted(a.stmts, ast.Compare(left=a.expr, ops=[ast.Is()],
                                                comparators=[b.expr]), BOOL)
        if isinstance(lit, int | float) and not isinstance(lit, bool):
            x = self.hold(a)
            eq = ast.Compare(left=x.expr, ops=[ast.Eq()], comparators=[b.expr])
            return Emitted(x.stmts, ast.IfExp(test=_is_number(x.expr), body=eq,
                                              orelse=_call(helper, x.expr, b.expr)), BOOL)
        return self.sequence([a, b], lambda ex: _call(helper, *ex), BOOL)

    # -- iteration -----------------------------------------------------------------------

    def op_iterate(self, op: str, args: Any, ptr: str, frames: tuple[Frame, ...]) -> Emitted:
        nodes = self.control_args(op, args, ptr)
        if nodes is None:
            return Emitted([], _const(None), NULL)
        if op == "reduce":
            if not self.arity(op, len(nodes), 2, 3, ptr):
                return Emitted([], _const(None), NULL)
            return self.reduce(nodes, frames)
        if not self.arity(op, len(nodes), 2, 2, ptr):
            return Emitted([], _const(None), NULL)
        (seq_node, sptr), (body_node, bptr) = nodes
        if not self.iterable_args(op, seq_node, sptr, body_node, bptr):
            return Emitted([], _const(None), NULL)
        seq = self.emit(seq_node, sptr, frames)
        item, index = self.fresh("_it"), self.fresh("_ix")
        ctx = ContextFrame(index)
        with self.may_not_run():
            body = self.emit(body_node, bptr, (*frames, ctx, DataFrame(_name(item))))
        # Elements are nearly always objects ({"qty": .., "price": ..}): a second body for
        # them reads keys without a type test per read; one test per element picks the body.
        fast: Emitted | None = None
        if not _has_iteration(body_node):  # (nested loops would double the code each time)
            before = len(self.problems)
            elem = DataFrame(_name(item), known_dict=True)
            with self.may_not_run():
                fast = self.emit(body_node, bptr, (*frames, ctx, elem))
            del self.problems[before:]  # the same as the first body's
            if elem.hits[0] < 2:  # one read: its own type test costs what the dispatch does
                fast = None
        is_dict = _is_class(_name(item), "_dict")
        arr = self.fresh("_a")
        stmts: list[ast.stmt] = [*seq.stmts,
                                 _assign(arr, self.walked(seq, strict=op not in ("map", "filter")))]
        use_index = ctx.uses[0]
        target: ast.expr = (ast.Tuple(elts=[_store(index), _store(item)], ctx=ast.Store())
                            if use_index else _store(item))
        iterable = _call("_enumerate", _name(arr)) if use_index else _name(arr)
        t = self.fresh()
        if op in ("map", "filter") and body.pure and (fast is None or fast.pure):
            def pick(f: Callable[[Emitted], ast.expr]) -> ast.expr:
                if fast is None:
                    return f(body)
                return ast.IfExp(test=is_dict, body=f(fast), orelse=f(body))

            gen = ast.comprehension(target=target, iter=iterable, ifs=[], is_async=0)
            if op == "filter":
                gen.ifs = [pick(self.test)]
            elt = pick(lambda b: b.expr) if op == "map" else _name(item)
            comp = ast.ListComp(elt=elt, generators=[gen])
            # A `:=` inside a comprehension binds in the enclosing function, which makes it a
            # cell variable there (slower everywhere in the rule): a plain loop instead.
            if not any(isinstance(n, ast.NamedExpr) for n in ast.walk(comp)):
                stmts.append(_assign(t, comp))
                return Emitted(stmts, _name(t), LIST)
        loop_body = self.iteration_step(op, body, t, item)
        if fast is not None:
            loop_body = [ast.If(test=is_dict, body=self.iteration_step(op, fast, t, item),
                                orelse=loop_body)]
        init: ast.expr
        if op in ("map", "filter"):
            init, kind = ast.List(elts=[], ctx=ast.Load()), LIST
        else:
            # all: false on an empty array (JsonLogic), true if every element passes
            init = {"some": _const(False), "none": _const(True)}.get(
                op, _call("_bool", _name(arr)))
            kind = BOOL
        stmts.append(_assign(t, init))
        stmts.append(ast.For(target=target, iter=iterable, body=loop_body, orelse=[], lineno=0))
        return Emitted(stmts, _name(t), kind)

    def iteration_step(self, op: str, body: Emitted, t: str, item: str) -> list[ast.stmt]:
        """What one element does to the result ``t`` of map / filter / all / some / none."""
        def append(v: ast.expr) -> ast.stmt:
            return ast.Expr(value=ast.Call(
                func=ast.Attribute(value=_name(t), attr="append", ctx=ast.Load()),
                args=[v], keywords=[]))

        if op == "map":
            return [*body.stmts, append(body.expr)]
        if op == "filter":
            return [*body.stmts, ast.If(test=self.test(body), body=[append(_name(item))],
                                        orelse=[])]
        # some: stop at the first that passes; all: at the first that fails; none: as some
        test = _not(self.test(body)) if op == "all" else self.test(body)
        return [*body.stmts, ast.If(test=test, body=[_assign(t, _const(op == "some")),
                                                     ast.Break()], orelse=[])]

    def walked(self, seq: Emitted, strict: bool) -> ast.expr:
        """The array an iteration walks: the value if it is a list, else () or, for
        all/some/none (``strict``), the helper's Invalid Arguments."""
        if seq.kind == LIST:
            return seq.expr
        if isinstance(seq.expr, ast.Name):
            v: ast.expr = seq.expr
            first: ast.expr = v
        else:
            name = self.fresh()
            v, first = _name(name), ast.NamedExpr(target=_store(name), value=seq.expr)
        other = _call("_strict_arr", v) if strict else ast.Tuple(elts=[], ctx=ast.Load())
        return ast.IfExp(test=_is_class(first, "_list"), body=v, orelse=other)

    def iterable_args(self, op: str, seq: Any, sptr: str, body: Any, bptr: str) -> bool:
        ok = True
        if not isinstance(seq, list | dict):
            self.problem(sptr, f"Invalid Arguments: {op!r} walks an array; "
                               f"{_describe(seq)} is not one",
                         code="bad_arguments")
            ok = False
        if body is None and op in ("map", "filter", "reduce"):
            self.problem(bptr, f"Invalid Arguments: {op!r} needs a rule to apply to each "
                               "element, not null",
                         code="bad_arguments")
            ok = False
        return ok

    def reduce(self, nodes: list[tuple[Any, str]], frames: tuple[Frame, ...]) -> Emitted:
        (seq_node, sptr), (body_node, bptr) = nodes[0], nodes[1]
        if not self.iterable_args("reduce", seq_node, sptr, body_node, bptr):
            return Emitted([], _const(None), NULL)
        seq = self.emit(seq_node, sptr, frames)
        init = (self.emit(nodes[2][0], nodes[2][1], frames) if len(nodes) > 2
                else Emitted([], _const(None), NULL))
        cur, acc = self.fresh("_cur"), self.fresh("_acc")
        body = None
        if init.kind == NUM:
            # Try the body with a numeric accumulator: if each step then gives a number, the
            # accumulator is one all along and its arithmetic needs no type test.
            before = len(self.problems)
            with self.may_not_run():
                body = self.emit(body_node, bptr,
                                 (*frames, ContextFrame(None), ReduceFrame(cur, acc, NUM)))
            if body.kind != NUM:
                del self.problems[before:]  # emitted again below; report problems once
                body = None
        if body is None:
            with self.may_not_run():
                body = self.emit(body_node, bptr,
                                 (*frames, ContextFrame(None), ReduceFrame(cur, acc)))
        arr = self.fresh("_a")
        stmts: list[ast.stmt] = [
            *seq.stmts, _assign(arr, self.walked(seq, strict=False)), *self.to_value(init, acc),
            ast.For(target=_store(cur), iter=_name(arr),
                    body=self.to_value(body, acc), orelse=[], lineno=0),
        ]
        return Emitted(stmts, _name(acc), NUM if init.kind == body.kind == NUM else ANY)


_ITERATIONS = frozenset({"map", "filter", "reduce", "all", "some", "none"})
_READS = frozenset({"var", "val", "exists"})


def _canonical(node: Any) -> str:
    return json.dumps(node, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _repeated(rule: Rule) -> set[str]:
    """Operations that occur more than once in a rule (not counting those inside a repeat)."""
    seen: Counter[str] = Counter()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if len(node) == 1:
                key = _canonical(node)
                seen[key] += 1
                if seen[key] > 1:
                    return  # its insides are reused with it
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for x in node:
                walk(x)

    walk(rule)
    return {k for k, n in seen.items() if n > 1}


def _unassigned(body: list[ast.stmt], globals_: dict[str, Any]) -> set[str]:
    """Names read in ``body`` that nothing in it assigns (other than ``d`` and globals)."""
    tree = ast.Module(body=body, type_ignores=[])
    stored: set[str] = set()
    loaded: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Name):
            (stored if isinstance(n.ctx, ast.Store) else loaded).add(n.id)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            stored.add(n.name)
    return {n for n in loaded - stored if n != "d" and n not in globals_}


def _reusable(op: str, args: Any, e: Emitted) -> bool:
    """May a second occurrence use the first one's value? Numbers, strings, booleans and
    null, yes; a read of the data, too (a read gives the data's own objects either way) if
    its default is not an array or object; other arrays and objects no: each occurrence
    must give the caller a list of its own."""
    if e.kind in (NUM, STR, BOOL, NULL):
        return True
    if op in _READS:
        return not (isinstance(args, list) and any(isinstance(a, list | dict) for a in args[1:]))
    return False


def _has_iteration(node: Any) -> bool:
    if isinstance(node, dict):
        return any(k in _ITERATIONS or _has_iteration(v) for k, v in node.items())
    if isinstance(node, list):
        return any(_has_iteration(x) for x in node)
    return False


def _describe(v: Any) -> str:
    if isinstance(v, dict):
        return "an operation" if len(v) == 1 else "an object"
    if isinstance(v, list):
        return "an array"
    return json.dumps(v)


_SPECIAL: dict[str, Callable[..., Emitted]] = {
    "!": _Codegen.op_not,
    "!!": _Codegen.op_not,
    "var": _Codegen.op_var,
    "val": _Codegen.op_val,
    "exists": _Codegen.op_exists,
    "missing": _Codegen.op_missing,
    "missing_some": _Codegen.op_missing,
    "preserve": _Codegen.op_preserve,
    "log": _Codegen.op_log,
    "throw": _Codegen.op_throw,
    "try": _Codegen.op_try,
}
_CONTROL_METHODS: dict[str, Callable[..., Emitted]] = {
    "if": _Codegen.op_if,
    "?:": _Codegen.op_if,
    "and": _Codegen.op_and_or,
    "or": _Codegen.op_and_or,
    "map": _Codegen.op_iterate,
    "filter": _Codegen.op_iterate,
    "all": _Codegen.op_iterate,
    "some": _Codegen.op_iterate,
    "none": _Codegen.op_iterate,
    "reduce": _Codegen.op_iterate,
    **{op: _Codegen.op_compare for op in _COMPARISONS},
    **{op: _Codegen.op_compare for op in _EQUALITIES},
}

assert frozenset({*_SPECIAL, *_CONTROL_METHODS, *_DATA_OPS}) == JSONLOGIC_OPERATIONS


# -- the public face -----------------------------------------------------------------------

def _build(rules: dict[str, Rule], registry: OperationRegistry
           ) -> tuple[dict[str, CompiledRule], ast.Module]:
    gen = _Codegen(registry)
    functions: list[ast.stmt] = []
    names: dict[str, str] = {}
    for label, rule in rules.items():
        before = len(gen.problems)
        e = gen.emit(rule, "", (DataFrame(_name("d")),))
        for p in gen.problems[before:]:
            gen.problems[gen.problems.index(p)] = Problem(
                pointer=p.pointer, message=p.message, code=p.code,
                source=label if label != "rule" else "rule")
        body: list[ast.stmt] = [*e.stmts, ast.Return(value=e.expr)]
        if len(gen.problems) == before:
            # Data is nearly always an object: a second body for that case reads keys with
            # `d.get(k)` and no type check on each read. It is only kept where it differs.
            top = DataFrame(_name("d"), known_dict=True)
            # Reuse of common sub-rules only here: reporting problems needs every occurrence.
            gen.repeated, gen.memo, gen.reuses = _repeated(rule), [{}], 0
            fast = gen.emit(rule, "", (top,))
            gen.repeated = set()
            fast_body = [*fast.stmts, ast.Return(value=fast.expr)]
            # Belt and braces for reuse: every temporary read must be assigned somewhere in
            # the fast body; if not (a reused value whose code was dropped), keep the plain one.
            if (top.hits[0] or gen.reuses) and not _unassigned(fast_body, gen.ns):
                body = [ast.If(test=_is_class(_name("d"), "_dict"), body=fast_body, orelse=[]),
                        *body]
        fname = gen.fresh("_rule")
        names[label] = fname
        functions.append(ast.FunctionDef(
            name=fname,
            args=ast.arguments(posonlyargs=[], args=[ast.arg(arg="d")], vararg=None,
                               kwonlyargs=[], kw_defaults=[], kwarg=None,
                               defaults=[_const(None)]),
            body=body, decorator_list=[], returns=None, lineno=0))
    if gen.problems:
        raise RuleError.of(gen.problems)
    module = ast.Module(body=functions, type_ignores=[])
    made = syntax.functions(module, "<rounds rule>", gen.ns)
    fns: dict[str, CompiledRule] = {label: made[fname] for label, fname in names.items()}
    return fns, module


# Rules come from definitions, and a definition may come from a request (a draft being
# checked): the cache is bounded, keyed by a hash of the rule's content.
_compiled: BoundedCache[tuple[str, int], CompiledRule] = BoundedCache(4096)


def compile_rule(rule: Rule, *, operations: OperationRegistry | None = None) -> CompiledRule:
    """Compile a JsonLogic rule into a function of the data; cached by the rule's content.

    Raises :class:`RuleError` listing every mistake in the rule, each with its JSON pointer.
    """
    registry = operations or default_registry
    return _compiled.get_or_make((content_key(rule), id(registry)),
                                 lambda: _build({"rule": rule}, registry)[0]["rule"])


def compile_many(rules: dict[str, Rule], *, operations: OperationRegistry | None = None
                 ) -> dict[str, CompiledRule]:
    """Compile several rules at once (one code object), reporting the mistakes of them all.

    Each problem's ``source`` is the label the rule was given.
    """
    fns, _ = _build(rules, operations or default_registry)
    return fns


def source(rule: Rule, *, operations: OperationRegistry | None = None) -> str:
    """The Python that a rule compiles to, for reading and debugging."""
    _, module = _build({"rule": rule}, operations or default_registry)
    return ast.unparse(module)


def apply(rule: Rule, data: Any = None) -> Any:
    """Compile (cached) and evaluate a rule once."""
    return compile_rule(rule)(data)
