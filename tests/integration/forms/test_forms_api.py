"""The forms API over real HTTP: a form's JSON Schema, and checking a body without storing it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema

VISIT = "customer_manager_visit"


def valid_body() -> dict[str, Any]:
    return {"answers": {
        "arrival_location": {"lat": 30.27, "lng": 120.15, "accuracy_m": 8},
        "storefront_photo": ["oss://p/front.jpg"], "stock_checked": True,
        "brands_in_stock": 42, "out_of_stock_found": "no", "demand_forecast": True,
        "new_brand_recommended": "yes", "display_standard": "standard",
        "price_tags_complete": "yes", "display_photo": ["oss://p/counter.jpg"],
        "policy_explained": True, "policy_topics": ["price_policy"],
        "self_discipline_group": "na", "advice_given": False,
        "retailer_signature": {"photo": "signature-1"}}}


def test_schema_of_the_current_version(live_server: Any) -> None:
    current = httpx.get(f"{live_server.url}/api/definitions/{VISIT}").json()
    r = httpx.get(f"{live_server.url}/api/forms/{VISIT}/schema")
    assert r.status_code == 200
    schema = r.json()
    assert schema["x-rounds-version"] == {"number": current["number"],
                                          "content_hash": current["content_hash"]}
    assert schema["title"] == "客户经理拜访服务标准"
    assert "out_of_stock_items" in schema["x-rounds-rules"]
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(valid_body(), schema)
    en = httpx.get(f"{live_server.url}/api/forms/{VISIT}/schema",
                   params={"lang": "en", "version": current["content_hash"]}).json()
    assert en["properties"]["answers"]["properties"]["brands_in_stock"]["title"] == (
        "Brands on sale")


def test_schema_of_what_is_not_a_form(live_server: Any) -> None:
    r = httpx.get(f"{live_server.url}/api/forms/customer_manager/schema")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert httpx.get(f"{live_server.url}/api/forms/nope/schema").status_code == 404


def test_check_scores_a_valid_body(live_server: Any) -> None:
    r = httpx.post(f"{live_server.url}/api/forms/{VISIT}/check",
                   content=json.dumps(valid_body()), params={"lang": "en"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["valid"] is True and out["version"]["number"] >= 1
    assert out["score"]["percentage"] is not None
    assert "Total" in out["explanation"]
    # An unticked optional check ("gave business advice") scores 0 but is no failure.
    assert out["failed"] == []
    assert isinstance(out["alerts"], list)
    # A failed item comes with its problem title, in both languages.
    body = valid_body()
    body["answers"]["display_standard"] = "messy"
    failed = httpx.post(f"{live_server.url}/api/forms/{VISIT}/check",
                        content=json.dumps(body)).json()["failed"]
    assert [(f["item"], f["problem"]) for f in failed] == [
        ("display_standard", {"zh": "卷烟陈列杂乱无序", "en": "Cigarette display untidy"})]


def test_check_lists_every_error(live_server: Any) -> None:
    body = valid_body()
    body["answers"]["brands_in_stock"] = 301
    body["answers"]["out_of_stock_found"] = "yes"  # the group becomes required
    body["answers"]["price_tags_complete"] = "no"  # evidence becomes required
    del body["answers"]["retailer_signature"]
    r = httpx.post(f"{live_server.url}/api/forms/{VISIT}/check", content=json.dumps(body))
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["code"] == "submission_invalid"
    errors = {e["pointer"]: e["message"] for e in problem["errors"]}
    assert errors == {
        "/answers/brands_in_stock": "在柜销售品规数：不能大于 300",
        "/answers/out_of_stock_items": "断货品规：必须填写",
        "/answers/retailer_signature": "零售户签字确认：必须填写",
        "/evidence/price_tags_complete/photos": "明码标价规范 · 佐证：需要至少 1 张佐证照片",
        "/evidence/price_tags_complete/note": "明码标价规范 · 佐证：需要填写佐证说明",
    }
    en = httpx.post(f"{live_server.url}/api/forms/{VISIT}/check", content=b"{not json",
                    params={"lang": "en"}).json()
    assert en["errors"][0]["pointer"] == "" and "not valid JSON" in en["errors"][0]["message"]
