"""A form's answers schema compiled into one Python function: every structural error, fast.

The slow path (``forms.slow_path``) needs every structural error of a body msgspec rejected.
jsonschema finds them by interpreting the schema on every body (a validator object per
subschema visited). :func:`compile_shape` walks the schema once and generates a function of
the decoded body with the schema's checks written out in line, in the schema's order:
``properties`` as dict reads, ``items`` as a loop, each answer's keywords as comparisons (a
scalar answer is first tested whole: when right, as most are, its keywords are skipped).

It covers the keywords ``forms.schema.answers_schema`` writes (``type``, ``properties``,
``required``, ``additionalProperties``, ``patternProperties``, ``items``, ``enum``, ``const``,
``anyOf``, bounds on numbers, strings and arrays, ``uniqueItems``, ``pattern``, ``format``
and the date bounds ``formatMinimum``/``formatMaximum``) with jsonschema's meaning (its
``equal`` and ``uniq``, its format checker). A schema with any other keyword that asserts
something compiles to None: the caller keeps jsonschema.

The function gives the raw errors (``forms.messages.Raw``) that ``slow_path.error_raws``
makes of jsonschema's errors, in the same order, each once (jsonschema repeats a
``required`` error's raws for every missing name); ``tests/unit/forms/test_shape.py`` holds
the two equal on random bodies.

How it is generated, as ``rounds.rules.compiler`` does: a Python syntax tree built node by
node, then compiled. Names are ours; the schema's strings and numbers are ``ast.Constant``
nodes, its other values (lists, compiled patterns) objects the code refers to by a name of
ours. No text from a definition is ever parsed as code.

The function expects a document as msgspec decodes JSON (dict, list, str, int, float, bool,
None): it tests exact classes.

May import: ``rounds.forms.schema`` and ``rounds.forms.messages`` (the raw error type).
"""

from __future__ import annotations

import ast
import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from jsonschema import Draft202012Validator
from jsonschema._utils import equal, uniq

from rounds.forms.messages import Path, Raw
from rounds.forms.schema import DATE_PATTERN
from rounds.rules import syntax
from rounds.rules.syntax import call as _call
from rounds.rules.syntax import const as _const
from rounds.rules.syntax import name as _name
from rounds.rules.syntax import store as _store

Shape = Callable[[Any], list[Raw]]

_FORMATS = Draft202012Validator.FORMAT_CHECKER
_DATE = re.compile(DATE_PATTERN)
# Keywords that assert nothing (annotations); ``x-`` extensions are skipped too.
_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "readOnly",
                          "writeOnly", "default", "examples", "deprecated"})
# A scalar answer whose keywords are all among these is tested whole first.
_LEAF = frozenset({"type", "minimum", "maximum", "minLength", "maxLength", "enum", "const"})
_OBJECT = frozenset({"type", "properties", "required", "additionalProperties"})
_DAY_KEYWORDS = frozenset({"type", "format", "pattern", "formatMinimum", "formatMaximum"})
_BOUNDS = {"minimum": ast.Lt, "maximum": ast.Gt, "exclusiveMinimum": ast.LtE,
           "exclusiveMaximum": ast.GtE}
_SIZES = {"minLength": ("_str", ast.Lt), "maxLength": ("_str", ast.Gt),
          "minItems": ("_list", ast.Lt), "maxItems": ("_list", ast.Gt)}
_CLASSES = {"object": "_dict", "array": "_list", "string": "_str", "boolean": "_bool"}


class Unsupported(Exception):
    """A keyword the shape compiler does not know: keep jsonschema for this schema."""


def compile_shape(schema: Any) -> Shape | None:
    """The structural errors of a document under ``schema``, as jsonschema finds them; None
    when the schema uses a keyword this compiler does not cover."""
    try:
        return _Generator().build(schema)
    except Unsupported:
        return None


def source(schema: Any) -> str:
    """The Python a schema compiles to, for reading and debugging."""
    gen = _Generator()
    gen.build(schema)
    return ast.unparse(ast.Module(body=gen.functions, type_ignores=[]))


# -- helpers the generated code calls (rare cases only) --------------------------------------

def _enum_holds(value: Any, options: list[Any]) -> bool:
    return any(equal(o, value) for o in options)


