"""Where each person lands (``/`` and the brand link): a retailer's own account on its
shop's portal, an industry user on the industry figures, a leader on the dashboard, the
field staff on their day."""

from __future__ import annotations

from rounds.runtime.access import Principal
from rounds.runtime.fieldwork import views


def person(scope: str, *capabilities: str) -> Principal:
    return Principal(user_id=1, username="u", display_name="u", role_id="r",
                     role_title={}, capabilities=frozenset(capabilities), org_scope=scope,
                     org_unit_id=1, org_path="/1/", site_id=None, language="zh",
                     check_in_radius_m=100, check_in_max_accuracy_m=50)


def test_each_role_lands_on_its_own_home() -> None:
    assert views.home_for(person("own_shop", "shop.view_own", "survey.respond")) == "/shop"
    assert views.home_for(person("public", "survey.respond", "report.view_scope")) \
        == "/industry"
    assert views.home_for(person("public")) == "/today"  # a consumer has no field home
    assert views.home_for(person("own_sites", "visit.check_in")) == "/today"
