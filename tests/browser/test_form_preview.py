"""The form preview in Chromium on a phone-sized screen, against a real server."""

from __future__ import annotations

import datetime
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from rounds.rules.alerts import format_number

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
VISIT = json.loads((ROOT / "definitions/standards/customer_manager_visit.json").read_text("utf-8"))
SCREENSHOT = Path("/tmp/rounds-form.png")


def preview(server: str, page: Any, lang: str = "zh", form: str = "customer_manager_visit") -> None:
    page.goto(f"{server}/forms/{form}/preview?lang={lang}")
    page.wait_for_selector("form[data-ready=true]")


def item(page: Any, item_id: str) -> Any:
    return page.locator(f'[data-item="{item_id}"]').first


def titles(definition: dict[str, Any], lang: str) -> dict[str, str]:
    return {i["id"]: i["title"][lang] for s in definition["sections"] for i in s["items"]}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_labels_and_required_marks_come_from_the_definition(
        server: str, page: Any, page_errors: list[str], lang: str) -> None:
    preview(server, page, lang)
    assert page.locator("html").get_attribute("lang") == ("zh-CN" if lang == "zh" else "en")
    assert page.locator("h1").inner_text() == VISIT["title"][lang]
    legends = page.locator("fieldset.section > legend").all_inner_texts()
    assert legends == [s["title"][lang] for s in VISIT["sections"]]
    for item_id, title in titles(VISIT, lang).items():
        assert item(page, item_id).locator("[data-title]").first.inner_text() == title
    # a required number: its label, a visible mark, aria-required on the input
    label = page.locator('label[for="f-brands_in_stock"]')
    assert VISIT["sections"][1]["items"][1]["title"][lang] in label.inner_text()
    assert label.locator("[data-req]").is_visible()
    assert page.locator("#f-brands_in_stock").get_attribute("aria-required") == "true"
    assert page.locator("#f-brands_in_stock").get_attribute("max") == "300"
    # an optional item has no mark and no aria-required
    assert not item(page, "stock_checked").locator("[data-req]").is_visible()
    assert page.locator("#f-stock_checked").get_attribute("aria-required") is None
    # yes / no / not applicable in the page's language
    words = {"zh": ["是", "否", "不适用"], "en": ["Yes", "No", "N/A"]}[lang]
    options = item(page, "new_brand_recommended").locator(".option-text").all_inner_texts()
    assert options == words
    radiogroup = item(page, "new_brand_recommended").locator('[role="radiogroup"]')
    assert radiogroup.get_attribute("aria-required") == "true"
    # steps as a numbered list, help text linked to its input
    steps = item(page, "stock_checked").locator("ol.steps li").all_inner_texts()
    assert steps == [s[lang] for s in VISIT["sections"][1]["items"][0]["steps"]]
    assert "f-brands_in_stock-help" in (
        page.locator("#f-brands_in_stock").get_attribute("aria-describedby") or "")
    assert page.locator("button[type=submit]").inner_text() == {"zh": "提交", "en": "Submit"}[lang]
    assert not page_errors


def test_the_out_of_stock_group_follows_its_question(server: str, page: Any,
                                                     page_errors: list[str]) -> None:
    preview(server, page)
    group = item(page, "out_of_stock_items")
    assert group.is_hidden()  # visible_if: out_of_stock_found == "yes"
    page.check("#f-out_of_stock_found-0")  # 是
    assert group.is_visible()
    assert group.get_attribute("data-required") == "true"
    assert group.locator("[data-req]").first.is_visible()
    entries = group.locator("[data-entry]")
    assert entries.count() == 1  # min_count 1: one entry to fill in
    brand = entries.first.locator('[data-item="brand"] input')
    assert brand.is_enabled()
    brand.fill("中华(硬)")
    group.locator('[data-action="add-entry"]').click()
    assert entries.count() == 2
    assert entries.nth(1).locator("[data-entry-number]").first.inner_text() == "2"
    entries.nth(1).locator('[data-item="brand"] input').fill("芙蓉王")
    entries.nth(1).locator('[data-action="remove-entry"]').click()
    assert entries.count() == 1
    # a required group keeps its minimum
    assert entries.first.locator('[data-action="remove-entry"]').is_disabled()

    page.check("#f-out_of_stock_found-1")  # 否
    assert group.is_hidden()
    assert brand.is_disabled()  # hidden inputs are not sent
    payload = page.evaluate("window.roundsForm.payload()")
    assert payload["answers"]["out_of_stock_found"] == "no"
    assert "out_of_stock_items" not in payload["answers"]

    page.check("#f-out_of_stock_found-0")
    payload = page.evaluate("window.roundsForm.payload()")
    assert payload["answers"]["out_of_stock_items"] == [
        {"brand": "中华(硬)", "reorder_advised": False}]
    assert not page_errors


