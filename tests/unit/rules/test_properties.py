"""Property tests: compiled rules agree with json-logic-qubit where the two should agree.

Hypothesis builds typed JsonLogic rules (numbers, strings, booleans, arrays, "any") over
``var`` with dotted paths and defaults, ``if``, ``and``/``or``/``!``/``!!``, ``===``/``!==``
and ``==``/``!=`` on values of one type, ``<``/``<=``/``>``/``>=`` on numbers (``<``/``<=``
also in their three-argument "between" form), ``+ - * /`` on numbers, ``max``/``min``,
``cat`` of strings, ``in`` on strings and arrays of strings, ``merge``, ``missing``, and
``some``/``all``/``none``/``map``/``filter`` over arrays of numbers, together with data that
fits them, and checks ``rounds.rules.apply`` against ``json_logic.jsonLogic`` (qubit 0.9.1).

json-logic-qubit follows the 2016 json-logic-js loosely and Python more than JavaScript; the
2024 specification (and Rounds, which passes its conformance suites) differs from it in the
cases below. The generator stays away from each of them, and ``test_documented_deviation``
checks that every one is still real (so this list cannot go stale silently).

1. Falsy data is replaced by ``{}`` (``data = data or {}``): ``{"var": ""}`` on ``0`` gives
   ``{}``, so ``map``/``filter``/``some``... over an array holding ``0``, ``""`` or ``false``
   see ``{}`` for those elements (and ``+`` on it raises TypeError).
   -> top-level data is a non-empty object; arrays that are walked hold no zero.
2. Truthiness is Python's: ``{}`` (an empty object) is false; the spec says true.
   -> no empty objects in the data.
3. Arithmetic on arrays: ``{"+": [[1], 1]}`` and ``{"*": [[2], 3]}`` raise TypeError (spec:
   NaN error), and ``{"+": {"var": "xs"}}`` raises instead of summing the array.
   -> arithmetic only on numbers.
4. ``null`` in arithmetic raises TypeError (spec: null is 0): ``{"+": [null, 1]}``.
   -> a number ``var`` that may be absent always has a numeric default.
5. Comparisons that give NaN: ``{"<": [null, 1]}`` is false (spec: true, null is 0),
   ``{"<": [[1], 2]}`` is false and ``{"<": ["a", 1]}`` raises ValueError (spec: NaN error).
   -> ``<`` and friends only on numbers.
6. ``>``/``>=`` take exactly two arguments (TypeError on three; the spec chains them).
   -> three arguments only for ``<`` and ``<=``.
7. Loose ``==`` with mixed types compares ``str()`` of both when either is a string:
   ``1.0 == "1"``, ``true == "1"``, ``0 == ""``, ``null == ""`` are false; ``null == 0`` is
   false (spec: true); ``1 == [1]`` is false (spec: NaN error).
   -> ``==``/``!=`` only on two values of one type.
8. ``===`` compares arrays by value (``[1] === [1]`` is true; spec: identity, false).
   -> ``===`` only on numbers, strings and booleans.
9. ``%`` is Python's (sign of the divisor): ``{"%": [-7, 3]}`` is 2, JavaScript gives -1.
   -> ``%`` is not generated.
10. ``-`` and ``/`` take at most two arguments (TypeError on three; spec: variadic).
   -> at most two.
11. Division by zero raises ZeroDivisionError (spec: NaN error).
   -> divisors are non-zero literals.
12. ``var`` with an array index out of range raises IndexError (spec: null / the default),
   and a negative index counts from the end (``"xs.-1"``; spec: not found).
   -> indexes 0 and 1 into arrays that have at least two elements.
13. Whole floats become Python ints of any size, so ``{"*": [1e200, 1e200]}`` is an exact
   400-digit int where JavaScript (and Rounds) overflow to Infinity.
   -> numbers stay small (|literal| <= 20, ``*`` by small literal factors).
14. ``max``/``min`` of nothing is null (spec: Invalid Arguments); they accept booleans and
   numeric strings (``{"max": [true, 2]}`` is 2, spec: Invalid Arguments).
   -> one to three numbers.
15. ``cat`` uses Python's ``str``: ``{"cat": [1.0, null, true]}`` is ``"1.0NoneTrue"``
   (spec: ``"1true"``).  -> ``cat`` only of strings.
16. ``in`` with a non-string needle in a string raises TypeError (spec: ``{"in": [1, "a1"]}``
   is true).  -> needles are strings.
17. ``all``/``some``/``none`` on something that is not an array give false/false/true
   (spec: Invalid Arguments).  -> they always walk an array.
18. Numeric strings with an exponent: ``{"+": ["1e3"]}`` raises ValueError (spec: 1000).
   -> no numeric strings.

Agreements worth recording: ``all`` of an empty array is false in both (and in the spec's
compat tables); ``and``/``or`` of nothing are false and ``if`` of nothing is null in both;
``some``/``none`` in qubit evaluate every element (no short circuit), which is invisible here
because no generated rule can raise.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import json_logic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rounds.rules
from support.json_equality import json_equal

# Kinds of expression the generator builds.
NUM, STR, BOOL, LNUM, LSTR, ANY = "num", "str", "bool", "lnum", "lstr", "any"

# Paths into the generated data, by the kind of value found there. "REQ" paths are always
# present; "OPT" ones may be absent and so get a default of their kind.
NUM_REQ = ["n", "m", "k", "ctx.site.score", "xs.0", "xs.1"]
NUM_OPT = ["opt_n", "ctx.extra.level", "nope.deep.er"]
STR_REQ = ["s", "t", "ctx.site.grade"]
STR_OPT = ["opt_s", "ctx.extra.name"]
BOOL_REQ = ["b", "ctx.site.open"]
BOOL_OPT = ["opt_b"]
LNUM_REQ = ["xs", "ys"]  # arrays of non-zero numbers (deviation 1)
LSTR_REQ = ["ss", "ctx.tags"]
ANY_PATHS = [*NUM_REQ, *NUM_OPT, *STR_REQ, *STR_OPT, *BOOL_REQ, *BOOL_OPT, *LNUM_REQ,
             *LSTR_REQ, "ctx", "ctx.site", "ctx.extra", "missing_key", "s.length"]

small_int = st.integers(-20, 20)
quarter = st.integers(-80, 80).map(lambda i: i / 4)  # exact in binary: no rounding noise
# Mostly tiny numbers, so that comparisons often meet equal operands (edges like <= on a tie).
num_lit = st.one_of(st.integers(-2, 3), st.sampled_from([1.0, 2.0, -1.0, 0.0]), small_int, quarter)
nonzero_num = num_lit.filter(lambda x: x != 0)
str_lit = st.text(alphabet="abcé", max_size=3)
bool_lit = st.booleans()
divisor = st.sampled_from([2, 4, 5, 8, 0.5, -2, -5, 10])
factor = st.sampled_from([-3, -2, -1, 0, 1, 2, 3, 0.5, 1.5])

data_strategy = st.fixed_dictionaries(
    {
        "n": small_int,
        "m": quarter,
        "k": num_lit,
        "s": str_lit,
        "t": str_lit,
        "b": bool_lit,
        "xs": st.lists(nonzero_num, min_size=2, max_size=5),
        "ys": st.lists(nonzero_num, max_size=4),
        "ss": st.lists(str_lit, max_size=4),
        "ctx": st.fixed_dictionaries(
            {"site": st.fixed_dictionaries(
                {"grade": st.sampled_from(["A", "B", "C", ""]), "score": num_lit,
                 "open": bool_lit}),
             "tags": st.lists(str_lit, max_size=3)},
            optional={"extra": st.fixed_dictionaries(
                {"level": small_int, "name": str_lit})},
        ),
    },
    optional={"opt_n": num_lit, "opt_s": str_lit, "opt_b": bool_lit},
)


class Gen:
    """Draws typed rules; ``elem`` is true inside an iteration, where the data is a number."""

    def __init__(self, draw: st.DrawFn, extra: dict[str, list[str]] | None = None) -> None:
        self.draw = draw
        # Forms listed again in ``extra`` are drawn more often: a test can aim at them.
        self.forms = {k: v + (extra or {}).get(k, []) for k, v in FORMS.items()}

    def pick(self, options: list[Any]) -> Any:
        return self.draw(st.sampled_from(options))

    def var(self, req: list[str], opt: list[str], default: st.SearchStrategy[Any]) -> Any:
        path = self.pick(req + opt)
        if path in opt or self.draw(st.booleans()):
            # {"var": [path, default]}; for a present path the default is simply unused.
            return {"var": [path, self.draw(default)]}
        return {"var": path}

    def leaf(self, kind: str, elem: bool) -> Any:
        d = self.draw
        if kind == NUM:
            if elem:
                return d(st.sampled_from([{"var": ""}, {"var": [""]}]) | num_lit)
            if d(st.booleans()):
                return d(num_lit)
            return self.var(NUM_REQ, NUM_OPT, num_lit)
        if kind == STR:
            if elem or d(st.booleans()):
                return d(str_lit)
            return self.var(STR_REQ, STR_OPT, str_lit)
        if kind == BOOL:
            if elem or d(st.booleans()):
                return d(bool_lit)
            return self.var(BOOL_REQ, BOOL_OPT, bool_lit)
        if kind == LNUM:
            if elem or d(st.booleans()):
                return d(st.lists(nonzero_num, max_size=4))
            return {"var": self.pick(LNUM_REQ)}
        if kind == LSTR:
            if elem or d(st.booleans()):
                return d(st.lists(str_lit, max_size=3))
            return {"var": self.pick(LSTR_REQ)}
        # ANY: a value of any kind, or a path that may be absent (null)
        if not elem and d(st.booleans()):
            return {"var": self.pick(ANY_PATHS)}
        return self.leaf(self.pick([NUM, STR, BOOL, LNUM, LSTR]), elem)

    def args(self, kind: str, depth: int, elem: bool, lo: int, hi: int) -> list[Any]:
        n = self.draw(st.integers(lo, hi))
        return [self.expr(kind, depth - 1, elem) for _ in range(n)]

    def if_(self, kind: str, depth: int, elem: bool) -> Any:
        pairs = self.draw(st.integers(1, 2))
        args: list[Any] = []
        for _ in range(pairs):
            cond = self.expr(self.pick([ANY, BOOL]), depth - 1, elem)
            args += [cond, self.expr(kind, depth - 1, elem)]
        # Numbers, strings... must have an else branch, or the result could be null.
        if kind != ANY or self.draw(st.booleans()):
            args.append(self.expr(kind, depth - 1, elem))
        return {self.pick(["if", "?:"]) if len(args) == 3 else "if": args}

    def expr(self, kind: str, depth: int, elem: bool = False) -> Any:
        if depth <= 0 or self.draw(st.integers(0, 3)) == 0:
            return self.leaf(kind, elem)
        form = self.pick(self.forms[kind])
        a = self.args
        if form == "if":
            return self.if_(kind, depth, elem)
        if form in ("and", "or"):
            return {form: a(kind, depth, elem, 1, 3)}
        if kind == NUM:
            if form == "*":
                x = self.expr(NUM, depth - 1, elem)
                return {"*": [x, *self.draw(st.lists(factor, min_size=1, max_size=2))]}
            if form == "/":
                return {"/": [self.expr(NUM, depth - 1, elem), self.draw(divisor)]}
            lo, hi = {"+": (1, 4), "-": (1, 2), "max": (1, 3), "min": (1, 3)}[form]
            return {form: a(NUM, depth, elem, lo, hi)}
        if kind == STR:  # cat
            return {"cat": a(STR, depth, elem, 1, 3)}
        if kind == BOOL:
            return self.boolean(form, depth, elem)
        if kind == LNUM:
            if form == "filter":
                return {"filter": [self.expr(LNUM, depth - 1, elem),
                                   self.expr(BOOL, depth - 1, True)]}
            parts = [self.expr(LNUM, depth - 1, elem) if self.draw(st.booleans())
                     else self.draw(nonzero_num) for _ in range(self.draw(st.integers(1, 3)))]
            return {"merge": parts}
        if kind == LSTR:
            if form == "missing":
                paths = self.draw(st.lists(st.sampled_from(ANY_PATHS), min_size=1, max_size=3))
                return {"missing": [paths] if self.draw(st.booleans()) else paths}
            parts = [self.expr(self.pick([LSTR, STR]), depth - 1, elem)
                     for _ in range(self.draw(st.integers(1, 3)))]
            return {"merge": parts}
        # ANY
        if form == "map":
            return {"map": [self.expr(LNUM, depth - 1, elem), self.expr(NUM, depth - 1, True)]}
        if form == "!!":
            return {"!!": [self.expr(ANY, depth - 1, elem)]}
        return self.expr(self.pick([NUM, STR, BOOL, LNUM, LSTR]), depth, elem)

    def boolean(self, form: str, depth: int, elem: bool) -> Any:
        e = self.expr
        if form in ("!", "!!"):
            return {form: [e(ANY, depth - 1, elem)]}
        if form in ("<", "<="):
            n = self.draw(st.integers(2, 3))
            return {form: [e(NUM, depth - 1, elem) for _ in range(n)]}
        if form in (">", ">="):
            return {form: [e(NUM, depth - 1, elem), e(NUM, depth - 1, elem)]}
        if form in ("===", "!==", "==", "!="):
            kind = self.pick([NUM, STR, BOOL])
            return {form: [e(kind, depth - 1, elem), e(kind, depth - 1, elem)]}
        if form == "in":
            hay = self.pick([STR, LSTR])
            return {"in": [e(STR, depth - 1, elem), e(hay, depth - 1, elem)]}
        # some / all / none
        return {form: [e(LNUM, depth - 1, elem), e(BOOL, depth - 1, True)]}


FORMS: dict[str, list[str]] = {
    NUM: ["+", "-", "*", "/", "max", "min", "if", "and", "or"],
    STR: ["cat", "if", "and", "or"],
    BOOL: ["!", "!!", "<", "<=", ">", ">=", "===", "!==", "==", "!=", "in",
           "some", "all", "none", "if", "and", "or"],
    LNUM: ["filter", "merge", "if"],
    LSTR: ["missing", "merge", "if"],
    ANY: ["map", "!!", "if", "and", "or", "typed", "typed"],
}


@st.composite
def rules(draw: st.DrawFn, depth: int = 4, kinds: tuple[str, ...] = (),
          extra: dict[str, list[str]] | None = None) -> Any:
    # Booleans weigh double: conditions and comparisons are what checklists are made of.
    kind = draw(st.sampled_from(kinds or (NUM, STR, BOOL, BOOL, LNUM, LSTR, ANY)))
    return Gen(draw, extra).expr(kind, depth)


COMPARE = ["<", "<=", ">", ">=", "===", "!==", "==", "!="]
# What each property test aims at: (kinds of rule, forms drawn more often).
FOCUS: dict[str, tuple[tuple[str, ...], dict[str, list[str]]]] = {
    "everything": ((), {}),
    "numbers": ((BOOL, NUM), {BOOL: COMPARE * 3, NUM: ["+", "-", "*", "/", "max", "min"]}),
    "strings": ((BOOL, STR, LSTR), {BOOL: ["in", "in", "in", "===", "==", "!=", "!=="],
                                    STR: ["cat", "cat"], LSTR: ["missing", "merge"]}),
    "iteration": ((BOOL, ANY, LNUM), {BOOL: ["some", "all", "none"] * 3, ANY: ["map"] * 3,
                                      LNUM: ["filter", "filter", "merge"]}),
}


def qubit(rule: Any, data: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return json_logic.jsonLogic(rule, data)


PROPERTY_SETTINGS = settings(max_examples=300, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("focus", list(FOCUS))
def test_rounds_agrees_with_qubit(focus: str) -> None:
    kinds, extra = FOCUS[focus]

    @PROPERTY_SETTINGS
    @given(rule=rules(kinds=kinds, extra=extra), data=data_strategy)
    def agree(rule: Any, data: dict[str, Any]) -> None:
        want = qubit(rule, data)
        got = rounds.rules.apply(rule, data)
        assert json_equal(got, want), f"rounds {got!r} != qubit {want!r}"

    agree()


@st.composite
def repeating_rules(draw: st.DrawFn) -> Any:
    """Rules that use a sub-rule more than once (the compiler computes it once where it can),
    in the places where reuse is and is not allowed: conditions, branches, loops."""
    g = Gen(draw)
    x, c, a = g.expr(NUM, 2), g.expr(BOOL, 2), g.expr(ANY, 2)
    s, xs = g.expr(STR, 1), g.expr(LNUM, 1)
    # inside a loop the element is the data: what the body uses is built for that
    e, ce = g.expr(NUM, 2, elem=True), g.expr(BOOL, 2, elem=True)
    templates = [
        {"if": [{">=": [x, 3]}, "A", {">=": [x, 0]}, "B", "C"]},
        {"+": [x, {"if": [c, x, 0]}, x]},
        {"and": [a, {"<": [x, 5]}, {">": [x, -5]}, a]},
        {"or": [{"!": [c]}, c, x]},
        {"if": [c, x, {"-": [x, 1]}]},
        {"if": [a, {"if": [c, x, s]}, {"if": [c, s, x]}]},
        {"cat": [s, {"if": [c, s, "-"]}, s]},
        [x, x, c, c, a, a],
        {"map": [xs, {"+": [e, e, 1]}]},
        {"filter": [xs, {"and": [{">": [e, 0]}, {"<": [e, 10]}, {">": [e, 0]}]}]},
        {"some": [xs, {"<": [e, {"if": [ce, e, 0]}]}]},
        {"all": [xs, {"or": [ce, {">": [e, 1]}, ce]}]},
        {"<": [x, x, {"+": [x, 1]}]},
        {"max": [x, {"-": [x, 2]}]},
    ]
    return draw(st.sampled_from(templates))


@PROPERTY_SETTINGS
@given(rule=repeating_rules(), data=data_strategy)
def test_repeated_subrules_agree_with_qubit(rule: Any, data: dict[str, Any]) -> None:
    want = qubit(rule, data)
    got = rounds.rules.apply(rule, data)
    assert json_equal(got, want), f"rounds {got!r} != qubit {want!r}"


@PROPERTY_SETTINGS
@given(rule=rules(depth=3), data=data_strategy)
def test_compiled_function_is_reusable(rule: Any, data: dict[str, Any]) -> None:
    """The same compiled function gives the same answer twice and leaves the data alone."""
    fn = rounds.rules.compile(rule)
    before = repr(data)
    first = fn(data)
    assert json_equal(fn(data), first)
    assert repr(data) == before


# Each entry: rule, data, what Rounds (the 2024 spec) gives, and what qubit does instead
# ("raises" when it raises a Python error).
DEVIATIONS: list[tuple[str, Any, Any, Any, Any]] = [
    ("1 falsy data", {"map": [[0, 1], {"var": ""}]}, {"a": 1}, [0, 1], [{}, 1]),
    ("2 empty object", {"!!": {"var": "o"}}, {"o": {}}, True, False),
    ("3 + on arrays", {"+": {"var": "xs"}}, {"xs": [1, 2]}, 3, "raises"),
    ("4 null in +", {"+": [None, 1]}, None, 1, "raises"),
    ("5 null < 1", {"<": [None, 1]}, None, True, False),
    ("6 chained >", {">": [3, 2, 1]}, None, True, "raises"),
    ("7 loose == mixed", {"==": [None, 0]}, None, True, False),
    ("7 loose == str", {"==": [1.0, "1"]}, None, True, False),
    ("8 === arrays", {"===": [[1], [1]]}, None, False, True),
    ("9 modulo sign", {"%": [-7, 3]}, None, -1, 2),
    ("10 variadic -", {"-": [5, 1, 1]}, None, 3, "raises"),
    ("11 divide by zero", {"/": [1, 0]}, None, "raises", "raises"),
    ("12 index range", {"var": ["xs.5", 9]}, {"xs": [1]}, 9, "raises"),
    ("12 negative index", {"var": "xs.-1"}, {"xs": [1, 2]}, None, 2),
    ("13 big floats", {"*": [1e200, 1e200]}, None, math.inf, 10**400),
    ("14 max of bool", {"max": [True, 2]}, None, "raises", 2),
    ("15 cat", {"cat": [1.0, None, True]}, None, "1true", "1.0NoneTrue"),
    ("16 in number", {"in": [1, "a1"]}, None, True, "raises"),
    ("17 all non-array", {"none": [{"var": "x"}, True]}, {"y": 1}, "raises", True),
    ("18 exponent", {"+": ["1e3"]}, None, 1000, "raises"),
]


@pytest.mark.parametrize(("rule", "data", "spec", "theirs"),
                         [pytest.param(*d[1:], id=d[0]) for d in DEVIATIONS])
def test_documented_deviation(rule: Any, data: Any, spec: Any, theirs: Any) -> None:
    if spec == "raises":
        with pytest.raises(rounds.rules.RuleEvaluationError):
            rounds.rules.apply(rule, data)
    else:
        assert json_equal(rounds.rules.apply(rule, data), spec)
    if theirs == "raises":
        with pytest.raises((TypeError, ValueError, IndexError, ZeroDivisionError)):
            qubit(rule, data)
    elif isinstance(theirs, int) and theirs > 10**300:  # an exact big int, not Infinity
        got = qubit(rule, data)
        assert type(got) is int and got > 10**300
    else:
        assert json_equal(qubit(rule, data), theirs)
