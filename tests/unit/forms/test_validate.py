"""Validating submission bodies: every item type, every error at once with its pointer, messages
in zh and en, hidden answers dropped, conditional requirements and evidence, and the fast path
agreeing with the slow one (jsonschema plus StandardRules) on what it accepts and reports."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from rounds.definitions.loader import DefinitionDocument
from rounds.definitions.validation import validate as validate_definitions
from rounds.errors import InvalidInput
from rounds.forms.compiled import SubmissionInvalid, compile_form
from rounds.forms.schema import answers_schema

REPO = Path(__file__).resolve().parents[3]
VISIT = json.loads((REPO / "definitions/standards/customer_manager_visit.json").read_text("utf-8"))


def item(id_: str, type_: str, zh: str, en: str, **kw: Any) -> dict[str, Any]:
    return {"id": id_, "type": type_, "title": {"zh": zh, "en": en}, **kw}


def choices(*values: str) -> list[dict[str, Any]]:
    return [{"value": v, "label": {"zh": f"选项{v}", "en": f"Option {v}"}} for v in values]


def standard(id_: str, *items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    d = {"kind": "standard", "id": id_, "title": {"zh": "测试", "en": "Test"},
         "site_kinds": ["retailer"],
         "sections": [{"id": "main", "title": {"zh": "主要", "en": "Main"}, "items": list(items)}],
         **extra}
    problems = validate_definitions([DefinitionDocument("test", d)], references=False)
    assert not problems, problems  # the tests use definitions the platform accepts
    return d


EVERY_TYPE = standard(
    "every_type",
    item("ticked", "check", "已勾选", "Ticked"),
    item("agree", "check", "同意", "Agree", required=True),
    item("ok", "yes_no", "正常", "OK", allow_na=True),
    item("strict", "yes_no", "严格", "Strict"),
    item("mood", "scale", "满意度", "Satisfaction", min=1, max=5, allow_na=True),
    item("stars", "scale", "星级", "Stars", min=0, max=3),
    item("count", "number", "数量", "Count", integer=True, min=0, max=300),
    item("price", "number", "价格", "Price", min=0.5, max=99.5),
    item("code", "text", "编号", "Code", pattern="^[0-9]{4}$"),
    item("note", "text", "备注", "Note", min_length=2, max_length=5),
    item("grade", "single_choice", "等级", "Grade", choices=choices("a", "b")),
    item("topics", "multiple_choice", "主题", "Topics", min_count=1, max_count=2,
         choices=choices("x", "y", "z")),
    item("on", "date", "日期", "Date", min="2026-01-01", max="2026-12-31"),
    item("photos", "photo", "照片", "Photos", min_count=1, max_count=2),
    item("where", "gps", "位置", "Location"),
    item("sign", "signature", "签名", "Signature"),
    item("rows", "group", "明细", "Rows", min_count=1, max_count=2, items=[
        item("name", "text", "名称", "Name", required=True, max_length=10),
        item("qty", "number", "件数", "Qty", integer=True, min=1),
        item("when", "date", "日期", "When", min="2026-01-01")]),
)
BASE = {"agree": True}

# item id: (answers that are valid, [(an invalid answer, the code of its problem)])
CASES: dict[str, tuple[list[Any], list[tuple[Any, str]]]] = {
    "ticked": ([True, False], [("yes", "type"), (1, "type")]),
    "agree": ([True], [(False, "required"), ("true", "type")]),
    "ok": (["yes", "no", "na"], [("maybe", "enum"), (True, "enum")]),
    "strict": (["yes", "no"], [("na", "enum")]),
    "mood": ([1, 5, "na"], [(0, "enum"), (6, "enum"), ("x", "enum"), (2.5, "enum")]),
    "stars": ([0, 3], [(4, "maximum"), (-1, "minimum"), (1.5, "type"), ("2", "type")]),
    "count": ([0, 300], [(301, "maximum"), (-1, "minimum"), (2.5, "type"), (True, "type")]),
    "price": ([0.5, 10, 99.5], [(0.4, "minimum"), (100, "maximum"), ("1", "type")]),
    "code": (["0123"], [("12a4", "pattern"), (1234, "type")]),
    "note": (["ab", "abcde", "中文五个字"], [("a", "min_length"), ("abcdef", "max_length")]),
    "grade": (["a", "b"], [("c", "enum"), (None, "enum")]),
    "topics": ([["x"], ["x", "z"]], [([], "min_items"), (["x", "y", "z"], "max_items"),
                                      (["x", "x"], "unique_items"), (["w"], "enum"),
                                      ("x", "type")]),
    "on": (["2026-01-01", "2026-12-31"], [("2025-12-31", "date_min"), ("2027-01-01", "date_max"),
                                          ("2026-02-30", "format"), ("2026-1-1", "format"),
                                          (20260101, "type")]),
    "photos": ([["a"], ["a", "b"]], [([], "min_items"), (["a", "b", "c"], "max_items"),
                                     ([""], "min_length"), ([1], "type")]),
    "where": ([{"lat": 1, "lng": 2}, {"lat": -90.0, "lng": 180, "accuracy_m": 3.5}],
              [({"lat": 91, "lng": 0}, "maximum"), ({"lat": 0}, "required"),
               ({"lat": 0, "lng": 0, "alt": 1}, "unknown_field"), ([1, 2], "type")]),
    "sign": ([{"photo": "p1"}], [("data:image/png;base64,AAAA", "type"), ("", "type"),
                                 ({"photo": ""}, "min_length"), ({}, "required"),
                                 ({"photo": "p", "x": 1}, "unknown_field"), (3, "type")]),
    "rows": ([[{"name": "a"}], [{"name": "a", "qty": 2, "when": "2026-03-01"}, {"name": "b"}]],
             [([], "min_items"), ([{"name": "a"}] * 3, "max_items"), ([{"qty": 1}], "required"),
              ([{"name": "a", "qty": 0}], "minimum"), ([{"name": "a", "x": 1}], "unknown_field"),
              ([{"name": "a", "when": "2025-05-05"}], "date_min"), (["a"], "type")]),
}
VALID_CASES = [(k, v) for k, (good, _) in CASES.items() for v in good]
INVALID_CASES = [(k, v, code) for k, (_, bad) in CASES.items() for v, code in bad]


def body(answers: dict[str, Any], evidence: dict[str, Any] | None = None) -> bytes:
    doc: dict[str, Any] = {"answers": answers}
    if evidence is not None:
        doc["evidence"] = evidence
    return json.dumps(doc, ensure_ascii=False).encode()


def problems(form: Any, raw: bytes, lang: str = "en", ctx: Any = None) -> dict[str, str]:
    """pointer → code of every problem; the reference path must report the very same."""
    with pytest.raises(SubmissionInvalid) as fast:
        form.validate(raw, ctx, lang)
    with pytest.raises(SubmissionInvalid) as slow:
        form.validate_reference(raw, ctx, lang)
    got = [(p.pointer, p.message) for p in fast.value.problems]
    assert got == [(p.pointer, p.message) for p in slow.value.problems]
    assert len({p for p, _ in got}) == len(got), "one problem per place"
    return {p.pointer: p.code for p in fast.value.problems}


def messages(form: Any, raw: bytes, lang: str, ctx: Any = None) -> dict[str, str]:
    with pytest.raises(SubmissionInvalid) as info:
        form.validate(raw, ctx, lang)
    return {p.pointer: p.message for p in info.value.problems}


def accepted(form: Any, raw: bytes, ctx: Any = None) -> Any:
    valid = form.validate(raw, ctx)
    assert valid.answers == form.validate_reference(raw, ctx).answers
    return valid


# -- every item type -----------------------------------------------------------------------------

@pytest.mark.parametrize(("item_id", "value"), VALID_CASES)
def test_valid_answers_of_every_type(item_id: str, value: Any) -> None:
    form = compile_form(EVERY_TYPE)
    raw = body({**BASE, item_id: value})
    valid = accepted(form, raw)
    assert valid.answers[item_id] == value
    # The exported schema accepts what the server accepts.
    jsonschema.validate(json.loads(raw), answers_schema(EVERY_TYPE),
                        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


@pytest.mark.parametrize(("item_id", "value", "code"), INVALID_CASES)
def test_invalid_answers_of_every_type(item_id: str, value: Any, code: str) -> None:
    form = compile_form(EVERY_TYPE)
    answers = {**BASE, item_id: value}
    got = problems(form, body(answers))
    assert code in got.values(), got
    assert all(p.startswith(f"/answers/{item_id}") for p in got), got
    if code not in ("date_min", "date_max"):  # bounds of dates are ours (formatMinimum)
        schema = jsonschema.Draft202012Validator(
            answers_schema(EVERY_TYPE),
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        assert not schema.is_valid({"answers": answers})


def test_a_missing_required_answer_and_nothing_else() -> None:
    form = compile_form(EVERY_TYPE)
    assert problems(form, body({})) == {"/answers/agree": "required"}
    valid = accepted(form, body(BASE))
    assert valid.answers["ticked"] is False  # an unanswered check is false
    assert valid.evaluation.score.max > 0


def test_a_whole_number_written_as_float_is_accepted() -> None:
    # msgspec rejects 5.0 for an integer; JSON Schema accepts it, and the slow path agrees.
    form = compile_form(EVERY_TYPE)
    assert accepted(form, body({**BASE, "count": 5.0})).answers["count"] == 5


def test_the_body_itself() -> None:
    form = compile_form(EVERY_TYPE)
    assert problems(form, b"{oops") == {"": "invalid_json"}
    assert problems(form, b"[]") == {"": "type"}
    assert problems(form, b"{}") == {"/answers": "required"}
    assert problems(form, b'{"answers": 3}') == {"/answers": "type"}
    assert problems(form, body(BASE) [:-1] + b', "extra": 1}') == {"/extra": "unknown_field"}
    assert problems(form, body({**BASE, "nope": 1})) == {"/answers/nope": "unknown_field"}
    assert problems(form, body(BASE, {"nope": {"photos": ["a"]}})) == {
        "/evidence/nope": "unknown_field"}
    assert problems(form, body(BASE, {"ok": {"photos": [""], "x": 1}})) == {
        "/evidence/ok/photos/0": "min_length", "/evidence/ok/x": "unknown_field"}


# -- the real standard ---------------------------------------------------------------------------

def visit_answers(**changes: Any) -> dict[str, Any]:
    a: dict[str, Any] = {
        "arrival_location": {"lat": 30.27, "lng": 120.15, "accuracy_m": 8},
        "storefront_photo": ["oss://p/front.jpg"], "stock_checked": True,
        "brands_in_stock": 42, "out_of_stock_found": "yes",
        "out_of_stock_items": [{"brand": "中华(软)", "reason": "not_ordered",
                                "out_since": "2026-03-01", "reorder_advised": True}],
        "demand_forecast": True, "new_brand_recommended": "na", "display_standard": "basic",
        "display_guidance": True, "price_tags_complete": "yes",
        "display_photo": ["oss://p/counter.jpg"], "policy_explained": True,
        "policy_topics": ["price_policy", "tobacco_law"], "self_discipline_group": "yes",
        "foot_traffic": "high",
        "price_observations": [{"brand": "玉溪(软)", "where_seen": "this_shop",
                                "retail_price": 230, "guide_price": 230}],
        "monthly_revenue": 50000, "monthly_cost": 44000, "advice_given": True,
        "advice_topics": ["pricing"], "next_visit_on": "2026-04-01",
        "retailer_signature": {"photo": "signature-1"}}
    for k, v in changes.items():
        if v is None:
            a.pop(k, None)
        else:
            a[k] = v
    return a


def test_a_valid_visit_is_scored_once_on_demand() -> None:
    form = compile_form(VISIT)
    assert form.fast
    valid = accepted(form, body(visit_answers()), {"visit": {"distance_m": 20}})
    ev = valid.evaluation
    assert valid.evaluation is ev  # computed once
    assert ev.score.percentage is not None and ev.calculated["gross_margin"] == 12
    assert valid.answers == ev.answers
    jsonschema.validate({"answers": visit_answers()}, form.json_schema)


def test_every_error_at_once_with_pointers_and_messages() -> None:
    form = compile_form(VISIT)
    answers = visit_answers(
        brands_in_stock=301, display_standard="excellent", retailer_signature=None,
        out_of_stock_items=[{"brand": "x" * 51, "reason": "other"}, {"out_since": "2026-02-30"}],
        monthly_cost=47000, price_tags_complete="no", bogus=1,
        arrival_location={"lat": 91, "lng": 0}, policy_topics=["price_policy"] * 2)
    raw = body(answers, {"price_tags_complete": {"photos": ["oss://p/tag.jpg"]}})
    assert problems(form, raw) == {
        "/answers/bogus": "unknown_field",
        "/answers/arrival_location/lat": "maximum",
        "/answers/brands_in_stock": "maximum",
        "/answers/out_of_stock_items/0/brand": "max_length",
        "/answers/out_of_stock_items/1/brand": "required",
        "/answers/out_of_stock_items/1/out_since": "format",
        "/answers/out_of_stock_items/1/reason": "required",
        "/answers/display_standard": "enum",
        "/answers/policy_topics": "unique_items",
        "/answers/advice_notes": "required",  # a 6% margin needs written advice
        "/answers/retailer_signature": "required",
        "/evidence/price_tags_complete/note": "evidence_note",
    }
    zh = messages(form, raw, "zh")
    assert zh["/answers/brands_in_stock"] == "在柜销售品规数：不能大于 300"
    assert zh["/answers/out_of_stock_items/1/reason"] == "断货品规第 2 条 · 断货原因：必须填写"
    assert zh["/answers/display_standard"] == (
        "卷烟陈列情况：应为以下之一：规范整齐、基本规范、杂乱无序")
    assert zh["/answers/arrival_location/lat"] == "到店定位 · 纬度：不能大于 90"
    assert zh["/evidence/price_tags_complete/note"] == "明码标价规范 · 佐证：需要填写佐证说明"
    en = messages(form, raw, "en-GB")
    assert en["/answers/brands_in_stock"] == "Brands on sale: must be at most 300"
    assert en["/answers/out_of_stock_items/0/brand"] == (
        "Brands out of stock, entry 1, Brand: must be at most 50 characters long")
    assert en["/answers/advice_notes"] == "Advice given: is required"
    assert en["/answers/bogus"] == "bogus: is not an item of this form"
    assert en["/answers/policy_topics"] == "Topics covered: must not repeat a choice"


def test_the_error_is_the_platform_kind() -> None:
    form = compile_form(VISIT)
    with pytest.raises(InvalidInput) as info:
        form.validate(body(visit_answers(brands_in_stock=-1)), lang="en")
    assert info.value.code == "submission_invalid" and info.value.status == 422
    assert info.value.detail == "the submission has 1 problem"
    assert info.value.problems[0].source == "body"


def test_a_group_shown_only_on_yes() -> None:
    form = compile_form(VISIT)
    # "yes": the group is required, and each entry's required fields with it.
    assert problems(form, body(visit_answers(out_of_stock_items=None))) == {
        "/answers/out_of_stock_items": "required"}
    assert problems(form, body(visit_answers(out_of_stock_items=[]))) == {
        "/answers/out_of_stock_items": "min_items"}
    assert problems(form, body(visit_answers(out_of_stock_items=[{"brand": "a"}]))) == {
        "/answers/out_of_stock_items/0/reason": "required"}
    # "no": hidden, so neither required nor checked, and its answer is dropped.
    hidden = visit_answers(out_of_stock_found="no",
                           out_of_stock_items=[{"brand": "x" * 99, "reason": "nonsense"}, {}])
    valid = accepted(form, body(hidden))
    assert "out_of_stock_items" not in valid.answers
    assert "out_of_stock_items" not in valid.evaluation.answers
    accepted(form, body(visit_answers(out_of_stock_found="no", out_of_stock_items=None)))


def test_hidden_answers_and_their_evidence_are_dropped() -> None:
    form = compile_form(VISIT)
    raw = body(visit_answers(display_standard="standard", display_guidance=True,
                             policy_explained=False, policy_topics=["nonsense"]),
               {"display_guidance": {"photos": ["oss://p/x.jpg"]},
                "stock_checked": {"note": "kept"}})
    valid = accepted(form, raw)
    assert "display_guidance" not in valid.answers and "policy_topics" not in valid.answers
    assert valid.evidence == {"stock_checked": {"note": "kept"}}


def test_required_if_follows_a_calculated_value() -> None:
    form = compile_form(VISIT)
    low = visit_answers(monthly_revenue=10000, monthly_cost=9500)  # 5% margin
    assert problems(form, body(low)) == {"/answers/advice_notes": "required"}
    assert problems(form, body({**low, "advice_notes": ""})) == {
        "/answers/advice_notes": "required"}  # empty is unanswered
    accepted(form, body({**low, "advice_notes": "进货结构调整"}))
    accepted(form, body(visit_answers(monthly_revenue=10000, monthly_cost=8000)))  # 20%
    accepted(form, body(visit_answers(monthly_cost=None)))  # no margin, nothing required


def test_evidence_if() -> None:
    form = compile_form(VISIT)
    no = visit_answers(price_tags_complete="no")
    assert problems(form, body(no)) == {"/evidence/price_tags_complete/photos": "evidence_photos",
                                        "/evidence/price_tags_complete/note": "evidence_note"}
    assert problems(form, body(no, {"price_tags_complete": {"note": "  "}})) == {
        "/evidence/price_tags_complete/photos": "evidence_photos",
        "/evidence/price_tags_complete/note": "evidence_note"}
    accepted(form, body(no, {"price_tags_complete": {"photos": ["oss://a"], "note": "旧价签"}}))
    accepted(form, body(visit_answers()))  # "yes" asks for nothing


def test_messages_in_both_languages_for_an_inline_form() -> None:
    form = compile_form(EVERY_TYPE)
    raw = body({"agree": False, "count": 301, "topics": ["x", "y", "z"], "photos": [],
                "rows": [{"qty": 0}], "on": "2025-01-01", "mood": 9})
    assert messages(form, raw, "zh") == {
        "/answers/agree": "同意：必须勾选",
        "/answers/mood": "满意度：应为 1 到 5 的整数，或“不适用”",
        "/answers/count": "数量：不能大于 300",
        "/answers/topics": "主题：最多选择 2 项",
        "/answers/on": "日期：不能早于 2026-01-01",
        "/answers/photos": "照片：至少 1 张照片",
        "/answers/rows/0/name": "明细第 1 条 · 名称：必须填写",
        "/answers/rows/0/qty": "明细第 1 条 · 件数：不能小于 1",
    }
    assert messages(form, raw, "en") == {
        "/answers/agree": "Agree: must be ticked",
        "/answers/mood": "Satisfaction: must be a whole number from 1 to 5, or “not applicable”",
        "/answers/count": "Count: must be at most 300",
        "/answers/topics": "Topics: takes at most 2 choices",
        "/answers/on": "Date: must not be before 2026-01-01",
        "/answers/photos": "Photos: needs at least 1 photo",
        "/answers/rows/0/name": "Rows, entry 1, Name: is required",
        "/answers/rows/0/qty": "Rows, entry 1, Qty: must be at least 1",
    }


# -- forms whose rules the fast plan leaves to StandardRules ------------------------------------

ENTRY_RULES = standard(
    "entry_rules",
    item("rows", "group", "明细", "Rows", items=[
        item("kind", "single_choice", "种类", "Kind", required=True, choices=choices("box", "bag")),
        item("qty", "number", "件数", "Qty", required_if={"==": [{"var": "kind"}, "box"]}),
        item("seal", "photo", "封条", "Seal", visible_if={"==": [{"var": "kind"}, "bag"]},
             evidence_if={"==": [{"var": "kind"}, "bag"]}, evidence={"photo_min": 0, "note": True}),
    ]),
    item("boss", "text", "负责人", "Boss", required=True,
         visible_if={"==": [{"var": "ctx.user.role"}, "station_head"]}),
)


def test_rules_inside_group_entries() -> None:
    form = compile_form(ENTRY_RULES)
    assert not form.fast
    assert problems(form, body({"rows": [{"kind": "box"}, {"kind": "bag"}]})) == {
        # The evidence key "rows/1/seal" escaped in the pointer (RFC 6901).
        "/answers/rows/0/qty": "required", "/evidence/rows~11~1seal/note": "evidence_note"}
    valid = accepted(form, body({"rows": [{"kind": "box", "qty": 2},
                                          {"kind": "bag", "seal": ["a"]}]},
                                {"rows/1/seal": {"note": "ok"}}))
    assert valid.answers["rows"][1] == {"kind": "bag", "seal": ["a"]}
    # A hidden entry field is dropped and not checked.
    valid = accepted(form, body({"rows": [{"kind": "box", "qty": 1, "seal": [""]}]}))
    assert valid.answers["rows"] == [{"kind": "box", "qty": 1}]
    assert problems(form, body({}, {"rows/x/seal": {}})) == {"/evidence/rows~1x~1seal":
                                                              "unknown_field"}


def test_a_rule_reading_ctx() -> None:
    form = compile_form(ENTRY_RULES)
    head = {"user": {"role": "station_head"}}
    assert problems(form, body({}), ctx=head) == {"/answers/boss": "required"}
    accepted(form, body({}), {"user": {"role": "customer_manager"}})
    accepted(form, body({"boss": "王"}), head)


def test_ctx_decisions_are_not_remembered() -> None:
    form = compile_form(standard(
        "ctx_flat", item("boss", "text", "负责人", "Boss", required=True,
                         visible_if={"==": [{"var": "ctx.user.role"}, "station_head"]})))
    assert form.fast
    for _ in range(3):
        accepted(form, body({}), {"user": {"role": "customer_manager"}})
        assert problems(form, body({}), ctx={"user": {"role": "station_head"}}) == {
            "/answers/boss": "required"}


def test_visibility_chains_and_checks_read_as_false() -> None:
    form = compile_form(standard(
        "chain",
        item("a", "yes_no", "甲", "A"),
        item("b", "check", "乙", "B", visible_if={"==": [{"var": "a"}, "yes"]}),
        item("c", "text", "丙", "C", required=True, visible_if={"===": [{"var": "b"}, False]}),
        item("d", "text", "丁", "D", required_if={"missing": ["b"]}),
    ))
    assert form.fast
    # a=yes: b shown and unticked reads as false, so c is shown and required; b is present.
    assert problems(form, body({"a": "yes"})) == {"/answers/c": "required"}
    # a=no: b hidden (its answer dropped), so c is hidden and d (b missing) required.
    assert problems(form, body({"a": "no", "b": True})) == {"/answers/d": "required"}
    accepted(form, body({"a": "yes", "b": True}))


# -- the fast path against the reference ---------------------------------------------------------

MISTAKES: list[tuple[str, Any]] = [
    ("brands_in_stock", 301), ("brands_in_stock", "many"), ("display_standard", "wow"),
    ("retailer_signature", None), ("retailer_signature", "data:image/png;base64,AAAA"),
    ("retailer_signature", {"photo": ""}), ("retailer_signature", {"name": "x"}),
    ("out_of_stock_found", "no"), ("out_of_stock_found", "yes"),
    ("out_of_stock_items", None), ("out_of_stock_items", []), ("out_of_stock_items", [{}]),
    ("monthly_cost", 49000), ("monthly_revenue", None), ("advice_notes", None),
    ("advice_notes", ""), ("price_tags_complete", "no"), ("display_standard", "standard"),
    ("policy_explained", False), ("policy_topics", []), ("policy_topics", ["x"]),
    ("advice_given", False), ("advice_topics", None), ("next_visit_on", "2026-13-01"),
    ("arrival_location", {"lat": 1}), ("display_photo", ["a"] * 5), ("stock_checked", None),
    ("self_discipline_group", "maybe"), ("gross_margin", 99), ("extra", 1),
]


def test_fast_and_reference_paths_agree_on_random_bodies() -> None:
    form = compile_form(VISIT)
    rng = random.Random(7)
    outcomes = {"valid": 0, "invalid": 0}
    for _ in range(400):
        answers = visit_answers()
        for key, value in rng.sample(MISTAKES, rng.randint(0, 4)):
            if value is None:
                answers.pop(key, None)
            else:
                answers[key] = copy.deepcopy(value)
        evidence = rng.choice([None, {}, {"price_tags_complete": {"photos": ["a"], "note": "n"}}])
        raw = body(answers, evidence)
        for lang in ("zh", "en"):
            try:
                fast = form.validate(raw, lang=lang)
            except SubmissionInvalid as e:
                with pytest.raises(SubmissionInvalid) as ref:
                    form.validate_reference(raw, lang=lang)
                assert [str(p) for p in e.problems] == [str(p) for p in ref.value.problems]
                outcomes["invalid"] += 1
            else:
                reference = form.validate_reference(raw, lang=lang)
                assert fast.answers == reference.answers
                assert fast.evidence == reference.evidence
                outcomes["valid"] += 1
    assert min(outcomes.values()) > 100


def test_compiled_once_per_content() -> None:
    a = compile_form(VISIT)
    assert compile_form(copy.deepcopy(VISIT)) is a
    assert compile_form(VISIT, a.content_hash) is a
    changed = copy.deepcopy(VISIT)
    changed["pass_percentage"] = 70
    assert compile_form(changed) is not a


def test_evidence_keys_that_are_no_entry() -> None:
    form = compile_form(ENTRY_RULES)
    for key in ("rows/1", "a/b/c/d", "rows/1/kind", "/"):
        ptr = "/evidence/" + key.replace("/", "~1")
        assert problems(form, body({}, {key: {}})) == {ptr: "unknown_field"}


def test_problems_come_in_the_order_of_the_form() -> None:
    form = compile_form(VISIT)
    rows = [{"brand": "a", "reason": "other"}] * 12
    rows = [*rows[:2], {"brand": "a"}, *rows[3:11], {"reason": "x"}]
    raw = body(visit_answers(out_of_stock_items=rows, brands_in_stock=-1,
                             retailer_signature=None, zzz=1))
    with pytest.raises(SubmissionInvalid) as info:
        form.validate(raw, lang="en")
    assert [p.pointer for p in info.value.problems] == [
        "/answers/zzz",  # not an item: first
        "/answers/brands_in_stock",
        "/answers/out_of_stock_items/2/reason",
        "/answers/out_of_stock_items/11/brand",  # entry 11 after entry 2
        "/answers/out_of_stock_items/11/reason",
        "/answers/retailer_signature",
    ]
