"""A form's check result over real HTTP carries the score in its model and the outcomes,
and says them in the asked language as the result page does (``shown``)."""

from __future__ import annotations

from typing import Any

import httpx

SURVEY = "retailer_business_pressure"
# supply 3 + 2 + 3 (mean 2.67 of 3 answered); market one answer (below its minimum of 2);
# the total 11 is in the "moderate" band (6–11)
ANSWERS = {"supply_short": "always", "cash_tight": "often", "stock_unsold": "always",
           "fewer_customers": "always", "nearby_competition": "unsure",
           "price_pressure": "unsure"}


def _check(live_server: Any, lang: str) -> dict[str, Any]:
    r = httpx.post(f"{live_server.url}/api/forms/{SURVEY}/check", params={"lang": lang},
                   json={"answers": ANSWERS})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_the_check_result_says_the_score_and_outcomes_in_words(live_server: Any) -> None:
    zh, en = _check(live_server, "zh"), _check(live_server, "en")
    score = zh["score"]
    assert (score["model"], score["direction"], score["value"], score["percentage"]) == (
        "sum", "lower_better", 11.0, None)
    assert [(o["outcome"], o["level"]) for o in zh["outcomes"]] == [("pressure", "moderate")]
    shown = {"zh": zh["shown"], "en": en["shown"]}
    assert (shown["zh"]["total"]["line"], shown["en"]["total"]["line"]) == ("11 分", "11 points")
    assert shown["zh"]["total"]["note"] == "分数越低越好"
    assert shown["zh"]["passed"] is None and shown["zh"]["verdict"] == ""
    [zh_outcome], [en_outcome] = shown["zh"]["outcomes"], shown["en"]["outcomes"]
    assert (zh_outcome["heading"], zh_outcome["why"]) == ("经营压力：压力中等",
                                                          "总分 11，在 6–11 之间")
    assert (en_outcome["heading"], en_outcome["why"]) == ("Business pressure: Moderate",
                                                          "Total 11, within 6–11")
    sections = {s["section"]: s["score"] for s in shown["zh"]["sections"]}
    assert sections["supply"]["line"] == "均分 2.7（作答 3 项）"
    assert sections["supply"]["value"] == 8 / 3  # full precision; 2.7 is for display
    assert sections["market"]["value"] is None
    assert sections["market"]["line"] == "作答项不足（1 项，至少需要 2 项），不计分"
