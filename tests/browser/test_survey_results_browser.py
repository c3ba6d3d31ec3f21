"""A survey campaign's results and the industry portal in Chromium, on a real server, at a
phone's size (390×844) and a desktop's (1366×900), in Chinese and English: the charts are
drawn (outcome levels stacked, each question's bars) with their tables, nothing spills out
sideways, the written answers are searched by the keyboard alone (Tab to the box, type,
Enter), and an industry user finds the portal in the navigation with its trend charts."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from support.browser import sign_in
from support.campaign_city import new_page
from support.fieldwork import PASSWORD, Live
from support.live import LiveServer
from support.survey_results import Surveys, seed_city, seed_market, seed_surveys

pytestmark = pytest.mark.browser

WAIT = 20_000
SHOTS = Path(os.environ.get("ROUNDS_SHOTS", "/work/shots/results"))
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}


@dataclass(frozen=True)
class World:
    live: Live
    surveys: Surveys


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    server = LiveServer(tmp_path_factory.mktemp("results-browser"),
                        env={"ROUNDS_SURVEYS_MIN_GROUP": "3"})
    try:
        field = seed_city(server.database_url)
        surveys = seed_surveys(server.database_url, field)
        seed_market(server.database_url, field)
        yield World(Live(server, field, {}), surveys)
    finally:
        server.stop()


def shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def tab_to(page: Any, selector: str, limit: int = 200) -> None:
    for _ in range(limit):
        if page.evaluate(f"document.activeElement?.matches({selector!r}) ?? false"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def fits(page: Any) -> None:
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def charts_drawn(page: Any) -> int:
    charts = page.locator("[data-chart]")
    n = charts.count()
    for i in range(n):
        expect(charts.nth(i)).to_have_attribute("data-drawn", "true", timeout=WAIT)
        assert charts.nth(i).locator("svg").count() >= 1
    return n


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_results_page_draws_its_charts_and_searches_by_keyboard(
        world: World, browser: Any, size: str) -> None:
    errors: list[str] = []
    page = new_page(browser, errors, SIZES[size])
    url, p, s = world.live.url, world.surveys.pressure, world.surveys.satisfaction
    sign_in(page, url, "li", f"/surveys/{p}/results?lang=zh", password=PASSWORD)
    assert charts_drawn(page) == 7  # the outcome levels and six questions
    levels = page.locator("[data-groups=station]")
    expect(levels.locator("caption")).to_have_text("按管理所")
    expect(page.locator("[data-chart=levels]")).to_be_visible()
    expect(page.locator("[data-table=supply_short] tbody tr")).to_have_count(5)
    fits(page)
    shoot(page, f"results-pressure-zh-{size}")
    page.goto(f"{url}/surveys/{p}/results?lang=en")
    charts_drawn(page)
    expect(page.locator("h1")).to_contain_text("Results:")
    fits(page)
    shoot(page, f"results-pressure-en-{size}")

    page.goto(f"{url}/surveys/{s}/results?lang=zh")
    charts_drawn(page)
    expect(page.locator("[data-text]")).to_have_count(6)
    tab_to(page, "#f-q")
    page.keyboard.insert_text("送货")  # as an input method commits it
    page.keyboard.press("Enter")
    page.wait_for_url("**q=*")
    expect(page.locator("[data-text]")).to_have_count(2)
    expect(page.locator("[data-text] .sr-text")).to_have_text(["送货员态度很好",
                                                               "送货时间能不能固定在上午"])
    expect(page.locator("#f-q")).to_have_value("送货")
    fits(page)
    shoot(page, f"results-satisfaction-search-zh-{size}")
    page.goto(f"{url}/surveys/{s}/results?lang=en")
    charts_drawn(page)
    fits(page)
    shoot(page, f"results-satisfaction-en-{size}")
    assert errors == []


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_industry_portal(world: World, browser: Any, size: str) -> None:
    errors: list[str] = []
    page = new_page(browser, errors, SIZES[size])
    url = world.live.url
    sign_in(page, url, world.surveys.industry_user, "/industry?lang=zh", password=PASSWORD)
    expect(page.locator("nav.fw-nav [data-nav=industry]")).to_have_text("行业数据")
    assert charts_drawn(page) == 2  # tight supply and prices by month
    expect(page.locator("[data-campaign]")).to_have_count(2)
    expect(page.locator("[data-trend-stations] tr[data-suppressed] th")).to_have_text(["south"])
    fits(page)
    shoot(page, f"industry-zh-{size}")
    page.goto(f"{url}/industry?lang=en")
    charts_drawn(page)
    fits(page)
    shoot(page, f"industry-en-{size}")
    page.goto(f"{url}/industry/surveys/{world.surveys.satisfaction}?lang=zh")
    charts_drawn(page)
    expect(page.locator("[data-groups=station] tr[data-suppressed] th")).to_have_text(
        ["south", "无所属管理所"])  # 2 each: fewer than 3
    fits(page)
    shoot(page, f"industry-survey-zh-{size}")
    page.goto(f"{url}/industry/surveys/{world.surveys.pressure}?lang=en")
    charts_drawn(page)
    fits(page)
    shoot(page, f"industry-survey-en-{size}")
    assert errors == []
