"""Plausible answers to any standard or survey, for demo data and benchmarks.

Driven by the item types of the definition, not by any one standard, so a new standard
gets demo data with no code change. ``quality`` (0–1) is how often an answer is the good
one (a ticked check, "yes", a high scale). Evidence is added where the definition's own
``evidence_if`` asks for it, and a conditionally required text is filled, by asking the
rules engine, so the answers pass validation.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from rounds.definitions.items import items_by_id
from rounds.demo.notes import problem_note
from rounds.rules.evaluation import StandardRules
from rounds.rules.standards import compile_standard

NOTES = [
    "已提醒零售户按规定摆放，下次走访复查。",
    "店主表示理解，承诺本周内整改。",
    "现场拍照留存，已告知注意事项。",
    "近期客流下降，建议调整陈列和订货结构。",
    "店主反映部分品规到货不及时。",
    "价签已补齐，陈列整齐。",
    "已讲解最新货源投放政策。",
]
BRANDS = ["黄鹤楼(软蓝)", "黄鹤楼(硬红)", "红金龙(硬神州)", "利群(新版)", "中华(硬)",
          "芙蓉王(硬)", "南京(炫赫门)", "玉溪(软)", "云烟(紫)", "白沙(精品)"]


def _text(item: dict[str, Any], rng: random.Random) -> str:
    key = str(item.get("id", ""))
    text = rng.choice(BRANDS) if any(k in key for k in ("brand", "product")) else rng.choice(NOTES)
    lo = int(item.get("min_length") or 0)
    while len(text) < lo:
        text += rng.choice(NOTES)
    hi = item.get("max_length")
    return text[: int(hi)] if hi else text


def _good(rng: random.Random, quality: float) -> bool:
    return rng.random() < quality


def answer_for(item: dict[str, Any], rng: random.Random, *, quality: float,
               photo_ids: list[str], position: tuple[float, float], today: date) -> Any:
    """One answer of the item's type (None: leave it unanswered)."""
    kind = item.get("type")
    good = _good(rng, quality)
    if kind == "check":
        return good
    if kind == "yes_no":
        if item.get("allow_na") and rng.random() < 0.05:
            return "na"
        return "yes" if good else "no"
    if kind == "scale":
        lo, hi = int(item["min"]), int(item["max"])
        if item.get("allow_na") and rng.random() < 0.05:
            return "na"
        top = max(lo, hi - 1)
        return rng.randint(top, hi) if good else rng.randint(lo, max(lo, (lo + hi) // 2))
    if kind == "number":
        low = float(item.get("min", 0))
        high = float(item.get("max", low + 500))
        value = low + (high - low) * (rng.uniform(0.3, 0.9) if good else rng.uniform(0.0, 0.4))
        return round(value) if item.get("integer") else round(value, 1)
    if kind == "text":
        return _text(item, rng)
    if kind == "single_choice":
        choices = item.get("choices") or []
        if not choices:
            return None
        ranked = sorted(choices, key=lambda c: -(c.get("score") if c.get("score") is not None
                                                 else 0.5))
        pick = ranked[0] if good else rng.choice(ranked)
        return pick["value"]
    if kind == "multiple_choice":
        values = [c["value"] for c in item.get("choices") or []]
        lo = int(item.get("min_count") or 1)
        hi = int(item.get("max_count") or len(values))
        n = min(len(values), max(lo, rng.randint(lo, max(lo, min(hi, 3)))))
        return rng.sample(values, n)
    if kind == "date":
        day = (today + timedelta(days=rng.randint(7, 21))).isoformat()
        first, last = item.get("min"), item.get("max")
        if isinstance(first, str) and day < first:
            return first
        if isinstance(last, str) and day > last:
            return last
        return day
    if kind == "photo":
        n = max(int(item.get("min_count") or 1), 1)
        return [rng.choice(photo_ids) for _ in range(n)] if photo_ids else None
    if kind == "gps":
        lat, lng = position
        return {"lat": round(lat + rng.uniform(-0.0002, 0.0002), 6),
                "lng": round(lng + rng.uniform(-0.0002, 0.0002), 6),
                "accuracy_m": round(rng.uniform(5, 30), 1)}
    if kind == "signature":  # a stored PNG (the demo's photos are PNGs)
        return {"photo": rng.choice(photo_ids) if photo_ids else "signature.png"}
    if kind == "group":
        lo = int(item.get("min_count") or 0)
        hi = int(item.get("max_count") or 3)
        count = rng.randint(max(lo, 1), max(lo, 1, min(hi, 3)))
        entries = []
        for _ in range(count):
            entry = {}
            for sub in item.get("items") or []:
                value = answer_for(sub, rng, quality=quality, photo_ids=photo_ids,
                                   position=position, today=today)
                if value is not None:
                    entry[str(sub["id"])] = value
            entries.append(entry)
        return entries
    return None


# The last definitions answered, by identity: the demo answers one of a few definitions
# thousands of times, and compiling (even from the content-keyed cache) means hashing it.
_known: dict[int, tuple[dict[str, Any], StandardRules, dict[str, Any]]] = {}


def _compiled(definition: dict[str, Any]) -> tuple[StandardRules, dict[str, Any]]:
    """The definition's compiled rules and items by id."""
    known = _known.get(id(definition))
    if known is None or known[0] is not definition:
        if len(_known) > 16:
            _known.clear()
        known = _known[id(definition)] = (definition, compile_standard(definition),
                                          items_by_id(definition))
    return known[1], known[2]


def plausible_submission(definition: dict[str, Any], rng: random.Random, *,
                         quality: float = 0.85, photo_ids: list[str] | None = None,
                         position: tuple[float, float] = (30.3912, 114.8948),
                         today: date | None = None, ctx: dict[str, Any] | None = None
                         ) -> dict[str, Any]:
    """``{"answers": ..., "evidence": ...}`` that a careful field worker could have sent."""
    photos = photo_ids or []
    day = today or date(2026, 11, 16)
    answers: dict[str, Any] = {}
    for section in definition.get("sections") or []:
        for item in section.get("items") or []:
            if "calculate" in item:
                continue
            value = answer_for(item, rng, quality=quality, photo_ids=photos, position=position,
                               today=day)
            if value is not None:
                answers[str(item["id"])] = value
    rules, items = _compiled(definition)
    state = rules.form(answers, ctx or {})
    answers = dict(state.answers)
    evidence: dict[str, Any] = {}
    for item_id, need in state.evidence.items():
        entry: dict[str, Any] = {}
        if need.photo_min and photos:
            entry["photos"] = [rng.choice(photos) for _ in range(need.photo_min)]
        if need.note:
            entry["note"] = problem_note(item_id, items.get(item_id), rng)  # says what failed
        evidence[item_id] = entry
    return {"answers": answers, "evidence": evidence}
