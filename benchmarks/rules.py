"""How fast do compiled rules run? 50 checklist rules over 10,000 generated submissions.

Compares, in one process and on the same data:

  (a) ``rounds.rules.compile`` of each rule,
  (b) ``rounds.rules.compile_many`` of all 50 at once,
  (c) json-logic-qubit's interpreter ``json_logic.jsonLogic``,
  (d) the same 50 rules written by hand as plain, idiomatic Python.

Before timing, (a), (b), (c) and (d) must agree on every result. Each rate is the best of a
few repeats (``time.perf_counter``), in evaluations per second. Every method is driven by the
same loop, which evaluates all 50 rules on one submission and then moves on to the next, as
the runtime scores a submission; the loop (about 55 ns a call) is counted for all alike.

    .venv/bin/python benchmarks/rules.py           # full run
    .venv/bin/python benchmarks/rules.py --quick   # a small run, for a smoke test

Targets: compiled at least 35x qubit, and at least 0.75 of hand-written speed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import json_logic

import rounds.rules

Rule = Any
Fn = Callable[[Any], Any]

SEED = 20240617
SKUS = [f"P{i:02d}" for i in range(1, 21)]
DISTRICTS = ["Jiang'an", "Jianghan", "Qiaokou", "Hanyang", "Wuchang", "Hongshan"]
ROLES = ["customer_manager", "market_inspector", "delivery", "enforcement"]
KINDS = ["retail", "chain", "kiosk", "supermarket"]


# -- data ----------------------------------------------------------------------------------

def make_submission(rng: random.Random) -> dict[str, Any]:
    """One visit's answers with its context, as the runtime hands them to the rules."""
    d: dict[str, Any] = {}
    for i in range(1, 13):  # ticked items; about 1 in 12 left unanswered
        r = rng.random()
        if r >= 0.08:
            d[f"a{i}"] = r < 0.75
    d["score"] = rng.randint(0, 100)
    d["duration_min"] = rng.randint(1, 60)
    d["distance_m"] = round(rng.uniform(0, 800), 1)
    d["temp"] = round(rng.uniform(-5, 40), 1)
    d["notes"] = rng.choice(["", "", "", "door broken", "price tags old", "ok"])
    d["photos"] = [f"ph{i}.jpg" for i in range(rng.randint(0, 4))]
    if rng.random() < 0.3:
        d["phone"] = "027-8888-0000"
    if rng.random() < 0.2:
        d["email"] = "shop@example.cn"
    d["ctx"] = {
        "site": {"grade": rng.choice("ABCD"), "kind": rng.choice(KINDS),
                 "district": rng.choice(DISTRICTS), "licensed": rng.random() < 0.9},
        "role": rng.choice(ROLES),
        "visit": {"month": rng.randint(1, 12), "hour": rng.randint(7, 20),
                  "planned": rng.random() < 0.8},
    }
    d["shelf"] = [{"sku": rng.choice(SKUS), "qty": rng.randint(0, 30),
                   "price": round(rng.uniform(5, 60), 2), "facing": rng.random() < 0.8,
                   "expired": rng.random() < 0.05, "price_tag": rng.random() < 0.9}
                  for _ in range(rng.randint(0, 8))]
    d["issues"] = [{"severity": rng.randint(1, 3), "open": rng.random() < 0.5}
                   for _ in range(rng.randint(0, 3))]
    return d


# -- the rules, and the same rules by hand ---------------------------------------------------

def tick(item: str, weight: int | float) -> Rule:
    return {"if": [{"var": item}, weight, 0]}


def weighted(weights: dict[str, int]) -> Rule:
    return {"+": [tick(k, w) for k, w in weights.items()]}


W4 = {"a1": 3, "a2": 2, "a3": 5, "a4": 1}
W6 = {"a1": 2, "a2": 2, "a3": 3, "a4": 1, "a5": 4, "a6": 1}
W8 = {"a1": 1, "a2": 2, "a3": 1, "a4": 3, "a5": 2, "a6": 1, "a7": 4, "a8": 2}
W12 = {f"a{i}": w for i, w in enumerate([3, 2, 5, 1, 4, 2, 2, 3, 1, 5, 2, 3], 1)}
W_LATE = {"a5": 2, "a6": 2, "a7": 3, "a8": 1, "a9": 1, "a10": 4, "a11": 2, "a12": 3}
NEEDED = ["a1", "a2", "a3", "a4", "a5"]
PENALTY = {"a1": 10, "a2": 5, "a3": 15, "a4": 5, "a9": 10}
PROMO = ["P01", "P02", "P03"]


def h_weighted(weights: dict[str, int]) -> Fn:
    def fn(d: dict[str, Any]) -> Any:
        return sum(w for k, w in weights.items() if d.get(k))
    return fn


