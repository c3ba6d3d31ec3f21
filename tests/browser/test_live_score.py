"""The score while a form is filled in: the browser's figures are the server's.

The form evaluates the definition itself (standard.js) on every change and shows the score
so far, pass or fail, each section's figure and each outcome in the bar above the submit
button, and failed checks between fields beside their items. These tests fill forms in
Chromium and ask the server's engine (rounds.rules) about the same answers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from rounds.forms.render import render_form
from rounds.rules.standards import compile_standard

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = Path("/tmp/rounds-live-score.png")


def preview(server: str, page: Any, form: str, lang: str = "zh") -> None:
    page.goto(f"{server}/forms/{form}/preview?lang={lang}")
    page.wait_for_selector("form[data-ready=true]")


def live(page: Any) -> dict[str, Any]:
    """What the status area shows: the score's text and value, sections, outcomes."""
    return dict(page.evaluate("""() => {
      const box = document.querySelector('[data-live]')
      const score = box.querySelector('[data-live-score]')
      const total = box.querySelector('.live-total')
      return {
        hidden: box.hidden,
        text: total ? total.textContent : null,
        value: score ? JSON.parse(score.dataset.value) : null,
        sections: Object.fromEntries([...box.querySelectorAll('[data-section]')].map(
          (li) => [li.dataset.section, [JSON.parse(li.dataset.value), li.textContent]])),
        outcomes: Object.fromEntries([...box.querySelectorAll('[data-outcome]')].map(
          (p) => [p.dataset.outcome, [p.dataset.level, p.textContent]]))
      }
    }"""))


def engine_score(form: str, answers: dict[str, Any]) -> dict[str, Any]:
    """The server's score of these answers (the Python engine, with the preview's empty ctx;
    the check API would first refuse a form with required items left to fill)."""
    definition = json.loads(next(ROOT.glob(f"definitions/*/{form}.json")).read_text("utf-8"))
    return dict(msgspec.to_builtins(compile_standard(definition).evaluate(answers, {}))["score"])


def test_the_score_so_far_is_the_servers(server: str, page: Any,
                                            page_errors: list[str]) -> None:
    preview(server, page, "customer_manager_visit")
    shown = live(page)
    assert not shown["hidden"]  # a standard scores from the start: nothing answered yet
    answers = page.evaluate("window.roundsForm.payload()")["answers"]
    assert shown["value"] == engine_score("customer_manager_visit", answers)["value"]

    page.check("#f-stock_checked")
    page.fill("#f-brands_in_stock", "30")  # the score rule: half of its weight
    page.check("#f-new_brand_recommended-0")
    page.check("#f-display_standard-1")  # basic: 0.6 of 2, shows display_guidance
    page.check("#f-price_tags_complete-1")
    page.check("#f-policy_explained")
    answers = page.evaluate("window.roundsForm.payload()")["answers"]
    server_score = engine_score("customer_manager_visit", answers)
    shown = live(page)
    assert shown["value"] == server_score["value"]  # to the bit
    assert 0 < shown["value"] < 80
    # rounded to one decimal for display, with the points it comes from; below the pass mark
    figure = f"{round(server_score['value'], 1):g}%"
    assert f"当前得分 {figure}（" in shown["text"]
    assert "不合格" in shown["text"]
    sections = {s["section"]: s["value"] for s in server_score["sections"]}
    assert {k: v[0] for k, v in shown["sections"].items()} == {
        k: v for k, v in sections.items() if k in shown["sections"]}
    assert "ordering" in shown["sections"] and "display" in shown["sections"]
    page.screenshot(path=str(SCREENSHOT), full_page=False)
    assert not page_errors


def test_an_unscored_survey_shows_no_score(server: str, page: Any) -> None:
    definition = json.loads(
        (ROOT / "definitions/surveys/retailer_satisfaction.json").read_text("utf-8"))
    scored = definition.get("scored") is True
    preview(server, page, "retailer_satisfaction")
    assert live(page)["hidden"] is not scored


# -- a definition served as a page of the server's origin (its modules load from there) ------

def serve(server: str, page: Any, definition: dict[str, Any], lang: str = "zh") -> None:
    """Open ``definition`` as a form page without publishing it: the page is rendered here
    and served at the live server's origin, so its scripts are the server's."""
    url = f"{server}/test-forms/{definition['id']}"
    html = render_form(definition, lang=lang)
    page.route(url, lambda route: route.fulfill(status=200, body=html,
                                                headers={"content-type": "text/html"}))
    page.goto(url)
    page.wait_for_selector("form[data-ready=true]")


SCORING = json.loads((Path(__file__).parent / "standards/scoring_models.json").read_text("utf-8"))


