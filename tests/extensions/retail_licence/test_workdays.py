"""Working days: weekends, holidays and the weekends made working days, across month
and year ends; the statutory limit of 20 working days."""

from __future__ import annotations

from datetime import date

import pytest
from rounds_retail_licence import workdays as w


@pytest.mark.parametrize(("start", "n", "expected"), [
    (date(2026, 12, 1), 0, date(2026, 12, 1)),
    (date(2026, 12, 4), 1, date(2026, 12, 7)),  # Friday + 1: Monday
    (date(2026, 12, 5), 1, date(2026, 12, 7)),  # Saturday + 1: Monday
    (date(2026, 11, 27), 3, date(2026, 12, 2)),  # across the month end and a weekend
    (date(2026, 12, 30), 3, date(2027, 1, 4)),  # across the year end (2027: weekends only)
    (date(2026, 9, 30), 1, date(2026, 10, 8)),  # 国庆节: 1–7 October are holidays
    (date(2026, 10, 9), 1, date(2026, 10, 10)),  # Saturday 10 October is a working day
    (date(2026, 2, 13), 1, date(2026, 2, 14)),  # so is Saturday 14 February (春节调休)
    (date(2026, 12, 7), -1, date(2026, 12, 4)),  # counting back over a weekend
])
def test_add_working_days(start: date, n: int, expected: date) -> None:
    assert w.add_working_days(start, n) == expected


def test_the_statutory_limit_is_twenty_working_days() -> None:
    assert w.STATUTORY_WORKING_DAYS == 20
    assert w.deadline_for(date(2026, 12, 1)) == date(2026, 12, 29)
    # over 国庆节 (seven holidays) and the working Saturday after it
    # 29, 30 Sep; 8, 9, 10 (Saturday) Oct; then three weeks to Friday 30 October
    assert w.deadline_for(date(2026, 9, 28)) == date(2026, 10, 30)
    assert w.working_days_between(date(2026, 12, 1), date(2026, 12, 29)) == 20


def test_working_days_between_is_signed_and_skips_days_off() -> None:
    assert w.working_days_between(date(2026, 12, 4), date(2026, 12, 7)) == 1
    assert w.working_days_between(date(2026, 12, 7), date(2026, 12, 4)) == -1
    assert w.working_days_between(date(2026, 12, 5), date(2026, 12, 6)) == 0
    assert w.working_days_between(date(2026, 12, 31), date(2027, 1, 1)) == 1
    assert not w.is_working_day(date(2026, 10, 1))
    assert w.is_working_day(date(2026, 10, 10))
