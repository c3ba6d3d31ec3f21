"""The shop card shows a site's attributes as people read them."""

from __future__ import annotations

from rounds.runtime.portals.shop import _value


def test_a_date_attribute_is_written_as_people_write_dates() -> None:
    attr = {"id": "licence_expires_on", "type": "date"}
    assert _value(attr, "2031-12-05", "zh") == "2031年12月5日"
    assert _value(attr, "2031-12-05", "en") == "2031-12-05"
    assert _value(attr, "not a date", "zh") == "not a date"  # shown as stored, not lost


def test_a_choice_attribute_shows_its_label() -> None:
    attr = {"id": "delivery_cycle", "type": "choice",
            "choices": [{"value": "weekly", "label": {"zh": "每周一次", "en": "Weekly"}}]}
    assert _value(attr, "weekly", "zh") == "每周一次"
    assert _value(attr, "fortnightly", "zh") == "fortnightly"
