"""Published scoring schemes, written as definition data, give exactly the published results.

Each scheme is a definition in ``tests/scoring/schemes/<id>.json``, written in the format
of docs/definitions.md and docs/scoring.md: no calculated item recomputes a score, and no
weight is written twice (each scoring item says its weight, or its choices their points,
once). For each, answer sets whose results were computed *by hand from the published rules*
(the arithmetic is in the comment above each case) are run through the rules engine
(``rounds.rules.standards.compile_standard(...).evaluate``) and through the real HTTP API
(``POST /api/forms/{id}/check`` on a ``rounds up`` server), and must agree to the bit.

The schemes and their sources:

1. ``food_hygiene_rating`` — a rating capped by its worst area. The UK Food Standards
   Agency's Food Hygiene Rating Scheme (FHRS) Brand Standard and its leaflet "Food hygiene
   rating scheme — how your rating is calculated": three areas scored from fixed steps,
   lower is better — hygienic food handling 0/5/10/15/20/25, cleanliness and condition of
   facilities and building 0/5/10/15/20/25, management of food safety 0/5/10/20/30. The
   rating comes from the total *and* the highest single area score:

       total score                 0–15   20   25–30   35–40   45–50   > 50
       highest permitted area score   5   10      10      15      20     –
       rating                         5    4       3       2       1     0

   A business gets the best rating whose two conditions both hold ("to get the top rating,
   you must score no more than 5 in each of the three areas"; a total of 15 with one area
   at 10 is a 4). So each level reads "total at most T and highest area at most H", in
   order 5 → 0; the total's column is an upper bound, not a range (15 with an area at 10
   holds in the 4 column although 15 is not 20). ``passed`` is the FSA's "broadly
   compliant" (rating 3 or better, i.e. no area above 10); an area above 10 is a failed item.

2. ``nyc_restaurant_inspection`` — demerits with a forced closure. New York City Department
   of Health and Mental Hygiene, "How we score and grade" (Restaurant Grading in New York
   City): each violation earns points, the lower the better; public health hazards at least
   7 points, critical violations at least 5, general violations at least 2 (we score each
   at its class's minimum, condition level I); 0–13 points is an A, 14–27 a B, 28 or more a
   C; a restaurant scoring 14 or more on an initial inspection is re-inspected, so only an A
   "passes" it. An imminent health hazard closes the restaurant whatever the score (FDA Food
   Code 8-404.11: "extended interruption of electrical or water service"...): here the water
   item ``forces`` the grade to "closed". An item marked N/A earns nothing and is out of the
   maximum. The re-inspection date must be on or after the inspection date (a check).

3. ``phq9`` — a banded questionnaire with string values. Kroenke, Spitzer & Williams, "The
   PHQ-9: validity of a brief depression severity measure", J Gen Intern Med 2001;16:606–13,
   and the PHQ instruction manual (Pfizer): nine items scored 0 "not at all", 1 "several
   days", 2 "more than half the days", 3 "nearly every day", summed to 0–27; severity 0–4
   minimal, 5–9 mild, 10–14 moderate, 15–19 moderately severe, 20–27 severe. Item 10
   (difficulty) is not scored. Any answer above 0 on item 9 (thoughts of self-harm) needs
   further assessment: a failed item. The choices' values are "0".."3" and ``points:
   "value"``; answers may be sent as strings or numbers and are kept as the strings.

4. ``brief_pain_inventory`` — sub-scales from answered items. Cleeland, The Brief Pain
   Inventory User Guide (2009), "How to score the BPI": pain severity is the mean of the four
   severity items (worst, least, average, now; the developers recommend all four), pain
   interference the mean of the seven interference items, usable "if more than 50%, or four
   of seven" are answered; the BPI has no total. Severity bands on the 0–10 scale (as the
   electronic Persistent Pain Outcomes Collaboration reports them, after Serlin et al., Pain
   1995;61:277–84): 0–4 mild, 5–6 moderate, 7–10 severe; a mean between the integer cut
   points takes the lower level (4.75 is mild, 6.5 moderate): severe is the band 7–10,
   moderate the rule "at least 5", mild "any other severity with a value".

5. ``retail_compliance_check`` — a checklist with one inverted item, in the percentage model
   with a pass mark. Each item is a duty the law sets a tobacco retailer, so the pass mark
   is 100%: the retail licence (Tobacco Monopoly Law of the PRC, art. 16), no counterfeit or
   smuggled cigarettes, a "no sales to minors" sign and asking buyers who may be under 18
   for ID (Law on the Protection of Minors, 2020, art. 59), prices marked (Price Law, art.
   13), and no tobacco advertising (Advertising Law, 2015, art. 22) — asked as "is there any
   tobacco advertising?", where "no" is the good answer (``good: "no"``). Whether buyers are
   asked for ID can only be judged when one comes in: the choice "none seen this time: don't
   know" has ``points: null`` and counts nowhere.

6. ``system_usability_scale`` — ``reverse`` on a scale. Brooke, "SUS: a 'quick and dirty'
   usability scale" (1996): ten items 1–5; odd items contribute the position minus 1, even
   items 5 minus the position; the sum times 2.5 is the score, 0–100. In the percentage
   model each item earns (v − 1)/4 of 1 point, the even items reversed, so the percentage
   *is* the SUS score. Grades: Sauro & Lewis's curved grading scale (Quantifying the User
   Experience, 2nd ed., 2016, table 8.5): A+ 84.1–100, A 80.8–84.0, A− 78.9–80.7, B+
   77.2–78.8, B 74.1–77.1, B− 72.6–74.0, C+ 71.1–72.5, C 65.0–71.0, C− 62.7–64.9, D
   51.7–62.6, F 0–51.6 (SUS scores are multiples of 2.5, so none falls between two bands).

Floats are compared exactly: the engine keeps full precision and sums left to right in
document order, and the expected values below are computed the same way (``100 * points /
max``), which is also what the browser must give.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from rounds.definitions.loader import DefinitionDocument, load_documents
from rounds.definitions.validation import validate
from rounds.rules.analysis import reads
from rounds.rules.results import Evaluation
from rounds.rules.standards import compile_standard
from support.fieldwork import PASSWORD, PEOPLE, Live, body, seed_database
from support.live import DEFINITIONS, LiveServer, api_token, in_database

SCHEMES = Path(__file__).resolve().parent / "schemes"
NAMES = sorted(p.stem for p in SCHEMES.glob("*.json"))


def load(name: str) -> dict[str, Any]:
    content: dict[str, Any] = json.loads((SCHEMES / f"{name}.json").read_text("utf-8"))
    return content


def evaluate(name: str, answers: dict[str, Any]) -> Evaluation:
    return compile_standard(load(name)).evaluate(answers)


@dataclass(frozen=True)
class Case:
    """An answer set and its result computed by hand from the published rules."""

    scheme: str
    name: str
    answers: dict[str, Any]
    points: float
    max: float
    value: float | None                     # the total's value in its model
    sections: dict[str, float | None]       # section id → value (the sections listed)
    outcome: tuple[str | None, str] | None  # (level, decided_by) of the first outcome
    passed: bool | None
    failed: list[str]
    percentage: float | None = None
    outcome_of: str = "total"                # what the outcome's bands read
    calculated: dict[str, Any] = field(default_factory=dict)
    kept: dict[str, Any] = field(default_factory=dict)  # answers as stored
    alerts: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.scheme}: {self.name}"


def level(i: int) -> str:
    return f"/outcomes/0/levels/{i}"


# -- 1. UK Food Hygiene Rating Scheme --------------------------------------------------------

FHRS = "food_hygiene_rating"
# Each area's most: 25 + 25 + 30 = 80 (the max of a sum of absolute choice points).


def fhrs(name: str, food: str, structure: str, management: str, *, points: float,
         areas: tuple[float, float, float], rating: str, decided_by: str, passed: bool,
         failed: list[str]) -> Case:
    return Case(
        FHRS, name, {"food_handling_score": food, "structure_score": structure,
                     "management_score": management},
        points=points, max=80, value=points,
        sections={"food_handling": areas[0], "structure": areas[1], "management": areas[2],
                  "summary": None},
        outcome=(rating, decided_by), passed=passed, failed=failed,
        calculated={"highest_area_score": max(areas)})


FHRS_CASES = [
    # 0 + 0 + 0 = 0, highest 0: 0 ≤ 15 and 0 ≤ 5 → 5.
    fhrs("all very good: 5", "very_good", "very_good", "very_good", points=0,
         areas=(0, 0, 0), rating="r5", decided_by=f"band:{level(0)}", passed=True, failed=[]),
    # 5 + 10 + 0 = 15, highest 10: the 5 column needs no area above 5 (10 > 5); the 4 column
    # holds (15 ≤ 20, 10 ≤ 10) → 4. The FSA's own example.
    fhrs("total 15 with one area at 10: 4", "good", "generally_satisfactory", "very_good",
         points=15, areas=(5, 10, 0), rating="r4", decided_by=f"band:{level(1)}",
         passed=True, failed=[]),
    # 10 + 10 + 10 = 30, highest 10: 30 > 20 rules out 5 and 4; 30 ≤ 30, 10 ≤ 10 → 3.
    fhrs("all generally satisfactory: 3", "generally_satisfactory", "generally_satisfactory",
         "generally_satisfactory", points=30, areas=(10, 10, 10), rating="r3",
         decided_by=f"band:{level(2)}", passed=True, failed=[]),
    # 15 + 5 + 10 = 30, highest 15: the total allows a 3 but 15 > 10; 30 ≤ 40, 15 ≤ 15 → 2.
    # Food handling at 15 is above 10: not broadly compliant, a failed item.
    fhrs("total 30 capped by an area at 15: 2", "improvement_necessary", "good",
         "generally_satisfactory", points=30, areas=(15, 5, 10), rating="r2",
         decided_by=f"band:{level(3)}", passed=False, failed=["food_handling_score"]),
    # 20 + 10 + 20 = 50, highest 20: 50 > 40 rules out 2; 50 ≤ 50, 20 ≤ 20 → 1.
    fhrs("total 50, highest 20: 1", "major_improvement", "generally_satisfactory",
         "major_improvement", points=50, areas=(20, 10, 20), rating="r1",
         decided_by=f"band:{level(4)}", passed=False,
         failed=["food_handling_score", "management_score"]),
    # 5 + 5 + 30 = 40, highest 30: the total alone would give a 2, but no rating from 5 to
    # 1 allows an area above 20 → 0, the last level (the fallback).
    fhrs("total 40 with management at 30: 0", "good", "good", "urgent_improvement",
         points=40, areas=(5, 5, 30), rating="r0", decided_by=f"fallback:{level(5)}",
         passed=False, failed=["management_score"]),
    # 25 + 20 + 20 = 65 > 50 → 0.
    fhrs("over 50: 0", "urgent_improvement", "major_improvement", "major_improvement",
         points=65, areas=(25, 20, 20), rating="r0", decided_by=f"fallback:{level(5)}",
         passed=False, failed=["food_handling_score", "structure_score", "management_score"]),
]


# -- 2. New York City restaurant grades ------------------------------------------------------

NYC = "nyc_restaurant_inspection"
NYC_CLEAN = {"inspected_on": "2026-03-02", "cold_holding": "yes", "hot_holding": "yes",
             "water_service": "yes", "produce_washed": "yes", "hand_wash_sink": "yes",
             "utensils_sanitized": "yes", "surfaces_clean": "yes"}
# The most: public health hazards 7 + 7 + 7, critical 5 + 5, general 2 + 2 = 35.


def nyc(name: str, changes: dict[str, Any], *, points: float, max: float,
        sections: tuple[float | None, float | None, float | None], grade: str,
        decided_by: str, passed: bool, failed: list[str], alerts: list[str] | None = None
        ) -> Case:
    return Case(
        NYC, name, {**NYC_CLEAN, **changes}, points=points, max=max, value=points,
        sections={"inspection": None, "public_health_hazards": sections[0],
                  "critical": sections[1], "general": sections[2]},
        outcome=(grade, decided_by), passed=passed, failed=failed, alerts=alerts or [])


NYC_CASES = [
    # No violation: 0 points of 35 → A (0–13); an A needs no re-inspection: passed.
    nyc("no violations: A", {}, points=0, max=35, sections=(0, 0, 0), grade="a",
        decided_by=f"band:{level(1)}", passed=True, failed=[]),
    # Hot holding and raw produce N/A: counted nowhere, so the most is 35 − 7 − 5 = 23.
    # Two general violations: 2 + 2 = 4 → A.
    nyc("two general violations, N/A earns nothing: A",
        {"hot_holding": "na", "produce_washed": "na", "utensils_sanitized": "no",
         "surfaces_clean": "no"},
        points=4, max=23, sections=(0, 0, 4), grade="a", decided_by=f"band:{level(1)}",
        passed=True, failed=["utensils_sanitized", "surfaces_clean"]),
    # Cold holding 7 + hand-wash sink 5 + utensils 2 = 14 → B (14–27), re-inspected.
    nyc("fourteen points: B",
        {"cold_holding": "no", "hand_wash_sink": "no", "utensils_sanitized": "no"},
        points=14, max=35, sections=(7, 5, 2), grade="b", decided_by=f"band:{level(2)}",
        passed=False, failed=["cold_holding", "hand_wash_sink", "utensils_sanitized"]),
    # Every violation but the water: 7 + 7 + 5 + 5 + 2 + 2 = 28 → C (28 or more).
    nyc("twenty-eight points: C",
        {"cold_holding": "no", "hot_holding": "no", "produce_washed": "no",
         "hand_wash_sink": "no", "utensils_sanitized": "no", "surfaces_clean": "no"},
        points=28, max=35, sections=(14, 10, 4), grade="c", decided_by=f"band:{level(3)}",
        passed=False, failed=["cold_holding", "hot_holding", "produce_washed",
                              "hand_wash_sink", "utensils_sanitized", "surfaces_clean"]),
    # No water: 7 points, an A by the bands, but the imminent hazard forces "closed".
    nyc("no water closes whatever the score", {"water_service": "no"}, points=7, max=35,
        sections=(7, 0, 0), grade="closed", decided_by="forced:water_service",
        passed=False, failed=["water_service"], alerts=["closed_by_inspection"]),
]


# -- 3. PHQ-9 --------------------------------------------------------------------------------

PHQ9 = "phq9"
PHQ9_ITEMS = ["interest", "feeling_down", "sleep", "tired", "appetite",
              "feeling_bad_about_self", "concentration", "moving_slowly_or_restless",
              "self_harm_thoughts"]


def phq9(name: str, answers: list[Any], *, total: int, severity: str, band: int,
         failed: list[str] | None = None, extra: dict[str, Any] | None = None) -> Case:
    sent = dict(zip(PHQ9_ITEMS, answers, strict=True))
    return Case(
        PHQ9, name, {**sent, **(extra or {})}, points=total, max=27, value=total,
        sections={"symptoms": total, "impact": None},
        outcome=(severity, f"band:{level(band)}"), passed=None, failed=failed or [],
        kept={k: str(int(v)) for k, v in sent.items()})


PHQ9_CASES = [
    # 0 × 9 = 0 → minimal (0–4). Sent as strings.
    phq9("all not at all: minimal", ["0"] * 9, total=0, severity="minimal", band=0),
    # 1 + 1 + 1 + 1 = 4 → still minimal. Sent as numbers, kept as "1" and "0".
    phq9("four: minimal", [1, 1, 1, 1, 0, 0, 0, 0, 0], total=4, severity="minimal", band=0),
    # 1 × 5 = 5 → mild (5–9). Strings and numbers mixed.
    phq9("five: mild", ["1", "1", "1", "1", "1", 0, 0, 0, 0], total=5, severity="mild",
         band=1),
    # 2 + 2 + 2 + 2 + 1 = 9 → mild. Item 10 (difficulty) is answered and scores nothing.
    phq9("nine: mild", [2, 2, 2, 2, 1, 0, 0, 0, 0], total=9, severity="mild", band=1,
         extra={"difficulty": "somewhat_difficult"}),
    # 2 × 5 = 10 → moderate (10–14). One 2 sent as 2.0, a number all the same.
    phq9("ten: moderate", [2, 2.0, 2, 2, 2, 0, 0, 0, 0], total=10, severity="moderate",
         band=2),
    # 3 + 3 + 2 + 2 + 2 + 1 + 1 = 14 → moderate.
    phq9("fourteen: moderate", [3, 3, 2, 2, 2, 1, 1, 0, 0], total=14, severity="moderate",
         band=2),
    # 3 + 3 + 3 + 2 + 2 + 1 + 1 = 15 → moderately severe (15–19).
    phq9("fifteen: moderately severe", [3, 3, 3, 2, 2, 1, 1, 0, 0], total=15,
         severity="moderately_severe", band=3),
    # 3 × 4 + 2 × 3 + 1 = 19 → moderately severe.
    phq9("nineteen: moderately severe", [3, 3, 3, 3, 2, 2, 2, 1, 0], total=19,
         severity="moderately_severe", band=3),
    # 19 + 1 on item 9 = 20 → severe (20–27); item 9 above 0 is a failed item.
    phq9("twenty with thoughts of self-harm: severe", [3, 3, 3, 3, 2, 2, 2, 1, 1], total=20,
         severity="severe", band=4, failed=["self_harm_thoughts"]),
    # 3 × 9 = 27 → severe.
    phq9("all nearly every day: severe", ["3"] * 9, total=27, severity="severe", band=4,
         failed=["self_harm_thoughts"]),
]


# -- 4. Brief Pain Inventory -----------------------------------------------------------------

BPI = "brief_pain_inventory"
SEVERITY = ["worst_pain", "least_pain", "average_pain", "pain_now"]
INTERFERENCE = ["general_activity", "mood", "walking_ability", "normal_work", "relations",
                "sleep", "enjoyment_of_life"]


def bpi(name: str, severity: list[int | None], interference: list[int | None], *,
        severity_value: float | None, interference_value: float | None,
        points: float, max: float, outcome: tuple[str | None, str]) -> Case:
    answers = {k: v for k, v in zip(SEVERITY, severity, strict=True) if v is not None}
    answers |= {k: v for k, v in zip(INTERFERENCE, interference, strict=True)
                if v is not None}
    # No total (scoring.total false): the total has points and max, never a value.
    return Case(BPI, name, answers, points=points, max=max, value=None,
                sections={"severity": severity_value, "interference": interference_value},
                outcome=outcome, passed=None, failed=[], outcome_of="severity")


BPI_CASES = [
    # Severity (8 + 2 + 5 + 6) / 4 = 21 / 4 = 5.25: not in 7–10, at least 5 → moderate.
    # Interference (5 + 6 + 4 + 7 + 3 + 8 + 6) / 7 = 39 / 7. Points 21 + 39 = 60 of 110.
    bpi("everything answered: moderate", [8, 2, 5, 6], [5, 6, 4, 7, 3, 8, 6],
        severity_value=21 / 4, interference_value=39 / 7, points=60, max=110,
        outcome=("moderate", f"rule:{level(1)}/when")),
    # Severity (9 + 6 + 8 + 7) / 4 = 7.5 → severe (the band 7–10). Interference: 3 of 7
    # answered (8, 9, 7), fewer than 4 → no value. Points 30 + 24 = 54 of 70.
    bpi("severe, interference with 3 of 7 answered has no score", [9, 6, 8, 7],
        [8, 9, None, None, None, 7, None], severity_value=7.5, interference_value=None,
        points=54, max=70, outcome=("severe", f"band:{level(0)}")),
    # Severity 3 of 4 answered: no value, so no level. Interference (2 + 1 + 0 + 3) / 4 =
    # 1.5, four of seven: enough. Points 7 + 6 = 13 of 70.
    bpi("severity with 3 of 4 answered has no score, so no level", [4, 1, 2, None],
        [2, 1, 0, 3, None, None, None], severity_value=None, interference_value=1.5,
        points=13, max=70, outcome=(None, "none")),
    # Severity (4 + 0 + 3 + 2) / 4 = 2.25 → mild. Interference 0 × 7 = 0.
    bpi("mild", [4, 0, 3, 2], [0] * 7, severity_value=2.25, interference_value=0,
        points=9, max=110, outcome=("mild", f"rule:{level(2)}/when")),
    # Severity 7 × 4 / 4 = 7: the band 7–10 is inclusive → severe. Interference unanswered.
    bpi("seven exactly: severe", [7, 7, 7, 7], [None] * 7, severity_value=7.0,
        interference_value=None, points=28, max=40, outcome=("severe", f"band:{level(0)}")),
    # Severity (6 + 3 + 5 + 5) / 4 = 4.75: below 5, between the cut points → mild.
    bpi("4.75 between the cut points: mild", [6, 3, 5, 5], [None] * 7,
        severity_value=4.75, interference_value=None, points=19, max=40,
        outcome=("mild", f"rule:{level(2)}/when")),
]


# -- 5. Retailer compliance check (one inverted item, pass mark 100%) ------------------------

RETAIL = "retail_compliance_check"
RETAIL_OK = {"licence_valid": "yes", "no_counterfeit": "yes", "minors_sign": "yes",
             "id_checked": "yes", "prices_marked": "yes", "tobacco_ads": "no"}


def retail(name: str, changes: dict[str, Any], *, points: float, max: float,
           sections: tuple[float, float, float], passed: bool, failed: list[str]) -> Case:
    percentage = 100 * points / max
    return Case(RETAIL, name, {**RETAIL_OK, **changes}, points=points, max=max,
                value=percentage, percentage=percentage,
                sections={"licence": sections[0], "minors": sections[1],
                          "display": sections[2]},
                outcome=None, passed=passed, failed=failed)


RETAIL_CASES = [
    # Six items, each 1 point: 6 of 6 = 100% ≥ 100 → passed. "No" advertising is the good
    # answer and earns its point.
    retail("all duties met", {}, points=6, max=6, sections=(100, 100, 100), passed=True,
           failed=[]),
    # Advertising found ("yes", the bad answer): 0 of 1 for it, 5 of 6 = 83.33…% → failed.
    retail("tobacco advertising found", {"tobacco_ads": "yes"}, points=5, max=6,
           sections=(100, 100, 50), passed=False, failed=["tobacco_ads"]),
    # No buyer to judge: "don't know" has points null, out of both sums: 5 of 5 = 100%.
    retail("don't know scores nothing", {"id_checked": "unknown"}, points=5, max=5,
           sections=(100, 100, 100), passed=True, failed=[]),
    # ID not asked (0 of 1, its choice) and prices unmarked: 4 of 6 = 66.67% → failed.
    retail("two duties missed", {"id_checked": "no", "prices_marked": "no"}, points=4,
           max=6, sections=(100, 50, 50), passed=False,
           failed=["id_checked", "prices_marked"]),
]


# -- 6. System Usability Scale ---------------------------------------------------------------

SUS = "system_usability_scale"
SUS_ITEMS = ["use_frequently", "unnecessarily_complex", "easy_to_use",
             "need_technical_support", "well_integrated", "too_inconsistent", "learn_quickly",
             "cumbersome", "confident", "learn_a_lot_first"]
GRADES = ["a_plus", "a", "a_minus", "b_plus", "b", "b_minus", "c_plus", "c", "c_minus", "d",
          "f"]


def sus(name: str, answers: list[int], *, contributions: int, grade: str) -> Case:
    # Brooke: SUS = 2.5 × Σ contributions; here each item earns contribution / 4 of 1 point
    # (a quarter is exact in binary), so points = Σ / 4 and the percentage 100 × points / 10.
    points = contributions / 4
    score = 100 * points / 10
    assert score == 2.5 * contributions  # the published arithmetic, the same number
    return Case(SUS, name, dict(zip(SUS_ITEMS, answers, strict=True)), points=points, max=10,
                value=score, percentage=score, sections={"usability": score},
                outcome=(grade, f"band:{level(GRADES.index(grade))}"), passed=None, failed=[])


SUS_CASES = [
    # Odd items 5 (5 − 1 = 4), even items 1 (5 − 1 = 4): 10 × 4 = 40 → 100 → A+.
    sus("best possible: 100", [5, 1] * 5, contributions=40, grade="a_plus"),
    # All 3: odd 3 − 1 = 2, even 5 − 3 = 2: 20 → 50 → F (0–51.6).
    sus("all neutral: 50", [3] * 10, contributions=20, grade="f"),
    # Odd 4 (3), even 2 (3): 30 → 75 → B (74.1–77.1).
    sus("odd 4, even 2: 75", [4, 2] * 5, contributions=30, grade="b"),
    # 4→3, 1→4, 5→4, 2→3, 4→3, 2→3, 5→4, 1→4, 4→3, 3→2: 33 → 82.5 → A (80.8–84.0).
    sus("a mixed set: 82.5", [4, 1, 5, 2, 4, 2, 5, 1, 4, 3], contributions=33, grade="a"),
    # 5→4, 2→3, 5→4, 3→2, 4→3, 3→2, 4→3, 2→3, 3→2, 4→1: 27 → 67.5 → C (65.0–71.0).
    sus("just under the average of 68: C", [5, 2, 5, 3, 4, 3, 4, 2, 3, 4], contributions=27,
        grade="c"),
    # Odd 1 (0), even 5 (0): 0 → F.
    sus("worst possible: 0", [1, 5] * 5, contributions=0, grade="f"),
]

CASES = FHRS_CASES + NYC_CASES + PHQ9_CASES + BPI_CASES + RETAIL_CASES + SUS_CASES


# -- what both ways must give ----------------------------------------------------------------

def assert_result(case: Case, score: dict[str, Any], outcomes: list[dict[str, Any]],
                  failed: list[dict[str, Any]], calculated: dict[str, Any],
                  answers: dict[str, Any], alerts: list[dict[str, Any]]) -> None:
    """The result (as JSON builtins, from the engine or the API) is the hand computation."""
    assert score["points"] == case.points
    assert score["max"] == case.max
    assert score["value"] == case.value
    assert score["percentage"] == case.percentage
    assert score["passed"] is case.passed
    sections = {s["section"]: s["value"] for s in score["sections"]}
    assert {k: sections[k] for k in case.sections} == case.sections
    present = [v for v in sections.values() if v is not None]
    assert score["section_max"] == (max(present) if present else None)
    assert score["section_min"] == (min(present) if present else None)
    if case.outcome is None:
        assert outcomes == []
    else:
        first = outcomes[0]
        assert (first["level"], first["decided_by"]) == case.outcome
        assert first["passed"] is case.passed
        of = case.value if case.outcome_of == "total" else case.sections[case.outcome_of]
        assert first["value"] == of
        assert (first["label"] != {}) == (first["level"] is not None)
    assert [f["item"] for f in failed] == case.failed
    for k, v in case.calculated.items():
        assert calculated[k] == v
    for k, v in case.kept.items():
        assert answers[k] == v
    assert [a["code"] for a in alerts] == case.alerts


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_the_engine_gives_the_published_result(case: Case) -> None:
    ev = evaluate(case.scheme, case.answers)
    assert ev.errors == [] and ev.checks == []
    b = msgspec.to_builtins
    assert_result(case, b(ev.score), b(ev.outcomes), b(ev.failed), ev.calculated, ev.answers,
                  b(ev.alerts))


# -- each scheme is valid definition data, written once -------------------------------------

def site_kinds() -> list[DefinitionDocument]:
    docs, problems = load_documents([DEFINITIONS / "site_kinds"])
    assert problems == []
    return docs


@pytest.mark.parametrize("name", NAMES)
def test_each_scheme_validates_with_no_problem(name: str) -> None:
    doc = DefinitionDocument(f"{name}.json", load(name))
    assert doc.id == name
    assert validate([doc, *site_kinds()]) == []


def _items(definition: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for section in definition["sections"]:
        yield from section["items"]


@pytest.mark.parametrize("name", NAMES)
def test_no_helper_item_recomputes_a_score_and_no_weight_twice(name: str) -> None:
    definition = load(name)
    for it in _items(definition):
        # A calculated item only shows a figure the engine scored (it reads `score`); none
        # re-adds answers into a score of its own.
        if "calculate" in it:
            roots = {r.root for r in reads(it["calculate"])}
            assert roots == {"score"}, it["id"]
        # Points live in one place: a weight, or the choices' points, or the answer's value.
        absolute = it.get("points") == "value" or any(
            "points" in c for c in it.get("choices", []))
        assert not (absolute and "weight" in it), it["id"]
        assert "score" not in it, it["id"]
    assert [o["id"] for o in definition.get("outcomes", [])] or name == RETAIL


def _texts(node: Any, at: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if "zh" in node or "en" in node:
            yield at, node
        for k, v in node.items():
            yield from _texts(v, f"{at}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _texts(v, f"{at}/{i}")


@pytest.mark.parametrize("name", NAMES)
def test_every_word_a_person_reads_is_in_chinese_and_english(name: str) -> None:
    texts = list(_texts(load(name)))
    assert texts
    for at, text in texts:
        assert isinstance(text.get("zh"), str) and text["zh"].strip(), at
        assert isinstance(text.get("en"), str) and text["en"].strip(), at


# -- the schemes' other published rules --------------------------------------------------------

def test_sus_even_items_are_reverse_scored() -> None:
    # Brooke's contribution for an even item is 5 − position: 1 earns all of its point.
    ev = evaluate(SUS, dict(zip(SUS_ITEMS, [4, 1, 5, 2, 4, 2, 5, 1, 4, 3], strict=True)))
    lines = {i.item: i for i in ev.score.items}
    assert [lines[k].reversed for k in SUS_ITEMS] == [False, True] * 5
    assert [lines[k].points for k in SUS_ITEMS] == [0.75, 1, 1, 0.75, 0.75, 0.75, 1, 1, 0.75,
                                                    0.5]


def test_phq9_answers_sent_as_numbers_are_kept_as_the_choice_strings() -> None:
    ev = evaluate(PHQ9, dict(zip(PHQ9_ITEMS, [3, "2", 1, 0, 2.0, 0, 0, 0, 0], strict=True)))
    assert [ev.answers[k] for k in PHQ9_ITEMS] == ["3", "2", "1", "0", "2", "0", "0", "0",
                                                   "0"]
    assert ev.score.value == 8
    assert [i.decided_by for i in ev.score.items][:2] == ["choice:3", "choice:2"]


def test_nyc_reinspection_before_the_inspection_is_refused() -> None:
    rules = compile_standard(load(NYC))
    early = rules.evaluate({**NYC_CLEAN, "reinspect_on": "2026-03-01"})
    assert [(c.check, c.pointer, c.code, c.message) for c in early.checks] == [
        ("reinspection_after_inspection", "/answers/reinspect_on", "check_failed",
         {"zh": "复查日期不能早于检查日期",
          "en": "The re-inspection date must be on or after the inspection date"})]
    # On the day itself, after it, or not planned: no complaint.
    for later in ("2026-03-02", "2026-03-20", None):
        answers = {**NYC_CLEAN, **({"reinspect_on": later} if later else {})}
        assert rules.evaluate(answers).checks == []


ROUNDING = "retail_rounding"


def rounding_definition() -> dict[str, Any]:
    """The compliance check's scoring (pass mark 100%) over a 2,000-point and a 0.1-point
    item: the issue's own example of rounding that must not pass."""
    definition = load(RETAIL)
    definition["id"] = ROUNDING
    definition["sections"] = [{"id": "all", "title": {"zh": "全部", "en": "All"}, "items": [
        {"id": "big", "type": "yes_no", "weight": 2000, "title": {"zh": "大项", "en": "Big"}},
        {"id": "small", "type": "yes_no", "weight": 0.1,
         "title": {"zh": "小项", "en": "Small"}}]}]
    return definition


