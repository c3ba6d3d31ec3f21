"""Periods as people write them: ``2026-11`` (a month), ``2026-Q4`` (a quarter), ``2026``
(a year), ``2026-W48`` (an ISO week). Dates are local days in the company's time zone.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from rounds.errors import InvalidInput, Problem

KINDS = ("week", "month", "quarter", "year")
_PATTERNS = {
    "month": re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
    "year": re.compile(r"^(\d{4})$"),
    "week": re.compile(r"^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$"),
}


class BadPeriod(InvalidInput, code="bad_period", title="Not a period"):
    """A period that is none of ``2026-11``, ``2026-Q4``, ``2026``, ``2026-W48``."""


def _bad(period: str) -> BadPeriod:
    message = (f"{period!r} is not a period: a month 2026-11, a quarter 2026-Q4, a year "
               "2026 or an ISO week 2026-W48")
    return BadPeriod(message, [Problem("/period", message, "bad_period")])


def kind_of(period: str) -> str:
    """``month``, ``quarter``, ``year`` or ``week``; :class:`BadPeriod` otherwise."""
    for kind, pattern in _PATTERNS.items():
        if pattern.match(period):
            return kind
    raise _bad(period)


def period_bounds(period: str) -> tuple[date, date]:
    """The first and the last day of a period (both included)."""
    kind = kind_of(period)
    match = _PATTERNS[kind].match(period)
    assert match is not None
    year = int(match.group(1))
    if not 1 <= year <= 9998:
        raise _bad(period)
    if kind == "year":
        return date(year, 1, 1), date(year, 12, 31)
    if kind == "month":
        month = int(match.group(2))
        return date(year, month, 1), _month_end(year, month)
    if kind == "quarter":
        q = int(match.group(2))
        return date(year, 3 * q - 2, 1), _month_end(year, 3 * q)
    week = int(match.group(2))
    try:
        first = date.fromisocalendar(year, week, 1)
    except ValueError:  # week 53 of a year that has 52
        raise _bad(period) from None
    return first, first + timedelta(days=6)


def _month_end(year: int, month: int) -> date:
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return nxt - timedelta(days=1)


def period_of(kind: str, day: date) -> str:
    """The period of ``kind`` that holds ``day``."""
    if kind == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if kind == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    if kind == "year":
        return f"{day.year:04d}"
    if kind == "week":
        iso = day.isocalendar()
        return f"{iso.year:04d}-W{iso.week:02d}"
    raise ValueError(f"no period kind {kind!r}")


def previous(period: str, n: int = 1) -> str:
    """The period ``n`` before this one, of the same kind."""
    kind = kind_of(period)
    first, _ = period_bounds(period)
    for _ in range(n):
        first = period_bounds(period_of(kind, first - timedelta(days=1)))[0]
    return period_of(kind, first)


def last_ones(kind: str, today: date, n: int) -> list[str]:
    """The ``n`` periods of ``kind`` that are over by ``today``, oldest first."""
    current = period_of(kind, today)
    return [previous(current, i) for i in range(n, 0, -1)]
