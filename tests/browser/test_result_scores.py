"""Scores by model on the result page, in Chromium, in Chinese and in English: a demerit
check scored as a sum where lower is better (an outcome forced by a failed item, and one
decided by its band), a survey of summed choices banded into levels with mean sub-scales
(one with too few answers), the lists, and a form's check result in the browser.

A server of its own, seeded through the services: a market inspector serving one shop and
the shop's own account. The submissions are made over the API; the pages are read.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from support.browser import sign_in
from support.field import retailer_attributes
from support.fieldwork import png_bytes
from support.live import LiveServer, api_token, in_database

pytestmark = pytest.mark.browser

PASSWORD = "password-123"
DEMERITS = "retailer_conduct_demerits"
PRESSURE = "retailer_business_pressure"
CLEAN = {"licence_displayed": "yes", "licence_matches": "yes", "ecig_licensed": "na",
         "no_counterfeit": "yes", "legal_source": "yes", "minor_sign_displayed": "yes",
         "no_sales_to_minors": "yes", "prices_marked": "yes"}
# supply: 3 + 2 + 3 over 3 answered (mean 2.67); market: one answer of 3 ("can't say"
# twice), below its minimum of 2; the total 11 is in the "moderate" band (6–11)
PRESSURE_ANSWERS = {"supply_short": "always", "cash_tight": "often", "stock_unsold": "always",
                    "fewer_customers": "always", "nearby_competition": "unsure",
                    "price_pressure": "unsure"}
CJK_PUNCTUATION = re.compile("[（）：，。「」、；]")
LATIN = re.compile("[A-Za-z]")


@dataclass
class Seeded:
    server: LiveServer
    submissions: dict[str, str]  # forced, banded, survey → submission id

    @property
    def url(self) -> str:
        return str(self.server.url)


def _seed(server: LiveServer) -> dict[str, str]:
    from rounds.runtime.orgs.service import create_org_unit
    from rounds.runtime.people.service import create_user
    from rounds.runtime.sites.models import SiteAssignment
    from rounds.runtime.sites.service import create_site

    async def run(db: Any) -> dict[str, str]:
        await create_org_unit(db, code="city", kind="city", name_zh="市公司",
                              name_en="City company")
        await create_org_unit(db, code="east", kind="station", name_zh="东区管理所",
                              name_en="East station", parent_code="city")
        site = await create_site(db, None, site_kind="retailer", code="R1",
                                 name="芙蓉烟酒店", lat=28.2283, lng=112.9388, org_unit="east",
                                 address="芙蓉中路 1 号", attributes=retailer_attributes("R1"))
        inspector = await create_user(db, username="mi", display_name="市管员 李",
                                      role_id="market_inspector", org_unit_code="east",
                                      password=PASSWORD, language="zh")
        await create_user(db, username="shop", display_name="芙蓉烟酒店",
                          role_id="retailer_user", org_unit_code="east", password=PASSWORD,
                          site_id=site.id, language="zh")
        await db.flush()
        db.add(SiteAssignment(site_id=site.id, role_id="market_inspector",
                              user_id=inspector.id))
        return {"qr": site.qr_token}

    seeded: dict[str, str] = in_database(server.database_url, run)
    return seeded


def _submit(c: httpx.Client, definition: str, answers: dict[str, Any], **more: Any) -> str:
    version = c.get(f"/api/definitions/{definition}").json()["content_hash"]
    sid = str(uuid.uuid4())
    r = c.post("/api/submissions", json={"id": sid, "definition_id": definition,
                                         "version": version, "answers": answers, **more})
    assert r.status_code == 201, r.text
    return sid


@pytest.fixture(scope="module")
def field(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    server = LiveServer(tmp_path_factory.mktemp("result-scores-server"))
    try:
        qr = _seed(server)["qr"]
        made: dict[str, str] = {}
        with httpx.Client(base_url=server.url, headers=api_token(server, "mi", PASSWORD),
                          timeout=60) as c:
            visit = c.post("/api/visits", json={"qr_token": qr})
            assert visit.status_code == 201, visit.text
            visit_id = visit.json()["id"]
            photo = c.post("/api/photos", files={"file": ("p.png", png_bytes(5), "image/png")})
            assert photo.status_code == 201, photo.text
            made["banded"] = _submit(c, DEMERITS, {**CLEAN, "legal_source": "no"},
                                     visit_id=visit_id)
            made["forced"] = _submit(
                c, DEMERITS, {**CLEAN, "licence_displayed": "no", "no_counterfeit": "no",
                              "minor_sign_displayed": "no"},
                visit_id=visit_id,
                evidence={"no_counterfeit": {"photos": [photo.json()["id"]],
                                             "note": "两条假冒卷烟"}})
        with httpx.Client(base_url=server.url, headers=api_token(server, "shop", PASSWORD),
                          timeout=60) as c:
            made["survey"] = _submit(c, PRESSURE, PRESSURE_ANSWERS)
        yield Seeded(server, made)
    finally:
        server.stop()


def result(page: Any, url: str, sid: str, lang: str) -> Any:
    page.goto(f"{url}/submissions/{sid}?lang={lang}")
    return page.locator(".fw-score")


def words_fit_the_language(page: Any, lang: str) -> None:
    """No English on a Chinese page's result, no Chinese punctuation on an English page."""
    if lang == "zh":
        assert not LATIN.search(page.locator(".fw-score").inner_text())
        for line in page.locator("[data-section-score]").all_inner_texts():
            assert not LATIN.search(line), line
    else:
        main = page.locator("main").inner_text()
        # the shop's name and the inspector's note are what people typed: leave them out
        for typed in ("芙蓉烟酒店", "两条假冒卷烟"):
            main = main.replace(typed, "")
        assert not CJK_PUNCTUATION.search(main), CJK_PUNCTUATION.findall(main)