h_score4 = h_weighted(W4)
h_score6 = h_weighted(W6)


def h_w12_grade(d: dict[str, Any]) -> Any:
    s = sum(w for k, w in W12.items() if d.get(k))
    return "A" if s >= 30 else "B" if s >= 20 else "C"


def h_conditions(d: dict[str, Any]) -> Any:
    return ((2 if d["duration_min"] >= 10 else 0) + (3 if d["distance_m"] <= 200 else 0)
            + (1 if d.get("a1") else 0))


def h_penalty(d: dict[str, Any]) -> Any:
    return 100 - sum(p for k, p in PENALTY.items() if not d.get(k))


def h_chain_bonus(d: dict[str, Any]) -> Any:
    if d["ctx"]["site"]["kind"] in ("chain", "supermarket"):
        return (5 if d.get("a6") else 0) + (5 if d.get("a7") else 0)
    return (3 if d.get("a6") else 0) + (2 if d.get("a8") else 0)


def h_missing(keys: list[str]) -> Fn:
    def fn(d: dict[str, Any]) -> Any:
        return [k for k in keys if d.get(k) in (None, "")]
    return fn


h_needed = h_missing(NEEDED)


def h_hour_band(d: dict[str, Any]) -> Any:
    hour = d["ctx"]["visit"]["hour"]
    return "early" if hour < 9 else "late" if hour >= 18 else "normal"


def h_stock_value(d: dict[str, Any]) -> Any:
    return sum(p["qty"] * p["price"] for p in d["shelf"])


def h_full_partial(d: dict[str, Any]) -> Any:
    if d.get("a1") and d.get("a2"):
        return "full" if d.get("a3") else "partial"
    return "fail"


def h_contact(d: dict[str, Any]) -> Any:
    absent = [k for k in ("phone", "email") if d.get(k) in (None, "")]
    return [] if 2 - len(absent) >= 1 else absent


