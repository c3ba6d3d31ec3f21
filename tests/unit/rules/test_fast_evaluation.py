"""The compiled evaluation gives what the generic one does, on random answers.

``CompiledEvaluation`` (``rules.fast_evaluation``) evaluates a standard version from a plan
made once; ``StandardRules.evaluate`` is the generic walk it replaces on the submission path.
For every standard and survey in ``definitions/``, Hypothesis draws answers item by item:
a value of the item's type (choices from its own choices, numbers around its bounds, groups
of zero to four entries), a value of the wrong type, or nothing; and a context with or
without ``today`` and a visit's distance. Both evaluations must give the same JSON, byte for
byte (field order included: evaluations are stored and sent as they are), with the rules
that raised listed alike.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rounds.forms.compiled import compile_form
from rounds.rules.alerts import message, message_split, split_texts
from rounds.rules.fast_evaluation import CompiledEvaluation
from rounds.rules.standards import compile_standard
from support.random_answers import answer_sets

DEFINITIONS = Path(__file__).resolve().parents[3] / "definitions"
FILES = sorted([*DEFINITIONS.glob("standards/*.json"), *DEFINITIONS.glob("surveys/*.json")])

JUNK = st.one_of(st.none(), st.booleans(), st.integers(-5, 500), st.text(max_size=4),
                 st.just("na"), st.lists(st.integers(0, 3), max_size=2), st.just({}))
DATES = st.dates().map(lambda d: d.isoformat())


def _number(item: dict[str, Any]) -> st.SearchStrategy[Any]:
    lo = item.get("min") if isinstance(item.get("min"), int | float) else -10
    hi = item.get("max") if isinstance(item.get("max"), int | float) else 1000
    return st.one_of(st.integers(int(lo) - 2, int(hi) + 2),
                     st.floats(lo - 1, hi + 1, allow_nan=False))


def _value(item: dict[str, Any]) -> st.SearchStrategy[Any]:
    kind = item.get("type")
    codes = [c.get("value") for c in item.get("choices") or [] if isinstance(c, dict)]
    if kind == "yes_no":
        return st.sampled_from(["yes", "no", "na"])
    if kind == "check":
        return st.booleans()
    if kind in ("number", "scale"):
        return _number(item)
    if kind == "single_choice" and codes:
        return st.one_of(st.sampled_from(codes), st.integers(0, 5))
    if kind == "multiple_choice" and codes:
        return st.lists(st.sampled_from(codes), max_size=len(codes), unique=True)
    if kind == "date":
        return DATES
    if kind == "gps":
        return st.fixed_dictionaries({"lat": st.floats(-90, 90), "lng": st.floats(-180, 180)})
    if kind == "photo":
        return st.lists(st.just("oss://b/p.jpg"), max_size=3)
    if kind == "signature":
        return st.just({"photo": "00000000-0000-0000-0000-000000000001"})
    if kind == "group":
        return st.lists(_answers(item.get("items") or []), max_size=4)
    return st.text(max_size=6)


def _answers(items: list[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={
        str(it["id"]): st.one_of(_value(it), _value(it), JUNK) for it in items
        if isinstance(it, dict) and "id" in it})


def _items(definition: dict[str, Any]) -> list[dict[str, Any]]:
    return [it for sec in definition.get("sections") or [] for it in sec.get("items") or []]


CTX = st.one_of(st.none(), st.fixed_dictionaries({}, optional={
    "today": DATES, "visit": st.fixed_dictionaries({}, optional={
        "distance_m": st.one_of(st.none(), st.integers(0, 2000))})}))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_compiled_evaluation_is_the_generic_one(path: Path, data: st.DataObject) -> None:
    definition = json.loads(path.read_text(encoding="utf-8"))
    rules = compile_standard(definition)
    compiled = CompiledEvaluation(rules)
    answers = data.draw(_answers(_items(definition)), label="answers")
    ctx = data.draw(CTX, label="ctx")
    assert msgspec.json.encode(compiled.evaluate(answers, ctx)) == msgspec.json.encode(
        rules.evaluate(answers, ctx))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
@settings(max_examples=100, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_compiled_form_state_is_the_generic_one(path: Path, data: st.DataObject) -> None:
    definition = json.loads(path.read_text(encoding="utf-8"))
    rules = compile_standard(definition)
    answers = data.draw(_answers(_items(definition)), label="answers")
    ctx = data.draw(CTX, label="ctx")
    assert msgspec.json.encode(CompiledEvaluation(rules).form(answers, ctx)) == (
        msgspec.json.encode(rules.form(answers, ctx)))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_the_same_on_the_browser_parity_sets(path: Path) -> None:
    # The seeded sets of the browser parity test: more group entries and ctx values.
    definition = json.loads(path.read_text(encoding="utf-8"))
    rules = compile_standard(definition)
    compiled = CompiledEvaluation(rules)
    for s in answer_sets(definition, seed=1616, n=200):
        for a, b in ((compiled.evaluate, rules.evaluate), (compiled.form, rules.form)):
            assert msgspec.json.encode(a(s["answers"], s["ctx"])) == msgspec.json.encode(
                b(s["answers"], s["ctx"])), s


def test_every_definition_is_drawn() -> None:
    # Five standards and two surveys today; a new one is covered by the test above on its own.
    assert {p.parent.name for p in FILES} == {"standards", "surveys"} and len(FILES) >= 7


def test_a_valid_submission_is_scored_by_the_compiled_evaluation() -> None:
    definition = json.loads((DEFINITIONS / "standards" / "customer_manager_visit.json")
                            .read_text(encoding="utf-8"))
    form = compile_form(definition)
    answers = {"out_of_stock_found": "yes", "out_of_stock_items": [
        {"brand": "中华(硬)", "reason": "sold_fast"}, {"brand": "玉溪(软)", "reason": "other"}],
        "display_standard": "messy", "stock_checked": True}
    ev = form.evaluator.evaluate(answers)
    assert msgspec.json.encode(ev) == msgspec.json.encode(form.rules.evaluate(answers))
    assert [f.item for f in ev.failed] == [f.item for f in form.rules.evaluate(answers).failed]
    assert [e.pointer for e in ev.entries] == ["/out_of_stock_items/0", "/out_of_stock_items/1"]


@pytest.mark.parametrize("text", [
    "plain", "", "{score.percentage}%", "{ } and {a b} stay", "{{x}}", "{count}: {brands}.",
    "{score.sections.display.value} {missing.path} {ctx.visit.distance_m}{count}"])
def test_split_texts_fill_as_message_does(text: str) -> None:
    data = {"score": {"percentage": 85.25, "sections": {"display": {"value": 2 / 3}}},
            "ctx": {"visit": {"distance_m": 250}}, "x": 1}
    params = {"count": {"zh": "3", "en": "three"}, "brands": {"en": "A, B"}}
    digits = {"score": 1, "score.sections.display": 2}
    texts = {"zh": text, "en": text + "!", "fr": "ignored"}
    assert message_split(split_texts(texts), data, params, digits) == message(
        texts, data, params, digits)
