"""The Unified Social Credit Code (统一社会信用代码) of GB 32100-2015: its check character and
the administrative division it carries. Pure: no clock, no database, never raises.

The code is 18 characters of the national charset (digits and the capitals without I, O,
S, V, Z): 1 the registration authority, 2 the kind of organisation, 3–8 the administrative
division (GB/T 2260), 9–17 the organisation code, 18 the check character: with the weights
below, ``check = 31 - (Σ value × weight mod 31)`` (31 counts as 0), written as that
character of the charset.

Lower case is not valid: the code is printed in capitals on the licence, and a rule must
give the same answer to the same value everywhere. A form that wants to be lenient upper-
cases what was typed before it stores or checks it (the verification flow does).
"""

from __future__ import annotations

from typing import Any

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUE = {ch: i for i, ch in enumerate(CHARSET)}
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18


def check_character(first17: str) -> str | None:
    """The check character of the first 17 characters, or None if they are not 17 of the
    charset."""
    if len(first17) != LENGTH - 1 or any(ch not in VALUE for ch in first17):
        return None
    total = sum(VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def uscc_valid(code: Any) -> bool:
    """Whether ``code`` is a well-formed USCC: 18 characters of the charset whose last is the
    check character of the others. Anything but a string is not (false, never an error)."""
    if not isinstance(code, str) or len(code) != LENGTH:
        return False
    return check_character(code[:-1]) == code[-1]


def uscc_region(code: Any) -> str | None:
    """The six-digit administrative division code (characters 3–8) of a valid USCC; null
    for anything else (an invalid code, or one whose division is not six digits)."""
    if not uscc_valid(code):
        return None
    region = str(code)[2:8]
    return region if region.isdigit() else None
