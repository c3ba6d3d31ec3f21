"""A campaign spec is checked whole: every mistake at once, each at its JSON pointer."""

from __future__ import annotations

import copy
import datetime
from typing import Any

import msgspec
import pytest

from rounds.draws import CampaignError, CampaignSpec, check_spec
from rounds.draws.spec import draw_part
from rounds.errors import InvalidInput

GOOD: dict[str, Any] = {
    "standard": "food-safety-2026",
    "population": {"site_kinds": ["restaurant"], "org_units": [3], "grades": ["A", "B"]},
    "sample": {"share": 0.1, "stratify_by": "org_unit", "min_per_stratum": 2},
    "pool": {"roles": ["inspector"], "org_units": [1]},
    "team_size": 2,
    "exclusions": {"served_within_days": 730, "redraw_within_days": 180,
                   "allow_repeat": False},
    "period": {"start": "2026-03-01", "end": "2026-05-31"},
}


def problems_of(raw: Any) -> dict[str, str]:
    with pytest.raises(CampaignError) as caught:
        check_spec(raw)
    assert isinstance(caught.value, InvalidInput)  # a 422 with its problems, like definitions
    return {p.pointer: p.message for p in caught.value.problems}


def test_a_good_spec_decodes_and_round_trips_through_json() -> None:
    spec = check_spec(GOOD)
    assert spec.team_size == 2 and spec.sample.share == 0.1
    assert spec.period.start == datetime.date(2026, 3, 1)
    again = msgspec.json.decode(msgspec.json.encode(spec), type=CampaignSpec)
    assert again == spec


def test_defaults_fill_what_is_left_out() -> None:
    spec = check_spec({"standard": "s", "population": {}, "sample": {"count": 5},
                       "pool": {"roles": ["inspector"]},
                       "period": {"start": "2026-01-01", "end": "2026-01-31"}})
    assert spec.team_size == 1 and spec.population.site_ids is None
    assert spec.exclusions.allow_repeat is False


def test_every_structural_mistake_is_reported_at_once_with_its_pointer() -> None:
    raw = copy.deepcopy(GOOD)
    raw["colour"] = "red"
    raw["population"]["site_kind"] = ["x"]
    raw["population"]["org_units"] = [3, "north"]
    raw["sample"]["stratify_by"] = "district"
    raw["pool"] = {"org_units": [1]}
    raw["period"]["start"] = "1 March"
    del raw["standard"]
    found = problems_of(raw)
    assert set(found) == {"/colour", "/population/site_kind", "/population/org_units/1",
                          "/sample/stratify_by", "/pool/roles", "/period/start",
                          "/standard", "/survey"}, found
    assert "did you mean 'site_kinds'" in found["/population/site_kind"]
    assert found["/colour"] == "unknown field 'colour'"
    # No form named: both fields are pointed at, either one fixes it.
    assert found["/standard"] == found["/survey"]
    assert found["/standard"].startswith("name the form the checks fill")
    assert found["/sample/stratify_by"] == "must be one of 'org_unit', 'grade'; got 'district'"
    assert found["/period/start"] == "must be a date (YYYY-MM-DD)"


def test_every_meaning_mistake_is_reported_at_once() -> None:
    raw = copy.deepcopy(GOOD)
    raw["sample"] = {"share": 1.5, "min_per_stratum": 0}
    raw["team_size"] = 3
    raw["period"] = {"start": "2026-05-31", "end": "2026-03-01"}
    raw["exclusions"]["redraw_within_days"] = -1
    found = problems_of(raw)
    assert set(found) == {"/sample/share", "/sample/min_per_stratum", "/team_size",
                          "/period/end", "/exclusions/redraw_within_days"}, found
    assert "at most 1" in found["/sample/share"]
    assert "team of two" in found["/team_size"]
    assert "end after it starts" in found["/period/end"]


def test_min_per_stratum_needs_stratify_by() -> None:
    raw = copy.deepcopy(GOOD)
    raw["sample"] = {"count": 10, "min_per_stratum": 2}
    assert problems_of(raw) == {
        "/sample/min_per_stratum": "min_per_stratum needs stratify_by (\"org_unit\" or "
                                   "\"grade\")"}


