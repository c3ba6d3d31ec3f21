"""Invalid bodies get the reference's complete list of problems, however they are wrong.

A body msgspec rejects takes the slow path of ``validate``: the generated structural check
(``forms.shape``) and, where the form's fast plan follows its rules, the conditional checks
decided by that plan (``slow_path.PlannedChecks``) instead of ``StandardRules.form``.
``validate_reference`` is the oracle: jsonschema for the structure, ``StandardRules.form``
for the rest. On mutations of answers every standard and survey in ``definitions/`` accepts
(a value dropped, made odd, swapped for another choice that changes what is shown or
required; unknown answers; group entries broken; evidence added, dropped or malformed), the
two give the same problems (pointer, message, code, details, order) in both languages, and
for a body both accept the same kept answers, evidence and dropped list.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import msgspec
import pytest

from rounds.errors import Problem
from rounds.forms.compiled import CompiledForm, SubmissionInvalid, compile_form
from support.random_answers import answer_sets

DEFINITIONS = Path(__file__).resolve().parents[3] / "definitions"
FILES = sorted([*DEFINITIONS.glob("standards/*.json"), *DEFINITIONS.glob("surveys/*.json")])
ODD: list[Any] = [None, "", " ", "x", 0, -1, 5.0, 2.5, 10**6, True, False, [], {}, ["a", "a"],
                  ["p1"], "2026-02-30", "2024-05-01", {"lat": 95, "lng": 0}, {"photo": ""},
                  {"photo": "p"}, [{}], [1]]
EVIDENCE: list[Any] = [None, {}, {"photos": ["p1"]}, {"photos": ["p1", "p2"], "note": "n"},
                       {"photos": [], "note": " "}, {"photos": "p"}, {"photos": [""]},
                       {"note": 5}, {"extra": 1}, [], "x"]


def _items(definition: dict[str, Any]) -> list[dict[str, Any]]:
    return [it for sec in definition.get("sections") or [] for it in sec.get("items") or []]


def _problems(check: Any, raw: bytes, ctx: Any, lang: str) -> list[Problem] | Any:
    try:
        valid = check(raw, ctx, lang)
    except SubmissionInvalid as e:
        return e.problems
    return (valid.answers, valid.evidence, valid.dropped)


def _bases(form: CompiledForm, definition: dict[str, Any]) -> list[dict[str, Any]]:
    """Random answers (with their ctx) mended a few rounds (what the form rejects taken out,
    a missing answer taken from another set): bodies that are right or nearly, to break."""
    sets = answer_sets(definition, seed=23, n=100)
    pool: dict[str, list[Any]] = {}
    for s in sets:
        for k, v in s["answers"].items():
            pool.setdefault(k, []).append(v)
    rng = random.Random(5)
    out = []
    for s in sets:
        answers = dict(s["answers"])
        for _ in range(8):
            problems = [p for p in form.problems(msgspec.json.encode({"answers": answers}),
                                                 s["ctx"]) if p.pointer.startswith("/answers/")]
            if not problems:
                break
            for p in problems:
                name = p.pointer.split("/")[2]
                if p.code == "required" and p.pointer.count("/") == 2 and name in pool:
                    answers[name] = copy.deepcopy(rng.choice(pool[name]))
                else:
                    answers.pop(name, None)
        out.append({"answers": answers, "ctx": s["ctx"]})
    return out


def _mutate(rng: random.Random, definition: dict[str, Any], answers: dict[str, Any],
            evidence: dict[str, Any]) -> None:
    items = _items(definition)
    item = rng.choice(items)
    name = str(item.get("id"))
    kind = rng.randrange(9)
    if kind == 0:
        answers.pop(name, None)
    elif kind == 1:
        answers[name] = copy.deepcopy(rng.choice(ODD))
    elif kind == 2:  # another right answer: what is shown or required changes
        choices = [c.get("value") for c in item.get("choices") or []]
        options = {"yes_no": ["yes", "no", "na"], "check": [True, False],
                   "single_choice": choices, "multiple_choice": [choices[:1], choices[:2]],
                   "scale": [1, 2, 3, "na"]}.get(str(item.get("type")), [None])
        answers[name] = copy.deepcopy(rng.choice(options))
    elif kind == 3:
        answers[rng.choice(["extra", "score", name + "_x"])] = rng.choice(ODD[:6])
    elif kind in (4, 5):
        groups = [it for it in items if it.get("type") == "group"]
        if not groups:
            return
        group = rng.choice(groups)
        entries = answers.get(str(group["id"]))
        subs = [str(s.get("id")) for s in group.get("items") or []]
        if not isinstance(entries, list) or not entries or not subs:
            answers[str(group["id"])] = rng.choice([[], [{}], "x", [{"x": 1}, 3]])
            return
        n = rng.randrange(len(entries))
        entry = entries[n]
        if not isinstance(entry, dict):
            return
        sub = rng.choice(subs)
        if kind == 4:
            entry.pop(sub, None)
        else:
            entry[rng.choice([sub, sub, "unknown"])] = copy.deepcopy(rng.choice(ODD))
    elif kind in (6, 7):
        key = rng.choice([name, name, "nope", f"{name}/0/x"])
        value = rng.choice(EVIDENCE)
        if value is None:
            evidence.pop(key, None)
        else:
            evidence[key] = copy.deepcopy(value)
    else:
        answers.clear()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_mutated_bodies_get_the_reference_problems(path: Path) -> None:
    definition = json.loads(path.read_text(encoding="utf-8"))
    form = compile_form(definition)
    bases = _bases(form, definition)
    rng = random.Random(16)
    outcomes = {"valid": 0, "invalid": 0}
    for n in range(400):
        base = bases[n % len(bases)]
        answers = copy.deepcopy(base["answers"])
        evidence: dict[str, Any] = {}
        for _ in range(rng.randint(0, 4)):
            _mutate(rng, definition, answers, evidence)
        body: dict[str, Any] = {"answers": answers}
        if evidence or rng.random() < 0.1:
            body["evidence"] = evidence
        raw = msgspec.json.encode(body)
        for lang in ("zh", "en"):
            got = _problems(form.validate, raw, base["ctx"], lang)
            want = _problems(form.validate_reference, raw, base["ctx"], lang)
            assert got == want, body
        outcomes["invalid" if isinstance(got, list) else "valid"] += 1
    assert outcomes["invalid"] > 150 and outcomes["valid"] > 0, outcomes


def _item(id_: str, type_: str, **kw: Any) -> dict[str, Any]:
    return {"id": id_, "type": type_, "title": {"zh": id_, "en": id_.title()}, **kw}


# Checks between fields beside structural errors, and what decides them: visibility, a
# required_if, evidence_if, a group's required fields (ticked or not), required answers that
# can be sent empty ("", []).
CHECKED: dict[str, Any] = {
    "kind": "standard", "id": "checked", "title": {"zh": "测试", "en": "Test"},
    "site_kinds": ["retailer"],
    "checks": [
        {"id": "later", "item": "follow_up_on",
         "when": {"<": [{"var": "follow_up_on"}, {"var": "inspected_on"}]},
         "message": {"zh": "复查日期太早", "en": "Too early"}},
        {"id": "not_above", "item": "sold", "when": {">": [{"var": "sold"}, {"var": "counted"}]},
         "message": {"zh": "售出 {n} 条", "en": "{n} sold", "params": {"n": {"var": "sold"}}}},
        {"id": "no_message", "item": "sold", "when": {"==": [{"var": "sold"}, 13]}}],
    "sections": [{"id": "main", "title": {"zh": "主要", "en": "Main"}, "items": [
        _item("inspected_on", "date", required=True),
        _item("needs_follow_up", "check"),
        _item("follow_up_on", "date", visible_if={"var": "needs_follow_up"}, required=True),
        _item("counted", "number", integer=True, min=0, max=500),
        _item("sold", "number", integer=True, min=0),
        _item("reason", "text", max_length=5, required_if={">": [{"var": "sold"}, 100]}),
        _item("tags_ok", "yes_no", required=True,
              evidence_if={"==": [{"var": "tags_ok"}, "no"]},
              evidence={"photo_min": 2, "note": True}),
        _item("rows", "group", visible_if={"var": "needs_follow_up"}, max_count=3, items=[
            _item("sku", "text", required=True), _item("seen", "check", required=True),
            _item("qty", "number", min=1)]),
        _item("agreed", "check", required=True),
        _item("inspector", "text", required=True),
        _item("topics", "multiple_choice", required=True, choices=[
            {"value": v, "label": {"zh": v, "en": v}} for v in ("a", "b")]),
    ]}],
}
CHECKED_VALUES: dict[str, list[Any]] = {
    "inspected_on": ["2026-03-10", "2026-03-01", "2026-02-30", 5, None],
    "needs_follow_up": [True, False, "yes", None],
    "follow_up_on": ["2026-03-05", "2026-03-20", "", "x", None],
    "counted": [5, 120, 13, -1, 5.0, "5", None],
    "sold": [3, 13, 107, 7.5, "x", None],
    "reason": ["ok", "", "toolong", 3, None],
    "tags_ok": ["yes", "no", "na", None],
    "rows": [[{"sku": "a", "seen": True}], [{"sku": "", "seen": False, "qty": 0}, {}],
             [{"sku": "a", "seen": True, "x": 1}] * 4, [3], [], "x", None],
    "agreed": [True, False, 1, None],
    "inspector": ["Li", "", " ", 3, None],
    "topics": [["a"], [], ["a", "a"], ["c"], None],
    "extra": [1, None],
}
CHECKED_EVIDENCE: list[Any] = [None, {"photos": ["a"], "note": "n"},
                               {"photos": ["a", "b"], "note": "n"}, {"photos": ["a", "b"]},
                               {"photos": [1]}, "x"]


def test_checks_beside_structural_errors_as_the_reference() -> None:
    form = compile_form(CHECKED)
    assert form.fast
    rng = random.Random(3)
    failed_checks = 0
    for _ in range(1500):
        answers = {k: copy.deepcopy(rng.choice(v)) for k, v in CHECKED_VALUES.items()}
        answers = {k: v for k, v in answers.items() if v is not None}
        body: dict[str, Any] = {"answers": answers}
        evidence = rng.choice(CHECKED_EVIDENCE)
        if evidence is not None:
            body["evidence"] = {rng.choice(["tags_ok", "rows/0/sku"]): evidence}
        raw = msgspec.json.encode(body)
        ctx = {"today": "2026-03-10"}
        for lang in ("zh", "en"):
            got = _problems(form.validate, raw, ctx, lang)
            assert got == _problems(form.validate_reference, raw, ctx, lang), body
        failed_checks += isinstance(got, list) and any(
            p.code == "check_failed" for p in got) and any(
            p.code not in ("check_failed", "required") for p in got)
    assert failed_checks > 50