def test_a_point_one_failure_beside_two_thousand_points_does_not_pass_100() -> None:
    # 2,000 of 2,000.1 is 99.995…%: 100.0 to one decimal, but below the 100% mark.
    ev = compile_standard(rounding_definition()).evaluate({"big": "yes", "small": "no"})
    assert ev.score.max == 2000 + 0.1
    assert ev.score.percentage == 100 * 2000 / (2000 + 0.1) < 100
    assert round(ev.score.percentage, 1) == 100.0
    assert ev.score.passed is False
    assert [f.item for f in ev.failed] == ["small"]


# -- the same through the real HTTP API --------------------------------------------------------

# The standards a customer manager may fill here (the surveys are checked, not submitted).
SUBMITTED = [FHRS, NYC, RETAIL]


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A seeded `rounds up` server whose definitions are the repository's plus the schemes
    (and the rounding example); customer managers fill the schemes' standards too."""
    root = tmp_path_factory.mktemp("schemes")
    definitions = root / "definitions"
    shutil.copytree(DEFINITIONS, definitions)
    shutil.copytree(SCHEMES, definitions / "published_schemes")
    (definitions / "published_schemes" / f"{ROUNDING}.json").write_text(
        json.dumps(rounding_definition(), ensure_ascii=False), "utf-8")
    role_file = definitions / "roles" / "customer_manager.json"
    role = json.loads(role_file.read_text("utf-8"))
    role["standards"] = [*role["standards"], *SUBMITTED]
    role_file.write_text(json.dumps(role, ensure_ascii=False), "utf-8")
    live = LiveServer(root / "data", definitions=definitions)
    try:
        field = seed_database(live.database_url)
        yield Live(live, field, {name: api_token(live, name, PASSWORD) for name in PEOPLE})
    finally:
        live.stop()