def test_answers_go_in_the_shape_the_server_reads(server: str, page: Any,
                                                  page_errors: list[str]) -> None:
    preview(server, page, "en")
    page.check("#f-stock_checked")
    page.fill("#f-brands_in_stock", "42")
    page.check("#f-new_brand_recommended-2")  # N/A
    page.check("#f-display_standard-0")  # standard: hides display_guidance
    page.check("#f-policy_explained")
    page.check("#f-policy_topics-1")
    page.check("#f-policy_topics-3")
    price_group = item(page, "price_observations")
    price_group.locator('[data-action="add-entry"]').click()
    entry = price_group.locator("[data-entry]").first
    entry.locator('[data-item="brand"] input').fill("Liqun")
    entry.locator('[data-item="where_seen"] input').first.check()
    entry.locator('[data-item="retail_price"] input').fill("210.5")
    page.fill("#f-next_visit_on", "2024-06-03")
    answers = page.evaluate("window.roundsForm.payload()")["answers"]
    assert answers["stock_checked"] is True
    assert answers["demand_forecast"] is False  # an unticked check is false
    assert answers["brands_in_stock"] == 42
    assert answers["new_brand_recommended"] == "na"
    assert answers["display_standard"] == "standard"
    assert "display_guidance" not in answers
    assert answers["policy_topics"] == ["price_policy", "no_sales_to_minors"]
    assert answers["price_observations"] == [
        {"brand": "Liqun", "where_seen": "this_shop", "retail_price": 210.5}]
    assert answers["next_visit_on"] == "2024-06-03"
    assert "gross_margin" not in answers  # calculated on the server, never sent
    assert not page_errors


def test_calculated_values_and_required_if(server: str, page: Any,
                                           page_errors: list[str]) -> None:
    preview(server, page, "en")
    notes = page.locator("#f-advice_notes")
    assert notes.get_attribute("aria-required") is None
    page.fill("#f-monthly_revenue", "20000")
    page.fill("#f-monthly_cost", "18800")
    assert page.locator("#f-gross_margin").inner_text() == "6"
    assert notes.get_attribute("aria-required") == "true"  # margin below 8%
    assert item(page, "advice_notes").locator("[data-req]").is_visible()
    page.fill("#f-monthly_cost", "15000")
    assert page.locator("#f-gross_margin").inner_text() == "25"
    assert notes.get_attribute("aria-required") is None
    page.fill("#f-monthly_cost", "")
    assert page.locator("#f-gross_margin").inner_text() == "—"
    assert not page_errors


def test_evidence_is_asked_for_when_evidence_if_holds(server: str, page: Any) -> None:
    preview(server, page, "en")
    evidence = item(page, "price_tags_complete").locator("[data-evidence]")
    assert evidence.is_hidden()
    page.check("#f-price_tags_complete-1")  # no
    assert evidence.is_visible()
    assert evidence.locator("input[type=file]").get_attribute("capture") == "environment"
    evidence.locator("textarea").fill("Two brands had no price tag.")
    payload = page.evaluate("window.roundsForm.payload()")
    assert payload["evidence"] == {
        "price_tags_complete": {"photos": [], "note": "Two brands had no price tag."}}
    page.check("#f-price_tags_complete-0")
    assert evidence.is_hidden()
    assert "evidence" not in page.evaluate("window.roundsForm.payload()")


