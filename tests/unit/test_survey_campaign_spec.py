"""A survey campaign's spec: every mistake at once, each at its JSON pointer; what fits which
audience; a consumer campaign held to one response per device unless it says per token."""

from __future__ import annotations

from typing import Any

import pytest

from rounds.runtime.surveys.spec import Known, SurveyCampaignError, check_spec

KNOWN = Known(surveys={"retailer_satisfaction": "retailer", "consumer_taste": "consumer",
                       "market_price_stock": "staff"},
              roles=frozenset({"customer_manager", "delivery_staff"}),
              org_units=frozenset({1, 2, 3}))


def spec(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"title": "拜访满意度", "survey": "retailer_satisfaction",
                            "audience": "retailer", "target_responses": 50,
                            "period": {"start": "2026-12-01", "end": "2026-12-31"}}
    return {**base, **changes}


def problems(raw: Any) -> dict[str, str]:
    with pytest.raises(SurveyCampaignError) as caught:
        check_spec(raw, KNOWN)
    return {p.pointer: p.code for p in caught.value.problems}


def test_a_sound_spec_and_its_defaults() -> None:
    checked = check_spec(spec(targeting={"org_units": [2], "grades": ["3"]},
                              follow_visit={"within_days": 3, "roles": ["customer_manager"]}),
                         KNOWN)
    assert checked.follow_visit is not None and checked.follow_visit.within_days == 3
    assert checked.one_per is None
    consumer = check_spec(spec(survey="consumer_taste", audience="consumer"), KNOWN)
    assert consumer.one_per == "device"


def test_every_meaning_mistake_at_once_with_its_pointer() -> None:
    found = problems(spec(title=" ", survey="nope", target_responses=0,
                          targeting={"org_units": [2, 99]},
                          follow_visit={"within_days": 31, "roles": ["customer_manager",
                                                                     "ghost"]},
                          period={"start": "2026-12-31", "end": "2026-12-01"}))
    assert found == {"/title": "required", "/survey": "unknown_reference",
                     "/targeting/org_units/1": "unknown_reference",
                     "/follow_visit/within_days": "invalid",
                     "/follow_visit/roles/1": "unknown_reference",
                     "/target_responses": "invalid", "/period/end": "invalid"}


def test_what_fits_which_audience() -> None:
    found = problems(spec(audience="consumer", targeting={"grades": ["3"]},
                          follow_visit={"within_days": 3, "roles": ["customer_manager"]}))
    assert found == {"/survey": "audience_mismatch", "/targeting": "not_for_audience",
                     "/follow_visit": "not_for_audience"}
    assert problems(spec(one_per="token")) == {"/one_per": "not_for_audience"}
    assert problems(spec(survey="market_price_stock")) == {"/survey": "audience_mismatch"}


def test_structure_and_meaning_mistakes_together() -> None:
    found = problems({"title": "x", "survey": "nope", "audience": "shops", "colour": 1,
                      "target_responses": "many", "follow_visit": {"days": 3},
                      "period": {"start": "2026-12-31", "end": "2026-12-01"}})
    assert found == {"/audience": "schema", "/colour": "unknown_field",
                     "/target_responses": "schema", "/follow_visit/days": "unknown_field",
                     "/follow_visit/within_days": "required",
                     "/follow_visit/roles": "required", "/survey": "unknown_reference",
                     "/period/end": "invalid"}
    assert problems([]) == {"": "schema"}

