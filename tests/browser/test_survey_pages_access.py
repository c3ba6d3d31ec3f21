"""The signed-in pages of surveys, the shop's portal, the industry user's and the notices, in
Chromium on a real server, at 320 px wide (a small phone) and at 683×450 (1366×900 at 200%
zoom): the page never scrolls sideways (a wide table may, inside its own labelled, focusable
region), every form control has a name a screen reader says, there is one h1 and a main
landmark, and Tab reaches the page's main action, which shows where the focus is."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from support.browser import sign_in
from support.campaign_city import new_page
from support.fieldwork import PASSWORD, Field
from support.live import LiveServer, api_token, run_async
from support.survey_results import Surveys, seed_city, seed_market, seed_surveys

pytestmark = pytest.mark.browser

WAIT = 20_000
SHOTS = Path(os.environ.get("ROUNDS_SHOTS", "/work/shots/access"))
VIEWPORTS = {"320": {"width": 320, "height": 640},
             "zoom200": {"width": 683, "height": 450}}
LEADER, SHOP, INDUSTRY = "li", "owner_a", "hangye"


@dataclass
class World:
    url: str
    surveys: Surveys
    unanswered: int  # a retailer survey shop A has not answered
    consumer: int  # a consumer survey (it has public links)
    pages: dict[tuple[str, str], Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def seed_more(url: str, f: Field) -> tuple[int, int]:
    """Shop A's own account, and two more open campaigns: a retailer survey nobody answered,
    a consumer survey."""
    from rounds.db import create_engine, session_factory, transaction, utcnow
    from rounds.runtime.definitions.service import get_version
    from rounds.runtime.people.service import create_user
    from rounds.runtime.surveys.models import CONSUMER, OPEN, RETAILER, SurveyCampaign

    async def run() -> tuple[int, int]:
        engine = create_engine(url)
        try:
            async with transaction(session_factory(engine)) as db:
                await create_user(db, username=SHOP, display_name="王店主",
                                  role_id="retailer_user", org_unit_code="north",
                                  password=PASSWORD, site_id=f.sites["shop_a"])
                now, made = utcnow(), []
                for survey, audience, title in (
                        ("retailer_satisfaction", RETAILER, "零售户满意度调查（一月）"),
                        ("consumer_satisfaction", CONSUMER, "消费者满意度调查（十二月）")):
                    version = await get_version(db, survey)
                    c = SurveyCampaign(
                        title=title, survey_id=survey, version_id=version.id,
                        audience=audience, targeting={}, follow_visit=None,
                        target_responses=20, period_start=now.date() - dt.timedelta(days=1),
                        period_end=now.date() + dt.timedelta(days=20),
                        opens_at=now - dt.timedelta(days=1),
                        closes_at=now + dt.timedelta(days=20), status=OPEN,
                        created_by=f.users["li"])
                    db.add(c)
                    await db.flush()
                    made.append(int(c.id))
                return made[0], made[1]
        finally:
            await engine.dispose()

    return run_async(run())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[World]:
    server = LiveServer(tmp_path_factory.mktemp("survey-pages-access"),
                        env={"ROUNDS_SURVEYS_MIN_GROUP": "3"})
    contexts: list[Any] = []
    try:
        f = seed_city(server.database_url)
        surveys = seed_surveys(server.database_url, f)
        seed_market(server.database_url, f)
        unanswered, consumer = seed_more(server.database_url, f)
        with httpx.Client(base_url=server.url, headers=api_token(server, LEADER, PASSWORD),
                          timeout=30) as c:
            r = c.post("/api/notices", json={
                "title_zh": "春节期间送货时间调整", "body_zh": "2027年2月5日至2月12日暂停送货。",
                "audience": "retailer", "topic": "service"})
            assert r.status_code == 201, r.text
        w = World(server.url, surveys, unanswered, consumer)
        # one signed-in page per person and viewport (200%: the same CSS pixels, twice dense)
        for size, viewport in VIEWPORTS.items():
            for user in (LEADER, SHOP, INDUSTRY):
                page = new_page(browser, w.errors, viewport,
                                device_scale_factor=2 if size == "zoom200" else 1)
                contexts.append(page.context)
                sign_in(page, server.url, user, "/notices" if user == LEADER else
                        "/shop" if user == SHOP else "/industry", password=PASSWORD)
                w.pages[(size, user)] = page
        yield w
    finally:
        for ctx in contexts:
            ctx.close()
        server.stop()


def _new_with_mistakes(page: Any) -> None:
    page.locator("[data-create]").click()
    expect(page.locator("[data-error-summary]")).to_be_visible(timeout=WAIT)


@dataclass(frozen=True)
class Case:
    user: str
    path: Callable[[World], str]
    action: str  # the page's main action, which Tab must reach
    then: Callable[[Any], None] | None = None


CASES: dict[str, Case] = {
    "surveys": Case(LEADER, lambda w: "/surveys", "[data-new-survey]"),
    "surveys-new": Case(LEADER, lambda w: "/surveys/new", "[data-create]"),
    "surveys-new-errors": Case(LEADER, lambda w: "/surveys/new", "[data-create]",
                               _new_with_mistakes),
    "survey": Case(LEADER, lambda w: f"/surveys/{w.surveys.pressure}", "[data-results-link]"),
    "survey-results": Case(LEADER, lambda w: f"/surveys/{w.surveys.satisfaction}/results",
                           "form[role=search] button[type=submit]"),
    "survey-links": Case(LEADER, lambda w: f"/surveys/{w.consumer}/links",
                         "form:has(#sheet-unit) button[type=submit]"),
    "notices": Case(LEADER, lambda w: "/notices", "[data-new-notice]"),
    "notices-new": Case(LEADER, lambda w: "/notices/new", "[data-send]"),
    "shop": Case(SHOP, lambda w: "/shop", "[data-new-feedback]"),
    "shop-visits": Case(SHOP, lambda w: "/shop/visits", "main .fw-context a"),
    "shop-issues": Case(SHOP, lambda w: "/shop/issues", "main a[href*='/shop/feedback/new']"),
    "shop-feedback": Case(SHOP, lambda w: "/shop/feedback/new", "[data-send]"),
    "survey-answer": Case(SHOP, lambda w: f"/surveys/{w.unanswered}/answer",
                          "main button[type=submit]"),
    "industry": Case(INDUSTRY, lambda w: "/industry", "main form button[type=submit]"),
    "industry-survey": Case(INDUSTRY, lambda w: f"/industry/surveys/{w.surveys.satisfaction}",
                            "[data-industry-survey] > p > a"),
}

# What a screen reader would call each visible form control and each region that scrolls
# sideways (a wide table's); the ones with no name are returned.
NAMELESS = """() => {
  const shown = e => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
  const named = e => {
    if ((e.getAttribute('aria-label') || '').trim()) return true;
    const by = e.getAttribute('aria-labelledby');
    if (by && by.split(/\\s+/).some(id => (document.getElementById(id)?.textContent || '').trim()))
      return true;
    if (e.labels && [...e.labels].some(l => l.textContent.trim())) return true;
    if ((e.getAttribute('title') || '').trim()) return true;
    if (e.tagName === 'BUTTON' && e.textContent.trim()) return true;
    if (e.tagName === 'INPUT' && ['submit', 'button', 'reset'].includes(e.type) && e.value)
      return true;
    return false;
  };
  const out = [];
  for (const e of document.querySelectorAll('input, select, textarea, button')) {
    if (e.type === 'hidden' || !shown(e)) continue;
    if (!named(e)) out.push(e.outerHTML.slice(0, 160));
  }
  for (const e of document.querySelectorAll('main *')) {
    const s = getComputedStyle(e);
    if (!['auto', 'scroll'].includes(s.overflowX) || e.scrollWidth <= e.clientWidth + 1) continue;
    if (e.tabIndex < 0 || !named(e)) out.push('scrolls sideways: ' + e.outerHTML.slice(0, 160));
  }
  return out;
}"""

FOCUS_SHOWN = """() => {
  const e = document.activeElement;
  if (!e || !e.matches(':focus-visible')) return false;
  const s = getComputedStyle(e);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
  return outline || (s.boxShadow && s.boxShadow !== 'none');
}"""


def shoot(page: Any, name: str) -> None:
    """The whole page, and what the screen shows first (at 200%, little: what stays put
    on it matters)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.screenshot(path=str(SHOTS / f"{name}-screen.png"))