def test_models_show_in_their_own_terms(server: str, page: Any, page_errors: list[str]) -> None:
    serve(server, page, SCORING)
    page.check("#f-advertising-0")  # yes: a demerit of 3
    page.check("#f-smoke_inside")  # smoking: a demerit of 4
    page.check("#f-effort-3")  # 2 of 0..6, reversed: 4 points
    page.check("#f-q1-6")
    page.check("#f-q3-2")
    answers = page.evaluate("window.roundsForm.payload()")["answers"]
    want = msgspec.to_builtins(compile_standard(SCORING).evaluate(answers))["score"]
    shown = live(page)
    assert shown["value"] == want["value"]
    sections = {s["section"]: s for s in want["sections"]}
    assert shown["sections"]["demerits"][0] == sections["demerits"]["value"]
    assert "扣分项：" in shown["sections"]["demerits"][1]
    assert shown["sections"]["demerits"][1].endswith(
        f"{sections['demerits']['value']:g} 分 分数越低越好")
    # a mean sub-scale with fewer answered items than its min_answered has no figure
    assert sections["subscale"]["value"] is None
    assert shown["sections"]["subscale"][1] == "分量表：暂不计分"
    assert shown["text"].startswith("当前得分 均分 ")
    assert not page_errors


OUTCOMES = json.loads(
    (Path(__file__).parent / "standards/outcomes_and_checks.json").read_text("utf-8"))


def check_messages(page: Any) -> dict[str, str]:
    """The failed checks shown beside items: pointer → text."""
    return dict(page.evaluate("""() => Object.fromEntries(
      [...document.querySelectorAll('[data-error][data-code="check_failed"]')].map(
        (p) => [p.dataset.error, p.textContent]))"""))


def test_checks_between_fields_show_beside_their_items(server: str, page: Any,
                                                       page_errors: list[str]) -> None:
    serve(server, page, OUTCOMES)
    assert check_messages(page) == {}
    page.fill("#f-inspected_on", "2024-05-10")
    page.check("#f-follow_up-0")  # yes: shows the follow-up date
    page.fill("#f-follow_up_on", "2024-05-01")
    messages = check_messages(page)
    assert messages == {"/answers/follow_up_on":
                        "复查日期：复查日期（2024-05-01）不能早于检查日期（2024-05-10）"}
    # the words of the server's 422 for the same answers (the forms engine's message)
    answers = page.evaluate("window.roundsForm.payload()")["answers"]
    failed = compile_standard(OUTCOMES).form(answers).checks
    assert [(f.pointer, f.message["zh"]) for f in failed] == [
        ("/answers/follow_up_on", "复查日期（2024-05-01）不能早于检查日期（2024-05-10）")]
    follow_up = page.locator("#f-follow_up_on")
    assert "check-" in (follow_up.get_attribute("aria-describedby") or "")
    follow_up.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOT.with_name("rounds-live-check.png")))

    page.fill("#f-follow_up_on", "2024-05-12")  # fixed: the message goes
    assert check_messages(page) == {}
    assert "check-" not in (follow_up.get_attribute("aria-describedby") or "")
    page.fill("#f-counted", "3")
    page.fill("#f-sold", "5")
    assert check_messages(page) == {"/answers/sold": "售出数：售出数 5 不能多于清点数 3"}
    page.check("#f-follow_up-1")  # hiding an item hides its check too
    page.fill("#f-sold", "2")
    assert check_messages(page) == {}
    assert not page_errors


def test_outcomes_follow_the_answers(server: str, page: Any, page_errors: list[str]) -> None:
    serve(server, page, OUTCOMES, lang="en")
    shown = live(page)
    assert shown["outcomes"]["grade"][0] == "a"  # nothing wrong yet: 0 demerits
    assert shown["outcomes"]["grade"][1] == "Grade: A"
    assert "Passed" in shown["text"] and "Not passed" not in shown["text"]
    assert "lower is better" in shown["text"]

    page.check("#f-pests-1")  # some pests: 5 demerits, and the item forces closure
    shown = live(page)
    answers = page.evaluate("window.roundsForm.payload()")["answers"]
    want = msgspec.to_builtins(compile_standard(OUTCOMES).evaluate(answers))
    assert {o["outcome"]: o["level"] for o in want["outcomes"]} == {
        k: v[0] or None for k, v in shown["outcomes"].items()}
    assert shown["outcomes"]["grade"] == ["closed", "Grade: Closed Closed because of pests"]
    assert shown["value"] == want["score"]["value"] == 5
    assert "5 points" in shown["text"] and "Not passed" in shown["text"]

    page.check("#f-pests-0")
    page.check("#f-cold_chain-1")  # no: 7 demerits, and it forces grade C
    shown = live(page)
    assert shown["outcomes"]["grade"] == ["c", "Grade: C 7 points"]
    assert shown["value"] == 7
    assert not page_errors