def build() -> list[tuple[str, Rule, Fn]]:
    """The 50 rules: (name, JsonLogic, hand-written function)."""
    shelf_value = {"reduce": [{"var": "shelf"}, {"+": [
        {"var": "accumulator"}, {"*": [{"var": "current.qty"}, {"var": "current.price"}]}]}, 0]}
    shelf_qty = {"reduce": [{"var": "shelf"}, {"+": [
        {"var": "accumulator"}, {"var": "current.qty"}]}, 0]}
    grade = {"var": "ctx.site.grade"}
    hour = {"var": "ctx.visit.hour"}
    return [
        # -- scores: weighted sums of ticked items
        ("score4", weighted(W4), h_weighted(W4)),
        ("score6", weighted(W6), h_weighted(W6)),
        ("score8", weighted(W8), h_weighted(W8)),
        ("score12", weighted(W12), h_weighted(W12)),
        ("score_late", weighted(W_LATE), h_weighted(W_LATE)),
        ("pass4", {">=": [weighted(W4), 7]}, lambda d: h_score4(d) >= 7),
        ("grade12", {"if": [{">=": [weighted(W12), 30]}, "A",
                            {">=": [weighted(W12), 20]}, "B", "C"]}, h_w12_grade),
        ("conditions", {"+": [{"if": [{">=": [{"var": "duration_min"}, 10]}, 2, 0]},
                              {"if": [{"<=": [{"var": "distance_m"}, 200]}, 3, 0]},
                              tick("a1", 1)]}, h_conditions),
        ("ratio6", {"/": [weighted(W6), 13]}, lambda d: h_score6(d) / 13),
        ("penalty", {"-": [100, {"+": [{"if": [{"!": {"var": k}}, p, 0]}
                                       for k, p in PENALTY.items()]}]}, h_penalty),
        ("chain_bonus", {"if": [{"in": [{"var": "ctx.site.kind"}, ["chain", "supermarket"]]},
                                {"+": [tick("a6", 5), tick("a7", 5)]},
                                {"+": [tick("a6", 3), tick("a8", 2)]}]}, h_chain_bonus),
        # -- conditions and alerts
        ("good_score", {">=": [{"var": "score"}, 80]}, lambda d: d["score"] >= 80),
        ("score_band", {"<=": [60, {"var": "score"}, 90]}, lambda d: 60 <= d["score"] <= 90),
        ("first_three", {"and": [{"var": "a1"}, {"var": "a2"}, {"var": "a3"}]},
         lambda d: d.get("a1") and d.get("a2") and d.get("a3")),
        ("a4_or_a5_skipped", {"or": [{"!": {"var": "a4"}}, {"!": {"var": "a5"}}]},
         lambda d: not d.get("a4") or not d.get("a5")),
        ("proper_visit", {"and": [{">": [{"var": "duration_min"}, 5]},
                                  {"<": [{"var": "distance_m"}, 300]}]},
         lambda d: d["duration_min"] > 5 and d["distance_m"] < 300),
        ("licensed_pass", {"if": [{"var": "ctx.site.licensed"},
                                  {">=": [{"var": "score"}, 60]}, False]},
         lambda d: d["score"] >= 60 if d["ctx"]["site"]["licensed"] else False),
        ("top_grade", {"in": [grade, ["A", "B"]]},
         lambda d: d["ctx"]["site"]["grade"] in ("A", "B")),
        ("unplanned_check", {"and": [{"in": [{"var": "ctx.role"},
                                             ["market_inspector", "enforcement"]]},
                                     {"!": {"var": "ctx.visit.planned"}}]},
         lambda d: d["ctx"]["role"] in ("market_inspector", "enforcement")
         and not d["ctx"]["visit"]["planned"]),
        ("is_chain", {"===": [{"var": "ctx.site.kind"}, "chain"]},
         lambda d: d["ctx"]["site"]["kind"] == "chain"),
        ("outside_hanyang", {"!==": [{"var": "ctx.site.district"}, "Hanyang"]},
         lambda d: d["ctx"]["site"]["district"] != "Hanyang"),
        ("bad_temperature", {"or": [{"<": [{"var": "temp"}, 2]}, {">": [{"var": "temp"}, 30]}]},
         lambda d: d["temp"] < 2 or d["temp"] > 30),
        ("hour_band", {"if": [{"<": [hour, 9]}, "early", {">=": [hour, 18]}, "late", "normal"]},
         h_hour_band),
        ("a_shop_low_score", {"and": [{"==": [grade, "A"]}, {"<": [{"var": "score"}, 70]}]},
         lambda d: d["ctx"]["site"]["grade"] == "A" and d["score"] < 70),
        ("has_notes", {"!!": {"var": "notes"}}, lambda d: bool(d.get("notes"))),
        ("reports_damage", {"in": ["broken", {"var": "notes"}]},
         lambda d: "broken" in d.get("notes", "")),
        ("full_partial", {"if": [{"and": [{"var": "a1"}, {"var": "a2"}]},
                                 {"if": [{"var": "a3"}, "full", "partial"]}, "fail"]},
         h_full_partial),
        ("first_half", {"<": [{"var": "ctx.visit.month"}, 7]},
         lambda d: d["ctx"]["visit"]["month"] < 7),
        ("office_hours", {"and": [{">=": [hour, 8]}, {"<=": [hour, 17]},
                                  {"var": "ctx.visit.planned"}]},
         lambda d: 8 <= d["ctx"]["visit"]["hour"] <= 17 and d["ctx"]["visit"]["planned"]),
        # -- lists of answers: the shelf, open issues
        ("any_expired", {"some": [{"var": "shelf"}, {"var": "expired"}]},
         lambda d: any(p["expired"] for p in d["shelf"])),
        ("all_tagged", {"all": [{"var": "shelf"}, {"var": "price_tag"}]},
         lambda d: bool(d["shelf"]) and all(p["price_tag"] for p in d["shelf"])),
        ("empty_facing", {"some": [{"var": "shelf"}, {"and": [{"==": [{"var": "qty"}, 0]},
                                                             {"var": "facing"}]}]},
         lambda d: any(p["qty"] == 0 and p["facing"] for p in d["shelf"])),
        ("no_severe_issue", {"none": [{"var": "issues"}, {"and": [
            {"var": "open"}, {">=": [{"var": "severity"}, 3]}]}]},
         lambda d: not any(i["open"] and i["severity"] >= 3 for i in d["issues"])),
        ("well_stocked", {"all": [{"var": "shelf"}, {">": [{"var": "qty"}, 2]}]},
         lambda d: bool(d["shelf"]) and all(p["qty"] > 2 for p in d["shelf"])),
        ("promo_listed", {"some": [{"var": "shelf"}, {"in": [{"var": "sku"}, PROMO]}]},
         lambda d: any(p["sku"] in PROMO for p in d["shelf"])),
        ("stock_value", shelf_value, h_stock_value),
        ("expired_items", {"filter": [{"var": "shelf"}, {"var": "expired"}]},
         lambda d: [p for p in d["shelf"] if p["expired"]]),
        ("skus", {"map": [{"var": "shelf"}, {"var": "sku"}]},
         lambda d: [p["sku"] for p in d["shelf"]]),
        ("enough_stock", {">=": [shelf_qty, 50]},
         lambda d: sum(p["qty"] for p in d["shelf"]) >= 50),
        ("open_issue", {"some": [{"var": "issues"}, {"var": "open"}]},
         lambda d: any(i["open"] for i in d["issues"])),
        ("all_closed", {"all": [{"var": "issues"}, {"!": {"var": "open"}}]},
         lambda d: bool(d["issues"]) and not any(i["open"] for i in d["issues"])),
        ("cheap_item", {"some": [{"var": "shelf"}, {"<": [{"var": "price"}, 10]}]},
         lambda d: any(p["price"] < 10 for p in d["shelf"])),
        # -- completeness
        ("missing_core", {"missing": ["a1", "a2", "a3", "notes"]},
         h_missing(["a1", "a2", "a3", "notes"])),
        ("completeness", {"if": [{"missing": NEEDED}, "incomplete", "complete"]},
         lambda d: "incomplete" if h_needed(d) else "complete"),
        ("contact", {"missing_some": [1, ["phone", "email"]]}, h_contact),
        ("a1_answered_yes", {"and": [{"!": {"missing": ["a1"]}}, {"var": "a1"}]},
         lambda d: d.get("a1") is not None and d["a1"]),
        # -- other arithmetic and text
        ("label", {"cat": ["grade-", grade]}, lambda d: "grade-" + d["ctx"]["site"]["grade"]),
        ("floor_score", {"max": [{"var": "score"}, 50]}, lambda d: max(d["score"], 50)),
        ("capped_gap", {"min": [{"-": [100, {"var": "score"}]}, 30]},
         lambda d: min(100 - d["score"], 30)),
        ("chain_hours", {"if": [{"===": [{"var": "ctx.site.kind"}, "chain"]}, chain_bonus_rule(),
                                0]},
         lambda d: h_chain_bonus(d) if d["ctx"]["site"]["kind"] == "chain" else 0),
    ]


