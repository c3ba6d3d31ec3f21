"""Message templates: placeholders are rules (params), chosen codes show as their labels in
each language, and an item's problem title names the problem when it fails."""

from __future__ import annotations

from typing import Any

from rounds.definitions.loader import DefinitionDocument
from rounds.definitions.validation import validate
from rounds.rules.standards import compile_standard

T = {"zh": "项", "en": "Item"}

STANDARD: dict[str, Any] = {
    "kind": "standard", "id": "stock_check", "title": {"zh": "库存", "en": "Stock"},
    "site_kinds": ["retailer"],
    "sections": [{"id": "stock", "title": T, "items": [
        {"id": "out_of_stock", "type": "group", "title": {"zh": "断货品规", "en": "Out"},
         "items": [
             {"id": "brand", "type": "text", "title": {"zh": "品规", "en": "Brand"}},
             {"id": "reason", "type": "single_choice", "title": {"zh": "原因", "en": "Reason"},
              "choices": [{"value": "A1", "label": {"zh": "货源紧张", "en": "Short supply"}},
                          {"value": "B-2", "label": {"zh": "未订购", "en": "Not ordered"}},
                          {"value": "07", "label": {"zh": "销售过快", "en": "Sold fast"}}]}]},
        {"id": "topics", "type": "multiple_choice", "title": {"zh": "宣传内容", "en": "Topics"},
         "choices": [{"value": "price", "label": {"zh": "价格政策", "en": "Pricing"}},
                     {"value": "law", "label": {"zh": "专卖法规", "en": "Monopoly law"}}]},
        {"id": "no_counterfeit", "type": "yes_no", "severity": "critical",
         "title": {"zh": "未发现假冒卷烟", "en": "No counterfeit cigarettes found"},
         "problem": {"zh": "发现假冒卷烟", "en": "Counterfeit cigarettes found"}},
        {"id": "advised", "type": "check",
         "title": {"zh": "已指导补订", "en": "Advised to reorder"}},
        {"id": "price_tags", "type": "check",
         "title": {"zh": "明码标价", "en": "Prices marked"},
         "fail_if": {"!": {"var": "price_tags"}},
         "problem": {"zh": "{n} 个品规未明码标价", "en": "{n} brands without a price tag",
                     "params": {"n": {"reduce": [{"var": "out_of_stock"},
                                                 {"+": [{"var": "accumulator"}, 1]}, 0]}}}},
    ]}],
    "alerts": [
        {"code": "out_of_stock", "severity": "medium",
         "when": {"some": [{"var": "out_of_stock"}, {"var": "brand"}]},
         "message": {
             "zh": "{count} 个品牌断货：{brands}（{reasons}）；宣传：{topics}",
             "en": "{count} brands out of stock: {brands} ({reasons}); topics: {topics}",
             "params": {
                 "count": {"reduce": [{"var": "out_of_stock"},
                                      {"+": [{"var": "accumulator"}, 1]}, 0]},
                 "brands": {"map": [{"var": "out_of_stock"}, {"var": "brand"}]},
                 "reasons": {"labels": "out_of_stock.reason"},
                 "topics": {"labels": "topics"}}}},
    ],
}

ANSWERS = {"out_of_stock": [{"brand": "黄鹤楼", "reason": "A1"},
                            {"brand": "红金龙", "reason": "07"},
                            {"brand": "利群", "reason": "A1"}],
           "topics": ["law", "price"], "no_counterfeit": "no", "advised": False,
           "price_tags": False}


def test_the_definition_is_valid() -> None:
    assert validate([DefinitionDocument("t.json", STANDARD)], references=False) == []


def test_params_are_rules_and_labels_show_in_each_language() -> None:
    ev = compile_standard(STANDARD).evaluate(ANSWERS)
    [alert] = ev.alerts
    assert alert.message == {
        "zh": "3 个品牌断货：黄鹤楼、红金龙、利群（货源紧张、销售过快）；宣传：专卖法规、价格政策",
        "en": "3 brands out of stock: 黄鹤楼, 红金龙, 利群 (Short supply, Sold fast); "
              "topics: Monopoly law, Pricing"}


def test_a_failed_item_carries_its_problem_title_filled_in_both_languages() -> None:
    ev = compile_standard(STANDARD).evaluate(ANSWERS)
    failed = {f.item: f for f in ev.failed}
    assert failed["no_counterfeit"].problem == {"zh": "发现假冒卷烟",
                                                "en": "Counterfeit cigarettes found"}
    assert failed["price_tags"].problem == {"zh": "3 个品规未明码标价",
                                            "en": "3 brands without a price tag"}
    # An unticked optional "did advise" check is not a problem: no fail_if, no failure.
    assert "advised" not in failed


def test_a_param_rule_that_raises_shows_a_dash_and_is_listed() -> None:
    d: dict[str, Any] = {**STANDARD, "alerts": [
        {"code": "x", "severity": "low", "when": True,
         "message": {"zh": "值 {v}", "en": "value {v}",
                     "params": {"v": {"throw": "boom"}}}}]}
    ev = compile_standard(d).evaluate(ANSWERS)
    assert ev.alerts[0].message == {"zh": "值 —", "en": "value —"}
    assert [e.pointer for e in ev.errors] == ["/alerts/0/message/params/v"]