@pytest.mark.parametrize(("sample", "pointer"), [
    ({"count": 0}, "/sample/count"),
    ({"count": -3}, "/sample/count"),
    ({"share": 0}, "/sample/share"),
    ({}, "/sample"),
    ({"count": 3, "share": 0.5}, "/sample"),
])
def test_the_sample_is_a_positive_count_or_a_share_in_0_1(sample: dict[str, Any],
                                                          pointer: str) -> None:
    raw = copy.deepcopy(GOOD)
    raw["sample"] = sample
    assert list(problems_of(raw)) == [pointer]


def test_structural_and_meaning_mistakes_come_together() -> None:
    raw = copy.deepcopy(GOOD)
    raw["standard"] = 7
    raw["team_size"] = 5
    assert set(problems_of(raw)) == {"/standard", "/team_size"}


def test_a_spec_that_is_no_object_is_refused() -> None:
    assert problems_of(["not", "a", "spec"]) == {"": "must be a JSON object"}


def test_a_share_of_one_and_an_empty_saved_filter() -> None:
    raw = copy.deepcopy(GOOD)
    raw["sample"] = {"share": 1}
    assert check_spec(raw).sample.share == 1
    raw["population"]["site_ids"] = []
    assert list(problems_of(raw)) == ["/population/site_ids"]


# -- a survey instead of a standard (market survey tasks) ----------------------------------

def test_a_survey_campaign_names_its_survey_and_no_standard() -> None:
    raw = {k: v for k, v in GOOD.items() if k != "standard"} | {"survey": "market_prices"}
    spec = check_spec(raw)
    assert (spec.form_kind, spec.form) == ("survey", "market_prices")
    assert spec.standard is msgspec.UNSET
    # The field left out is not in the JSON at all, and the spec round-trips.
    encoded = msgspec.json.decode(msgspec.json.encode(spec))
    assert encoded["survey"] == "market_prices" and "standard" not in encoded
    assert msgspec.json.decode(msgspec.json.encode(spec), type=CampaignSpec) == spec


def test_a_standard_campaign_s_json_is_what_it_was_before_surveys() -> None:
    """The spec is part of the published draw inputs (their digest covers it): a standard
    campaign must encode exactly as before, with no ``survey`` key, or stored draws would
    no longer verify. The inputs hold the spec's draw part (``publication`` is no input)."""
    spec = check_spec(GOOD)
    assert (spec.form_kind, spec.form) == ("standard", "food-safety-2026")
    drawn = draw_part(spec)
    assert list(msgspec.to_builtins(drawn)) == ["standard", "population", "sample", "pool",
                                                "period", "team_size", "exclusions"]
    assert msgspec.json.decode(msgspec.json.encode(drawn)) == msgspec.to_builtins(drawn)


@pytest.mark.parametrize("forms", [{}, {"standard": "a", "survey": "b"}])
def test_both_or_neither_form_is_refused_at_both_pointers(forms: dict[str, str]) -> None:
    raw = {k: v for k, v in GOOD.items() if k != "standard"} | forms
    found = problems_of(raw)
    assert set(found) == {"/standard", "/survey"}, found
    assert ("not both" in found["/survey"]) == bool(forms)


def test_both_forms_come_with_the_other_mistakes() -> None:
    raw = copy.deepcopy(GOOD) | {"survey": "b", "team_size": 3}
    raw["period"]["start"] = "1 March"
    assert set(problems_of(raw)) == {"/standard", "/survey", "/team_size", "/period/start"}
    del raw["standard"], raw["survey"]
    assert set(problems_of(raw)) == {"/standard", "/survey", "/team_size", "/period/start"}


@pytest.mark.parametrize(("key", "value", "message"), [
    ("survey", "  ", "name the survey the checks use"),
    ("survey", None, "must be a string; got null"),
    ("standard", "", "name the standard the checks use"),
])
def test_a_blank_or_null_form_is_pointed_at(key: str, value: Any, message: str) -> None:
    raw = {k: v for k, v in GOOD.items() if k != "standard"} | {key: value}
    assert problems_of(raw) == {f"/{key}": message}
