"""Issue routing in validation: a rule naming a role that may not act is reported, with the
file and the JSON pointer of the rule, every one at once; the roles are other definitions."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from rounds.definitions.loader import DefinitionDocument, load_documents
from rounds.definitions.validation import validate
from rounds.errors import Problem

REPO = Path(__file__).resolve().parents[3]
DEFINITIONS = REPO / "definitions"


def real() -> list[DefinitionDocument]:
    docs, problems = load_documents([DEFINITIONS])
    assert problems == []
    return docs


def real_content(def_id: str) -> dict[str, Any]:
    return copy.deepcopy(next(d.content for d in real() if d.id == def_id))


def check(*contents: dict[str, Any]) -> list[Problem]:
    """Validate documents with the real folder (whose roles they name) in place of theirs."""
    own = [DefinitionDocument(f"test/{c['id']}.json", c) for c in contents]
    ids = {c["id"] for c in contents}
    return validate([*(d for d in real() if d.id not in ids), *own])


def found(problems: list[Problem]) -> set[tuple[str | None, str, str]]:
    return {(p.source, p.pointer, p.code) for p in problems}


def standard(issues: dict[str, Any], **item_extra: Any) -> dict[str, Any]:
    return {
        "kind": "standard", "id": "shop_hygiene", "title": {"zh": "店面卫生", "en": "Hygiene"},
        "site_kinds": ["retailer"],
        "sections": [{"id": "main", "title": {"zh": "检查", "en": "Checks"}, "items": [
            {"id": "floor_clean", "type": "yes_no", "title": {"zh": "地面整洁", "en": "Floor"},
             **item_extra},
            {"id": "sign_shown", "type": "yes_no", "title": {"zh": "禁烟标识", "en": "Sign"}}]}],
        "issues": issues}


def station_head_without_rectify() -> dict[str, Any]:
    role = real_content("station_head")
    role["capabilities"] = [c for c in role["capabilities"] if c != "issue.rectify"]
    return role


def test_assigning_to_a_role_that_may_not_rectify_is_reported() -> None:
    # The station head as shipped before: issue.assign and issue.verify, no issue.rectify.
    std = standard({"assign_to": {"role": "station_head", "of": "org_unit"}})
    problems = check(std, station_head_without_rectify())
    assert found(problems) == {("test/shop_hygiene.json", "/issues/assign_to/role",
                                "cannot_rectify")}
    assert "issue.rectify" in problems[0].message and "station_head" in problems[0].message
    # With the shipped role (which may rectify) the same standard routes.
    assert check(std) == []


def test_every_routing_error_at_once_with_its_pointer() -> None:
    std = standard(
        {"assign_to": {"role": "city_leader", "of": "org_unit"},  # leaders do not rectify
         "verify_by": {"role": "customer_manager", "of": "site"}},  # nor accept fixes
        assign_to={"role": "nobody_role", "of": "site"},
        verify_by={"of": "submitter"})  # the customer manager fills it, may not accept
    std["sections"][0]["items"][1]["verify_by"] = {"role": "retailer", "of": "site"}
    filler = real_content("customer_manager")
    filler["standards"] = [*filler["standards"], "shop_hygiene"]
    problems = check(std, filler)
    assert found(problems) == {
        ("test/shop_hygiene.json", "/issues/assign_to/role", "cannot_rectify"),
        ("test/shop_hygiene.json", "/issues/verify_by/role", "cannot_verify"),
        ("test/shop_hygiene.json", "/sections/0/items/0/assign_to/role", "unknown_reference"),
        ("test/shop_hygiene.json", "/sections/0/items/0/verify_by", "cannot_verify"),
        # "retailer" is a site kind, not a role
        ("test/shop_hygiene.json", "/sections/0/items/1/verify_by/role", "unknown_reference"),
    }
    by_pointer = {p.pointer: p.message for p in problems}
    assert "'customer_manager' fills this standard" in by_pointer[
        "/sections/0/items/0/verify_by"]
    assert "it is a site_kind" in by_pointer["/sections/0/items/1/verify_by/role"]


def test_item_routing_the_standard_would_not_use_is_reported() -> None:
    std = standard({"per": "submission"}, assign_to={"role": "customer_manager", "of": "site"},
                   due={"days": 2})
    assert found(check(std)) == {
        ("test/shop_hygiene.json", "/sections/0/items/0/assign_to", "routing_ignored")}
    # The item's due counts (the issue is due when its most urgent item is); per item all do.
    std["issues"]["per"] = "item"
    assert check(std) == []


def test_item_due_takes_days_or_hours() -> None:
    for due in ({"days": 0}, {"days": 2, "hours": 3}, {"weeks": 1}, {}):
        std = standard({}, due=due)
        problems = check(std)
        assert problems and all(p.pointer.startswith("/sections/0/items/0/due")
                                and p.code == "schema" for p in problems), due
    assert check(standard({}, due={"hours": 4})) == []


def test_cli_names_file_and_pointer(tmp_path: Path) -> None:
    folder = tmp_path / "definitions"
    shutil.copytree(DEFINITIONS, folder)
    (folder / "roles" / "station_head.json").write_text(
        json.dumps(station_head_without_rectify(), ensure_ascii=False), encoding="utf-8")
    std = standard({"assign_to": {"role": "station_head", "of": "org_unit"}})
    (folder / "standards" / "shop_hygiene.json").write_text(json.dumps(std), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "rounds.cli", "definitions", "validate",
                          str(folder)], capture_output=True, text=True, check=False)
    assert out.returncode == 1
    assert out.stdout.splitlines() == [
        f"{folder / 'standards' / 'shop_hygiene.json'}:/issues/assign_to/role: role "
        "'station_head' may not rectify issues (its capabilities lack issue.rectify): its "
        "issues would have nobody by this rule; add issue.rectify to the role or name "
        "another role [cannot_rectify]"]


def test_the_consumer_roles_complaint_topics_are_checked_like_standards_rules() -> None:
    """Unknown roles, roles that may not act, a rule naming the submitter (a complaint has
    none), a topic id twice, a wrong shape: each at its pointer, all at once."""
    consumer = real_content("consumer")
    topics = consumer["complaints"]["topics"]
    assert check(consumer) == []
    topics[0]["assign_to"] = {"role": "no_such_role", "of": "org_unit"}
    topics[1]["verify_by"] = {"role": "customer_manager", "of": "org_unit"}  # cannot verify
    topics[2]["assign_to"] = {"of": "submitter"}
    topics[3]["id"] = topics[0]["id"]
    topics.append({"id": "odd", "title": {"zh": "其他", "en": "Other"}, "severity": "urgent",
                   "assign_to": {"role": "customer_manager", "of": "site"}})
    got = found(check(consumer))
    src = "test/consumer.json"
    assert {(src, "/complaints/topics/0/assign_to/role", "unknown_reference"),
            (src, "/complaints/topics/1/verify_by/role", "cannot_verify"),
            (src, "/complaints/topics/2/assign_to/of", "no_submitter"),
            (src, "/complaints/topics/3/id", "duplicate_id")} <= got
    # the schema: a severity out of the list, verify_by missing
    assert {p for s, p, _ in got if s == src and p.startswith("/complaints/topics/4")}
