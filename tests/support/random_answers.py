"""Random answers to a standard or survey, for property tests of its evaluation.

``answer_sets(definition, seed, n)`` gives ``n`` bodies ``{"answers", "ctx"}``: mostly answers a
form could send (a choice's value, a number in range, yes/no/N/A, entries of a group), with
what a careless client sends mixed in (unknown ids, values for calculated items, wrong types,
numbers out of range, nulls), and a ``ctx`` whose fields the definition's rules read take
random values of random types. Seeded: the same seed gives the same sets.
"""

from __future__ import annotations

import random
from typing import Any

from rounds.rules.analysis import reads

_TEXTS = ["", "a", "ok", "门店", "12", "yes", "no"]
_ODD = [None, "", "x", -1, 0, 1, 2.5, True, False, [], {}, ["a"], {"a": 1}]
_CTX_VALUES: list[Any] = [None, 0, 1, 3, 12.5, 50, 120, 500, 2000, -1, "", "a", "retail",
                          True, False, "2024-05-03"]
_RULE_FIELDS = ("visible_if", "required_if", "evidence_if", "fail_if", "score", "calculate",
                "when")


def _rules(node: Any) -> list[Any]:
    """Every rule in a definition (items', alerts', checks', outcomes' and params')."""
    found: list[Any] = []

    def walk(n: Any) -> None:
        if isinstance(n, dict):
            for k, v in n.items():
                if k in _RULE_FIELDS and v is not None:
                    found.append(v)
                elif k == "params" and isinstance(v, dict):
                    found.extend(p for p in v.values() if p is not None)
                else:
                    walk(v)
        elif isinstance(n, list):
            for x in n:
                walk(x)

    walk(node)
    return found


def ctx_paths(definition: dict[str, Any]) -> list[list[str]]:
    """The ``ctx.*`` paths the definition's rules read (statically)."""
    paths: set[tuple[str, ...]] = set()
    for rule in _rules(definition):
        for r in reads(rule):
            parts = r.path.split(".")
            if parts[0] == "ctx" and len(parts) > 1 and "*" not in parts and not r.dynamic:
                paths.add(tuple(parts[1:]))
    return [list(p) for p in sorted(paths)]


def random_ctx(rng: random.Random, paths: list[list[str]]) -> dict[str, Any]:
    day = rng.randint(1, 28)
    ctx: dict[str, Any] = {"now": f"2024-05-{day:02d}T09:30:00+08:00",
                           "today": f"2024-05-{day:02d}", "site": {}, "visit": {}}
    if rng.random() < 0.7:
        ctx["user"] = {"id": rng.randint(1, 9), "role": rng.choice(["customer_manager",
                                                                     "market_inspector"])}
    for path in paths:
        if rng.random() < 0.15:
            continue  # absent
        at = ctx
        for key in path[:-1]:
            nxt = at.get(key)
            if not isinstance(nxt, dict):
                nxt = at[key] = {}
            at = nxt
        at[path[-1]] = rng.choice(_CTX_VALUES)
    return ctx


def _bound(item: dict[str, Any], key: str, default: float) -> float:
    v = item.get(key)
    return v if isinstance(v, int | float) and not isinstance(v, bool) else default


def _number(rng: random.Random, item: dict[str, Any]) -> Any:
    lo, hi = _bound(item, "min", 0), _bound(item, "max", 100)
    roll = rng.random()
    if roll < 0.6:
        return rng.randint(int(lo), int(max(lo, hi)))
    if roll < 0.8:  # decimals people type: 0.1 and 0.7 do not add up exactly
        return round(rng.uniform(lo, hi), rng.choice([1, 2]))
    if roll < 0.9:
        return rng.choice([lo - 1, hi + 1, 0, -0.5])
    return str(rng.randint(int(lo), int(max(lo, hi))))  # a numeric string


def _choice_values(item: dict[str, Any]) -> list[Any]:
    return [c.get("value") for c in item.get("choices") or [] if isinstance(c, dict)]


def _answer(rng: random.Random, item: dict[str, Any], depth: int, good: float) -> Any:
    """A random answer; ``good`` (0..1) leans it to the first choice, yes, ticked, the top of
    a scale (so that some sets pass and some fail)."""
    kind = item.get("type")
    leans = rng.random() < good
    if kind == "yes_no":
        return "yes" if leans else rng.choice(["yes", "no", "no", "na"])
    if kind == "check":
        return leans or rng.choice([True, False])
    if kind == "scale":
        lo, hi = _bound(item, "min", 1), _bound(item, "max", 5)
        roll = rng.random()
        if roll < 0.8:
            return int(hi) if leans else rng.randint(int(lo), int(hi))
        if roll < 0.9:
            return "na"
        return rng.choice([lo - 1, hi + 1, (lo + hi) / 2, str(lo)])
    if kind == "single_choice":
        values = _choice_values(item)
        roll = rng.random()
        if roll < 0.85 and values:
            v = values[0] if leans else rng.choice(values)
            if item.get("points") == "value" and rng.random() < 0.5:
                try:  # the spec lets a numeric choice be sent as a number
                    n = float(v)
                    return int(n) if n.is_integer() else n
                except (TypeError, ValueError):
                    return v
            return v
        return rng.choice(["zzz", 7, "na"])
    if kind == "multiple_choice":
        values = _choice_values(item)
        return [v for v in values if rng.random() < 0.4] or ([values[0]] if values else [])
    if kind == "number":
        return _number(rng, item)
    if kind == "text":
        return rng.choice(_TEXTS)
    if kind == "date":
        if rng.random() < 0.1:
            return rng.choice(["2024-13-40", "yesterday", ""])
        return f"2024-{rng.randint(4, 6):02d}-{rng.randint(1, 28):02d}"
    if kind == "photo":
        return [f"p{rng.randint(1, 9)}" for _ in range(rng.randint(1, 3))]
    if kind == "gps":
        return {"lat": 28.2 + rng.random() / 100, "lng": 112.9 + rng.random() / 100,
                "accuracy_m": rng.choice([5, 12, 80])}
    if kind == "signature":
        return {"photo": "sig"}
    if kind == "group":
        if depth > 2:
            return []
        subs = [s for s in item.get("items") or [] if isinstance(s, dict)]
        return [_answers(rng, subs, good, depth + 1) for _ in range(rng.randint(0, 3))]
    return rng.choice(_TEXTS)


def _answers(rng: random.Random, items: list[dict[str, Any]], good: float,
             depth: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        roll = rng.random()
        if roll < 0.15:
            continue  # unanswered
        if roll < 0.18:
            out[str(item.get("id"))] = None
        elif roll < 0.22:
            out[str(item.get("id"))] = rng.choice(_ODD)  # a careless client
        else:
            out[str(item.get("id"))] = _answer(rng, item, depth, good)
    if rng.random() < 0.1:
        out["not_an_item"] = rng.choice(_ODD)
    return out


def answer_sets(definition: dict[str, Any], seed: int, n: int) -> list[dict[str, Any]]:
    """``n`` random bodies ``{"answers", "ctx"}`` for the definition."""
    rng = random.Random(seed)
    items = [it for sec in definition.get("sections") or [] for it in sec.get("items") or []
             if isinstance(it, dict)]
    paths = ctx_paths(definition)
    return [{"answers": _answers(rng, items, rng.random()), "ctx": random_ctx(rng, paths)}
            for _ in range(n)]