def test_a_demerit_sum_with_a_forced_outcome(field: Seeded, page: Any,
                                             page_errors: list[str]) -> None:
    sign_in(page, field.url, "mi", f"/submissions/{field.submissions['forced']}")
    expected = {
        "zh": ("7 分", "分数越低越好", "不合格", "检查结论：停业整顿",
               "因未达标项「发现假冒卷烟」直接判定", "发现假冒卷烟，请立即停业整顿", "5 分"),
        "en": ("7 points", "Lower scores are better", "Not passed", "Finding: Suspended",
               "Set by the failed item “Counterfeit cigarettes found”",
               "Counterfeit cigarettes: the shop is suspended", "5 points"),
    }
    for lang, (line, note, verdict, heading, why, message, goods) in expected.items():
        card = result(page, field.url, field.submissions["forced"], lang)
        assert card.get_attribute("data-model") == "sum"
        assert card.get_attribute("data-direction") == "lower_better"
        assert card.locator("[data-score]").inner_text() == line  # no percentage in a sum
        assert card.locator("[data-direction-note]").inner_text() == note
        assert card.locator("[data-passed]").inner_text() == verdict
        finding = card.locator("[data-outcome=finding]")
        assert finding.get_attribute("data-level") == "suspended"
        assert finding.get_attribute("data-how") == "forced"
        assert finding.locator(".fw-outcome-heading").inner_text() == heading
        assert finding.locator("[data-why]").inner_text() == why
        assert finding.locator("[data-message]").inner_text().startswith(message)
        assert page.locator("[data-section=goods] [data-section-score]").inner_text() == goods
        words_fit_the_language(page, lang)
    assert not page_errors


