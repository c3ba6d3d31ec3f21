"""The draw is fair: over many seeds every eligible site is drawn equally often (a chi-squared
test at a fixed significance), whatever the order of the rows, and the inspectors share the
work. The seeds come from a counter, so the test is deterministic: it cannot flake."""

from __future__ import annotations

import hashlib
import math
import random
from collections import Counter
from typing import Any

import msgspec

from rounds.draws import DrawInputs, check_spec, draw
from rounds.draws.draw import Inspector, OrgUnit, Site

DRAWS = 2000
SITES = 40
SAMPLE = 8
INSPECTORS = 5
# The 0.1% significance: a fair draw fails once in a thousand seed sets, and these seeds
# are fixed. z is the standard normal's 99.9% quantile.
Z_999 = 3.0902
# chi-squared's 99.9% quantile for 39 and 4 degrees of freedom, from the table (NIST
# e-Handbook 1.3.6.7.4); test_the_critical_values_are_the_table_ones checks them.
CHI2_999 = {39: 72.055, 4: 18.467}


def wilson_hilferty(df: int, z: float = Z_999) -> float:
    """The chi-squared quantile for ``df`` degrees of freedom, approximately (Wilson and
    Hilferty, 1931): the cube root of chi2/df is nearly normal."""
    v = 2 / (9 * df)
    return df * (1 - v + z * math.sqrt(v)) ** 3


def chi2(observed: list[int], expected: list[float]) -> float:
    return sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True))


def seed(n: int) -> bytes:
    return hashlib.sha256(f"rounds draws fairness {n}".encode()).digest()


def inputs(sample: dict[str, Any], grades: str = "A", team_size: int = 1) -> DrawInputs:
    return DrawInputs(
        spec=check_spec({"standard": "s", "population": {}, "sample": sample,
                         "pool": {"roles": ["inspector"]}, "team_size": team_size,
                         "period": {"start": "2026-03-01", "end": "2026-03-31"}}),
        org_units=[OrgUnit(id=1)],
        sites=[Site(id=i, code=f"S{i}", org_unit=1, kind="shop",
                    grade=grades[i % len(grades)]) for i in range(1, SITES + 1)],
        inspectors=[Inspector(id=100 + j, org_unit=1, roles=["inspector"])
                    for j in range(INSPECTORS)])


def samples(inp: DrawInputs) -> list[list[int]]:
    return [[d.site for s in draw(inp, seed(n)).strata for d in s.drawn]
            for n in range(DRAWS)]


def test_the_critical_values_are_the_table_ones() -> None:
    for df, value in CHI2_999.items():
        # The approximation is within 1.5% at 4 degrees of freedom, closer with more.
        assert abs(wilson_hilferty(df) - value) < 0.015 * value


def test_every_site_is_drawn_equally_often() -> None:
    counts = Counter(site for drawn in samples(inputs({"count": SAMPLE})) for site in drawn)
    observed = [counts[i] for i in range(1, SITES + 1)]
    assert sum(observed) == DRAWS * SAMPLE
    expected = DRAWS * SAMPLE / SITES  # 400
    assert chi2(observed, [expected] * SITES) < CHI2_999[SITES - 1], observed


def test_the_order_of_the_rows_changes_no_sample() -> None:
    inp = inputs({"count": SAMPLE})
    reversed_rows = msgspec.structs.replace(inp, sites=inp.sites[::-1])
    shuffled = msgspec.structs.replace(
        inp, sites=random.Random(19).sample(inp.sites, len(inp.sites)))
    first = samples(inp)
    assert samples(reversed_rows) == first
    assert samples(shuffled) == first


def test_every_site_is_drawn_equally_often_within_its_stratum() -> None:
    # Grades: A 10 sites, B 30 (i % 4 == 0 is A); 8 drawn, 2 from A and 6 from B.
    inp = inputs({"count": SAMPLE, "stratify_by": "grade"}, grades="ABBB")
    result = draw(inp, seed(0))
    assert [(s.key, s.eligible, s.allocated) for s in result.strata] == [
        ("A", 10, 2), ("B", 30, 6)]
    counts = Counter(site for drawn in samples(inp) for site in drawn)
    observed = [counts[i] for i in range(1, SITES + 1)]
    expected = [DRAWS * (2 / 10 if i % 4 == 0 else 6 / 30) for i in range(1, SITES + 1)]
    assert chi2(observed, expected) < CHI2_999[SITES - 1], observed


def test_the_inspectors_share_the_work() -> None:
    for team_size in (1, 2):
        inp = inputs({"count": SAMPLE}, team_size=team_size)
        load: Counter[int] = Counter()
        leads: Counter[int] = Counter()
        for n in range(DRAWS):
            for stratum in draw(inp, seed(n)).strata:
                for d in stratum.drawn:
                    load.update(d.team)
                    leads[d.team[0]] += 1
        ids = [100 + j for j in range(INSPECTORS)]
        expected = DRAWS * SAMPLE * team_size / INSPECTORS
        assert chi2([load[i] for i in ids], [expected] * INSPECTORS) < CHI2_999[4], load
        # Who leads the team is fair too.
        lead_share = DRAWS * SAMPLE / INSPECTORS
        assert chi2([leads[i] for i in ids], [lead_share] * INSPECTORS) < CHI2_999[4], leads
