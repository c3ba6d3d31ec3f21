"""Static analysis of rules: which data paths a rule reads, and which operations it uses.

Definition validation uses this to report a rule that names an unknown field, and scoring uses
it to order calculated values and visibility by their dependencies. The walk mirrors the
compiler's scopes: each ``map``/``filter``/``all``/``some``/``none`` pushes two levels (an
iteration context ``{"index": i}`` and the element), ``reduce`` pushes a context and
``{"current", "accumulator"}``, and a ``try`` fallback pushes a context and the error. So
``{"val": [[1], "index"]}`` reads nothing, and ``{"val": [[2], "x"]}`` inside one iteration
reads ``x`` of the data around it, exactly as the compiled rule would.

Paths are dotted; ``*`` stands for "each element of". A path that starts with ``?`` lies under
an element of a sequence that is not a plain data path (``map`` output, ``merge``, a literal
array...): it cannot be checked against the definition, and callers usually skip it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rounds.pointer import child as _child

UNKNOWN = "?"

_ITERATIONS = frozenset({"map", "filter", "all", "some", "none"})


@dataclass(frozen=True, slots=True)
class VarRead:
    """One read of the data by a rule.

    ``path``: dotted, ``*`` for each element of a sequence, a leading ``?`` when the sequence
    is not known statically; ``""`` is the whole data. ``pointer``: JSON pointer, inside the
    rule, of the ``var``/``val``/``exists`` object (or of the key string in ``missing``).
    ``dynamic``: the path is computed when the rule runs; ``path`` is then the known prefix.
    """

    path: str
    pointer: str
    dynamic: bool = False

    @property
    def unknown(self) -> bool:
        """Under a sequence that is not known statically (skip when checking field names)."""
        return self.path.startswith(UNKNOWN)

    @property
    def root(self) -> str:
        """The first segment: the item id (or ``ctx``, ``score``...) that the read starts at."""
        return self.path.split(".", 1)[0]


# A frame is what the data is at a point of the rule, as the compiler sees it:
#   ("data", base)    the data at `base` (a dotted path, "" the root, None unknown)
#   ("reduce", base)  {"current": element at `base`, "accumulator": ...}
#   ("none", None)    an iteration context or a try's error: no data is read through it
_Frame = tuple[str, str | None]
_ROOT: _Frame = ("data", "")
_NONE: _Frame = ("none", None)


def _join(base: str | None, keys: list[Any]) -> str:
    parts = [] if base == "" else [UNKNOWN if base is None else base]
    parts += [str(k) for k in keys]
    return ".".join(parts)


def _is_key(k: Any) -> bool:
    return isinstance(k, str | int) and not isinstance(k, bool)


def _path_in(frame: _Frame, keys: list[Any]) -> str | None:
    """The data path that reading ``keys`` from ``frame`` reaches; None when it reads nothing."""
    kind, base = frame
    if kind == "data":
        return _join(base, keys)
    if kind == "reduce" and keys and keys[0] == "current":
        return _join(base, keys[1:])
    return None  # accumulator, an index, an error: not the submitted data


def _scope(frames: tuple[_Frame, ...], up: int) -> _Frame:
    return frames[max(0, len(frames) - 1 - up)]


class _Walker:
    def __init__(self) -> None:
        self.reads: list[VarRead] = []
        self.ops: set[str] = set()

    def read(self, frame: _Frame, keys: list[Any], pointer: str, dynamic: bool = False) -> None:
        path = _path_in(frame, keys)
        if path is not None:
            self.reads.append(VarRead(path, pointer, dynamic))

    def walk(self, node: Any, ptr: str, frames: tuple[_Frame, ...]) -> None:
        if isinstance(node, list):
            for i, x in enumerate(node):
                self.walk(x, _child(ptr, i), frames)
            return
        if not isinstance(node, dict) or len(node) != 1:
            return  # a literal (or an object the compiler rejects)
        op, args = next(iter(node.items()))
        self.ops.add(op)
        optr = _child(ptr, op)
        if op == "var":
            self.var(args, ptr, optr, frames)
        elif op in ("val", "exists"):
            self.val(args, ptr, optr, frames)
        elif op in ("missing", "missing_some"):
            self.missing(op, args, optr, frames)
        elif op == "preserve":
            return
        elif op in _ITERATIONS and isinstance(args, list) and len(args) == 2:
            self.walk(args[0], _child(optr, 0), frames)
            element = ("data", self.element(args[0], frames))
            self.walk(args[1], _child(optr, 1), (*frames, _NONE, element))
        elif op == "reduce" and isinstance(args, list) and len(args) in (2, 3):
            self.walk(args[0], _child(optr, 0), frames)
            if len(args) == 3:
                self.walk(args[2], _child(optr, 2), frames)
            acc = ("reduce", self.element(args[0], frames))
            self.walk(args[1], _child(optr, 1), (*frames, _NONE, acc))
        elif op == "try" and isinstance(args, list):
            for i, a in enumerate(args):
                self.walk(a, _child(optr, i), frames if i == 0 else (*frames, _NONE, _NONE))
        else:
            self.walk(args, optr, frames)

    # -- the reading operations -----------------------------------------------------------

    def var(self, args: Any, ptr: str, optr: str, frames: tuple[_Frame, ...]) -> None:
        path = args
        if isinstance(args, list):
            if not args:
                self.read(frames[-1], [], ptr)
                return
            path = args[0]
            if isinstance(path, dict | list):  # computed path: the walk below covers args
                pass
            elif len(args) > 1:
                self.walk(args[1], _child(optr, 1), frames)
        if isinstance(path, dict | list):
            self.walk(args, optr, frames)
            self.read(frames[-1], [], ptr, dynamic=True)
            return
        if path is None or path == "":
            self.read(frames[-1], [], ptr)
            return
        if isinstance(path, bool) or not isinstance(path, str | int | float):
            return
        keys: list[Any] = path.split(".") if isinstance(path, str) else [path]
        self.read(frames[-1], keys, ptr)

    def val_spec(self, args: Any) -> tuple[int, list[Any]] | None:
        """(levels up, keys) of a static val/exists argument; None when computed or invalid."""
        if isinstance(args, str | int | float) and not isinstance(args, bool):
            return 0, [args]
        if args is None:
            return 0, []
        if not isinstance(args, list):
            return None
        keys = list(args)
        up = 0
        if keys and isinstance(keys[0], list):
            level = keys[0]
            if len(level) != 1 or not isinstance(level[0], int) or isinstance(level[0], bool):
                return None
            up = abs(level[0])
            keys = keys[1:]
        if all(_is_key(k) for k in keys):
            return up, keys
        return None

    def val(self, args: Any, ptr: str, optr: str, frames: tuple[_Frame, ...]) -> None:
        spec = self.val_spec(args)
        if spec is not None:
            up, keys = spec
            self.read(_scope(frames, up), keys, ptr)
            return
        if isinstance(args, list) and args and isinstance(args[0], list):
            return  # a malformed scope: the compiler rejects it
        self.walk(args, optr, frames)
        prefix: list[Any] = []
        for k in args if isinstance(args, list) else []:
            if not _is_key(k):
                break
            prefix.append(k)
        self.read(frames[-1], prefix, ptr, dynamic=True)

    def missing(self, op: str, args: Any, optr: str, frames: tuple[_Frame, ...]) -> None:
        here = frames[-1]
        if isinstance(args, dict) and args:  # the key list is computed
            self.walk(args, optr, frames)
            self.read(here, [], optr, dynamic=True)
            return
        nodes = list(enumerate(args)) if isinstance(args, list) else [(None, args)]
        if op == "missing_some":
            for i, node in nodes:
                p = optr if i is None else _child(optr, i)
                if i == 1 and isinstance(node, list):
                    self.keys(node, p, here, frames)
                else:
                    self.walk(node, p, frames)
                    if i == 1 and isinstance(node, dict):
                        self.read(here, [], p, dynamic=True)
            return
        if nodes and isinstance(nodes[0][1], list):  # {"missing": [["a", "b"]]}
            self.keys(nodes[0][1], _child(optr, 0), here, frames)
            for i, node in nodes[1:]:
                self.walk(node, _child(optr, i or 0), frames)
            return
        for i, node in nodes:
            p = optr if i is None else _child(optr, i)
            self.key(node, p, here, frames)

    def keys(self, nodes: list[Any], ptr: str, here: _Frame, frames: tuple[_Frame, ...]) -> None:
        for j, k in enumerate(nodes):
            self.key(k, _child(ptr, j), here, frames)

    def key(self, node: Any, ptr: str, here: _Frame, frames: tuple[_Frame, ...]) -> None:
        if isinstance(node, str):
            self.read(here, node.split("."), ptr)
        elif isinstance(node, int | float) and not isinstance(node, bool):
            self.read(here, [node], ptr)
        elif isinstance(node, dict) and node:
            self.walk(node, ptr, frames)
            self.read(here, [], ptr, dynamic=True)

    # -- sequences ------------------------------------------------------------------------

    def element(self, seq: Any, frames: tuple[_Frame, ...]) -> str | None:
        """The path of each element of ``seq``; None when the sequence is not a data path."""
        path = self.static_path(seq, frames)
        if path is not None:
            return _join(path, ["*"])
        if isinstance(seq, dict) and len(seq) == 1:
            op, args = next(iter(seq.items()))
            if op == "filter" and isinstance(args, list) and len(args) == 2:
                return self.element(args[0], frames)  # filter keeps elements as they are
        return None

    def static_path(self, node: Any, frames: tuple[_Frame, ...]) -> str | None:
        if not isinstance(node, dict) or len(node) != 1:
            return None
        op, args = next(iter(node.items()))
        if op == "var":
            path = args[0] if isinstance(args, list) and args else args
            if isinstance(args, list) and not args:
                path = None
            if path is None or path == "":
                return _path_in(frames[-1], [])
            if isinstance(path, str):
                return _path_in(frames[-1], path.split("."))
            if isinstance(path, int | float) and not isinstance(path, bool):
                return _path_in(frames[-1], [path])
            return None
        if op == "val":
            spec = self.val_spec(args)
            if spec is None:
                return None
            up, keys = spec
            return _path_in(_scope(frames, up), keys)
        return None


def _walk(rule: Any) -> _Walker:
    w = _Walker()
    w.walk(rule, "", (_ROOT,))
    return w


def reads(rule: Any) -> list[VarRead]:
    """Every read of the data in ``rule``, in document order.

    ``{"some": [{"var": "products"}, {">": [{"var": "qty"}, 0]}]}`` reads ``products`` (at
    ``/some/0``) and ``products.*.qty`` (at ``/some/1/>/0``).
    """
    return _walk(rule).reads


def operations(rule: Any) -> set[str]:
    """The names of the operations ``rule`` uses (``var`` included; not inside ``preserve``)."""
    return _walk(rule).ops