def test_a_banded_outcome_and_the_lists(field: Seeded, page: Any,
                                        page_errors: list[str]) -> None:
    sign_in(page, field.url, "mi", f"/submissions/{field.submissions['banded']}")
    for lang, (line, heading, why) in {
            "zh": ("5 分", "检查结论：限期整改", "总分 5，在 3–9 之间"),
            "en": ("5 points", "Finding: Fix within a deadline", "Total 5, within 3–9")}.items():
        card = result(page, field.url, field.submissions["banded"], lang)
        assert card.locator("[data-score]").inner_text() == line
        finding = card.locator("[data-outcome=finding]")
        assert finding.get_attribute("data-how") == "band"
        assert finding.locator(".fw-outcome-heading").inner_text() == heading
        assert finding.locator("[data-why]").inner_text() == why
        assert card.locator("[data-passed]").get_attribute("data-passed") == "true"
        words_fit_the_language(page, lang)
    # my results: each figure in its model, lower better said, the outcome by its label
    page.goto(f"{field.url}/me/submissions?lang=zh")
    rows = {r.locator("a").get_attribute("href").split("?")[0].rsplit("/", 1)[1]: r
            for r in page.locator("[data-result-row]").all()}
    forced, banded = rows[field.submissions["forced"]], rows[field.submissions["banded"]]
    assert forced.locator("[data-figure]").inner_text() == "7 分"
    assert forced.locator("[data-direction-note]").inner_text() == "越低越好"
    assert forced.locator("[data-level]").inner_text() == "停业整顿"
    assert banded.locator("[data-level]").inner_text() == "限期整改"
    assert "%" not in page.locator("[data-results]").inner_text()
    page.goto(f"{field.url}/me/submissions?lang=en")
    row = page.locator("[data-result-row]", has=page.locator(
        f"a[href^='/submissions/{field.submissions['banded']}']"))
    assert row.locator("[data-figure]").inner_text() == "5 points"
    assert row.locator("[data-direction-note]").inner_text() == "lower is better"
    assert row.locator("[data-level]").inner_text() == "Fix within a deadline"
    assert not page_errors


def test_a_banded_survey_with_mean_sub_scales(field: Seeded, page: Any,
                                              page_errors: list[str]) -> None:
    sign_in(page, field.url, "shop", f"/submissions/{field.submissions['survey']}")
    expected = {
        "zh": ("11 分", "经营压力：压力中等", "总分 11，在 6–11 之间", "均分 2.7（作答 3 项）",
               "作答项不足（1 项，至少需要 2 项），不计分"),
        "en": ("11 points", "Business pressure: Moderate", "Total 11, within 6–11",
               "Mean 2.7 (3 answered)",
               "Too few items answered (1; at least 2 needed), so no score"),
    }
    for lang, (line, heading, why, supply, market) in expected.items():
        card = result(page, field.url, field.submissions["survey"], lang)
        assert card.locator("[data-score]").inner_text() == line
        assert card.locator("[data-passed]").count() == 0  # the survey passes nobody
        pressure = card.locator("[data-outcome=pressure]")
        assert pressure.locator(".fw-outcome-heading").inner_text() == heading
        assert pressure.locator("[data-why]").inner_text() == why
        assert pressure.locator("[data-message]").count() == 1
        sections = page.locator("[data-section-score]")
        assert page.locator("[data-section=supply] [data-section-score]").inner_text() == supply
        assert page.locator("[data-section=market] [data-section-score]").inner_text() == market
        assert sections.count() == 2
        words_fit_the_language(page, lang)
    assert not page_errors


def test_the_check_result_in_the_form_says_the_same(field: Seeded, page: Any,
                                                    page_errors: list[str]) -> None:
    for lang, (line, why, supply, choice) in {
            "zh": ("11 分", "总分 11，在 6–11 之间", "均分 2.7（作答 3 项）",
                   {"always": "总是", "often": "经常", "unsure": "说不清"}),
            "en": ("11 points", "Total 11, within 6–11", "Mean 2.7 (3 answered)",
                   {"always": "Always", "often": "Often", "unsure": "Can't say"}),
    }.items():
        page.goto(f"{field.url}/forms/{PRESSURE}/preview?lang={lang}")
        page.wait_for_selector("form[data-ready=true]")
        for item, answer in PRESSURE_ANSWERS.items():
            page.locator(f'[data-item="{item}"] label', has_text=choice[answer]).first.click()
        page.click("button[type=submit]")
        box = page.locator("[data-result]")
        box.locator(".score").wait_for()
        assert box.locator(".score").inner_text() == line
        assert box.locator(".score").get_attribute("data-model") == "sum"
        assert box.locator(".direction").first.inner_text() in (
            "分数越低越好", "Lower scores are better")
        assert box.locator("[data-outcome=pressure] .why").inner_text() == why
        assert box.locator("[data-section=supply] .section-score").inner_text() == supply
    assert not page_errors
