"""The public pages a consumer meets, at 320 px wide and at 200% zoom, by keyboard alone.

For each size — 320×640 (the narrowest phone the reflow rule names), 390×844 (a phone),
1366×900 (a desktop) and 683×450 at two device pixels per CSS pixel (that desktop at 200%
zoom: the same CSS width a zoomed page lays out in) — and each language: the survey of a
shop's link (``/s/{token}``), sent empty (every problem listed), then answered with Tab,
Space, the arrow keys and Enter only, each control showing where the focus is; the thanks;
the link again (already answered); a closed campaign's link; a forged link; the consumer
page and its complaint form, sent empty and then filed by keyboard. No page is wider than
the window (nothing to scroll sideways). Each page is photographed into $ROUNDS_SHOTS
(default /work/shots/story)."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import os
import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support.fieldwork import Live, live_city
from support.public_links import link_of

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("ROUNDS_SHOTS", "/work/shots/story"))
SIZES: dict[str, dict[str, Any]] = {
    "320": {"viewport": {"width": 320, "height": 640}, "device_scale_factor": 2},
    "390": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2},
    "1366": {"viewport": {"width": 1366, "height": 900}, "device_scale_factor": 1},
    "zoom200": {"viewport": {"width": 683, "height": 450}, "device_scale_factor": 2},
}
THANKS = {"zh": "感谢您的参与", "en": "Thank you"}


@dataclass(frozen=True)
class Links:
    live: Live
    open: str  # a shop's link of an open campaign
    closed: str  # a shop's link of a closed one


def _campaign(live: Live, title: str, *, close: bool = False) -> str:
    today = dt.date.today()
    with live.client("li") as c:
        r = c.post("/api/survey-campaigns", json={
            "title": title, "survey": "consumer_satisfaction", "audience": "consumer",
            "one_per": "device", "target_responses": 100,
            "period": {"start": (today - dt.timedelta(days=1)).isoformat(),
                       "end": (today + dt.timedelta(days=30)).isoformat()}})
        assert r.status_code == 201, r.text
        cid = int(r.json()["id"])
        assert c.post(f"/api/survey-campaigns/{cid}/open").status_code == 200
    path = link_of(live, cid, shop="shop_a")
    if close:
        with live.client("li") as c:
            assert c.post(f"/api/survey-campaigns/{cid}/close").status_code == 200
    return path


@pytest.fixture(scope="module")
def links(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Links]:
    # Seeded in a thread of its own: Playwright keeps an event loop in this one.
    with ExitStack() as stack, concurrent.futures.ThreadPoolExecutor(1) as pool:
        live = pool.submit(stack.enter_context, live_city(
            tmp_path_factory.mktemp("survey_reflow"), "sqlite",
            env={"ROUNDS_SURVEYS_PER_MINUTE": "1000"})).result()
        yield Links(live, pool.submit(_campaign, live, "消费者满意度调查").result(),
                    pool.submit(_campaign, live, "上月消费者调查", close=True).result())


def _page(browser: Any, size: str, errors: list[str]) -> Any:
    ctx = browser.new_context(locale="zh-CN", **SIZES[size])
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    # A page's own status (422, 409, 404, 410) is logged as a failed load; anything else
    # is an error.
    page.on("console", lambda m: errors.append(m.text)
            if (m.type == "error" and not m.text.startswith("Failed to load resource"))
            or "Content Security Policy" in m.text else None)
    return page


def fits(page: Any, what: str) -> None:
    width = page.evaluate("document.documentElement.clientWidth")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{what}: {scroll} px wide in a {width} px window"


FOCUS_SHOWN = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return false;
  for (const n of [el, el.closest('.option, .sp-option, .check, label')]) {
    if (!n) continue;
    const s = getComputedStyle(n);
    if (s.opacity === '0' || s.visibility === 'hidden') continue;  // an outline not seen
    if (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) return true;
  }
  return false;
}"""


