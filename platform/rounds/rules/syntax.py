"""The small Python-syntax builders the code generators share, and the one place where a
generated module becomes functions.

Three generators build Python from definitions: ``rules.compiler`` (JsonLogic rules),
``rules.generated`` (a version's evaluation) and ``forms.shape`` (the structural check of a
body). Each builds an ``ast`` tree node by node, with a definition's strings and numbers only
ever as ``ast.Constant``; :func:`functions` then compiles the tree and makes each function
straight from its code object, so nothing of the module runs but the functions when called.

May import: nothing of ``rounds``.
"""

from __future__ import annotations

import ast
import types
from typing import Any


def name(n: str) -> ast.Name:
    """Read the variable ``n``."""
    return ast.Name(id=n, ctx=ast.Load())


def store(n: str) -> ast.Name:
    """Assign to the variable ``n``."""
    return ast.Name(id=n, ctx=ast.Store())


def const(v: Any) -> ast.Constant:
    return ast.Constant(value=v)


def call(fn: str | ast.expr, *args: ast.expr) -> ast.Call:
    """``fn(*args)``; a string is the name of a function in the generated namespace."""
    return ast.Call(func=name(fn) if isinstance(fn, str) else fn, args=list(args), keywords=[])


def functions(module: ast.Module, filename: str, ns: dict[str, Any]
              ) -> dict[str, types.FunctionType]:
    """The functions the top level of ``module`` defines, by name, with ``ns`` as their
    globals. The module is compiled but never run: each function is made from its code object
    (with the defaults its definition gives as constants)."""
    ast.fix_missing_locations(module)
    code = compile(module, filename, "exec")
    defaults = {d.name: tuple(c.value for c in d.args.defaults if isinstance(c, ast.Constant))
                for d in module.body if isinstance(d, ast.FunctionDef)}
    return {c.co_name: types.FunctionType(c, ns, c.co_name, defaults.get(c.co_name) or None)
            for c in code.co_consts if isinstance(c, types.CodeType)}
