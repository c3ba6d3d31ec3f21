"""Domain operations: a typed registry that extension modules add to.

An operation has a name, how many arguments it takes, the kind of value it gives, and a
plain Python function of already-evaluated arguments. Operations never read a clock, a
database or the network: everything they need comes in the data, so a rule gives the same
answer wherever and whenever it is evaluated. The browser runs the same operations
(``forms/static/rules-operations.js``, registered with json-logic-engine by ``rules.js``),
and ``tests/conformance/parity.json`` holds the two to one answer.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from rounds.rules import semantics as js

# JsonLogic's own operations (the compiler implements them); a domain operation can't take
# one of these names.
JSONLOGIC_OPERATIONS = frozenset({
    "var", "val", "exists", "missing", "missing_some", "preserve", "log", "throw", "try",
    "if", "?:", "and", "or", "!", "!!", "==", "===", "!=", "!==", "<", "<=", ">", ">=",
    "map", "filter", "reduce", "all", "some", "none",
    "+", "-", "*", "/", "%", "max", "min", "cat", "substr", "in", "merge", "??",
})


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    function: Callable[..., Any]
    min_args: int
    max_args: int | None
    kind: str = "any"  # "num", "bool", "str", "list" or "any": lets the compiler pick fast paths
    description: str = ""


class OperationRegistry:
    """Named operations available to rules, beyond JsonLogic's own."""

    def __init__(self, parent: OperationRegistry | None = None) -> None:
        self._ops: dict[str, Operation] = {}
        self._parent = parent
        self._lock = threading.Lock()

    def register(self, operation: Operation) -> Operation:
        if operation.name in JSONLOGIC_OPERATIONS:
            raise ValueError(f"{operation.name!r} is a JsonLogic operation and cannot be replaced")
        with self._lock:
            if operation.name in self._ops:
                raise ValueError(f"operation {operation.name!r} is already registered")
            self._ops[operation.name] = operation
        return operation

    def get(self, name: str) -> Operation | None:
        op = self._ops.get(name)
        if op is None and self._parent is not None:
            return self._parent.get(name)
        return op

    def names(self) -> set[str]:
        own = set(self._ops)
        return own | self._parent.names() if self._parent else own

    def child(self) -> OperationRegistry:
        """A registry that sees these operations and may add its own (for an extension)."""
        return OperationRegistry(self)


# -- the built-in domain operations ---------------------------------------------------------

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)


def _point(v: Any) -> tuple[float, float] | None:
    if isinstance(v, dict):
        lat, lng = v.get("lat"), v.get("lng", v.get("lon"))
    elif isinstance(v, list) and len(v) >= 2:
        lat, lng = v[0], v[1]
    else:
        return None
    if not isinstance(lat, int | float) or not isinstance(lng, int | float):
        return None
    if isinstance(lat, bool) or isinstance(lng, bool):
        return None
    return float(lat), float(lng)


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle (haversine) distance in metres: the one formula of the server (rules,
    "nearest first", check-in radius), step for step what the browser's ``distanceM`` does;
    well under 0.5% off the ellipsoid, plenty for rounds."""
    p1, l1, p2, l2 = map(math.radians, (lat1, lng1, lat2, lng2))
    h = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin((l2 - l1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def distance_m(a: Any, b: Any) -> float | None:
    """Great-circle (haversine) distance in metres between two points; null if either is not one.

    A point is ``{"lat": .., "lng": ..}`` (as a GPS answer is) or ``[lat, lng]``.
    """
    p, q = _point(a), _point(b)
    if p is None or q is None:
        return None
    return round(haversine_m(*p, *q), 3)


def _day(v: Any) -> date | None:
    if not isinstance(v, str):
        return None
    try:
        if len(v) == 10:
            return date.fromisoformat(v)
        return datetime.fromisoformat(v.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def days_between(a: Any, b: Any) -> int | None:
    """Whole days from date ``a`` to date ``b`` (ISO dates or timestamps); null if either isn't."""
    x, y = _day(a), _day(b)
    if x is None or y is None:
        return None
    return (y - x).days


def count(values: Any = None, *more: Any) -> int:
    """How many: the length of a list, or (with several arguments) how many are truthy."""
    if more or not isinstance(values, list):
        return sum(1 for v in (values, *more) if js.truthy(v))
    return len(values)


def count_truthy(values: Any = None) -> int:
    """How many elements of a list are truthy (ticked checks, "yes" answers...)."""
    if not isinstance(values, list):
        return 0
    return sum(1 for v in values if js.truthy(v))


def total(values: Any = None, *more: Any) -> float | int:
    """The sum of a list of numbers (null elements skipped), or of the arguments."""
    items = values if isinstance(values, list) and not more else [values, *more]
    return js.add(*(v for v in items if v is not None))


def percentage(part: Any, whole: Any, digits: Any = 1) -> float | None:
    """``100 × part / whole``, rounded; null when the whole is zero or either is not a number."""
    p, w = js.to_number(part), js.to_number(whole)
    if p != p or w != w or w == 0:
        return None
    nd = int(digits) if js.is_number(digits) else 1
    return round(100 * p / w, nd)


default_registry = OperationRegistry()
for _op in (
    Operation("distance_m", distance_m, 2, 2, "any",
              "metres between two points {lat, lng} or [lat, lng]"),
    Operation("days_between", days_between, 2, 2, "any",
              "whole days from the first date to the second"),
    Operation("count", count, 1, None, "num",
              "length of a list, or how many arguments are truthy"),
    Operation("count_truthy", count_truthy, 1, 1, "num", "how many list elements are truthy"),
    Operation("sum", total, 1, None, "num", "sum of a list of numbers"),
    Operation("percentage", percentage, 2, 3, "any",
              "100 × part / whole, rounded (default 1 digit); null when whole is 0"),
):
    default_registry.register(_op)
