"""Definition validation: the real definitions pass, and every error class is reported,
all at once, each with its file and JSON pointer."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rounds.definitions.loader import DefinitionDocument, content_hash, load_documents
from rounds.definitions.validation import validate
from rounds.errors import Problem

REPO = Path(__file__).resolve().parents[3]
DEFINITIONS = REPO / "definitions"


def load_real() -> list[DefinitionDocument]:
    docs, problems = load_documents([DEFINITIONS])
    assert problems == []
    return docs


def real(def_id: str) -> dict[str, Any]:
    for doc in load_real():
        if doc.id == def_id:
            return copy.deepcopy(doc.content)
    raise KeyError(def_id)


def check(*contents: dict[str, Any], with_real: bool = True) -> list[Problem]:
    """Validate documents together with the real folder (so references resolve)."""
    own = [DefinitionDocument(f"test/{c.get('id')}.json", c) for c in contents]
    ids = {c.get("id") for c in contents}
    others = [d for d in load_real() if d.id not in ids] if with_real else []
    return [p for p in validate([*others, *own]) if p.source and p.source.startswith("test/")]


def codes(problems: list[Problem]) -> list[tuple[str, str]]:
    return [(p.code, p.pointer) for p in problems]


def small_standard(**extra: Any) -> dict[str, Any]:
    std: dict[str, Any] = {
        "kind": "standard", "id": "tiny", "title": {"zh": "小标准", "en": "Tiny"},
        "site_kinds": ["retailer"],
        "sections": [{"id": "main", "title": {"zh": "主要", "en": "Main"}, "items": [
            {"id": "licence_shown", "type": "yes_no", "title": {"zh": "亮证", "en": "Licence"}},
            {"id": "note", "type": "text", "title": {"zh": "备注", "en": "Note"}},
        ]}],
    }
    std.update(extra)
    return std


def test_the_real_definitions_are_valid() -> None:
    docs = load_real()
    assert validate(docs) == []
    kinds = {d.kind for d in docs}
    assert kinds == {"site_kind", "role", "standard", "survey", "okr"}


def test_cli_validate_passes_on_the_repository() -> None:
    out = subprocess.run([sys.executable, "-m", "rounds.cli", "definitions", "validate",
                          str(DEFINITIONS)], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("ok: ")


def test_cli_validate_lists_every_error_and_fails(tmp_path: Path) -> None:
    bad = small_standard()
    bad["sections"][0]["items"][0]["visible_if"] = {"frobnicate": [1]}
    bad["sections"][0]["items"][1]["titel"] = "typo"
    (tmp_path / "tiny.json").write_text(json.dumps(bad), encoding="utf-8")
    (tmp_path / "broken.json").write_text('{"kind": "role",\n "id": }', encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "rounds.cli", "definitions", "validate",
                          str(tmp_path)], capture_output=True, text=True, check=False)
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert any("broken.json:/: not valid JSON" in line and "line 2" in line for line in lines)
    assert any("tiny.json:/sections/0/items/1: unknown field ('titel')" in line for line in lines)
    # a schema error does not hide the semantic ones: all come in the same run
    assert any("tiny.json:/sections/0/items/0/visible_if: unknown operation" in line
               for line in lines)
    assert "4 problems in 2 files" in out.stderr  # and retailer is not in this folder


def test_schema_errors_name_the_field() -> None:
    std = small_standard()
    items = std["sections"][0]["items"]
    items[0]["title"] = {"zh": "亮证"}  # English missing
    items[1]["min_count"] = 2  # an option of photo items, not of text items
    std["pass_percentage"] = 180
    found = codes(check(std))
    assert ("schema", "/sections/0/items/0/title") in found
    assert ("schema", "/sections/0/items/1/min_count") in found
    assert ("schema", "/pass_percentage") in found
    messages = {p.pointer: p.message for p in check(std)}
    assert "'en' is required" in messages["/sections/0/items/0/title"]
    assert "'min_count' is not an option of items of type 'text'" in messages[
        "/sections/0/items/1/min_count"]


def test_every_semantic_error_class_at_once() -> None:
    std = small_standard()
    items = std["sections"][0]["items"]
    items.extend([
        # duplicate item id
        {"id": "note", "type": "text", "title": {"zh": "重复", "en": "Duplicate"}},
        # weight on an item that cannot score
        {"id": "remarks", "type": "text", "weight": 2, "title": {"zh": "说明", "en": "Remarks"}},
        # a rule with an unknown operation, deep inside
        {"id": "stock", "type": "number", "title": {"zh": "库存", "en": "Stock"},
         "visible_if": {"and": [true_rule(), {"frobnicate": [1]}]}},
        # a rule that reads a field that does not exist
        {"id": "price_ok", "type": "check", "title": {"zh": "价格", "en": "Prices"},
         "required_if": {"==": [{"var": "licence_shwon"}, "yes"]}},
        # calculated values in a cycle
        {"id": "calc_a", "type": "number", "title": {"zh": "甲", "en": "A"},
         "calculate": {"+": [{"var": "calc_b"}, 1]}},
        {"id": "calc_b", "type": "number", "title": {"zh": "乙", "en": "B"},
         "calculate": {"*": [{"var": "calc_a"}, 2]}},
        # duplicate choice values
        {"id": "grade", "type": "single_choice", "title": {"zh": "等级", "en": "Grade"},
         "choices": [{"value": "a", "label": {"zh": "甲", "en": "A"}},
                     {"value": "a", "label": {"zh": "乙", "en": "B"}}]},
    ])
    std["site_kinds"] = ["retailer", "space_station"]
    std["alerts"] = [{"code": "x", "severity": "high", "when": {"<": [{"var": "score.total"}, 1]},
                      "message": {"zh": "{score.total}", "en": "{nothing.here}"},
                      "items": ["no_such_item"]}]
    found = codes(check(std))
    expected = [
        ("duplicate_id", "/sections/0/items/2/id"),
        ("weight_not_scorable", "/sections/0/items/3/weight"),
        ("unknown_operation", "/sections/0/items/4/visible_if/and/1"),
        ("unknown_field", "/sections/0/items/5/required_if/==/0"),
        ("calculation_cycle", "/sections/0/items/6/calculate"),
        ("bad_choice", "/sections/0/items/8/choices/1/value"),
        ("unknown_reference", "/site_kinds/1"),
        ("unknown_reference", "/alerts/0/items/0"),
        ("unknown_field", "/alerts/0/message/en"),
    ]
    for e in expected:
        assert e in found, f"{e} not reported; got {found}"


def test_what_the_engine_refuses_is_reported_too() -> None:
    # visible_if in a cycle: only compile_standard sees it; validation says it as well, so a
    # definition that validates always compiles
    std = small_standard()
    items = std["sections"][0]["items"]
    items[0]["visible_if"] = {"==": [{"var": "note"}, "x"]}
    items[1]["visible_if"] = {"==": [{"var": "licence_shown"}, "yes"]}
    found = check(std)
    assert codes(found) == [("visibility_cycle", "/sections/0/items/0/visible_if")]
    assert "licence_shown → note → licence_shown" in found[0].message


def true_rule() -> dict[str, Any]:
    return {"==": [1, 1]}


def test_role_naming_a_missing_standard() -> None:
    role = real("customer_manager")
    role["standards"] = [*role["standards"], "no_such_standard"]
    role["visit_targets"] = [{"site_kind": "moon_base", "per": "month", "visits": 1}]
    found = codes(check(role))
    n = len(role["standards"]) - 1
    assert ("unknown_reference", f"/standards/{n}") in found
    assert ("unknown_reference", "/visit_targets/0/site_kind") in found


def test_duplicate_definition_ids_across_files() -> None:
    a = small_standard()
    b = small_standard()
    docs = [DefinitionDocument("test/a.json", a), DefinitionDocument("test/b.json", b)]
    problems = validate([*load_real(), *docs])
    dup = [p for p in problems if p.code == "duplicate_id" and p.pointer == "/id"]
    assert len(dup) == 1
    assert dup[0].source == "test/b.json"
    assert "test/a.json" in dup[0].message


def test_group_rules_may_read_their_entry_fields() -> None:
    std = small_standard()
    std["sections"][0]["items"].append({
        "id": "products", "type": "group", "title": {"zh": "产品", "en": "Products"},
        "items": [
            {"id": "qty", "type": "number", "title": {"zh": "数量", "en": "Qty"}},
            {"id": "reason", "type": "text", "title": {"zh": "原因", "en": "Reason"},
             "visible_if": {"<": [{"var": "qty"}, 1]}},
        ]})
    std["alerts"] = [{"code": "empty_shelf", "severity": "medium",
                      "when": {"some": [{"var": "products"}, {"<": [{"var": "qty"}, 1]}]},
                      "message": {"zh": "有断货", "en": "Out of stock"}}]
    assert check(std) == []
    std["alerts"][0]["when"] = {"some": [{"var": "products"}, {"<": [{"var": "qtty"}, 1]}]}
    assert codes(check(std)) == [("unknown_field", "/alerts/0/when/some/1/</0")]


def test_content_hash_ignores_key_order_and_white_space() -> None:
    a = {"kind": "role", "id": "x", "title": {"zh": "甲", "en": "A"}}
    b = json.loads(json.dumps({"title": {"en": "A", "zh": "甲"}, "id": "x", "kind": "role"},
                              indent=4))
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash({**a, "id": "y"})
    assert len(content_hash(a)) == 64


@pytest.mark.parametrize("kind", ["site_kind", "role", "standard", "survey", "okr"])
def test_meta_schemas_are_valid_json_schema(kind: str) -> None:
    from jsonschema import Draft202012Validator

    from rounds.definitions.schemas import meta_schema

    Draft202012Validator.check_schema(meta_schema(kind))