def _unique(values: list[Any]) -> bool:
    """jsonschema's ``uniq``, sooner: values a set holds apart (no two ``==``) are apart for
    ``equal`` too (it is stricter: 1 and True differ), so only a set that merges some, or
    values it cannot hold, need ``uniq`` itself."""
    if len(values) < 2:
        return True
    try:
        if len(set(values)) == len(values):
            return True
    except TypeError:
        pass
    return bool(uniq(values))


_DAY = re.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}")
_parse_day = datetime.date.fromisoformat


def _is_day(value: str) -> bool:
    """A real calendar date written ``YYYY-MM-DD``: what the ``date`` format, the
    ``DATE_PATTERN`` and the date bounds' own test all hold (a string known)."""
    if _DAY.fullmatch(value) is None:
        return False
    try:
        _parse_day(value)
    except ValueError:
        return False
    return True


def _format_test(fmt: str) -> Callable[[Any], bool] | None:
    """jsonschema's check of a format (``FormatChecker.conforms``); None for a format it
    does not know (it asserts nothing)."""
    found = _FORMATS.checkers.get(fmt)
    if found is None:
        return None
    func, raises = found

    def conforms(value: Any) -> bool:
        try:
            return bool(func(value))
        except raises:
            return False
    return conforms


def _unknown_key(path: Path) -> str:
    """The error key of an unknown field under the object at ``path`` (as ``error_raws``)."""
    return "additionalProperties" if path in (("answers",), ("evidence",)) or (
        len(path) == 3 and path[0] == "answers") else "unknown_field"


def _date_below(value: Any, bound: str) -> bool:
    return value.__class__ is str and _DATE.fullmatch(value) is not None and value < bound


def _date_above(value: Any, bound: str) -> bool:
    return value.__class__ is str and _DATE.fullmatch(value) is not None and value > bound


# -- the generator -----------------------------------------------------------------------------

def _attr(e: ast.expr, name: str) -> ast.Attribute:
    return ast.Attribute(value=e, attr=name, ctx=ast.Load())


def _is(e: ast.expr, other: ast.expr) -> ast.Compare:
    return ast.Compare(left=e, ops=[ast.Is()], comparators=[other])


def _is_class(e: ast.expr, cls: str) -> ast.Compare:
    return _is(_attr(e, "__class__"), _name(cls))


def _compare(e: ast.expr, op: ast.cmpop, other: ast.expr) -> ast.Compare:
    return ast.Compare(left=e, ops=[op], comparators=[other])


def _and(*es: ast.expr) -> ast.expr:
    return es[0] if len(es) == 1 else ast.BoolOp(op=ast.And(), values=list(es))


def _or(*es: ast.expr) -> ast.expr:
    return es[0] if len(es) == 1 else ast.BoolOp(op=ast.Or(), values=list(es))


def _not(e: ast.expr) -> ast.expr:
    return ast.UnaryOp(op=ast.Not(), operand=e)


def _if(test: ast.expr, body: list[ast.stmt]) -> list[ast.stmt]:
    return [ast.If(test=test, body=body, orelse=[])] if body else []


def _assign(n: str, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[_store(n)], value=value, lineno=0)


def _number(e: ast.expr) -> ast.expr:
    return _or(_is_class(e, "_int"), _is_class(e, "_float"))


@dataclass(frozen=True)
class _Where:
    """A place in the document as the generated code knows it: a path tuple known only when
    the code runs (``base``: inside an ``anyOf`` branch), then steps (constants, or names of
    loop variables)."""

    base: ast.expr | None
    steps: tuple[ast.expr, ...]

    def child(self, step: ast.expr) -> _Where:
        return _Where(self.base, (*self.steps, step))

    def expr(self) -> ast.expr:
        if self.base is None and all(isinstance(s, ast.Constant) for s in self.steps):
            return _const(tuple(cast(ast.Constant, s).value for s in self.steps))
        elts: list[ast.expr] = [ast.Starred(value=self.base, ctx=ast.Load())] if (
            self.base is not None) else []
        return ast.Tuple(elts=[*elts, *self.steps], ctx=ast.Load())

    def unknown_key(self) -> str | None:
        """:func:`_unknown_key` of this place, when what it reads of the path (its length,
        its first step) is known now."""
        steps = self.steps
        if self.base is not None:
            return None
        if len(steps) not in (1, 3):
            return "unknown_field"
        if not isinstance(steps[0], ast.Constant):
            return None
        first = steps[0].value
        top = ("answers", "evidence") if len(steps) == 1 else ("answers",)
        return "additionalProperties" if first in top else "unknown_field"