def test_gps_fills_position_from_the_device(server: str, page: Any, page_errors: list[str]) -> None:
    preview(server, page)
    gps = item(page, "arrival_location")
    gps.locator('[data-action="locate"]').click()
    page.wait_for_function(
        "document.querySelector('[data-item=arrival_location] [data-gps=lat]').value !== ''")
    assert "28.228304" in gps.locator("[data-gps-value]").inner_text()
    assert "112.938814" in gps.locator("[data-gps-value]").inner_text()
    answers = page.evaluate("window.roundsForm.payload()")["answers"]
    assert answers["arrival_location"] == {"lat": 28.228304, "lng": 112.938814, "accuracy_m": 12}
    assert not page_errors


def test_photos_show_thumbnails_and_a_signature_is_drawn(server: str, page: Any,
                                                          tmp_path: Path) -> None:
    preview(server, page, "en")
    # a 1×1 PNG
    png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5d5d8a5"
                        "0000000049454e44ae426082")
    photo = tmp_path / "front.png"
    photo.write_bytes(png)
    page.set_input_files("#f-storefront_photo", str(photo))
    assert item(page, "storefront_photo").locator("[data-thumbs] img").count() == 1
    pad = page.locator("#f-retailer_signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 60)
    page.mouse.down()
    page.mouse.move(box["x"] + 120, box["y"] + 100, steps=5)
    page.mouse.move(box["x"] + 220, box["y"] + 50, steps=5)
    page.mouse.up()
    answers = page.evaluate("window.roundsForm.payload()")["answers"]
    assert answers["storefront_photo"] == ["front.png"]
    # a preview stores nothing: the answer has the shape of a signature, for the check
    assert answers["retailer_signature"] == {"photo": "signature.png"}
    item(page, "retailer_signature").locator('[data-action="clear-signature"]').click()
    assert "retailer_signature" not in page.evaluate("window.roundsForm.payload()")["answers"]


def test_a_scale_survey(server: str, page: Any, page_errors: list[str]) -> None:
    preview(server, page, "en", "retailer_satisfaction")
    scale = item(page, "delivery_rating")
    texts = scale.locator(".option-text").all_inner_texts()
    assert [t.split("\n")[0] for t in texts] == ["1", "2", "3", "4", "5", "N/A"]
    assert "Very satisfied" in texts[4]
    scale.locator("label").nth(3).click()
    page.check("#f-overall_satisfaction-3")  # dissatisfied: comments become required
    assert page.locator("#f-suggestions").get_attribute("aria-required") == "true"
    answers = page.evaluate("window.roundsForm.payload()")["answers"]
    assert answers["delivery_rating"] == 4
    assert answers["overall_satisfaction"] == "dissatisfied"
    assert not page_errors


def test_problem_details_are_shown_next_to_the_fields(server: str, page: Any) -> None:
    """The JS's side of a 422, whatever the check API is doing today (the route is faked)."""
    sent: list[Any] = []

    def reject(route: Any) -> None:
        sent.append(route.request.post_data_json)
        route.fulfill(status=422, content_type="application/problem+json", body=json.dumps({
            "type": "https://rounds.dev/problems/invalid_answers", "status": 422,
            "title": "Invalid answers", "detail": "3 problems", "code": "invalid_answers",
            "errors": [
                {"pointer": "/answers/brands_in_stock", "message": "最多 300", "code": "max"},
                {"pointer": "/answers/out_of_stock_items/0/brand", "message": "请填写品规",
                 "code": "required"},
                {"pointer": "/evidence/price_tags_complete/photos", "message": "至少 1 张照片",
                 "code": "evidence"},
                {"pointer": "", "message": "整体问题", "code": "other"}]}))

    preview(server, page)
    page.route("**/api/forms/*/check*", reject)
    page.fill("#f-brands_in_stock", "500")
    page.check("#f-out_of_stock_found-0")
    page.check("#f-price_tags_complete-1")
    page.click("button[type=submit]")
    error = item(page, "brands_in_stock").locator("[data-error]")
    error.wait_for()
    assert error.inner_text() == "最多 300"
    assert error.get_attribute("role") == "alert"
    field = page.locator("#f-brands_in_stock")
    assert field.get_attribute("aria-invalid") == "true"
    assert error.get_attribute("id") in (field.get_attribute("aria-describedby") or "")
    brand = item(page, "out_of_stock_items").locator('[data-item="brand"] [data-error]')
    assert brand.inner_text() == "请填写品规"
    assert item(page, "price_tags_complete").locator("[data-error]").inner_text() == "至少 1 张照片"
    summary = page.locator("[data-summary]")
    assert summary.is_visible()
    assert "整体问题" in summary.inner_text()
    assert sent[0]["answers"]["brands_in_stock"] == 500
    assert sent[0]["evidence"] == {"price_tags_complete": {"photos": []}}


def test_a_score_is_shown_after_submitting(server: str, page: Any) -> None:
    def accept(route: Any) -> None:
        route.fulfill(status=200, content_type="application/json", body=json.dumps({
            "score": {"total": 11.5, "max": 14, "percentage": 82.1}, "explanation": [],
            "failed": ["price_tags_complete"],
            "alerts": [{"code": "price_tags_missing",
                        "message": {"zh": "明码标价不规范", "en": "Prices not marked"}}]}))

    preview(server, page)
    page.route("**/api/forms/*/check*", accept)
    page.click("button[type=submit]")
    result = page.locator("[data-result]")
    result.locator(".score").wait_for()
    assert "82.1%" in result.locator(".score").inner_text()
    assert VISIT["sections"][2]["items"][2]["title"]["zh"] in result.inner_text()
    assert "明码标价不规范" in result.inner_text()


def _check_api_status(server: str) -> int:
    request = urllib.request.Request(
        f"{server}/api/forms/customer_manager_visit/check?version=1&lang=zh",
        data=b'{"answers": {}}', method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


def test_a_number_out_of_bounds_gets_the_servers_error(server: str, page: Any,
                                                      page_errors: list[str]) -> None:
    status = _check_api_status(server)
    if status in (404, 405):
        pytest.skip("the check API (POST /api/forms/{id}/check) is not in the app yet")
    if status in (401, 403):
        pytest.skip(f"the check API answers {status} to an anonymous preview")
    preview(server, page)
    page.fill("#f-brands_in_stock", "500")  # max 300
    page.click("button[type=submit]")
    error = item(page, "brands_in_stock").locator("[data-error]")
    error.first.wait_for()
    assert error.first.get_attribute("role") == "alert"
    assert page.locator("#f-brands_in_stock").get_attribute("aria-invalid") == "true"
    assert not page_errors


def test_index_lists_standards_and_surveys(server: str, page: Any) -> None:
    page.goto(f"{server}/forms?lang=en")
    text = page.locator("main").inner_text()
    assert "Customer manager visit standard" in text
    assert "Retailer satisfaction survey" in text
    page.click('a[href="/forms/retailer_satisfaction/preview?lang=en"]')
    page.wait_for_selector("form[data-ready=true]")
    assert page.locator("h1").inner_text() == "Retailer satisfaction survey"


def test_phone_screenshot(server: str, page: Any, page_errors: list[str]) -> None:
    preview(server, page)
    item(page, "arrival_location").locator('[data-action="locate"]').click()
    page.wait_for_function(
        "document.querySelector('[data-item=arrival_location] [data-gps=lat]').value !== ''")
    page.check("#f-stock_checked")
    page.fill("#f-brands_in_stock", "32")
    page.check("#f-out_of_stock_found-0")
    group = item(page, "out_of_stock_items")
    group.locator('[data-item="brand"] input').fill("中华(硬)")
    group.locator('[data-item="reason"] input').first.check()
    page.locator("#section-ordering").scroll_into_view_if_needed()
    page.evaluate("document.querySelector('#f-brands_in_stock').scrollIntoView({block: 'start'})")
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000
    assert page.viewport_size == {"width": 390, "height": 844}
    # nothing is wider than the phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert not page_errors


def _load_make_parity() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_parity", ROOT / "tests/conformance/make_parity.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _without_empty(value: Any) -> Any:
    """Answers as a browser sends them: an empty text or list is left out (it is no answer)."""
    if isinstance(value, dict):
        return {k: _without_empty(v) for k, v in value.items() if v not in ("", [])}
    if isinstance(value, list):
        return [_without_empty(v) for v in value]
    return value


FORMS = sorted([*ROOT.glob("definitions/standards/*.json"),
                *ROOT.glob("definitions/surveys/*.json")])


@pytest.mark.parametrize("path", FORMS, ids=[p.stem for p in FORMS])
def test_the_browser_settles_a_form_as_the_server_does(server: str, page: Any,
                                                       page_errors: list[str], path: Path) -> None:
    """Shown, required, evidence and calculated values after the browser's rules have run on
    realistic answers equal what rounds.rules.scoring decides for the same answers, and the
    answers the browser would send are the ones the server keeps."""
    from rounds.forms.render import render_form
    from rounds.rules.standards import compile_standard

    definition = json.loads(path.read_text("utf-8"))
    rules = compile_standard(definition)
    html: dict[str, str] = {}
    # the rendered page, served from the server's origin so that its scripts load
    page.route(f"{server}/test-form", lambda route: route.fulfill(
        status=200, content_type="text/html; charset=utf-8", body=html["page"]))
    for n, answers in enumerate(_load_make_parity().answer_sets(definition)):
        answers.pop("ctx", None)
        state = rules.form(answers)
        html["page"] = render_form(definition, lang="en", values=answers)
        page.goto(f"{server}/test-form")
        page.wait_for_selector("form[data-ready=true]")
        seen = page.evaluate("""() => {
          const top = [...document.querySelectorAll('form > fieldset > [data-item]')]
          const out = { visible: {}, required: {}, evidence: [], calculated: {} }
          for (const el of top) {
            const id = el.dataset.item
            out.visible[id] = !el.hidden
            out.required[id] = el.dataset.required === 'true' && !el.hidden
            const box = el.querySelector('[data-evidence]')
            if (box && !box.hidden && !el.hidden) out.evidence.push(id)
            const calc = el.querySelector('[data-calc]')
            if (calc && !el.hidden) out.calculated[id] = JSON.parse(calc.dataset.value)
          }
          out.answers = window.roundsForm.payload().answers
          return out
        }""")
        where = f"{path.stem}, answer set {n}"
        assert seen["visible"] == state.visible, where
        assert seen["required"] == state.required, where
        assert sorted(seen["evidence"]) == sorted(state.evidence), where
        assert seen["calculated"] == state.calculated, where
        assert seen["answers"] == _without_empty(state.answers), where
    assert not page_errors


def test_a_complete_visit_is_scored_by_the_server(server: str, page: Any, tmp_path: Path,
                                                  page_errors: list[str]) -> None:
    status = _check_api_status(server)
    if status in (404, 405):
        pytest.skip("the check API (POST /api/forms/{id}/check) is not in the app yet")
    preview(server, page, "en")
    item(page, "arrival_location").locator('[data-action="locate"]').click()
    page.wait_for_function(
        "document.querySelector('[data-item=arrival_location] [data-gps=lat]').value !== ''")
    photo = tmp_path / "shop.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xd9")
    page.set_input_files("#f-storefront_photo", str(photo))
    page.set_input_files("#f-display_photo", str(photo))
    page.check("#f-stock_checked")
    page.fill("#f-brands_in_stock", "32")
    page.check("#f-out_of_stock_found-1")
    page.check("#f-new_brand_recommended-0")
    page.check("#f-display_standard-1")
    page.check("#f-price_tags_complete-0")
    page.check("#f-self_discipline_group-2")
    page.fill("#f-monthly_revenue", "31234.5")
    page.fill("#f-monthly_cost", "29100")
    # a margin of 6.8%: below 8%, the advice must be written down
    assert page.locator("#f-advice_notes").get_attribute("aria-required") == "true"
    page.fill("#f-advice_notes", "Move the best sellers to eye level; order fewer slow brands.")
    pad = page.locator("#f-retailer_signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 200, box["y"] + 90, steps=4)
    page.mouse.up()
    with page.expect_response("**/api/forms/customer_manager_visit/check*") as response:
        page.click("button[type=submit]")
    answer = response.value.json()
    assert response.value.status == 200, answer
    result = page.locator("[data-result] .score")
    result.wait_for()
    # full precision in the answer, the definition's digits on the screen
    shown_pct = format_number(answer["score"]["percentage"], answer["score"]["digits"])
    assert f"{shown_pct}%" in result.inner_text()
    # the browser and the server agree on the calculated margin and on what was kept
    shown = json.loads(page.locator("#f-gross_margin").get_attribute("data-value"))
    assert shown == answer["calculated"]["gross_margin"]
    assert page.evaluate("window.roundsForm.payload().answers") == answer["answers"]
    assert not page_errors


def test_a_given_version_and_what_is_not_a_form(server: str, page: Any) -> None:
    page.goto(f"{server}/forms/retailer_satisfaction/preview?lang=en&version=1")
    page.wait_for_selector("form[data-ready=true]")
    assert page.locator(".version").inner_text().startswith("Version 1 · published")
    action = page.locator("form").get_attribute("action")
    assert action == "/api/forms/retailer_satisfaction/check?version=1&lang=en"
    # the language switch keeps the version
    assert page.locator("a.lang").get_attribute("href") == "?lang=zh&version=1"
    for path in ("/forms/customer_manager/preview",  # a role, not a standard or survey
                 "/forms/no_such_thing/preview",
                 "/forms/retailer_satisfaction/preview?version=99"):
        try:
            with urllib.request.urlopen(f"{server}{path}", timeout=10) as r:
                status = r.status
        except urllib.error.HTTPError as e:
            status = e.code
        assert status == 404, path


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_check_between_fields_reads_today_as_the_server_does(
        server: str, page: Any, page_errors: list[str], lang: str) -> None:
    # retailer_conduct_demerits: the date to rectify by may not be before ctx.today, which
    # the preview gets from the server (the company's today), as the check API does.
    words = {"zh": "整改期限不能早于今天", "en": "The date to rectify by cannot be before today"}
    preview(server, page, lang, form="retailer_conduct_demerits")
    slot = item(page, "rectify_by").locator('[data-error][data-code="check_failed"]')
    today = datetime.date.fromisoformat(page.evaluate(
        "() => JSON.parse(document.querySelector('script[type=\"application/json\"]')"
        ".textContent).ctx.today"))
    assert slot.count() == 0
    page.fill("#f-rectify_by", (today - datetime.timedelta(days=1)).isoformat())
    slot.wait_for()
    assert words[lang] in slot.inner_text()
    described = page.locator("#f-rectify_by").get_attribute("aria-describedby") or ""
    assert slot.get_attribute("id") in described.split()
    page.fill("#f-rectify_by", today.isoformat())  # today itself is fine: the message goes
    slot.wait_for(state="detached")
    assert page_errors == []


@pytest.mark.parametrize("viewport", [(390, 844), (320, 700), (683, 450)])
def test_what_has_focus_is_never_under_the_submit_bar(
        server: str, page: Any, page_errors: list[str], viewport: tuple[int, int]) -> None:
    # By keyboard alone through a form whose bar holds the score so far (WCAG 2.4.11): each
    # control that takes focus shows above the sticky bar, or the bar is not sticky at all
    # (683x450 is 1366x900 at 200% zoom).
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    preview(server, page, "en", form="retailer_conduct_demerits")
    page.check("#f-licence_matches-1")  # a demerit: the live box shows
    page.locator("[data-live]").wait_for()
    page.evaluate("window.scrollTo(0, 0)")
    page.locator("h1").click()
    covered = []
    for _ in range(40):
        page.keyboard.press("Tab")
        found = page.evaluate("""() => {
            const el = document.activeElement
            const bar = document.querySelector('.actions')
            if (!el || el === document.body || bar.contains(el)) return null
            const r = el.getBoundingClientRect(), b = bar.getBoundingClientRect()
            const sticky = getComputedStyle(bar).position === 'sticky'
            const under = sticky && r.bottom > b.top + 1 && r.top < b.bottom
            return {id: el.id || el.tagName, under}
        }""")
        if found and found["under"]:
            covered.append(found["id"])
    assert covered == []
    if viewport[1] <= 600:
        assert page.evaluate("getComputedStyle(document.querySelector('.actions')).position") \
            == "static"
    assert page_errors == []
