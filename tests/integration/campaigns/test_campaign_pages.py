"""The leader's campaign pages over real HTTP (SQLite and PostgreSQL): the new campaign's
form answers a spec with mistakes with 422 and every mistake next to its field, in the
page's language, nothing stored; a sound one with 303 to the campaign's page; a draw, a
re-draw without its reason (422, the reason's error) and closing go through the forms; the
list and the campaign's page show it; someone without ``campaign.manage`` is refused, and
the dashboard's card lists the open campaign. Bearer tokens: a script needs no CSRF token
(the browser's path, with it, is tests/browser/test_campaigns_browser.py)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support.fieldwork import STANDARD, Live, count_rows, live_city

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Live]:
    with live_city(tmp_path_factory.mktemp("campaign-pages"), request.param) as city:
        yield city


def client(live: Live, who: str) -> httpx.Client:
    return httpx.Client(base_url=live.url, headers=live.auth[who], timeout=60)


def form(**changes: Any) -> list[tuple[str, str]]:
    today = dt.date.today()
    fields: dict[str, Any] = {
        "title": "春季双随机抽查", "standard": STANDARD, "site_kinds": ["retailer"],
        "sample_kind": "count", "sample_value": "2", "stratify_by": "",
        "pool_roles": ["customer_manager"], "team_size": "1", "served_within_days": "365",
        "redraw_within_days": "365",
        "period_start": (today - dt.timedelta(days=2)).isoformat(),
        "period_end": (today + dt.timedelta(days=30)).isoformat()} | changes
    return [(k, x) for k, v in fields.items() for x in (v if isinstance(v, list) else [v])]


def errors_on(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-error-for="(\w+)"[^>]*>([^<]*)<', html))


def test_the_form_shows_every_mistake_at_its_field(live: Live) -> None:
    with client(live, "li") as c:
        r = c.post("/campaigns/new?lang=zh", headers=FORM, content=str(httpx.QueryParams(
            form(title="", sample_value="0", pool_roles=[], period_end="2000-01-01"))))
        assert r.status_code == 422, r.text
        assert errors_on(r.text) == {
            "title": "请填写抽查名称。",
            "sample_value": "请填写抽取数量（至少 1 户）或比例（大于 0，最多 100%）。",
            "pool_roles": "请选择至少一个检查人员岗位。",
            "period_end": "请修改结束日期：须晚于开始日期。"}
        assert "有 4 处填写有误" in r.text
        assert 'value="0"' in r.text  # what was typed is kept
        r = c.post("/campaigns/new?lang=en", headers=FORM, content=str(httpx.QueryParams(
            form(sample_kind="share", sample_value="150"))))
        assert r.status_code == 422
        assert set(errors_on(r.text)) == {"sample_value"}
        # (the service checks the roles against the standard once the spec itself is sound)
        r = c.post("/campaigns/new?lang=en", headers=FORM, content=str(httpx.QueryParams(
            form(pool_roles=["delivery_staff"]))))
        assert r.status_code == 422
        assert "does not work with this standard" in errors_on(r.text)["pool_roles"]
    assert count_rows(live.database_url(), "check_campaigns") == 0


def test_create_draw_redraw_and_close_through_the_pages(live: Live) -> None:
    with client(live, "li") as c:
        r = c.post("/campaigns/new?lang=zh", headers=FORM, content=str(httpx.QueryParams(
            form(stratify_by="org_unit", min_per_stratum="1"))))
        assert r.status_code == 303, r.text
        page = r.headers["location"]
        assert re.fullmatch(r"/campaigns/\d+\?lang=zh", page)
        number = page.split("?")[0].rsplit("/", 1)[1]
        assert "草稿" in c.get(page).text
        assert c.post(f"/campaigns/{number}/draw?lang=zh", headers=FORM,
                      content="").status_code == 303
        shown = c.get(page).text
        assert "已抽取" in shown and 'data-draw-record="1"' in shown
        assert f'href="/api/campaigns/{number}/draws/1"' in shown
        r = c.post(f"/campaigns/{number}/draw?lang=zh", headers=FORM, content="reason=")
        assert r.status_code == 422
        assert errors_on(r.text) == {"reason": "请填写重新抽取的原因。"}
        r = c.post(f"/campaigns/{number}/draw?lang=zh", headers=FORM,
                   content=str(httpx.QueryParams({"reason": "名单有误"})))
        assert r.status_code == 303
        shown = c.get(page).text
        assert 'data-draw-record="2"' in shown and "重新抽取原因：名单有误" in shown
        # the dashboard's card lists it while it is open
        card = c.get("/dashboard?lang=zh").text
        assert "进行中的双随机抽查" in card and "春季双随机抽查" in card
        assert c.post(f"/campaigns/{number}/close?lang=zh", headers=FORM,
                      content="").status_code == 303
        shown = c.get(page).text
        assert "data-closed" in shown and "data-campaign-form" not in shown
        listed = c.get("/campaigns?lang=en").text
        assert "春季双随机抽查" in listed and "Closed" in listed
        # closed: a draw is refused (the error page, not a new draw)
        assert c.post(f"/campaigns/{number}/draw", headers=FORM,
                      content="reason=again").status_code == 409
    with client(live, "zhang") as c:  # a customer manager does not run campaigns
        assert c.get("/campaigns").status_code == 403
        assert c.get(page).status_code == 403
        assert "data-nav=\"campaigns\"" not in c.get("/today").text
