"""Write tests/conformance/parity.json: rules, data, and the answer the server's engine gives.

The browser evaluates visibility, required-ness, evidence and calculated values with
json-logic-engine plus the operations in ``platform/rounds/forms/static/rules*.js``; the
server with ``rounds.rules``. These vectors pin the two to one answer. Each vector is
``{"rule", "data", "expected"}``, or ``{"rule", "data", "error"}`` where the server's rule raises
(``error`` is the JsonLogic error type: ``"NaN"``, ``"Invalid Arguments"``...) and the browser
must raise the same.

Three groups: the JsonLogic operations our definitions use, every domain operation (with the
edge cases that are easy to get wrong in a port: rounding ties, bad points, ISO dates), and
every rule found in ``definitions/**/*.json`` on a few realistic answer sets.

Run after changing a definition or an operation::

    .venv/bin/python tests/conformance/make_parity.py
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "platform"))

from rounds.errors import RuleEvaluationError  # noqa: E402
from rounds.rules import apply  # noqa: E402

OUT = Path(__file__).resolve().parent / "parity.json"
DEFINITIONS = ROOT / "definitions"

# -- the JsonLogic operations our definitions use ---------------------------------------------

VISIT = {
    "brands_in_stock": 32,
    "out_of_stock_found": "yes",
    "display_standard": "basic",
    "policy_explained": True,
    "advice_given": False,
    "retailer_feedback": "",
    "policy_topics": ["price_policy", "tobacco_law"],
    "out_of_stock_items": [
        {"brand": "中华(硬)", "reason": "supply_limited", "reorder_advised": True,
         "out_since": "2024-05-02"},
        {"brand": "玉溪(软)", "reason": "sold_fast", "reorder_advised": False},
        {"brand": "芙蓉王", "reason": "not_ordered"},
    ],
    "price_observations": [
        {"brand": "中华(硬)", "where_seen": "this_shop", "retail_price": 450, "guide_price": 450},
        {"brand": "中华(硬)", "where_seen": "nearby_shop", "retail_price": 480.5,
         "guide_price": 450},
        {"brand": "利群", "where_seen": "nearby_shop", "retail_price": 210},
    ],
    "arrival_location": {"lat": 28.228304, "lng": 112.938814, "accuracy_m": 12},
    "ctx": {"today": "2024-05-20", "now": "2024-05-20T09:41:00+08:00",
            "site": {"grade": "3", "location": {"lat": 28.2279, "lng": 112.9391},
                     "opened_on": "2019-11-30"},
            "user": {"role": "customer_manager"}, "visit": {"distance_m": 52.4}},
    "score": {"total": 11.5, "max": 14, "percentage": 82.1,
              "sections": {"display": {"percentage": 40}, "ordering": {"percentage": 87.5}}},
    "failed": ["price_tags_complete"],
}

GROUP = {"var": "out_of_stock_items"}
PRICES = {"var": "price_observations"}

CORE: list[tuple[Any, Any]] = [
    # var: dotted paths, defaults, indexes, what is missing
    ({"var": "brands_in_stock"}, VISIT),
    ({"var": "ctx.site.grade"}, VISIT),
    ({"var": "ctx.site.location.lat"}, VISIT),
    ({"var": "ctx.visit.distance_m"}, VISIT),
    ({"var": "score.sections.display.percentage"}, VISIT),
    ({"var": "out_of_stock_items.1.brand"}, VISIT),
    ({"var": "out_of_stock_items.7.brand"}, VISIT),
    ({"var": "out_of_stock_items.length"}, VISIT),
    ({"var": "policy_topics.0"}, VISIT),
    ({"var": "nope"}, VISIT),
    ({"var": "nope.deeper"}, VISIT),
    ({"var": ["nope", "default"]}, VISIT),
    ({"var": ["ctx.user.role", "nobody"]}, VISIT),
    ({"var": "retailer_feedback.0"}, VISIT),
    ({"var": "brands_in_stock.x"}, VISIT),
    ({"var": "constructor"}, VISIT),
    ({"var": "ctx.site.toString"}, VISIT),
    ({"var": ""}, {"a": 1}),
    ({"var": []}, [1, 2]),
    ({"var": 1}, ["a", "b"]),
    ({"var": "a.b"}, {"a": 0}),
    ({"var": "a.b"}, {"a": {"b": None}}),
    ({"var": ["a.b", 5]}, {"a": {"b": None}}),
    ({"var": "a"}, None),
    ({"var": {"cat": ["ctx.", "user.role"]}}, VISIT),
    ({"var": "x"}, {"x": {}}),
    # val (2024 spec): one key a step, scopes inside iterations
    ({"val": "brands_in_stock"}, VISIT),
    ({"val": ["ctx", "site", "grade"]}, VISIT),
    ({"val": ["ctx.site"]}, VISIT),
    ({"val": ["out_of_stock_items", 0, "brand"]}, VISIT),
    ({"val": ["out_of_stock_items", "0", "brand"]}, VISIT),
    ({"val": ["nope", "x"]}, VISIT),
    ({"val": None}, {"a": 1}),
    ({"val": []}, {"a": 1}),
    ({"map": [GROUP, {"val": [[1], "index"]}]}, VISIT),
    ({"map": [GROUP, {"cat": [{"val": "brand"}, "@", {"val": [[2], "ctx", "today"]}]}]}, VISIT),
    ({"map": [PRICES, {"val": [[3], "brands_in_stock"]}]}, VISIT),
    ({"exists": "brands_in_stock"}, VISIT),
    ({"exists": ["ctx", "site", "grade"]}, VISIT),
    ({"exists": ["ctx", "site", "nope"]}, VISIT),
    ({"exists": "retailer_feedback"}, VISIT),
    # if
    ({"if": [{"var": "policy_explained"}, "told", "not told"]}, VISIT),
    ({"if": [{"var": "advice_given"}, "advised", "no advice"]}, VISIT),
    ({"if": [{">=": [{"var": "brands_in_stock"}, 40]}, 1,
             {">=": [{"var": "brands_in_stock"}, 25]}, 0.5, 0]}, VISIT),
    ({"if": [{"var": "nope"}, 1]}, VISIT),
    ({"if": [{"var": "policy_topics"}, "some", "none"]}, VISIT),
    ({"if": [[], "full", "empty"]}, None),
    ({"if": [{"var": "x"}, "truthy", "falsy"]}, {"x": {}}),
    ({"if": [{"var": "x"}, "truthy", "falsy"]}, {"x": "0"}),
    ({"if": [{"var": "x"}, "truthy", "falsy"]}, {"x": 0}),
    ({"if": []}, None),
    ({"if": ["only"]}, None),
    ({"?:": [{"var": "advice_given"}, 1, 2]}, VISIT),
    # and / or / !
    ({"and": [{"var": "policy_explained"}, {"var": "brands_in_stock"}]}, VISIT),
    ({"and": [{"var": "policy_explained"}, {"var": "advice_given"}, "never"]}, VISIT),
    ({"and": [{"!=": [{"var": "gross_margin"}, None]}, {"<": [{"var": "gross_margin"}, 8]}]},
     {"gross_margin": 6}),
    ({"and": [{"!=": [{"var": "gross_margin"}, None]}, {"<": [{"var": "gross_margin"}, 8]}]},
     {"gross_margin": None}),
    ({"and": []}, None),
    ({"and": [0]}, None),
    ({"or": [{"var": "advice_given"}, {"var": "retailer_feedback"}, "fallback"]}, VISIT),
    ({"or": [{"var": "advice_given"}, {"var": "retailer_feedback"}]}, VISIT),
    ({"or": []}, None),
    ({"or": [{"==": [{"var": "a"}, "no"]}, {"==": [{"var": "b"}, "no"]}]}, {"a": "yes", "b": "no"}),
    ({"!": {"var": "policy_explained"}}, VISIT),
    ({"!": [{"var": "policy_topics"}]}, VISIT),
    ({"!": {"var": "policy_topics"}}, VISIT),
    ({"!": {"var": "x"}}, {"x": [0, 1]}),
    ({"!": {"var": "x"}}, {"x": []}),
    ({"!": {"var": "x"}}, {"x": {}}),
    ({"!": {"var": "nope"}}, VISIT),
    ({"!!": {"var": "retailer_feedback"}}, VISIT),
    ({"!!": [{"var": "out_of_stock_items"}]}, VISIT),
    # equality
    ({"==": [{"var": "out_of_stock_found"}, "yes"]}, VISIT),
    ({"==": [{"var": "out_of_stock_found"}, "yes"]}, {}),
    ({"==": [{"var": "nope"}, None]}, {}),
    ({"==": [None, 0]}, None),
    ({"==": [1, "1"]}, None),
    ({"==": [1, 1.0]}, None),
    ({"==": [True, 1]}, None),
    ({"==": [False, ""]}, None),
    ({"==": ["yes", "no"]}, None),
    ({"==": [{"var": "x"}, 3]}, {"x": "3.0"}),
    ({"==": [{"var": "x"}, 3]}, {"x": "three"}),
    ({"==": [{"var": "x"}, 3]}, {"x": [3]}),
    ({"==": [1, 1, 1]}, None),
    ({"===": [1, 1.0]}, None),
    ({"===": [1, "1"]}, None),
    ({"===": [{"var": "nope"}, None]}, {}),
    ({"===": [{"var": "x"}, {"var": "x"}]}, {"x": [1]}),
    ({"!=": [{"var": "display_standard"}, "standard"]}, VISIT),
    ({"!=": [{"var": "display_standard"}, "standard"]}, {}),
    ({"!=": [{"var": "display_standard"}, "standard"]}, {"display_standard": "standard"}),
    ({"!=": [{"var": "gross_margin"}, None]}, {"gross_margin": 0}),
    ({"!=": [None, "abc"]}, None),
    ({"!==": [1, "1"]}, None),
    # comparisons
    ({"<": [{"var": "score.percentage"}, 60]}, VISIT),
    ({">=": [{"var": "brands_in_stock"}, 25]}, VISIT),
    ({">": [{"var": "ctx.visit.distance_m"}, 200]}, VISIT),
    ({"<=": [{"var": "overall_satisfaction"}, 2]}, {"overall_satisfaction": 2}),
    ({"<=": [{"var": "overall_satisfaction"}, 2]}, {"overall_satisfaction": "na"}),
    ({"<=": [{"var": "overall_satisfaction"}, 2]}, {}),
    ({"<": [{"var": "gross_margin"}, 8]}, {"gross_margin": None}),
    ({"<": [{"var": "d"}, "2024-06-01"]}, {"d": "2024-05-20"}),
    ({"<": [{"var": "d"}, "2024-06-01"]}, {}),
    ({"<": ["10", 9]}, None),
    ({"<": ["10", "9"]}, None),
    ({"<": [1, {"var": "x"}, 10]}, {"x": 5}),
    ({"<": [1, {"var": "x"}, 10]}, {"x": 50}),
    ({"<=": [1, 1, 2]}, None),
    ({">": [True, 0]}, None),
    ({">": [{"var": "x"}, 0]}, {"x": [1]}),
    # in
    ({"in": ["price_tags_complete", {"var": "failed"}]}, VISIT),
    ({"in": ["licence_valid", {"var": "failed"}]}, VISIT),
    ({"in": ["x", {"var": "failed"}]}, {}),
    ({"in": [{"var": "overall_satisfaction"}, ["dissatisfied", "very_dissatisfied"]]},
     {"overall_satisfaction": "dissatisfied"}),
    ({"in": [{"var": "overall_satisfaction"}, ["dissatisfied", "very_dissatisfied"]]}, {}),
    ({"in": ["中华", {"var": "out_of_stock_items.0.brand"}]}, VISIT),
    ({"in": [1, [1.0, 2]]}, None),
    ({"in": ["1", [1, 2]]}, None),
    ({"in": [1, "a1b"]}, None),
    ({"in": ["a", {"var": "x"}]}, {"x": 5}),
    ({"in": ["a", {"var": "x"}]}, {"x": {"a": 1}}),
    # iterations over groups
    ({"some": [GROUP, {"==": [{"var": "reason"}, "supply_limited"]}]}, VISIT),
    ({"some": [GROUP, {"==": [{"var": "reason"}, "other"]}]}, VISIT),
    ({"some": [GROUP, {"var": "reorder_advised"}]}, VISIT),
    ({"some": [{"var": "nope"}, {"var": "x"}]}, VISIT),
    ({"some": [[], True]}, None),
    ({"all": [GROUP, {"var": "brand"}]}, VISIT),
    ({"all": [GROUP, {"var": "reorder_advised"}]}, VISIT),
    ({"all": [[], True]}, None),
    ({"all": [{"var": "nope"}, True]}, VISIT),
    ({"none": [PRICES, {">": [{"var": "retail_price"}, 1000]}]}, VISIT),
    ({"none": [PRICES, {">": [{"var": "retail_price"}, 450]}]}, VISIT),
    ({"none": [[], True]}, None),
    ({"none": [{"var": "nope"}, True]}, {}),
    ({"filter": [PRICES, {"==": [{"var": "where_seen"}, "nearby_shop"]}]}, VISIT),
    ({"filter": [GROUP, {"missing": ["out_since"]}]}, VISIT),
    ({"filter": [{"var": "nope"}, True]}, VISIT),
    ({"filter": [[1, 0, 2, "", None, [], {}], {"var": ""}]}, None),
    ({"map": [GROUP, {"var": "brand"}]}, VISIT),
    ({"map": [PRICES, {"-": [{"var": "retail_price"}, {"var": ["guide_price", 0]}]}]}, VISIT),
    ({"map": [{"var": "nope"}, 1]}, VISIT),
    ({"map": [{"var": "x"}, {"var": ""}]}, {"x": "abc"}),
    ({"reduce": [PRICES, {"+": [{"var": "accumulator"}, {"var": "current.retail_price"}]}, 0]},
     VISIT),
    ({"reduce": [PRICES, {"max": [{"var": "accumulator"}, {"var": "current.retail_price"}]},
                 0]}, VISIT),
    ({"reduce": [[1, 2, 3], {"+": [{"var": "accumulator"}, {"var": "current"}]}]}, None),
    ({"reduce": [[], {"+": [{"var": "accumulator"}, {"var": "current"}]}]}, None),
    ({"reduce": [{"var": "nope"}, {"+": [{"var": "accumulator"}, 1]}, 7]}, {}),
    ({"reduce": [GROUP, {"cat": [{"var": "accumulator"}, {"var": "current.brand"}, ";"]}, ""]},
     VISIT),
    ({"filter": [GROUP, {"in": [{"var": "reason"}, ["sold_fast", "not_ordered"]]}]}, VISIT),
    ({"map": [{"filter": [PRICES, {"var": "guide_price"}]},
              {"/": [{"*": [100, {"var": "retail_price"}]}, {"var": "guide_price"}]}]}, VISIT),
    # missing
    ({"missing": ["monthly_revenue", "monthly_cost"]}, {"monthly_revenue": 20000}),
    ({"missing": ["monthly_revenue", "monthly_cost"]}, {"monthly_revenue": 1, "monthly_cost": 0}),
    ({"missing": ["monthly_revenue", "monthly_cost"]},
     {"monthly_revenue": None, "monthly_cost": ""}),
    ({"missing": ["ctx.site.grade", "ctx.site.nope"]}, VISIT),
    ({"missing": [["a", "b"]]}, {"a": 1}),
    ({"missing": "a"}, {}),
    ({"missing": []}, {}),
    ({"missing_some": [1, ["a", "b", "c"]]}, {"a": 1}),
    ({"missing_some": [2, ["a", "b", "c"]]}, {"a": 1}),
    ({"missing_some": [1, ["a", "b"]]}, {"a": "", "b": False}),
    # arithmetic
    ({"+": [{"var": "brands_in_stock"}, 8]}, VISIT),
    ({"+": [1, "2", True, None]}, None),
    ({"+": ["abc", 1]}, None),
    ({"+": [0.1, 0.2]}, None),
    ({"+": []}, None),
    ({"+": "3"}, None),
    ({"+": [[1], 1]}, None),
    ({"-": [{"var": "monthly_revenue"}, {"var": "monthly_cost"}]},
     {"monthly_revenue": 20000, "monthly_cost": 18800.5}),
    ({"-": [5]}, None),
    ({"-": ["abc"]}, None),
    ({"-": [None]}, None),
    ({"-": [10, 3, 2]}, None),
    ({"*": [100, {"-": [20000, 18800]}]}, None),
    ({"*": [1.1, 3]}, None),
    ({"*": []}, None),
    ({"*": [2, "x"]}, None),
    ({"/": [{"*": [100, {"-": [20000, 18800]}]}, 20000]}, None),
    ({"/": [1, 3]}, None),
    ({"/": [10, 4]}, None),
    ({"/": [4]}, None),
    ({"/": [1, 0]}, None),
    ({"/": [-1, "0"]}, None),
    ({"/": [{"var": "price_tag_coverage"}, 100]}, {"price_tag_coverage": 85}),
    ({"/": [{"var": "price_tag_coverage"}, 100]}, {}),
    ({"%": [7, 3]}, None),
    ({"%": [-7, 3]}, None),
    ({"%": [7.5, 2]}, None),
    ({"%": [7, 0]}, None),
    ({"max": [1, 3.5, 2]}, None),
    ({"max": [{"var": "brands_in_stock"}, 40]}, VISIT),
    ({"max": [1, "3"]}, None),
    ({"max": [True, 2]}, None),
    ({"min": [1, -3.5, 2]}, None),
    ({"min": [{"var": "brands_in_stock"}, 40]}, VISIT),
    ({"min": [None, 2]}, None),
    # strings
    ({"cat": ["得分 ", {"var": "score.percentage"}, "%"]}, VISIT),
    ({"cat": [1, 2.5, True, None, "x"]}, None),
    ({"cat": [0.1, 1e21, 1e-7, -0.0, 100.0]}, None),
    ({"cat": [{"var": "policy_topics"}]}, VISIT),
    ({"cat": [{"var": "ctx.site.location"}]}, VISIT),
    ({"cat": []}, None),
    ({"cat": "one"}, None),
    ({"cat": [{"var": "x"}, "|", {"var": "y"}]}, {"x": [1, [2, None]], "y": False}),
    *[({"cat": ["v=", {"var": "x"}]}, {"x": x})
      for x in (0.00001, 1.5e-5, 0.0001, 2e-7, 1.2345678901234568e20, 1e21, 1.5e22, -0.5, 3.0)],
    ({"substr": ["retailer", 2, 3]}, None),
    ({"substr": ["零售户满意度", -3]}, None),
    ({"substr": ["retailer", 1, -2]}, None),
    ({"var": 1}, {"1": "one"}),
    ({"var": "1.5"}, {"1": {"5": "deep"}}),
    ({"reduce": [[1, 2], {"+": [{"var": "accumulator"}, {"val": [[2], "k"]}]}, 0]}, {"k": 10}),
    ({"reduce": [[1, 2], {"cat": [{"var": "accumulator"}, {"val": [[1]]}]}, ""]}, None),
    ({"map": [[[1, 2], [3]],
              {"map": [{"var": ""}, {"+": [{"var": ""}, {"val": [[3], "index"]}]}]}]}, None),
    ({"map": [[[1, 2], [3]], {"map": [{"var": ""}, {"val": [[4], "k"]}]}]}, {"k": "outer"}),
    # ?? and merge
    ({"??": [{"var": "gross_margin"}, 0]}, {}),
    ({"??": [{"var": "gross_margin"}, 0]}, {"gross_margin": 0}),
    ({"??": [{"var": "a"}, {"var": "b"}, "none"]}, {"b": ""}),
    ({"??": [None, None]}, None),
    ({"??": []}, None),
    ({"merge": [{"var": "policy_topics"}, "extra", [["nested"]]]}, VISIT),
    # the rules of our definitions, by hand
    ({"if": [{"missing": ["monthly_revenue", "monthly_cost"]}, None,
             {">": [{"var": "monthly_revenue"}, 0]},
             {"/": [{"*": [100, {"-": [{"var": "monthly_revenue"}, {"var": "monthly_cost"}]}]},
                    {"var": "monthly_revenue"}]}, None]},
     {"monthly_revenue": 31234.5, "monthly_cost": 29100}),
    ({"if": [{"missing": ["monthly_revenue", "monthly_cost"]}, None,
             {">": [{"var": "monthly_revenue"}, 0]},
             {"/": [{"*": [100, {"-": [{"var": "monthly_revenue"}, {"var": "monthly_cost"}]}]},
                    {"var": "monthly_revenue"}]}, None]},
     {"monthly_revenue": 0, "monthly_cost": 100}),
]

# -- domain operations ------------------------------------------------------------------------

SHOP = {"lat": 28.2279, "lng": 112.9391}


def dist(a: Any, b: Any) -> tuple[Any, Any]:
    # rules can't hold literal objects: the points come in the data
    return {"distance_m": [{"var": "a"}, {"var": "b"}]}, {"a": a, "b": b}


DOMAIN: list[tuple[Any, Any]] = [
    # distance_m: haversine, metres rounded to the millimetre
    ({"distance_m": [{"var": "arrival_location"}, {"var": "ctx.site.location"}]}, VISIT),
    dist(SHOP, SHOP),
    dist([28.2279, 112.9391], [28.2379, 112.9391]),
    dist({"lat": 39.9042, "lng": 116.4074}, {"lat": 31.2304, "lng": 121.4737}),
    dist({"lat": 0, "lng": 0}, {"lat": 0, "lng": 180}),
    dist({"lat": 90, "lng": 0}, {"lat": -90, "lng": 0}),
    dist({"lat": 51.5007, "lon": -0.1246}, {"lat": 40.6892, "lng": -74.0445}),
    dist({"lat": 28.2279, "lng": 112.9391}, {"lat": 28.22791, "lng": 112.93911}),
    dist({"lat": 1, "lng": None, "lon": 2}, SHOP),
    dist({"lat": "28.2", "lng": 112.9}, SHOP),
    dist({"lat": True, "lng": 112.9}, SHOP),
    dist([28.2], SHOP),
    dist(None, SHOP),
    dist("28.2,112.9", SHOP),
    ({"distance_m": [{"var": "nope"}, {"var": "ctx.site.location"}]}, VISIT),
    ({">": [{"distance_m": [{"var": "arrival_location"}, {"var": "ctx.site.location"}]}, 100]},
     VISIT),
    *[dist({"lat": 28.2 + i * 0.0137, "lng": 112.9 - i * 0.0211},
           [28.2 - i * 0.0071, 112.9 + i * 0.0003]) for i in range(1, 25)],
    # days_between: whole days; ISO dates and timestamps (the date in its own offset)
    ({"days_between": [{"var": "ctx.site.opened_on"}, {"var": "ctx.today"}]}, VISIT),
    ({"days_between": ["2024-05-20", "2024-05-01"]}, None),
    ({"days_between": ["2024-02-28", "2024-03-01"]}, None),
    ({"days_between": ["2023-02-28", "2023-03-01"]}, None),
    ({"days_between": ["1999-12-31", "2024-05-20"]}, None),
    ({"days_between": ["0001-01-01", "9999-12-31"]}, None),
    ({"days_between": ["2024-05-20", "2024-05-20T23:59:59+08:00"]}, None),
    ({"days_between": ["2024-05-20T23:30:00-05:00", "2024-05-21T00:10:00Z"]}, None),
    ({"days_between": ["2024-05-20T10:00", "2024-05-22 08:00:00"]}, None),
    ({"days_between": ["2024-05-20T10:00:00.123456", "2024-06-20T10"]}, None),
    ({"days_between": ["20240520", "2024-05-27"]}, None),
    ({"days_between": ["2024-W01-1", "2024-01-08"]}, None),
    ({"days_between": ["2024-02-30", "2024-03-01"]}, None),
    ({"days_between": ["2024-W01", "2024-W52-7"]}, None),
    ({"days_between": ["2020-W53-1", "2021-W53-1"]}, None),
    ({"days_between": ["2024W011", "20240301T101500"]}, None),
    ({"days_between": ["2024-05-20T10:15:30.5+05:30", "2024-05-20t10:00"]}, None),
    ({"days_between": ["2024-05-20T10:15+0530", "2024-05-21T10:15:00-08"]}, None),
    ({"days_between": ["2024-05-20T", "2024-05-21"]}, None),
    ({"days_between": ["2024-05-20x10:00", "2024-05-21中10:00"]}, None),
    ({"days_between": ["2024-05-2010:00", "2024-05-21"]}, None),
    ({"days_between": ["2024-05-20Z10:00", "2024-05-21T00:00:00Z"]}, None),
    ({"days_between": ["2024-05-20T10:15:30 +05:30", "2024-05-21T10:15:3"]}, None),
    ({"days_between": ["2024-05-20T10:15:30+24:00", "2024-05-21"]}, None),
    ({"days_between": ["2024-05-20T10:15:30,5", "2024-W011T10"]}, None),
    ({"days_between": ["2024-05-20T10:61", "2024-05-21"]}, None),
    ({"days_between": ["0000-01-01", "2024-05-21"]}, None),
    ({"days_between": ["2024-13-01", "2024-03-01"]}, None),
    ({"days_between": ["2024-05-20T24:00", "2024-05-21"]}, None),
    ({"days_between": ["yesterday", "2024-05-21"]}, None),
    ({"days_between": ["2024/05/20", "2024-05-21"]}, None),
    ({"days_between": [20240520, "2024-05-21"]}, None),
    ({"days_between": [None, "2024-05-21"]}, None),
    ({"days_between": [{"var": "out_of_stock_items.0.out_since"}, {"var": "ctx.today"}]}, VISIT),
    ({"days_between": [{"var": "out_of_stock_items.1.out_since"}, {"var": "ctx.today"}]}, VISIT),
    # count, count_truthy
    ({"count": [{"var": "out_of_stock_items"}]}, VISIT),
    ({"count": [{"var": "nope"}]}, VISIT),
    ({"count": [[]]}, None),
    ({"count": [{"var": "policy_explained"}, {"var": "advice_given"}, "x", 0, []]}, VISIT),
    ({"count": {"var": "policy_topics"}}, VISIT),
    ({"count": "abc"}, None),
    ({"count": [{"filter": [GROUP, {"var": "reorder_advised"}]}]}, VISIT),
    ({"count_truthy": [{"map": [GROUP, {"var": "reorder_advised"}]}]}, VISIT),
    ({"count_truthy": [[1, 0, "", "no", None, [], {}, [0], False, True]]}, None),
    ({"count_truthy": [{"var": "nope"}]}, VISIT),
    ({"count_truthy": ["abc"]}, None),
    # sum
    ({"sum": [{"map": [PRICES, {"var": "retail_price"}]}]}, VISIT),
    ({"sum": [{"map": [PRICES, {"var": "guide_price"}]}]}, VISIT),
    ({"sum": [1, 2, 3.5]}, None),
    ({"sum": [[0.1, 0.2, None, "3"]]}, None),
    ({"sum": [[]]}, None),
    ({"sum": [{"var": "nope"}]}, VISIT),
    ({"sum": [[1, "x"]]}, None),
    ({"sum": [[1, [2]]]}, None),
    ({"sum": [[True, False, 2.5, 1.5]]}, None),
    # percentage: 100 × part / whole, rounded like Python's round (ties to even)
    ({"percentage": [{"var": "score.total"}, {"var": "score.max"}]}, VISIT),
    ({"percentage": [1, 3]}, None),
    ({"percentage": [2, 3]}, None),
    ({"percentage": [2, 3, 0]}, None),
    ({"percentage": [2, 3, 4]}, None),
    ({"percentage": [49, 400]}, None),
    ({"percentage": [1, 16]}, None),
    ({"percentage": [3, 16]}, None),
    ({"percentage": [1, 8, 0]}, None),
    ({"percentage": [3, 8, 0]}, None),
    ({"percentage": [1, 32, 2]}, None),
    ({"percentage": [125, 100, -1]}, None),
    ({"percentage": [135, 100, -1]}, None),
    ({"percentage": [123456, 10, -3]}, None),
    ({"percentage": [1, 3, 1.9]}, None),
    ({"percentage": [1, 3, 40]}, None),
    ({"percentage": [1, 3, 400]}, None),
    ({"percentage": [1, 3, -400]}, None),
    ({"percentage": [1, 3, "2"]}, None),
    ({"percentage": [1, 3, True]}, None),
    ({"percentage": [0, 5]}, None),
    ({"percentage": [5, 0]}, None),
    ({"percentage": [-1, 3]}, None),
    ({"percentage": ["7", "8"]}, None),
    ({"percentage": [None, 8]}, None),
    ({"percentage": ["x", 8]}, None),
    ({"percentage": [[5], 8]}, None),
    ({"percentage": [{"count_truthy": [{"map": [GROUP, {"var": "reorder_advised"}]}]},
                     {"count": [GROUP]}]}, VISIT),
    ({"percentage": [{"sum": [{"map": [PRICES, {"var": "retail_price"}]}]}, 3333, 3]}, VISIT),
    *[({"percentage": [i, 7, 2]}, None) for i in range(1, 14)],
    *[({"percentage": [i * 0.37, 1.3]}, None) for i in range(1, 14)],
    *[({"percentage": [i, 8, 1]}, None) for i in range(1, 16, 2)],
]

# -- the definitions' rules on realistic answers ----------------------------------------------

ITEM_RULES = ("visible_if", "required_if", "evidence_if", "calculate", "score", "fail_if")


def _pick(seed: str, n: int) -> int:
    return int(hashlib.sha256(seed.encode()).hexdigest(), 16) % n


def answer(item: dict[str, Any], variant: int) -> Any:
    """A plausible answer for an item; variant 0 mostly good, 1 mostly bad, 2 mixed."""
    kind, seed = item["type"], f"{item['id']}:{variant}"
    good = variant == 0 or (variant == 2 and _pick(seed, 2) == 0)
    if kind == "check":
        return good
    if kind == "yes_no":
        if variant == 2 and item.get("allow_na") and _pick(seed, 3) == 0:
            return "na"
        return "yes" if good else "no"
    if kind == "scale":
        lo, hi = item["min"], item["max"]
        if variant == 2 and item.get("allow_na") and _pick(seed, 4) == 0:
            return "na"
        return hi if variant == 0 else lo if variant == 1 else lo + _pick(seed, hi - lo + 1)
    if kind == "number":
        lo = item.get("min", 0)
        hi = item.get("max", lo + 30000)
        value = [hi, lo, lo + _pick(seed, 1000) * (hi - lo) / 1000][variant]
        return int(value) if item.get("integer") else value
    if kind == "single_choice":
        values = [c["value"] for c in item["choices"]]
        return values[0] if variant == 0 else values[-1] if variant == 1 else values[
            _pick(seed, len(values))]
    if kind == "multiple_choice":
        values = [c["value"] for c in item["choices"]]
        return [values[:2], [], [values[_pick(seed, len(values))]]][variant]
    if kind == "text":
        return "陈列已调整，价签已补齐。" if good else ""
    if kind == "date":
        return ["2024-05-20", "2024-01-31", "2024-02-29"][variant]
    if kind == "photo":
        return [f"photos/{item['id']}-{i}.jpg" for i in range(1 + variant % 2)]
    if kind == "gps":
        return {"lat": 28.2283 + variant * 0.001, "lng": 112.9388, "accuracy_m": 8 + variant}
    if kind == "signature":  # the id of the drawn PNG, uploaded like a photo
        return {"photo": "signature-1"}
    if kind == "group":
        count = [2, 0, 1][variant]
        return [{sub["id"]: answer(sub, (variant + k) % 3) for sub in item["items"]}
                for k in range(count)]
    return None


def items_of(definition: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for section in definition.get("sections", []) for item in section["items"]]


def answer_sets(definition: dict[str, Any]) -> list[dict[str, Any]]:
    items = items_of(definition)
    sets: list[dict[str, Any]] = [{i["id"]: answer(i, v) for i in items} for v in range(3)]
    sets.append({i["id"]: answer(i, 0) for i in items if i.get("required")})  # only the required
    sets.append({})  # nothing answered yet
    ctx = {"today": "2024-05-20", "now": "2024-05-20T09:41:00+08:00",
           "site": {"grade": "3"}, "user": {"role": "customer_manager"}}
    for n, data in enumerate(sets):
        data["ctx"] = {**ctx, "visit": {"distance_m": [35.2, 260.0, 120.5, 0, None][n]}}
        # calculated values as the server adds them, in definition order
        for item in items:
            if "calculate" in item:
                data[item["id"]] = apply(item["calculate"], data)
    return sets


def alert_data(definition: dict[str, Any], base: dict[str, Any], n: int) -> dict[str, Any]:
    percentage = [92.5, 41.7, 68.0, 100, 0][n]
    sections = {s["id"]: {"percentage": max(0.0, percentage - 10 * k)}
                for k, s in enumerate(definition.get("sections", []))}
    failed = [] if n in (0, 3) else [i["id"] for i in items_of(definition)
                                      if i["type"] in ("yes_no", "check")][:: 2 if n == 2 else 1]
    return {**base, "score": {"total": percentage / 10, "max": 10, "percentage": percentage,
                              "sections": sections}, "failed": failed}


def definition_vectors() -> list[tuple[Any, Any]]:
    out: list[tuple[Any, Any]] = []
    for path in sorted(DEFINITIONS.rglob("*.json")):
        definition = json.loads(path.read_text(encoding="utf-8"))
        if definition.get("kind") in ("standard", "survey"):
            sets = answer_sets(definition)

            def item_rules(items: list[dict[str, Any]], sets: list[dict[str, Any]]) -> None:
                for item in items:
                    for key in ITEM_RULES:
                        if key in item:
                            out.extend((item[key], data) for data in sets)
                    if item["type"] == "group":
                        # rules inside a group see one entry at a time
                        entries = [e for data in sets for e in data.get(item["id"], [])]
                        item_rules(item["items"], entries)

            item_rules(items_of(definition), sets)
            for alert in definition.get("alerts", []):
                out.extend((alert["when"], alert_data(definition, data, n))
                           for n, data in enumerate(sets))
        elif definition.get("kind") == "okr":
            for objective in definition.get("objectives", []):
                for kr in objective.get("key_results", []):
                    out.extend((kr["grade"], {"value": v, "target": kr["target"]})
                               for v in (1.2, 1, 0.95, 0.9, 0.85, 0.5, 0.04, 0.02, 0, 2, 6, 88,
                                         79.9, None))
    return out


def vector(rule: Any, data: Any) -> dict[str, Any]:
    try:
        return {"rule": rule, "data": data, "expected": apply(rule, data)}
    except RuleEvaluationError as exc:
        return {"rule": rule, "data": data, "error": exc.error.get("type")}


def main() -> None:
    vectors = [vector(r, d) for r, d in (*CORE, *DOMAIN, *definition_vectors())]
    seen: set[str] = set()
    unique = []
    for v in vectors:
        key = json.dumps([v["rule"], v["data"]], sort_keys=True)
        if key not in seen:
            seen.add(key)
            unique.append(v)
    text = json.dumps(unique, ensure_ascii=False, allow_nan=False, indent=None)
    OUT.write_text(text.replace('}, {"rule"', '},\n{"rule"') + "\n", encoding="utf-8")
    errors = sum("error" in v for v in unique)
    print(f"{OUT.relative_to(ROOT)}: {len(unique)} vectors ({errors} expect an error)")


if __name__ == "__main__":
    main()
