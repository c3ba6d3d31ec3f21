"""Submission validation: the compiled form against jsonschema and jsonschema-rs.

    python benchmarks/forms.py           # 10,000 valid and 10,000 invalid bodies
    python benchmarks/forms.py --quick   # a small run

Bodies are submissions of the customer_manager_visit standard (~2 KB of JSON each, a fixed
seed), with its conditional rules in play: ``out_of_stock_found`` yes/no drives the
out-of-stock group, the display grade drives ``display_guidance``, a low gross margin makes
``advice_notes`` required, a "no" on price tags asks for evidence. Invalid bodies carry one
to four mistakes, structural (bounds, types, choices, unknown fields, bad dates) and
conditional (a required answer missing, a group or evidence missing).

Baselines get the same bytes: a precompiled ``jsonschema.Draft202012Validator`` of
``answers_schema`` with format checking (the compiled form checks real calendar dates; so do
they) on ``json.loads(body)`` (``is_valid`` for valid bodies, ``iter_errors`` for invalid
ones), and ``jsonschema_rs.validator_for(schema, validate_formats=True)`` the same way
(jsonschema-rs has no JSON-text entry point, so it too gets ``json.loads``). The compiled
form's ``validate`` takes the bytes: the msgspec fast path for valid bodies, the full error
list for invalid ones.
Neither baseline sees the conditional rules, so they check less than ``validate`` does.

``validate`` leaves scoring to first use; a separate line times ``validate`` plus the
evaluation as the submission write path calls it, for the whole cost of scoring a submission:
``ValidSubmission.scored`` (the version's generated evaluation, ``rules.generated``: score
with its lines, outcomes, failed items with their problem titles, alerts with their messages,
kept answers) and ``stored_evaluation`` of it, what the row keeps. The write path asks for no
more of the evaluation: the explanation (``.evaluation``: visibility, required-ness,
evidence asked for, per-entry results) is built only when a reader asks. Not timed, before
or now: ``.evidence`` and ``.dropped`` (a few µs). Another line times the msgspec decode
alone, the floor under ``validate``.

Targets (issue 16): ``valid: compiled with evaluation / jsonschema`` >= 30x and
``invalid: compiled / jsonschema`` >= 10x, each printed with its target.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))

from rounds.forms.compiled import SubmissionInvalid, compile_form  # noqa: E402
from rounds.forms.schema import answers_schema  # noqa: E402

DEFINITION = ROOT / "definitions" / "standards" / "customer_manager_visit.json"
SEED = 20260301

BRANDS = ["中华(硬)", "中华(软)", "玉溪(软)", "云烟(紫)", "黄鹤楼(硬金砂)", "芙蓉王(硬)",
          "南京(炫赫门)", "利群(新版)", "红塔山(经典)", "真龙(海韵)", "白沙(精品)", "贵烟(跨越)",
          "七匹狼(白)", "双喜(硬经典)", "娇子(宽窄)", "钻石(荷花)"]
FEEDBACK = ["顾客反映细支烟需求增加", "周边新开两家便利店，客流有所下降", "希望增加高端品规投放",
            "节前备货需求大", "电子支付使用率提高", "建议调整订货周期", "部分品规价签需更新",
            "零售户对货源分配表示满意"]
ADVICE = ["调整陈列，把主销品规放在醒目位置", "控制库存，避免积压", "增加细支烟品规",
          "使用云 POS 管理进销存", "规范明码标价"]


def _photo(rng: random.Random) -> str:
    return f"oss://rounds-evidence/2026/03/{rng.getrandbits(64):016x}.jpg"


def _date(rng: random.Random) -> str:
    return f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def valid_answers(rng: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
    a: dict[str, Any] = {
        "arrival_location": {"lat": round(rng.uniform(22, 41), 6),
                             "lng": round(rng.uniform(100, 122), 6),
                             "accuracy_m": rng.randint(3, 60)},
        "storefront_photo": [_photo(rng) for _ in range(rng.randint(1, 2))],
        "stock_checked": rng.random() < 0.9,
        "brands_in_stock": rng.randint(10, 120),
        "out_of_stock_found": rng.choice(["yes", "no"]),
        "demand_forecast": rng.random() < 0.8,
        "new_brand_recommended": rng.choice(["yes", "no", "na"]),
        "display_standard": rng.choice(["standard", "basic", "messy"]),
        "price_tags_complete": rng.choice(["yes", "yes", "yes", "no"]),
        "display_photo": [_photo(rng) for _ in range(rng.randint(1, 4))],
        "policy_explained": rng.random() < 0.7,
        "self_discipline_group": rng.choice(["yes", "no", "na"]),
        "advice_given": rng.random() < 0.6,
        "retailer_signature": {"photo": str(uuid.UUID(int=rng.getrandbits(128)))},
    }
    evidence: dict[str, Any] = {}
    if a["out_of_stock_found"] == "yes":
        items = []
        for _ in range(rng.randint(1, 6)):
            entry: dict[str, Any] = {"brand": rng.choice(BRANDS),
                                     "reason": rng.choice(["supply_limited", "not_ordered",
                                                           "sold_fast", "other"])}
            if rng.random() < 0.7:
                entry["out_since"] = _date(rng)
            if rng.random() < 0.8:
                entry["reorder_advised"] = rng.random() < 0.7
            items.append(entry)
        a["out_of_stock_items"] = items
    elif rng.random() < 0.05:
        # Filled in, then hidden again by answering "no": dropped, not checked.
        a["out_of_stock_items"] = [{"brand": rng.choice(BRANDS), "reason": "other"}]
    if a["display_standard"] != "standard":
        a["display_guidance"] = rng.random() < 0.8
    if a["price_tags_complete"] == "no":
        evidence["price_tags_complete"] = {
            "photos": [_photo(rng) for _ in range(rng.randint(1, 3))],
            "note": "价签与实际售价不一致：" + rng.choice(BRANDS)}
    if a["policy_explained"]:
        a["policy_topics"] = rng.sample(["supply_policy", "price_policy", "tobacco_law",
                                         "no_sales_to_minors", "honest_business", "e_payment"],
                                        rng.randint(1, 3))
    if rng.random() < 0.7:
        a["foot_traffic"] = rng.choice(["high", "medium", "low"])
    observations = []
    for _ in range(rng.randint(4, 10)):  # max_count 10
        obs: dict[str, Any] = {"brand": rng.choice(BRANDS),
                               "where_seen": rng.choice(["this_shop", "nearby_shop"]),
                               "retail_price": rng.randint(80, 1200)}
        if rng.random() < 0.6:
            obs["guide_price"] = rng.randint(80, 1200)
        observations.append(obs)
    a["price_observations"] = observations
    if rng.random() < 0.7:
        a["retailer_feedback"] = "；".join(rng.sample(FEEDBACK, rng.randint(1, 4)))
    if rng.random() < 0.8:
        revenue = rng.randint(5000, 120000)
        a["monthly_revenue"] = revenue
        a["monthly_cost"] = round(revenue * rng.uniform(0.82, 0.97), 2)
        margin = 100 * (revenue - a["monthly_cost"]) / revenue
        if margin < 8 or rng.random() < 0.4:
            a["advice_notes"] = "；".join(rng.sample(ADVICE, rng.randint(1, 3)))
    if a["advice_given"]:
        a["advice_topics"] = rng.sample(["display", "brand_mix", "pricing", "inventory",
                                         "cloud_pos", "e_payment"], rng.randint(1, 3))
    if rng.random() < 0.5:
        a["next_visit_on"] = _date(rng)
    return a, evidence


def _mistake(rng: random.Random, a: dict[str, Any], ev: dict[str, Any]) -> None:
    kind = rng.randrange(14)
    if kind == 0:
        a["brands_in_stock"] = rng.choice([301, -1, 12.5, "40"])
    elif kind == 1:
        a["display_standard"] = "excellent"
    elif kind == 2:
        a.pop("retailer_signature", None)
    elif kind == 3:  # conditionally required group missing
        a["out_of_stock_found"] = "yes"
        a.pop("out_of_stock_items", None)
    elif kind == 4:  # required_if: a low margin needs advice notes
        a["monthly_revenue"], a["monthly_cost"] = 10000, 9700
        a.pop("advice_notes", None)
    elif kind == 5:  # evidence_if: "no" needs photos and a note
        a["price_tags_complete"] = "no"
        ev.pop("price_tags_complete", None)
    elif kind == 6:
        a["shop_owner_mood"] = "happy"
    elif kind == 7:
        a["next_visit_on"] = "2026-02-30"
    elif kind == 8:
        a["display_photo"] = [_photo(rng) for _ in range(5)]
    elif kind == 9:
        a["retailer_feedback"] = "很好" * 260
    elif kind == 10:
        a["arrival_location"] = {"lat": 95.0, "lng": 120.0}
    elif kind == 11:
        a["out_of_stock_found"] = "yes"
        a["out_of_stock_items"] = [{"brand": rng.choice(BRANDS)}, {"reason": "unknown"}]
    elif kind == 12:
        a["policy_explained"] = True
        a["policy_topics"] = []
    else:
        a["stock_checked"] = "yes"


def bodies(n: int, seed: int = SEED) -> tuple[list[bytes], list[bytes]]:
    rng = random.Random(seed)
    valid: list[bytes] = []
    invalid: list[bytes] = []
    for _ in range(n):
        a, ev = valid_answers(rng)
        valid.append(_dump(a, ev))
        a, ev = valid_answers(rng)
        for _ in range(rng.randint(1, 4)):
            _mistake(rng, a, ev)
        invalid.append(_dump(a, ev))
    return valid, invalid


def _dump(answers: dict[str, Any], evidence: dict[str, Any]) -> bytes:
    body: dict[str, Any] = {"answers": answers}
    if evidence:
        body["evidence"] = evidence
    return json.dumps(body, ensure_ascii=False).encode()


def measure(runs: dict[str, tuple[Callable[[bytes], object], list[bytes]]], repeat: int,
            chunk: int = 250) -> dict[str, float]:
    """Bodies per second of each run.

    Time is this thread's CPU time (``time.thread_time``), so other processes on a busy
    machine do not count against whichever run they happen to interrupt. The bodies are
    timed a chunk at a time, every run on the same chunk in turn, ``repeat`` times, keeping
    each run's best time per chunk, so what disturbance remains (caches) hits every run alike.
    """
    best: dict[str, list[float]] = {name: [] for name in runs}
    size = max(len(data) for _, data in runs.values())
    for start in range(0, size, chunk):
        for name, (fn, data) in runs.items():
            part = data[start:start + chunk]
            if not part:
                continue
            fastest = float("inf")
            for _ in range(repeat):
                t0 = time.thread_time()
                for b in part:
                    fn(b)
                fastest = min(fastest, time.thread_time() - t0)
            best[name].append(fastest)
    return {name: len(runs[name][1]) / sum(times) for name, times in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run (500 + 500 bodies)")
    parser.add_argument("-n", type=int, default=None, help="bodies of each kind")
    args = parser.parse_args()
    n = args.n or (500 if args.quick else 10_000)
    repeat = 1 if args.quick else 3

    definition = json.loads(DEFINITION.read_text(encoding="utf-8"))
    form = compile_form(definition)
    schema = answers_schema(definition)
    # Formats on: the compiled form checks that dates are real calendar dates, so the
    # baselines check the "date" format too, to do at least the same structural work.
    py = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    rs = jsonschema_rs.validator_for(schema, validate_formats=True)
    valid, invalid = bodies(n)
    size = sum(map(len, valid + invalid)) / (2 * n)
    print(f"{n} valid + {n} invalid bodies of {definition['id']}, {size:,.0f} bytes on average;"
          f" fast plan: {form.fast}")

    # Each approach agrees on what it is given before it is timed.
    errors = 0
    for b in valid:
        # .scored too: the version's evaluation is generated on its first use (~20 ms, once
        # per version, as the server's cached form does), which is not a body's cost.
        assert form.validate(b).scored.score["max"] > 0
        assert py.is_valid(json.loads(b)) and rs.is_valid(json.loads(b))
    for b in invalid:
        try:
            form.validate(b)
            raise AssertionError(f"accepted an invalid body: {b[:200]!r}")
        except SubmissionInvalid as e:
            errors += len(e.problems)
    print(f"invalid bodies: {errors / n:.2f} problems each on average")

    def compiled_valid(b: bytes) -> object:
        return form.validate(b)

    decode = form.types.decoder.decode

    def decode_only(b: bytes) -> object:
        return decode(b)

    def compiled_scored(b: bytes) -> object:
        # As runtime.submissions.service does with a valid body (stored_evaluation of it).
        return form.validate(b).scored.stored()

    def compiled_invalid(b: bytes) -> object:
        try:
            form.validate(b)
        except SubmissionInvalid as e:
            return e.problems
        return None

    def py_valid(b: bytes) -> object:
        return py.is_valid(json.loads(b))

    def py_invalid(b: bytes) -> object:
        return list(py.iter_errors(json.loads(b)))

    def rs_valid(b: bytes) -> object:
        return rs.is_valid(json.loads(b))

    def rs_invalid(b: bytes) -> object:
        return list(rs.iter_errors(json.loads(b)))

    gc.collect()
    gc.freeze()  # the bodies and compiled forms are long-lived: keep the collector off them
    rates = measure({
        "valid compiled": (compiled_valid, valid),
        "valid jsonschema": (py_valid, valid),
        "valid jsonschema-rs": (rs_valid, valid),
        "valid compiled+evaluation": (compiled_scored, valid),
        "valid msgspec decode only": (decode_only, valid),
        "invalid compiled": (compiled_invalid, invalid),
        "invalid jsonschema": (py_invalid, invalid),
        "invalid jsonschema-rs": (rs_invalid, invalid),
    }, repeat)
    for name, rate in rates.items():
        print(f"  {name:28s} {rate:>12,.0f} bodies/s  {1e6 / rate:9.2f} µs each")

    def times(r: float) -> str:
        return f"{r:.1f}x" if r >= 10 else f"{r:.2f}x"

    def ratio(kind: str, base: str, target: str) -> None:
        r = rates[f"{kind} compiled"] / rates[f"{kind} {base}"]
        print(f"{kind}: compiled / {base}: {times(r)}{f' ({target})' if target else ''}")

    ratio("valid", "jsonschema", "the forms issue's 100x target, retired by issue 16: the "
          "fastest peer is beaten")
    ratio("valid", "jsonschema-rs", "target > 1x")
    ratio("invalid", "jsonschema", "target >= 10x: the complete error list")
    ratio("invalid", "jsonschema-rs", "")
    scored = rates["valid compiled+evaluation"] / rates["valid jsonschema"]
    print(f"valid: compiled with evaluation / jsonschema: {times(scored)} (target >= 30x; "
          "validation plus score, failed items and alerts)")
    floor = rates["valid msgspec decode only"] / rates["valid jsonschema"]
    print(f"valid: msgspec decode alone / jsonschema: {times(floor)} (no target; the ceiling for "
          "any validate that decodes with msgspec, before a single conditional check)")


if __name__ == "__main__":
    main()