def focused(page: Any) -> dict[str, Any]:
    info: dict[str, Any] = page.evaluate("""() => {
      const el = document.activeElement;
      return {tag: el.tagName.toLowerCase(), type: el.type || '', name: el.name || '',
              value: el.value || '', checked: !!el.checked, id: el.id || ''};
    }""")
    return info


def tab(page: Any) -> dict[str, Any]:
    page.keyboard.press("Tab")
    info = focused(page)
    if info["tag"] != "body":
        assert page.evaluate(FOCUS_SHOWN), f"no visible focus on {info}"
    return info


def answer_by_keyboard(page: Any, focus_shot: Path) -> None:
    """Every required question by keyboard: Tab into each radio group, Space to choose, the
    arrow keys to move the choice; a comment typed; Enter on the submit button."""
    seen: set[str] = set()
    for _ in range(300):
        el = tab(page)
        if el["tag"] == "button" and el["type"] == "submit":
            page.keyboard.press("Enter")
            return
        if el["type"] == "radio" and el["name"] not in seen:
            seen.add(el["name"])
            page.keyboard.press("Space")
            if el["name"] == "f-shop_service":  # 1, then the arrows to 3
                page.keyboard.press("ArrowRight")
                page.keyboard.press("ArrowRight")
                assert focused(page)["value"] == "3" and focused(page)["checked"]
                page.screenshot(path=str(focus_shot))  # the focus ring, as seen
        elif el["tag"] == "textarea" and el["name"] == "f-comments":
            page.keyboard.insert_text("服务很好")
    raise AssertionError("Tab never reached the submit button")


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("size", list(SIZES))
def test_public_pages_reflow_and_work_by_keyboard(browser: Any, links: Links, size: str,
                                                  lang: str) -> None:
    url = links.live.url
    errors: list[str] = []
    page = _page(browser, size, errors)
    SHOTS.mkdir(parents=True, exist_ok=True)

    def look(name: str) -> None:
        fits(page, name)
        page.screenshot(path=str(SHOTS / f"{name}_{lang}_{size}.png"), full_page=True)

    page.goto(f"{url}{links.open}?lang={lang}")
    assert page.locator("script").count() == 0
    look("survey")
    # Sent empty, by keyboard: the page comes back with every problem.
    page.locator("button[type=submit]").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-summary]")
    assert page.locator("[data-summary] li").count() >= 7
    look("survey_errors")
    # Answered by keyboard alone, from the top of the page.
    page.locator("body").focus()
    page.evaluate("document.activeElement.blur()")
    answer_by_keyboard(page, SHOTS / f"survey_focus_{lang}_{size}.png")
    page.wait_for_selector("[data-survey-page=thanks]")
    assert THANKS[lang] in page.locator("h1").inner_text()
    look("survey_thanks")
    page.goto(f"{url}{links.open}?lang={lang}")
    page.wait_for_selector("[data-survey-page=answered]")
    look("survey_answered")
    page.goto(f"{url}{links.closed}?lang={lang}")
    page.wait_for_selector("[data-survey-page=closed]")
    look("survey_closed")
    page.goto(f"{url}/s/forged-link?lang={lang}")
    page.wait_for_selector("[data-survey-page=invalid]")
    look("survey_invalid")

    # The consumer page: the complaint form, sent empty, then filed by keyboard.
    page.goto(f"{url}/consumer?lang={lang}&shop=shop_a")
    look("consumer")
    page.locator("[data-complaint-form] button[type=submit]").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-summary]")
    look("consumer_errors")
    page.focus("#c-topic")
    assert page.evaluate(FOCUS_SHOWN)
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")  # the second topic
    assert page.locator("input[name=topic]").nth(1).is_checked()
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "c-shop"
    assert page.evaluate(FOCUS_SHOWN)
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "c-text"
    page.keyboard.insert_text("店里卖的烟价格没有标。")
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "c-contact"
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "c-consent"
    assert page.evaluate(FOCUS_SHOWN)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-consumer-page=complaint_filed]")
    look("consumer_filed")
    assert re.search(r"/consumer", page.url)
    assert not errors, errors
    page.context.close()
