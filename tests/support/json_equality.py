"""JSON-typed equality for comparing rule results (the conformance runner's ``strict_eq``)."""

from __future__ import annotations

import math
from typing import Any


def json_equal(got: Any, exp: Any, *, exact: bool = False) -> bool:
    """Equal as JSON values: booleans are not numbers, ``1 == 1.0``, lists and objects deeply.

    Floats agree within 1e-9 (relative), or to the bit with ``exact`` (the Python/browser
    parity vectors, where distance_m's rounding absorbs the last-bit differences of sin/cos).
    """
    if isinstance(exp, bool) or isinstance(got, bool):
        return type(got) is bool and type(exp) is bool and got == exp
    if exp is None or got is None:
        return got is None and exp is None
    if isinstance(exp, int | float):
        if not isinstance(got, int | float):
            return False
        if exact:
            return got == exp
        g, e = float(got), float(exp)
        if math.isnan(g) or math.isnan(e):
            return False
        return g == e or abs(g - e) <= 1e-9 * max(1.0, abs(e))
    if isinstance(exp, str):
        return isinstance(got, str) and got == exp
    if isinstance(exp, list):
        return (isinstance(got, list | tuple) and len(got) == len(exp)
                and all(json_equal(g, e, exact=exact) for g, e in zip(got, exp, strict=True)))
    if isinstance(exp, dict):
        return (isinstance(got, dict) and got.keys() == exp.keys()
                and all(json_equal(got[k], exp[k], exact=exact) for k in exp))
    return bool(got == exp)
