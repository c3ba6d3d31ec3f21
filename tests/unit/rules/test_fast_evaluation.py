"""The compiled and the generated evaluations give what the generic one does, on random answers.

``CompiledEvaluation`` (``rules.fast_evaluation``) evaluates a standard version from a plan
made once; ``StandardRules.evaluate`` is the generic walk it replaces on the submission path.
For every standard and survey in ``definitions/``, Hypothesis draws answers item by item:
a value of the item's type (choices from its own choices, numbers around its bounds, groups
of zero to four entries), a value of the wrong type, or nothing; and a context with or
without ``today`` and a visit's distance. Both evaluations must give the same JSON, byte for
byte (field order included: evaluations are stored and sent as they are), with the rules
that raised listed alike.

The generated evaluation (``rules.generated``: one function per version, what the write path
stores) is held to the same: its record equals the generic evaluation's fields in their
stored form, byte for byte, and the explanation it builds when asked is the generic one.
Besides the definitions in ``definitions/``, a made-up one has what they lack (group entries
with rules, a numeric choice sent as a number, lower-better scoring, ``min_answered``), and
another a value calculated from the score (no function is generated for it: the whole
evaluation makes its record).
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
from rounds.rules.generated import Scored, Scorer
from rounds.rules.results import Evaluation
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


# -- the generated evaluation ------------------------------------------------------------------

def _it(id: str, type: str, **kw: Any) -> dict[str, Any]:
    return {"id": id, "type": type, "title": {"zh": id, "en": id}, **kw}


CHOICES = [{"value": v, "label": {"zh": v, "en": v}} for v in ("0", "1", "2", "x")]
MADE_UP: dict[str, Any] = {
    "kind": "standard", "id": "made_up", "title": {"zh": "例", "en": "Example"},
    "site_kinds": ["retailer"], "pass_percentage": 50,
    "scoring": {"min_answered": 2},
    "sections": [
        {"id": "a", "title": {"zh": "a", "en": "a"}, "items": [
            _it("level", "single_choice", points="value", choices=CHOICES),
            _it("tidy", "scale", min=1, max=5, reverse=True),
            _it("clean", "check", good=False, problem={"zh": "脏 {level}", "en": "dirty {level}"}),
            _it("shelf", "group", visible_if={"!=": [{"var": "level"}, "0"]}, items=[
                _it("sku", "text"),
                _it("price", "number", visible_if={"!==": [{"var": "sku"}, None]}),
                _it("ok", "yes_no", fail_if={"==": [{"var": "ok"}, "no"]}),
                _it("twice", "number", calculate={"*": [{"var": "price"}, 2]}),
            ]),
        ]},
        {"id": "b", "title": {"zh": "b", "en": "b"}, "scoring": {"direction": "lower_better"},
         "items": [
             _it("late_fee", "yes_no", required=True, weight=2,
                 required_if={"==": [{"var": "level"}, "2"]}),
             _it("spill", "check", weight=1),
             _it("note", "text", evidence_if={"throw": "no evidence today"}),
         ]},
    ],
    "alerts": [{"code": "many", "severity": "low",
                "when": {">": [{"reduce": [{"var": "shelf"}, {"+": [{"var": "accumulator"}, 1]},
                                           0]}, 1]},
                "message": {"zh": "{n} 条 {score.percentage}", "en": "{n} rows {score.value}",
                            "params": {"n": {"var": "shelf.length"}}}}],
}
LATE: dict[str, Any] = {
    **MADE_UP, "id": "late",
    "sections": [*MADE_UP["sections"], {"id": "c", "title": {"zh": "c", "en": "c"}, "items": [
        _it("grade", "text", calculate={"if": [{">=": [{"var": "score.percentage"}, 50]},
                                               "good", "poor"]})]}]}


def _stored(ev: Evaluation) -> dict[str, Any]:
    return msgspec.to_builtins({"score": ev.score, "outcomes": ev.outcomes, "failed": ev.failed,
                                "alerts": ev.alerts, "calculated": ev.calculated,
                                "errors": ev.errors})


def _same_record(got: Scored, want: Evaluation) -> None:
    enc = msgspec.json.encode
    assert enc(got.stored()) == enc(_stored(want))
    assert enc(got.answers) == enc(want.answers)
    assert enc(got.calculated) == enc(want.calculated)
    assert enc(got.visible) == enc(want.visible)
    tops = [e for e in want.entries if e.pointer.count("/") == 2]
    assert [(e.group, e.index, e.visible) for e in tops] == [
        (e.group, e.index, got.entry_visible(e.group, e.index)) for e in tops]
    assert got.entry_visible("no such group", 0) is None
    assert enc(got.evaluation()) == enc(want)  # the explanation, when asked for


@pytest.mark.parametrize("definition", [
    *(pytest.param(json.loads(p.read_text(encoding="utf-8")), id=p.stem) for p in FILES),
    pytest.param(MADE_UP, id="made_up"), pytest.param(LATE, id="late")])
@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_generated_evaluation_is_the_generic_one(definition: dict[str, Any],
                                                 data: st.DataObject) -> None:
    rules = compile_standard(definition)
    scorer = Scorer(CompiledEvaluation(rules))
    answers = data.draw(_answers(_items(definition)), label="answers")
    ctx = data.draw(CTX, label="ctx")
    _same_record(scorer(answers, ctx), rules.evaluate(answers, ctx))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_generated_on_the_browser_parity_sets(path: Path) -> None:
    definition = json.loads(path.read_text(encoding="utf-8"))
    rules = compile_standard(definition)
    scorer = Scorer(CompiledEvaluation(rules))
    assert scorer.generated  # every definition we ship has its function
    for s in answer_sets(definition, seed=1616, n=200):
        _same_record(scorer(s["answers"], s["ctx"]), rules.evaluate(s["answers"], s["ctx"]))


def test_a_rule_that_raises_is_listed_where_the_generic_evaluation_lists_it() -> None:
    rules = compile_standard(MADE_UP)
    scorer = Scorer(CompiledEvaluation(rules))
    answers = {"level": 2, "note": "n", "shelf": [{"sku": "a", "price": 3, "ok": "no"}]}
    got, want = scorer(answers), rules.evaluate(answers)
    assert scorer.generated and not Scorer(CompiledEvaluation(compile_standard(LATE))).generated
    assert [e.pointer for e in want.errors] == ["/sections/1/items/2/evidence_if"]
    assert [f["item"] for f in got.failed] == ["shelf"] and got.answers["level"] == "2"
    _same_record(got, want)


def test_a_valid_submission_is_stored_from_the_generated_evaluation() -> None:
    definition = json.loads((DEFINITIONS / "standards" / "customer_manager_visit.json")
                            .read_text(encoding="utf-8"))
    form = compile_form(definition)
    body = json.dumps({"answers": {
        "arrival_location": {"lat": 30.5, "lng": 114.3}, "storefront_photo": ["p1"],
        "brands_in_stock": 30, "out_of_stock_found": "yes",
        "out_of_stock_items": [{"brand": "中华(硬)", "reason": "sold_fast"}],
        "new_brand_recommended": "no", "display_standard": "messy",
        "price_tags_complete": "yes", "display_photo": ["p2"], "policy_explained": False,
        "self_discipline_group": "na", "stock_checked": True,
        "retailer_signature": {"photo": "00000000-0000-0000-0000-000000000001"}}}).encode()
    for valid in (form.validate(body), form.validate_reference(body)):
        scored = valid.scored
        assert scored is valid.scored  # computed once
        assert [f["item"] for f in scored.failed] == ["new_brand_recommended",
                                                      "display_standard"]
        assert [a["code"] for a in scored.alerts] == [a.code for a in valid.evaluation.alerts]
        assert valid.evaluation is scored.evaluation()  # the explanation: built on asking
        _same_record(scored, form.rules.evaluate(valid.sent_answers()))