class _Generator:
    def __init__(self) -> None:
        self.ns: dict[str, Any] = {
            "_dict": dict, "_list": list, "_str": str, "_bool": bool, "_int": int,
            "_float": float, "_enumerate": enumerate, "_len": len, "_MISSING": _MISSING,
            "_enum_holds": _enum_holds, "_equal": equal, "_unique": _unique,
            "_unknown_key": _unknown_key, "_date_below": _date_below,
            "_date_above": _date_above, "_is_day": _is_day,
        }
        self.functions: list[ast.stmt] = []
        self._count = 0
        self._values: dict[Any, str] = {}

    def fresh(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    def value(self, v: Any) -> ast.expr:
        """A value of the schema in the code: a constant, or a name bound to the object."""
        if v is None or isinstance(v, str | int | float | bool):
            return _const(v)
        key = (type(v), v) if isinstance(v, frozenset) else None
        if key is not None and key in self._values:  # the same choices: one name
            return _name(self._values[key])
        n = self.fresh("_c")
        self.ns[n] = v
        if key is not None:
            self._values[key] = n
        return _name(n)

    def build(self, schema: Any) -> Shape:
        main = self.function("_shape", schema, _Where(None, ()), [])
        module = ast.Module(body=self.functions, type_ignores=[])
        # The functions call each other by name: they live in their own namespace.
        self.ns.update(syntax.functions(module, "<rounds shape>", self.ns))
        return cast(Shape, self.ns[main])

    def function(self, name: str, schema: Any, where: _Where, args: list[str]) -> str:
        """``def name(v, *args)``: the errors of ``v`` under ``schema`` in a new list."""
        body = self.schema(schema, "v", where)
        self.functions.append(ast.FunctionDef(
            name=name,
            args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=a) for a in ["v", *args]],
                               vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
                               defaults=[]),
            body=[_assign("out", ast.List(elts=[], ctx=ast.Load())),
                  _assign("add", _attr(_name("out"), "append")),
                  *body, ast.Return(value=_name("out"))],
            decorator_list=[], returns=None, lineno=0))
        return name

    def error(self, where: _Where, key: str | ast.expr, params: dict[str, ast.expr] | None = None
              ) -> ast.stmt:
        """``add((path, key, {params}))``."""
        params = params or {}
        raw = ast.Tuple(elts=[where.expr(), key if isinstance(key, ast.expr) else _const(key),
                              ast.Dict(keys=[_const(k) for k in params],
                                       values=list(params.values()))], ctx=ast.Load())
        return ast.Expr(value=_call(_name("add"), raw))

    def limit(self, value: Any) -> dict[str, ast.expr]:
        # A list is copied into each error: the schema's own stays as it is.
        if isinstance(value, list):
            return {"limit": _call(_name("_list"), self.value(value))}
        return {"limit": self.value(value)}

    # -- one subschema ---------------------------------------------------------------------------

    def schema(self, schema: Any, v: str, where: _Where) -> list[ast.stmt]:
        if schema is True:
            return []
        if not isinstance(schema, dict):
            raise Unsupported(repr(schema))
        body: list[ast.stmt] = []
        for kw, value in schema.items():
            if kw in _ANNOTATIONS or kw.startswith("x-"):
                continue
            body += self.keyword(kw, value, schema, v, where)
        body = _merged(body)
        accept = self.accept(schema, v)
        if accept is None:
            return body
        test = _not(accept)
        if len(body) == 1 and isinstance(body[0], ast.If) and _same(body[0].test, test):
            return body  # the type was the one keyword
        return _if(test, body)  # most answers are right: one test says so

    def accept(self, schema: dict[str, Any], v: str) -> ast.expr | None:
        """For a schema of one scalar type with bounds or choices only (most items' answers):
        a test true only when every keyword holds, else None."""
        asserted = {k for k in schema if k not in _ANNOTATIONS and not k.startswith("x-")}
        kind = schema.get("type")
        x = _name(v)
        if kind == "string" and schema.get("format") == "date" and asserted <= _DAY_KEYWORDS and (
                schema.get("pattern", DATE_PATTERN) == DATE_PATTERN):
            # A date answer: one test of the date stands for the format, the pattern and the
            # bounds' own test of the shape (jsonschema's format check is a regex and a parse).
            tests = [_is_class(x, "_str"), _call(_name("_is_day"), x)]
            low, high = schema.get("formatMinimum"), schema.get("formatMaximum")
            if isinstance(low, str):
                tests.append(_compare(x, ast.GtE(), _const(low)))
            if isinstance(high, str):
                tests.append(_compare(x, ast.LtE(), _const(high)))
            return _and(*tests)
        if kind == "object":
            return self.accept_object(schema, asserted, x)
        enum = schema.get("enum")
        if asserted == {"enum"} and isinstance(enum, list) and all(
                isinstance(o, str) for o in enum):  # a yes/no or a choice
            return _and(_is_class(x, "_str"), _compare(x, ast.In(), self.value(frozenset(enum))))
        if not asserted <= _LEAF or not isinstance(kind, str):
            return None
        lo, hi = schema.get("minimum"), schema.get("maximum")
        short, long = schema.get("minLength"), schema.get("maxLength")
        enum, const = schema.get("enum"), schema.get("const", _MISSING)
        if kind in ("number", "integer") and not ({"minLength", "maxLength", "enum", "const"}
                                                  & asserted):
            if not all(b is None or _plain_number(b) for b in (lo, hi)):
                return None
            is_float = _is_class(x, "_float")
            whole = _and(is_float, _call(_attr(x, "is_integer"))) if kind == "integer" else (
                is_float)
            tests = [_or(_is_class(x, "_int"), whole)]
            if lo is not None:
                tests.append(_compare(x, ast.GtE(), _const(lo)))
            if hi is not None:
                tests.append(_compare(x, ast.LtE(), _const(hi)))
            return _and(*tests)
        if kind == "string" and not ({"minimum", "maximum", "const"} & asserted) and (
                enum is None or (isinstance(enum, list) and all(isinstance(o, str) for o in enum))
        ) and all(n is None or _plain_int(n) for n in (short, long)):
            tests = [_is_class(x, "_str")]
            if short is not None:
                tests.append(_compare(_call(_name("_len"), x), ast.GtE(), _const(short)))
            if long is not None:
                tests.append(_compare(_call(_name("_len"), x), ast.LtE(), _const(long)))
            if enum is not None:
                tests.append(_compare(x, ast.In(), self.value(frozenset(enum))))
            return _and(*tests)
        if kind == "boolean" and asserted <= {"type", "const"} and (
                const is _MISSING or isinstance(const, bool)):
            return _is_class(x, "_bool") if const is _MISSING else _is(x, _const(const))
        return None

    def accept_object(self, schema: dict[str, Any], asserted: set[str], x: ast.expr
                      ) -> ast.expr | None:
        """For an object of known fields each with a test (a group's entry, a location, a
        signature): a test true only when every keyword holds, else None."""
        known = schema.get("properties")
        required = schema.get("required", [])
        if not asserted <= _OBJECT or schema.get("additionalProperties") is not False or (
                not isinstance(known, dict) or not isinstance(required, list)
                or not set(required) <= set(known)):
            return None
        tests: list[ast.expr] = [_is_class(x, "_dict"), _call(
            _attr(self.value(frozenset(known)), "issuperset"), x)]
        for name, sub in known.items():
            y = self.fresh("v")
            holds = self.accept(sub, y) if isinstance(sub, dict) else None
            if holds is None:
                return None
            read = ast.NamedExpr(target=_store(y), value=_call(
                _attr(x, "get"), _const(name), _name("_MISSING")))
            tests.append(_and(ast.Compare(left=read, ops=[ast.IsNot()],
                                          comparators=[_name("_MISSING")]), holds)
                         if name in required else
                         _or(_is(read, _name("_MISSING")), holds))
        return _and(*tests)

    def keyword(self, kw: str, value: Any, schema: dict[str, Any], v: str, where: _Where
                ) -> list[ast.stmt]:
        x = _name(v)
        if kw == "type":
            kinds = value if isinstance(value, list) else [value]
            tests = [self.type_test(k, x) for k in kinds]
            return _if(_not(_or(*tests)) if tests else _const(True),
                       [self.error(where, "type", self.limit(value))])
        if kw == "properties":
            if not isinstance(value, dict):
                raise Unsupported(kw)
            body: list[ast.stmt] = []
            for name, sub in value.items():
                y = self.fresh("v")
                inner = self.schema(sub, y, where.child(_const(name)))
                if inner:
                    body += [_assign(y, _call(_attr(x, "get"), _const(name), _name("_MISSING"))),
                             *_if(ast.Compare(left=_name(y), ops=[ast.IsNot()],
                                              comparators=[_name("_MISSING")]), inner)]
            return _if(_is_class(x, "_dict"), body)
        if kw == "patternProperties":
            if not isinstance(value, dict):
                raise Unsupported(kw)
            body = []
            for pattern, sub in value.items():
                k, y = self.fresh("k"), self.fresh("v")
                inner = self.schema(sub, y, where.child(_name(k)))
                if inner:
                    body.append(ast.For(
                        target=ast.Tuple(elts=[_store(k), _store(y)], ctx=ast.Store()),
                        iter=_call(_attr(x, "items")),
                        body=_if(_call(_attr(self.value(re.compile(pattern)), "search"),
                                       _name(k)), inner), orelse=[], lineno=0))
            return _if(_is_class(x, "_dict"), body)
        if kw == "additionalProperties":
            return self.additional(value, schema, x, where)
        if kw == "required":
            if not isinstance(value, list):
                raise Unsupported(kw)
            missing = [s for name in value for s in _if(
                _compare(_const(name), ast.NotIn(), x),
                [self.error(where.child(_const(name)), "required")])]
            return _if(_is_class(x, "_dict"), missing)
        if kw == "items":
            if "prefixItems" in schema or value is False:
                raise Unsupported(kw)
            i, y = self.fresh("i"), self.fresh("v")
            inner = self.schema(value, y, where.child(_name(i)))
            return _if(_is_class(x, "_list"), [ast.For(
                target=ast.Tuple(elts=[_store(i), _store(y)], ctx=ast.Store()),
                iter=_call(_name("_enumerate"), x), body=inner, orelse=[], lineno=0)]
                if inner else [])
        if kw == "enum":
            if not isinstance(value, list):
                raise Unsupported(kw)
            strings = [o for o in value if isinstance(o, str)]
            if len(strings) == len(value):
                # equal() of a string is ==, and nothing else equals a string
                holds = _and(_is_class(x, "_str"),
                             _compare(x, ast.In(), self.value(frozenset(value))))
            else:
                holds = _call(_name("_enum_holds"), x, self.value(value))
            # A choice that may be sent as its number is named once, by its value.
            return _if(_not(holds), [self.error(where, "enum", self.limit(
                strings if strings else value))])
        if kw == "const":
            holds = _is(x, _const(value)) if isinstance(value, bool) else _call(
                _name("_equal"), x, self.value(value))
            if value is True:  # not a boolean at all: the type error says it
                return _if(_is_class(x, "_bool"), _if(_not(holds),
                                                       [self.error(where, "must_tick")]))
            return _if(_not(holds), [self.error(where, "invalid", {"keyword": _const(kw)})])
        if kw in _BOUNDS:
            if not _plain_number(value):
                raise Unsupported(kw)
            return _if(_and(_number(x), _compare(x, _BOUNDS[kw](), _const(value))),
                       [self.error(where, kw, self.limit(value))])
        if kw in _SIZES:
            if not _plain_int(value):
                raise Unsupported(kw)
            cls, op = _SIZES[kw]
            return _if(_and(_is_class(x, cls), _compare(_call(_name("_len"), x), op(),
                                                        _const(value))),
                       [self.error(where, kw, self.limit(value))])
        if kw == "uniqueItems":
            if not value:
                return []
            return _if(_and(_is_class(x, "_list"), _not(_call(_name("_unique"), x))),
                       [self.error(where, kw)])
        if kw == "pattern":
            if not isinstance(value, str):
                raise Unsupported(kw)
            search = _attr(self.value(re.compile(value)), "search")
            return _if(_and(_is_class(x, "_str"), _not(_call(search, x))),
                       [self.error(where, kw)])
        if kw == "format":
            test = _format_test(value) if isinstance(value, str) else None
            if test is None:
                return []
            return _if(_not(_call(self.value(test), x)), [self.error(where, kw)])
        if kw in ("formatMinimum", "formatMaximum"):
            if not isinstance(value, str):
                return []
            fails = "_date_below" if kw == "formatMinimum" else "_date_above"
            return _if(_call(_name(fails), x, _const(value)),
                       [self.error(where, kw, self.limit(value))])
        if kw == "anyOf":
            if not isinstance(value, list) or not value:
                raise Unsupported(kw)
            path = self.fresh("p")
            branches = [self.function(self.fresh("_branch"), sub, _Where(_name(path), ()),
                                      [path]) for sub in value]
            # Each branch lists its errors; the first with none settles it.
            here = where.expr()
            return [_assign(path, here),
                    *_if(_and(*[_call(_name(b), x, _name(path)) for b in branches]),
                         [self.error(_Where(_name(path), ()), kw)])]
        raise Unsupported(kw)

    def type_test(self, kind: Any, x: ast.expr) -> ast.expr:
        if kind in _CLASSES:
            return _is_class(x, _CLASSES[kind])
        if kind == "number":
            return _number(x)
        if kind == "integer":
            return _or(_is_class(x, "_int"),
                       _and(_is_class(x, "_float"), _call(_attr(x, "is_integer"))))
        if kind == "null":
            return _is(x, _const(None))
        raise Unsupported(repr(kind))

    def additional(self, value: Any, schema: dict[str, Any], x: ast.expr, where: _Where
                   ) -> list[ast.stmt]:
        if value is True:
            return []
        known = schema.get("properties") or {}
        patterns = schema.get("patternProperties") or {}
        if not isinstance(known, dict) or not isinstance(patterns, dict):
            raise Unsupported("additionalProperties")
        k = self.fresh("k")
        # jsonschema joins the patterns into one (utils.find_additional_properties)
        extra: ast.expr = _compare(_name(k), ast.NotIn(), self.value(frozenset(known)))
        if patterns:
            search = _attr(self.value(re.compile("|".join(patterns))), "search")
            extra = _and(extra, _not(_call(search, _name(k))))
        if isinstance(value, dict):
            y = self.fresh("v")
            inner = self.schema(value, y, where.child(_name(k)))
            loop: list[ast.stmt] = [_assign(y, ast.Subscript(value=x, slice=_name(k),
                                                             ctx=ast.Load())), *inner]
        elif value is False:
            static = where.unknown_key()
            key: ast.expr = _const(static) if static is not None else (
                _call(_name("_unknown_key"), where.expr()))
            loop = [self.error(where.child(_name(k)), key)]
        else:
            raise Unsupported("additionalProperties")
        if isinstance(value, dict) and not loop[1:]:
            return []
        scan = ast.For(target=_store(k), iter=x, body=_if(extra, loop), orelse=[], lineno=0)
        # Most objects have only known keys: one set operation says so.
        superset = _call(_attr(self.value(frozenset(known)), "issuperset"), x)
        return _if(_is_class(x, "_dict"), [scan] if patterns else _if(_not(superset), [scan]))


def _same(a: ast.AST, b: ast.AST) -> bool:
    return ast.dump(a) == ast.dump(b)


def _merged(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """Keywords that test the same thing share the test: ``if T: A`` then ``if T: B`` is
    ``if T: A; B``, and ``if not T: A`` then ``if T: B`` is ``if T: B else: A`` (tests have
    no effects, and at most one of the two branches runs, so the errors keep their order)."""
    out: list[ast.stmt] = []
    for st in stmts:
        last = out[-1] if out else None
        if isinstance(st, ast.If) and isinstance(last, ast.If) and not st.orelse:
            if not last.orelse and _same(last.test, st.test):
                last.body = _merged([*last.body, *st.body])
                continue
            if not last.orelse and _same(last.test, _not(st.test)):
                out[-1] = ast.If(test=st.test, body=st.body, orelse=last.body)
                continue
            if last.orelse and not isinstance(last.test, ast.UnaryOp) and _same(
                    last.test, st.test):
                last.body = _merged([*last.body, *st.body])
                continue
        out.append(st)
    return out


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


_MISSING = _Missing()  # not in the object


def _plain_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _plain_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)