# Whether what has the focus is hidden under something that stays put (the sticky top bar):
# the middle of it (or, for a tall one, of its top line) is not it.
OBSCURED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const r = e.getBoundingClientRect();
  if (!r.width || !r.height) return null;
  const x = r.left + Math.min(r.width, innerWidth) / 2, y = r.top + Math.min(r.height, 24) / 2;
  if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) return e.outerHTML.slice(0, 100);
  const top = document.elementFromPoint(x, y);
  return top && (top === e || e.contains(top) || top.contains(e)) ? null
    : e.outerHTML.slice(0, 100) + ' under ' + (top ? top.outerHTML.slice(0, 60) : 'nothing');
}"""


def tab_to(page: Any, selector: str, limit: int = 150) -> list[str]:
    """Tab to ``selector``; what had the focus on the way but could not be seen."""
    hidden: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        if (under := page.evaluate(OBSCURED)) is not None:
            hidden.append(under)
        if page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return hidden
    raise AssertionError(f"Tab never reached {selector}")


@pytest.mark.parametrize("size", list(VIEWPORTS))
@pytest.mark.parametrize("name", list(CASES))
def test_the_page_fits_is_named_and_works_by_keyboard(world: World, name: str,
                                                      size: str) -> None:
    case = CASES[name]
    page = world.pages[(size, case.user)]
    before = len(world.errors)
    page.goto(f"{world.url}{case.path(world)}?lang=zh")
    page.wait_for_load_state("load")
    if case.then:
        case.then(page)
    if page.locator("[data-chart]").count():  # charts drawn: their size is settled
        for i in range(page.locator("[data-chart]").count()):
            expect(page.locator("[data-chart]").nth(i)).to_have_attribute(
                "data-drawn", "true", timeout=WAIT)
    shoot(page, f"{name}-zh-{size}")
    problems: list[str] = []
    width = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    if width[0] > width[1]:
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
          .filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)
          .slice(0, 6).map(e => e.outerHTML.slice(0, 120))""")
        problems.append(f"the page scrolls sideways ({width[0]} > {width[1]}): {wide}")
    problems += [f"no name: {html}" for html in page.evaluate(NAMELESS)]
    if page.locator("h1").count() != 1:
        problems.append(f"{page.locator('h1').count()} h1")
    if page.locator("main, [role=main]").count() != 1:
        problems.append("no single main landmark")
    try:
        problems += [f"focus hidden: {h}" for h in tab_to(page, case.action)]
        if not page.evaluate(FOCUS_SHOWN):
            problems.append(f"focus not shown on {case.action}")
    except AssertionError as e:
        problems.append(str(e))
    assert not problems, problems
    assert world.errors[before:] == []


