"""Public survey links over HTTP against a real server (SQLite and PostgreSQL): a link is
answered once per device or token, a forged link stores nothing, too many answers are
refused per address and per campaign, a closed survey says so, no account is ever made, a
shop's link stores the shop and its unit, and the form without JavaScript shows every
problem at once with the answers kept."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.fieldwork import Live, count_rows, live_city
from support.public_links import GOOD, answer, link_of, make_campaign, response_id


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Live]:
    env = {"ROUNDS_SURVEYS_PER_MINUTE": "6", "ROUNDS_SURVEYS_CAMPAIGN_PER_MINUTE": "0"}
    with live_city(tmp_path_factory.mktemp(f"links_{request.param}"), request.param,
                   env=env) as city:
        yield city


def test_a_device_answers_once_and_a_single_use_token_once(live: Live) -> None:
    users = count_rows(live.database_url(), "users")
    cid = make_campaign(live)
    path = link_of(live, cid)
    with httpx.Client(base_url=live.url, headers={"X-Forwarded-For": "10.0.0.1"}) as phone:
        first = phone.get(path)
        assert first.status_code == 200 and "rounds_device" in first.headers["set-cookie"]
        assert "HttpOnly" in first.headers["set-cookie"]
        assert "samesite=lax" in first.headers["set-cookie"].lower()
        rid = response_id(first.text)
        done = phone.post(path, data={"response_id": rid, **GOOD})
        assert done.status_code == 200 and 'data-survey-page="thanks"' in done.text
        # a double tap is a retry of the same response: thanks again, one row
        again = phone.post(path, data={"response_id": rid, **GOOD})
        assert again.status_code == 200 and 'data-survey-page="thanks"' in again.text
        assert phone.get(path).status_code == 409
        second = phone.post(path, data={"response_id": "6f1d4a4e-6a39-4d64-9e77-1d1a3b8e0c11",
                                        **GOOD})
        assert second.status_code == 409 and 'data-survey-page="answered"' in second.text
    assert count_rows(live.database_url(), "survey_responses", f"campaign_id = {cid}") == 1
    # another device answers the same shared link
    with httpx.Client(base_url=live.url, headers={"X-Forwarded-For": "10.0.0.2"}) as other:
        assert answer(other, path).status_code == 200
    # single-use tokens: one answer each, from whichever device
    token_campaign = make_campaign(live, one_per="token")
    with live.client("li") as c:
        csv_text = c.get(f"/surveys/{token_campaign}/links/tokens.csv", params={"n": 3}).text
    tokens = [line.split(",")[1].replace(live.url, "") for line in
              csv_text.lstrip("\ufeff").splitlines()[1:]]
    assert len(tokens) == 3
    with httpx.Client(base_url=live.url, headers={"X-Forwarded-For": "10.0.0.3"}) as a, \
            httpx.Client(base_url=live.url, headers={"X-Forwarded-For": "10.0.0.4"}) as b:
        assert answer(a, tokens[0]).status_code == 200
        assert b.get(tokens[0]).status_code == 409  # used, even on another device
        assert answer(b, tokens[1]).status_code == 200
    assert count_rows(live.database_url(), "survey_responses",
                      f"campaign_id = {token_campaign}") == 2
    assert count_rows(live.database_url(), "survey_responses", "user_id IS NOT NULL") == 0
    assert count_rows(live.database_url(), "users") == users  # no account made


def test_a_forged_link_and_a_closed_survey_store_nothing(live: Live) -> None:
    cid = make_campaign(live)
    path = link_of(live, cid)
    token = path.rsplit("/", 1)[1]
    forged = "/s/" + token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    with httpx.Client(base_url=live.url, headers={"X-Forwarded-For": "10.0.1.1"}) as phone:
        page = phone.get(path)
        r = phone.get(forged)
        assert r.status_code == 404 and 'data-survey-page="invalid"' in r.text
        posted = phone.post(forged, data={"response_id": response_id(page.text), **GOOD})
        assert posted.status_code == 404
    assert count_rows(live.database_url(), "survey_responses", f"campaign_id = {cid}") == 0
    closed = make_campaign(live, status="closed")
    closed_path = link_of(live, closed)
    with httpx.Client(base_url=live.url, headers={"X-Forwarded-For": "10.0.1.2"}) as phone:
        r = phone.get(closed_path)
        assert r.status_code == 410 and 'data-survey-page="closed"' in r.text
        assert "问卷调查已结束" in r.text
        phone.cookies.set("rounds_device", "x" * 32, path="/s")
        posted = phone.post(closed_path, data={"response_id": response_id(page.text), **GOOD})
        assert posted.status_code == 410
    assert count_rows(live.database_url(), "survey_responses", f"campaign_id = {closed}") == 0


def test_a_shops_link_stores_the_shop_and_its_unit(live: Live) -> None:
    cid = make_campaign(live)
    path = link_of(live, cid, shop="shop_b")
    with httpx.Client(base_url=live.url, headers={"X-Forwarded-For": "10.0.2.1"}) as phone:
        page = phone.get(path, params={"lang": "zh"})
        assert "Shop B" in page.text
        done = phone.post(path, data={"response_id": response_id(page.text), **GOOD})
        assert done.status_code == 200
        assert "/consumer?shop=shop_b&amp;lang=zh" in done.text  # a complaint about it
    site = live.field.sites["shop_b"]
    assert count_rows(live.database_url(), "survey_responses",
                      f"campaign_id = {cid} AND site_id = {site} AND org_unit_id = "
                      f"(SELECT org_unit_id FROM sites WHERE id = {site})") == 1


def test_the_form_without_script_shows_every_problem_at_once(live: Live) -> None:
    cid = make_campaign(live)
    path = link_of(live, cid)
    with httpx.Client(base_url=live.url, headers={"X-Forwarded-For": "10.0.3.1"}) as phone:
        page = phone.get(path, params={"lang": "zh"})
        assert "<script" not in page.text
        fields = {"f-delivery_rating": "4", "f-overall_satisfaction": "dissatisfied",
                  "f-improve_first": ["supply", "delivery", "visits"]}
        r = phone.post(path + "?lang=zh", data={"response_id": response_id(page.text),
                                                **fields})
        assert r.status_code == 422
        errors = re.findall(r'<p class="error" role="alert" data-error id="([^"]+)"', r.text)
        items = {e.split("-error-")[0] for e in errors}
        # four ratings missing, the comment required by the answer, too many improvements
        assert {"f-customer_manager_service", "f-market_supervision", "f-supply_fit",
                "f-complaint_handling", "f-suggestions", "f-improve_first"} <= items
        assert 'data-summary' in r.text and r.text.count('<li><a href="#item-') >= 6
        # the answers are kept
        assert re.search(r'value="dissatisfied" checked', r.text)
        assert re.search(r'id="f-delivery_rating-3" name="f-delivery_rating" value="4" checked',
                         r.text)
    assert count_rows(live.database_url(), "survey_responses", f"campaign_id = {cid}") == 0


def test_too_many_answers_are_refused_per_address_and_per_campaign(
        live: Live, tmp_path: Path) -> None:
    cid = make_campaign(live)
    path = link_of(live, cid)
    statuses = []
    with httpx.Client(base_url=live.url, headers={"X-Forwarded-For": "10.0.4.1"}) as bot:
        page = bot.get(path)
        for _ in range(8):
            statuses.append(bot.post(path, data={"response_id": response_id(page.text)}))
    assert [r.status_code for r in statuses][:6] == [422] * 6
    limited = statuses[-1]
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert 'data-survey-page="too_many"' in limited.text
    # per campaign: a server whose campaign takes 2 answers a minute from everyone
    env = {"ROUNDS_SURVEYS_CAMPAIGN_PER_MINUTE": "2"}
    with live_city(tmp_path / "campaign_limit", "sqlite", env=env) as small:
        cid = make_campaign(small)
        path = link_of(small, cid)
        codes = []
        for n in range(3):
            with httpx.Client(base_url=small.url,
                              headers={"X-Forwarded-For": f"10.1.0.{n}"}) as phone:
                codes.append(answer(phone, path).status_code)
        assert codes == [200, 200, 429]
        assert count_rows(small.database_url(), "survey_responses") == 2
