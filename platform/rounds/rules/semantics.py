"""JavaScript value semantics that JsonLogic inherits: truthiness, coercion, equality, order.

These are the slow, general paths. Compiled rules call them only when the types of the
operands are not known to be simple (see ``compiler``), so they favour being right over fast.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from rounds.errors import RuleEvaluationError

NAN_ERROR = {"type": "NaN"}
INVALID_ARGUMENTS = {"type": "Invalid Arguments"}
NAN = float("nan")

# JavaScript's Number() on strings: decimal with optional exponent, or 0x/0o/0b integers,
# or Infinity, all with surrounding white space; anything else is NaN.
_JS_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_JS_RADIX = re.compile(r"0([xXoObB])([0-9a-fA-F]+)\Z")
_RADIX = {"x": 16, "o": 8, "b": 2}


def nan() -> RuleEvaluationError:
    return RuleEvaluationError(dict(NAN_ERROR))


def invalid() -> RuleEvaluationError:
    return RuleEvaluationError(dict(INVALID_ARGUMENTS))


def truthy(v: Any) -> bool:
    """JsonLogic truthiness: JavaScript's, except that an empty array is false."""
    t = v.__class__
    if t is bool:
        return v  # type: ignore[no-any-return]
    if t is dict:
        return True
    if t is float:
        return v == v and v != 0.0  # type: ignore[no-any-return]
    return bool(v)


def is_number(v: Any) -> bool:
    t = v.__class__
    return t is int or t is float


def to_number(v: Any) -> float | int:
    """JavaScript's ToNumber; NaN for what cannot be a number."""
    t = v.__class__
    if t is int or t is float:
        return v  # type: ignore[no-any-return]
    if t is bool:
        return 1 if v else 0
    if v is None:
        return 0
    if t is str:
        s = v.strip()
        if not s:
            return 0
        if _JS_DECIMAL.match(s):
            f = float(s)
            return int(f) if f.is_integer() and abs(f) < 2**53 else f
        m = _JS_RADIX.match(s)
        if m:
            try:
                return int(m.group(2), _RADIX[m.group(1).lower()])
            except ValueError:
                return NAN
        if s in ("Infinity", "+Infinity"):
            return math.inf
        if s == "-Infinity":
            return -math.inf
        return NAN
    if t is list:
        return to_number(to_primitive(v))
    return NAN


