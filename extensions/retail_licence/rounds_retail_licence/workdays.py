"""Working days: the statutory time limit of a licence application is counted in them.

The limit is :data:`STATUTORY_WORKING_DAYS` (20) working days from acceptance (受理): the
online application is accepted the day it arrives, and the day of acceptance does not
count (day 1 is the next working day). A working day is Monday to Friday except the public
holidays in :data:`HOLIDAYS`, plus the weekend days the State Council makes working days
(调休, :data:`WORKING_WEEKENDS`). The lists are the published schedule for 2026 (国务院办公厅
关于2026年部分节假日安排的通知); a year not listed counts weekends only, so add the next
year's when it is published (a small, reviewed change of this module).

Pure: dates in, dates out.
"""

from __future__ import annotations

from datetime import date, timedelta

STATUTORY_WORKING_DAYS = 20
REMIND_WORKING_DAYS = 3  # the reviewer is reminded this many working days before the limit


def _days(*spans: tuple[str, str]) -> frozenset[date]:
    out: set[date] = set()
    for first, last in spans:
        d, end = date.fromisoformat(first), date.fromisoformat(last)
        while d <= end:
            out.add(d)
            d += timedelta(days=1)
    return frozenset(out)


HOLIDAYS: frozenset[date] = _days(
    ("2026-01-01", "2026-01-03"),  # 元旦
    ("2026-02-15", "2026-02-23"),  # 春节
    ("2026-04-04", "2026-04-06"),  # 清明节
    ("2026-05-01", "2026-05-05"),  # 劳动节
    ("2026-06-19", "2026-06-21"),  # 端午节
    ("2026-09-25", "2026-09-27"),  # 中秋节
    ("2026-10-01", "2026-10-07"),  # 国庆节
)
WORKING_WEEKENDS: frozenset[date] = frozenset(date.fromisoformat(d) for d in (
    "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"))


def is_working_day(d: date) -> bool:
    if d in WORKING_WEEKENDS:
        return True
    return d.weekday() < 5 and d not in HOLIDAYS


def add_working_days(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (``start`` itself never counts); ``n`` = 0
    is ``start``. Negative ``n`` counts back: the ``|n|``-th working day before."""
    d, step, left = start, (1 if n >= 0 else -1), abs(n)
    while left:
        d += timedelta(days=step)
        if is_working_day(d):
            left -= 1
    return d


def working_days_between(first: date, last: date) -> int:
    """Working days after ``first`` up to and including ``last`` (negative when ``last`` is
    before ``first``): how many are left until a deadline, or how many it is past by."""
    if last < first:
        return -working_days_between(last, first)
    count, d = 0, first
    while d < last:
        d += timedelta(days=1)
        count += is_working_day(d)
    return count


def deadline_for(accepted_on: date) -> date:
    """The statutory limit of an application accepted on ``accepted_on``."""
    return add_working_days(accepted_on, STATUTORY_WORKING_DAYS)