@pytest.fixture(scope="module")
def server(city: Live) -> LiveServer:
    server: LiveServer = city.server
    return server


def check(server: LiveServer, scheme: str, answers: dict[str, Any], lang: str = "zh"
          ) -> httpx.Response:
    return httpx.post(f"{server.url}/api/forms/{scheme}/check", params={"lang": lang},
                      content=json.dumps({"answers": answers}), timeout=30)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_the_api_gives_the_published_result(server: LiveServer, case: Case) -> None:
    r = check(server, case.scheme, case.answers)
    assert r.status_code == 200, r.text
    out = r.json()
    assert_result(case, out["score"], out["outcomes"], out["failed"], out["calculated"],
                  out["answers"], out["alerts"])


def test_the_api_refuses_a_reinspection_before_the_inspection(server: LiveServer) -> None:
    answers = {**NYC_CLEAN, "reinspect_on": "2026-03-01"}
    for lang, message in (("zh", "复查日期不能早于检查日期"),
                          ("en", "The re-inspection date must be on or after the inspection "
                                 "date")):
        r = check(server, NYC, answers, lang)
        assert r.status_code == 422, r.text
        problem = r.json()
        assert problem["code"] == "submission_invalid"
        assert [(e["pointer"], e.get("code"), message in e["message"])
                for e in problem["errors"]] == [("/answers/reinspect_on", "check_failed",
                                                 True)]
    assert check(server, NYC, {**NYC_CLEAN, "reinspect_on": "2026-03-02"}).status_code == 200