def number_to_string(n: float | int) -> str:
    """JavaScript's Number.prototype.toString: the shortest digits that round-trip, written
    positionally from 1e-6 up to 1e21 and in exponent form outside (1e+21, 1.5e-7)."""
    if n.__class__ is int and abs(n) < 2**53:
        return str(n)
    n = float(n)
    if n != n:
        return "NaN"
    if n in (math.inf, -math.inf):
        return "Infinity" if n > 0 else "-Infinity"
    if n == 0:
        return "0"
    digits = Decimal(repr(n))  # repr gives the shortest round-tripping digits, like JS
    if 1e-6 <= abs(n) < 1e21:
        text = format(digits, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    sign, coefficient, exponent = digits.normalize().as_tuple()
    mantissa = "".join(map(str, coefficient))
    power = int(exponent) + len(mantissa) - 1
    body = mantissa[0] + ("." + mantissa[1:] if len(mantissa) > 1 else "")
    return f"{'-' if sign else ''}{body}e{'+' if power >= 0 else '-'}{abs(power)}"


def to_string(v: Any) -> str:
    """JavaScript's ToString."""
    t = v.__class__
    if t is str:
        return v  # type: ignore[no-any-return]
    if t is bool:
        return "true" if v else "false"
    if v is None:
        return "null"
    if t is int or t is float:
        return number_to_string(v)
    if t is list:
        return ",".join("" if x is None else to_string(x) for x in v)
    if t is dict:
        return "[object Object]"
    return str(v)


def to_primitive(v: Any) -> Any:
    t = v.__class__
    if t is list or t is dict:
        return to_string(v)
    return v


def to_number_strict(v: Any) -> float | int:
    """ToNumber as the JsonLogic specification has it: arrays and objects are NaN."""
    t = v.__class__
    if t is list or t is dict:
        return NAN
    return to_number(v)


def _numeric_pair(a: Any, b: Any) -> tuple[float | int, float | int]:
    x, y = to_number_strict(a), to_number_strict(b)
    if x != x or y != y:
        raise nan()
    return x, y


def loose_eq(a: Any, b: Any) -> bool:
    """``==``: equal values of one type, else compared as numbers (NaN is an error).

    The specification (2024) differs from JavaScript here: ``null == 0`` is true, and an
    array, an object or a non-numeric string compared with a number raises NaN. We keep one
    practical exception, documented in docs/rules.md: null compared with a non-numeric string
    is false rather than an error, so that "answer == 'yes'" on an unanswered item is false.
    """
    ta, tb = a.__class__, b.__class__
    if (ta is int or ta is float) and (tb is int or tb is float):
        return bool(a == b)
    if ta is list or ta is dict or tb is list or tb is dict:
        raise nan()
    if ta is tb:
        return bool(a == b)
    if (a is None and tb is str) or (b is None and ta is str):
        s = b if a is None else a
        if to_number(s) != to_number(s):
            return False
    x, y = _numeric_pair(a, b)
    return x == y


def strict_eq(a: Any, b: Any) -> bool:
    """``===``: same type and value (numbers are one type); arrays and objects by identity."""
    ta, tb = a.__class__, b.__class__
    if (ta is int or ta is float) and (tb is int or tb is float):
        return bool(a == b)
    if ta is not tb:
        return False
    if ta is list or ta is dict:
        return a is b
    return bool(a == b)


def _relational(a: Any, b: Any) -> tuple[Any, Any]:
    """Operands of < and friends: two strings compare as strings, all else as numbers."""
    if a.__class__ is str and b.__class__ is str:
        return a, b
    return _numeric_pair(a, b)


def lt(a: Any, b: Any) -> bool:
    x, y = _relational(a, b)
    return bool(x < y)


def le(a: Any, b: Any) -> bool:
    x, y = _relational(a, b)
    return bool(x <= y)


def gt(a: Any, b: Any) -> bool:
    x, y = _relational(a, b)
    return bool(x > y)


def ge(a: Any, b: Any) -> bool:
    x, y = _relational(a, b)
    return bool(x >= y)


def number_or_raise(v: Any) -> float | int:
    n = to_number_strict(v)
    if n != n:
        raise nan()
    return n


def checked(n: float | int) -> float | int:
    """Arithmetic results: NaN is an error, and whole floats come back as int like JSON."""
    if n.__class__ is float:
        if n != n:
            raise nan()
        if n.is_integer() and abs(n) < 2**53:
            return int(n)
    return n


def add(*args: Any) -> float | int:
    total: float | int = 0
    for a in args:
        total += a if a.__class__ is int or a.__class__ is float else number_or_raise(a)
    return checked(total)


def multiply(*args: Any) -> float | int:
    total: float | int = 1
    for a in args:
        total *= a if a.__class__ is int or a.__class__ is float else number_or_raise(a)
    return checked(total)


def subtract(*args: Any) -> float | int:
    if not args:
        raise invalid()
    first = number_or_raise(args[0])
    if len(args) == 1:
        return checked(-first)
    for a in args[1:]:
        first -= number_or_raise(a)
    return checked(first)


def _divided(nums: list[float | int],
             by: Callable[[float | int, float | int], float | int]) -> float | int:
    """The first number divided (``by``) by each of the others in turn; by zero is NaN."""
    result = nums[0]
    for n in nums[1:]:
        if n == 0:
            raise nan()
        result = by(result, n)
    return checked(result)


def divide(*args: Any) -> float | int:
    if not args:
        raise invalid()
    nums = [number_or_raise(a) for a in args]
    if len(nums) == 1:
        nums.insert(0, 1)
    return _divided(nums, operator.truediv)


def modulo(*args: Any) -> float | int:
    if len(args) < 2:
        raise invalid()
    # math.fmod: JavaScript's % keeps the dividend's sign
    return _divided([number_or_raise(a) for a in args], math.fmod)


def _numbers(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The arguments of max and min: at least one, and numbers only."""
    if not args or not all(is_number(a) for a in args):
        raise invalid()
    return args


def maximum(*args: Any) -> Any:
    return max(_numbers(args))


def minimum(*args: Any) -> Any:
    return min(_numbers(args))


def cat(*args: Any) -> str:
    return "".join(to_string(a) for a in args if a is not None)


def substr(source: Any = None, start: Any = 0, length: Any = None, *_: Any) -> str:
    s = to_string(source)
    n = len(s)
    b = int(to_number(start) or 0)
    if b < 0:
        b = max(0, n + b)
    if length is None:
        return s[b:]
    ln = int(to_number(length) or 0)
    end = n + ln if ln < 0 else b + ln
    return s[b:end]


def contains(needle: Any = None, haystack: Any = None, *_: Any) -> bool:
    t = haystack.__class__
    if t is str:
        return to_string(needle) in haystack
    if t is list:
        return any(strict_eq(needle, x) for x in haystack)
    return False


def merge(*args: Any) -> list[Any]:
    out: list[Any] = []
    for a in args:
        if a.__class__ is list:
            out.extend(a)
        else:
            out.append(a)
    return out


def as_array(v: Any) -> Sequence[Any]:
    """What map, filter and reduce walk: arrays as they are, nothing for anything else."""
    return v if v.__class__ is list else ()


def strict_array(v: Any) -> list[Any]:
    """What all, some and none walk: an array, or the specification's Invalid Arguments."""
    if v.__class__ is not list:
        raise invalid()
    return v


def coalesce(*args: Any) -> Any:
    for a in args:
        if a is not None:
            return a
    return None


def _step(data: Any, key: Any) -> tuple[bool, Any]:
    """One step of a path: (found, value)."""
    t = data.__class__
    if t is dict:
        k = key if key.__class__ is str else to_string(key)
        if k in data:
            return True, data[k]
        return False, None
    if t is list or t is str:
        if key.__class__ is bool:
            return False, None
        try:
            i = int(key)
        except (TypeError, ValueError):
            return False, None
        if 0 <= i < len(data) and (key.__class__ is not str or str(i) == key):
            return True, data[i]
        return False, None
    return False, None


def var_path(data: Any, path: Any, default: Any = None) -> Any:
    """Legacy ``var``: a dotted path (or a number) into the data; default when not found."""
    if path is None or path == "" or path == []:
        return data
    keys = path.split(".") if path.__class__ is str else [path]
    for k in keys:
        if data is None:
            return default
        found, data = _step(data, k)
        if not found:
            return default
    return data


def var_dynamic(data: Any, spec: Any) -> Any:
    """``var`` whose argument was computed: ``path`` or ``[path, default]``."""
    if spec.__class__ is list:
        if not spec:
            return data
        return var_path(data, spec[0], spec[1] if len(spec) > 1 else None)
    return var_path(data, spec)


def _follow(data: Any, keys: Sequence[Any]) -> tuple[bool, Any]:
    """(found, value) at the end of ``keys``, each one key (no dots)."""
    for k in keys:
        found, data = _step(data, k)
        if not found:
            return False, None
    return True, data


def val_path(data: Any, keys: Sequence[Any]) -> Any:
    """``val``: not found is null."""
    return _follow(data, keys)[1]


def exists_path(data: Any, keys: Sequence[Any]) -> bool:
    return _follow(data, keys)[0]


def missing(data: Any, *keys: Any) -> list[Any]:
    if keys and keys[0].__class__ is list:
        keys = tuple(keys[0])
    out = []
    for k in keys:
        v = var_path(data, k, None)
        if v is None or v == "":
            out.append(k)
    return out


def missing_some(data: Any, need: Any = 0, keys: Any = (), *_: Any) -> list[Any]:
    keys = list(keys) if keys.__class__ is list else []
    absent = missing(data, *keys)
    if len(keys) - len(absent) >= to_number(need):
        return []
    return absent


def throw(error: Any) -> RuleEvaluationError:
    return RuleEvaluationError(error)
