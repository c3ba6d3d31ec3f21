"""The answers JSON Schema of a form: shapes per item type, titles in both languages, what is
required unconditionally, and the conditional rules carried in ``x-rounds-rules``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from rounds.forms.schema import answers_schema

REPO = Path(__file__).resolve().parents[3]
FORMS = [p for p in sorted((REPO / "definitions").glob("*/*.json"))
         if json.loads(p.read_text("utf-8"))["kind"] in ("standard", "survey")]
VISIT = json.loads((REPO / "definitions/standards/customer_manager_visit.json").read_text("utf-8"))


def t(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


TINY: dict[str, Any] = {
    "kind": "survey", "id": "tiny", "title": t("小问卷", "Tiny survey"), "audience": "retailer",
    "sections": [{"id": "s", "title": t("节", "Section"), "items": [
        {"id": "agree", "type": "check", "required": True, "title": t("同意", "Agree")},
        {"id": "mood", "type": "scale", "min": 1, "max": 5, "allow_na": True,
         "labels": {"1": t("差", "Poor")}, "title": t("满意度", "Satisfaction"),
         "help": t("请打分", "Give a score")},
        {"id": "count", "type": "number", "integer": True, "min": 0, "max": 9,
         "unit": t("个", "pcs"), "title": t("数量", "Count")},
        {"id": "on", "type": "date", "min": "2026-01-01", "title": t("日期", "Date")},
        {"id": "seen", "type": "yes_no", "required": True, "title": t("看到", "Seen"),
         "evidence_if": {"==": [{"var": "seen"}, "no"]}, "evidence": {"note": True}},
        {"id": "why", "type": "text", "max_length": 20, "title": t("原因", "Why"),
         "required_if": {"==": [{"var": "seen"}, "no"]}},
        {"id": "where", "type": "gps", "title": t("位置", "Where")},
        {"id": "rows", "type": "group", "max_count": 3, "required": True,
         "visible_if": {"==": [{"var": "seen"}, "yes"]},
         "entry_title": t("一条", "Row"), "title": t("明细", "Rows"), "items": [
             {"id": "name", "type": "text", "required": True, "title": t("名称", "Name")},
             {"id": "kind", "type": "single_choice", "title": t("种类", "Kind"),
              "choices": [{"value": "a", "label": t("甲", "A")}]},
             {"id": "pic", "type": "photo", "title": t("照片", "Picture"),
              "evidence_if": {"var": "pic"}}]},
        {"id": "total", "type": "number", "title": t("合计", "Total"),
         "calculate": {"+": [{"var": "count"}, 1]}},
    ]}],
}


def props(schema: dict[str, Any]) -> dict[str, Any]:
    return schema["properties"]["answers"]["properties"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("path", FORMS, ids=lambda p: p.stem)
def test_every_form_in_the_repository_has_a_valid_schema(path: Path) -> None:
    definition = json.loads(path.read_text("utf-8"))
    schema = answers_schema(definition)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["required"] == ["answers"] and schema["additionalProperties"] is False
    assert schema["properties"]["answers"]["additionalProperties"] is False
    assert jsonschema.Draft202012Validator(schema).is_valid({"answers": {}}) is (
        not schema["properties"]["answers"].get("required"))


def test_shapes_per_item_type() -> None:
    p = props(answers_schema(TINY))
    assert p["agree"]["type"] == "boolean" and p["agree"]["const"] is True
    assert p["mood"]["anyOf"] == [{"type": "integer", "minimum": 1, "maximum": 5},
                                  {"const": "na"}]
    assert p["mood"]["x-labels"] == {"1": t("差", "Poor")}
    assert {k: p["count"][k] for k in ("type", "minimum", "maximum", "x-unit")} == {
        "type": "integer", "minimum": 0, "maximum": 9, "x-unit": t("个", "pcs")}
    assert p["on"]["format"] == "date" and p["on"]["formatMinimum"] == "2026-01-01"
    assert p["seen"]["enum"] == ["yes", "no"]
    assert p["why"]["maxLength"] == 20
    assert p["where"]["required"] == ["lat", "lng"]
    assert p["where"]["properties"]["lat"] == {"type": "number", "minimum": -90, "maximum": 90}
    rows = p["rows"]
    assert rows["type"] == "array" and rows["maxItems"] == 3
    entry = rows["items"]
    assert entry["required"] == ["name"] and entry["additionalProperties"] is False
    assert entry["properties"]["kind"]["enum"] == ["a"]
    assert entry["properties"]["kind"]["x-enum-labels"] == {"a": t("甲", "A")}
    assert entry["title"] == "一条" and entry["x-title"] == t("一条", "Row")
    assert p["total"]["readOnly"] is True


def test_real_standard_shapes() -> None:
    p = props(answers_schema(VISIT))
    assert p["brands_in_stock"]["type"] == "integer"
    assert (p["brands_in_stock"]["minimum"], p["brands_in_stock"]["maximum"]) == (0, 300)
    assert p["new_brand_recommended"]["enum"] == ["yes", "no", "na"]
    assert p["policy_topics"]["uniqueItems"] is True and p["policy_topics"]["minItems"] == 1
    assert len(p["policy_topics"]["items"]["enum"]) == 6
    assert p["storefront_photo"] == {
        **{k: p["storefront_photo"][k] for k in ("title", "x-title", "x-rounds-type")},
        "type": "array", "items": {"type": "string", "minLength": 1},
        "minItems": 1, "maxItems": 2}
    # an object (extensible: other ways to sign become other fields), the drawn PNG's id
    assert p["retailer_signature"]["type"] == "object"
    assert p["retailer_signature"]["required"] == ["photo"]
    assert p["retailer_signature"]["additionalProperties"] is False
    assert p["out_of_stock_items"]["items"]["properties"]["out_since"]["format"] == "date"


def test_required_only_when_unconditional() -> None:
    answers = answers_schema(TINY)["properties"]["answers"]
    # rows is required but shown only on "yes"; why is required_if; total is calculated.
    assert answers["required"] == ["agree", "seen"]
    visit = answers_schema(VISIT)["properties"]["answers"]["required"]
    assert "brands_in_stock" in visit and "retailer_signature" in visit
    assert "out_of_stock_items" not in visit and "policy_topics" not in visit
    assert "advice_notes" not in visit


def test_titles_in_both_languages() -> None:
    zh, en = answers_schema(VISIT), answers_schema(VISIT, "en")
    assert zh["title"] == "客户经理拜访服务标准"
    assert en["title"] == "Customer manager visit standard"
    assert zh["x-title"] == en["x-title"] == VISIT["title"]
    b_zh, b_en = props(zh)["brands_in_stock"], props(en)["brands_in_stock"]
    assert (b_zh["title"], b_en["title"]) == ("在柜销售品规数", "Brands on sale")
    assert b_zh["x-title"] == {"zh": "在柜销售品规数", "en": "Brands on sale"}
    assert b_en["description"].startswith("Number of cigarette brands")
    assert b_zh["x-description"]["zh"].startswith("柜台实际在售")
    assert props(en)["out_of_stock_items"]["items"]["properties"]["reason"]["title"] == "Reason"


def test_rules_for_clients() -> None:
    rules = answers_schema(TINY)["x-rounds-rules"]
    assert rules == {
        "seen": {"evidence_if": {"==": [{"var": "seen"}, "no"]},
                 "evidence": {"photo_min": 1, "note": True}},
        "why": {"required_if": {"==": [{"var": "seen"}, "no"]}, "required": False},
        "rows": {"visible_if": {"==": [{"var": "seen"}, "yes"]}, "required": True,
                 "entry": {"pic": {"evidence_if": {"var": "pic"},
                                   "evidence": {"photo_min": 1, "note": False}}}},
        "total": {"calculate": {"+": [{"var": "count"}, 1]}},
    }
    visit = answers_schema(VISIT)["x-rounds-rules"]
    assert visit["out_of_stock_items"]["visible_if"] == {
        "==": [{"var": "out_of_stock_found"}, "yes"]}
    assert "calculate" in visit["gross_margin"] and "required_if" in visit["advice_notes"]
    assert visit["price_tags_complete"]["evidence"] == {"photo_min": 1, "note": True}


def test_evidence_by_item_and_by_entry() -> None:
    evidence = answers_schema(TINY)["properties"]["evidence"]
    assert evidence["additionalProperties"] is False
    assert set(evidence["properties"]) == {"agree", "mood", "count", "on", "seen", "why",
                                           "where", "rows", "total"}
    assert evidence["patternProperties"] == {"^(rows/[0-9]+/pic)$": evidence["properties"]["seen"]}
    v = jsonschema.Draft202012Validator(answers_schema(TINY))
    ok = {"answers": {"agree": True, "seen": "no"},
          "evidence": {"seen": {"photos": ["a"], "note": "n"}, "rows/0/pic": {"photos": ["b"]}}}
    assert v.is_valid(ok)
    assert not v.is_valid({**ok, "evidence": {"rows/x/pic": {}}})
    assert not v.is_valid({**ok, "evidence": {"seen": {"photos": [""]}}})
    assert not v.is_valid({**ok, "evidence": {"seen": {"video": "x"}}})
