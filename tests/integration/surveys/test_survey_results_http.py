"""The results page, its exports and JSON, and the industry portal over real HTTP (SQLite and
PostgreSQL), the minimum group size set to 3: the leader reads every figure, the free text
searched, and downloads CSV and XLSX with one row per response; a customer manager is
refused everywhere; an industry user is refused the results but reads the industry portal,
where a station of 2 responses is "too few" and one of 3 is shown, and no shop, staff member
or written answer appears in any page or JSON."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import openpyxl
import pytest

from support.fieldwork import Live, live_city
from support.live import api_token
from support.survey_results import SUGGESTIONS, Surveys, seed_surveys

NAMES = ("Shop A", "Shop B", "Shop C", "zhang", "wang", "zhao")


@dataclass(frozen=True)
class World:
    live: Live
    surveys: Surveys
    industry: dict[str, str]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[World]:
    with live_city(tmp_path_factory.mktemp("survey-results"), request.param,
                   env={"ROUNDS_SURVEYS_MIN_GROUP": "3"}) as city:
        surveys = seed_surveys(city.database_url(), city.field)
        yield World(city, surveys, api_token(city.server, surveys.industry_user))


def texts_on(html: str) -> list[str]:
    return re.findall(r'<p class="sr-text">([^<]*)</p>', html)


def test_the_leader_reads_every_figure_and_searches_the_text(world: World) -> None:
    p, s = world.surveys.pressure, world.surveys.satisfaction
    with world.live.client("li") as c:
        page = c.get(f"/surveys/{p}/results?lang=zh")
        assert page.status_code == 200, page.text
        html = page.text
        for words in ("压力较小", "压力中等", "压力较大", "想要的卷烟品规订不到货", "按管理所",
                      "按人员（客户经理等）", "按零售户档位", "已收 5 份，目标 20 份（25%）"):
            assert words in html
        assert 'data-chart="levels"' in html and html.count('data-chart="bars"') == 6
        assert f'href="/surveys/{p}/results.csv?lang=zh"' in html
        body = c.get(f"/api/survey-campaigns/{p}/results").json()
        assert {lv["level"]: lv["count"] for lv in body["scores"]["overall"]["levels"]} == {
            "low": 2, "moderate": 1, "high": 2}
        assert body["overview"]["count"] == 5
        html = c.get(f"/surveys/{s}/results?lang=zh").text
        assert texts_on(html) == list(reversed(SUGGESTIONS))  # newest first
        assert "不适用" in html
        found = c.get(f"/surveys/{s}/results", params={"lang": "zh", "q": "送货"}).text
        assert texts_on(found) == ["送货员态度很好", "送货时间能不能固定在上午"]
        assert "共 2 条意见" in found
        none = c.get(f"/surveys/{s}/results", params={"lang": "zh", "q": "没有这句"}).text
        assert texts_on(none) == [] and "没有包含“没有这句”的文字回答。" in none
        api = c.get(f"/api/survey-campaigns/{s}/results/texts", params={"q": "货源"}).json()
        assert [t["text"] for t in api["items"]] == ["货源紧张的品规希望多分一些"]
        assert api["items"][0]["site_name"] == "Shop C"
        en = c.get(f"/surveys/{p}/results?lang=en").text
        assert "Outcome levels" in en and "High" in en and "压力较大" not in en


def test_exports_one_row_per_response(world: World) -> None:
    p, s = world.surveys.pressure, world.surveys.satisfaction
    with world.live.client("li") as c:
        r = c.get(f"/surveys/{p}/results.csv?lang=zh")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert rows[0][:8] == ["提交时间", "答卷人类别", "零售户", "管理所", "对应人员",
                               "得分率（%）", "得分", "结果等级"]
        assert rows[0][8] == "想要的卷烟品规订不到货" and len(rows) == 6
        assert sorted(row[7] for row in rows[1:]) == sorted(
            ["压力较小", "压力中等", "压力较大", "压力较大", "压力较小"])
        assert [row[1] for row in rows[1:]].count("消费者") == 1
        assert [row[2] for row in rows[1:]] == ["Shop A", "Shop A", "Shop B", "Shop C", ""]
        # the staff member: the shop's customer manager (shop C has none; nor a consumer)
        assert [row[4] for row in rows[1:]] == ["zhang", "zhang", "wang", "", ""]
        assert [row[6] for row in rows[1:]] == ["0.0", "6.0", "18.0", "12.0", "0.0"]
        r = c.get(f"/surveys/{s}/results.xlsx?lang=en")
        assert r.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
        assert sheet is not None
        values = list(sheet.iter_rows(values_only=True))
        assert values[0][:3] == ("Submitted", "Respondent", "Shop") and len(values) == 9
        header = list(values[0])
        suggestions = header.index("Your comments and suggestions")
        assert [v[suggestions] for v in values[1:7]] == list(SUGGESTIONS)
        improve = header.index("What should we improve first? (up to two)")
        assert values[1][improve] == "Delivery; Supply"
        assert values[1][header.index("Supply meets the shop's needs")] == "Not applicable"


def test_who_may_read(world: World) -> None:
    p = world.surveys.pressure
    with world.live.client("zhang") as c:
        assert c.get(f"/surveys/{p}/results?lang=zh").status_code == 403
        assert c.get(f"/api/survey-campaigns/{p}/results").status_code == 403
        assert c.get(f"/surveys/{p}/results.csv").status_code == 403
        assert c.get("/industry?lang=zh").status_code == 403
        assert c.get(f"/api/industry/surveys/{p}").status_code == 403
    with httpx.Client(base_url=world.live.url, headers=world.industry, timeout=60) as c:
        assert c.get(f"/surveys/{p}/results?lang=zh").status_code == 403
        assert c.get(f"/api/survey-campaigns/{p}/results").status_code == 403
        assert c.get(f"/surveys/{p}/results.xlsx").status_code == 403
        assert c.get("/industry?lang=zh").status_code == 200
    with httpx.Client(base_url=world.live.url, timeout=60, follow_redirects=False) as c:
        assert c.get(f"/surveys/{p}/results").status_code == 303  # to sign in


def test_the_industry_sees_only_groups_of_the_minimum_size(world: World) -> None:
    p, s = world.surveys.pressure, world.surveys.satisfaction
    with httpx.Client(base_url=world.live.url, headers=world.industry, timeout=60) as c:
        pressure = c.get(f"/api/industry/surveys/{p}").json()
        stations = {g["name"]: g for g in pressure["scores"]["by_station"]}
        # north: shop A twice and shop C (3, shown); south: shop B once (hidden)
        assert stations["north"]["suppressed"] is False and stations["north"]["count"] == 3
        assert {lv["level"]: lv["count"] for lv in stations["north"]["levels"]} == {
            "low": 1, "moderate": 1, "high": 1}
        assert stations["south"]["suppressed"] is True
        assert stations["south"]["mean_value"] is None
        assert pressure["scores"]["by_staff"] == []
        satisfaction = c.get(f"/api/industry/surveys/{s}").json()
        south = {g["name"]: g for g in satisfaction["scores"]["by_station"]}["south"]
        assert south["count"] == 2 and south["suppressed"] is True  # min_group - 1
        assert south["mean_percentage"] is None
        assert all(q["type"] != "text" for q in satisfaction["questions"])
        pages = [c.get("/industry?lang=zh").text, c.get(f"/industry/surveys/{s}?lang=zh").text,
                 c.get(f"/industry/surveys/{p}?lang=en").text,
                 c.get("/api/industry/surveys").text, c.get("/api/industry/trends").text]
        assert "样本不足" in pages[1] and "Too few responses" in pages[2]
        assert "零售户满意度调查（十二月）" in pages[0] and 'data-nav="industry"' in pages[0]
        for text in [*pages, str(pressure), str(satisfaction)]:
            for secret in (*NAMES, *SUGGESTIONS):
                assert secret not in text