def test_on_a_phone_the_sticky_top_bar_hides_nothing_focused(world: World, browser: Any) -> None:
    """At 390×844 the top bar stays on the screen, its menu on three lines: Tab through the
    results page's tables (each taller than the screen is high, scrolled to its top) and
    back up, and every focused one shows below the bar."""
    errors: list[str] = []
    page = new_page(browser, errors, {"width": 390, "height": 844})
    try:
        url = f"/surveys/{world.surveys.satisfaction}/results?lang=zh"
        sign_in(page, world.url, LEADER, url, password=PASSWORD)
        assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).position"
                             ) == "sticky"
        hidden = tab_to(page, "form[role=search] button[type=submit]")
        for _ in range(30):
            page.keyboard.press("Shift+Tab")
            if (under := page.evaluate(OBSCURED)) is not None:
                hidden.append(under)
        assert hidden == []
        assert errors == []
    finally:
        page.context.close()


@pytest.mark.parametrize("name", ["surveys-new-errors", "survey-results", "shop"])
def test_in_english_too(world: World, name: str) -> None:
    """A few pages in English at both sizes: the longer words fit as well."""
    case = CASES[name]
    for size in VIEWPORTS:
        page = world.pages[(size, case.user)]
        page.goto(f"{world.url}{case.path(world)}?lang=en")
        if case.then:
            case.then(page)
        shoot(page, f"{name}-en-{size}")
        assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