def chain_bonus_rule() -> Rule:
    return {"+": [tick("a6", 5), tick("a7", 5)]}


# -- checking and timing ---------------------------------------------------------------------

def same(a: Any, b: Any) -> bool:
    """Equal as JSON values: booleans are not numbers, 1 == 1.0."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b or abs(a - b) <= 1e-9 * max(1.0, abs(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)


def check(methods: dict[str, list[Fn]], names: list[str], subs: list[Any]) -> None:
    reference = "hand-written"
    for label, fns in methods.items():
        for name, fn, ref in zip(names, fns, methods[reference], strict=True):
            for i, d in enumerate(subs):
                got, want = fn(d), ref(d)
                if not same(got, want):
                    sys.exit(f"{label} disagrees with {reference} on rule {name!r}, "
                             f"submission {i}: {got!r} != {want!r}")


def evaluate_all(fns: list[Fn], subs: list[Any]) -> float:
    """Seconds to evaluate every rule on every submission, a submission at a time."""
    t0 = time.perf_counter()
    for d in subs:
        for fn in fns:
            fn(d)
    return time.perf_counter() - t0


def rates(methods: dict[str, list[Fn]], subs: list[Any], repeats: dict[str, int]
          ) -> dict[str, float]:
    """Evaluations per second of each method, best of its number of repeats.

    The methods take turns within each round, so that a busy moment of the machine does
    not land on one method only.
    """
    best = dict.fromkeys(methods, float("inf"))
    for round_ in range(max(repeats.values())):
        for label, fns in methods.items():
            if round_ < repeats[label]:
                best[label] = min(best[label], evaluate_all(fns, subs))
    return {label: len(fns) * len(subs) / best[label] for label, fns in methods.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a small run (smoke test)")
    args = ap.parse_args(argv)
    n_subs, repeats = (500, 2) if args.quick else (10_000, 5)

    rng = random.Random(SEED)
    subs = [make_submission(rng) for _ in range(n_subs)]
    table = build()
    assert len(table) == 50, len(table)
    names = [name for name, _, _ in table]
    many = rounds.rules.compile_many({name: rule for name, rule, _ in table})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        methods: dict[str, list[Fn]] = {
            "hand-written": [fn for _, _, fn in table],
            "compiled": [rounds.rules.compile(rule) for _, rule, _ in table],
            "compile_many": [many[name] for name in names],
            "qubit": [partial(json_logic.jsonLogic, rule) for _, rule, _ in table],
        }
        check(methods, names, subs)
        print(f"# {len(table)} rules x {n_subs} submissions: all methods agree on every result")

        # qubit takes some 5 s a round: two rounds of it are enough for a best time.
        r = rates(methods, subs, {label: 2 if label == "qubit" else repeats
                                  for label in methods})
    for label in ("compiled", "compile_many", "qubit", "hand-written"):
        print(f"{label:13s} {r[label]:12,.0f} evaluations/s")
    print(f"compiled / qubit: {r['compiled'] / r['qubit']:.1f}x (target >= 35x)")
    print(f"compiled / hand-written: {r['compiled'] / r['hand-written']:.2f} (target >= 0.75)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