def test_the_api_does_not_pass_99_995_percent_against_100(server: LiveServer) -> None:
    for lang, verdict in (("zh", "不合格"), ("en", "Not passed")):
        r = check(server, ROUNDING, {"big": "yes", "small": "no"}, lang)
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["score"]["percentage"] == 100 * 2000 / (2000 + 0.1)
        assert out["score"]["passed"] is False
        assert [f["item"] for f in out["failed"]] == ["small"]
        assert (out["shown"]["passed"], out["shown"]["verdict"]) == (False, verdict)


SUBMISSIONS = [FHRS_CASES[1], FHRS_CASES[5], NYC_CASES[2], NYC_CASES[4], RETAIL_CASES[1],
               RETAIL_CASES[2]]


@pytest.mark.parametrize("case", SUBMISSIONS, ids=lambda c: c.id)
def test_a_submission_stores_the_published_result(city: Live, case: Case) -> None:
    """Submitted at a visit, as field staff do: the response and the stored row carry the
    score in its model, the first outcome's level and passed, at full precision."""
    with city.client("zhang") as c:
        visit = city.visit(c)
        version = c.get(f"/api/definitions/{case.scheme}").json()["content_hash"]
        sid = str(uuid.uuid4())
        r = c.post("/api/submissions", json=body(sid, version, case.answers, visit_id=visit,
                                                 definition_id=case.scheme))
        assert r.status_code == 201, r.text
        out = r.json()
    assert_result(case, out["score"], out["outcomes"], out["failed_items"],
                  out.get("calculated", {}), out["answers"], out["alerts"])
    level = case.outcome[0] if case.outcome else None
    assert out["outcome"] == level

    async def stored(db: Any) -> tuple[Any, ...]:
        from sqlalchemy import text

        row = (await db.execute(text(
            "SELECT score_value, score_model, direction, outcome, passed, total, max_total "
            "FROM submissions WHERE id = :id"), {"id": sid})).one()
        return tuple(row)

    model = load(case.scheme).get("scoring", {})
    assert in_database(city.database_url(), stored) == (
        case.value, model.get("model", "percentage"), model.get("direction", "higher_better"),
        level, case.passed, case.points, case.max)
