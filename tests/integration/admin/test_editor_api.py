"""The structured editor's server side over real HTTP (SQLite and PostgreSQL): the dry run
of sample answers over a working copy (score, failed items, alerts, the issues and who they
would go to), the rule operations, test cases saved with the definition and run again
before publishing (a case that no longer gives its result refuses the publish, naming it),
the editor pages and the preview; a field user gets none of it."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from support.fieldwork import Live, live_city

STANDARD: dict[str, Any] = {
    "kind": "standard", "id": "shelf_test", "site_kinds": ["retailer"],
    "title": {"zh": "陈列检查", "en": "Shelf check"},
    "sections": [{"id": "shelf", "title": {"zh": "货架", "en": "Shelf"}, "items": [
        {"id": "facings", "type": "number", "weight": 2,
         "title": {"zh": "陈列数量", "en": "Facing count"},
         "fail_if": {"<": [{"var": "facings"}, 3]},
         "score": {"if": [{"<": [{"var": "facings"}, 3]}, 0, 1]},
         "problem": {"zh": "陈列不足", "en": "Too few facings"},
         "assign_to": {"role": "customer_manager", "of": "site"}},
        {"id": "clean", "type": "yes_no", "weight": 1,
         "title": {"zh": "货架整洁", "en": "Shelf tidy"}}]}],
    "alerts": [{"code": "empty_shelf", "severity": "high",
                "when": {"==": [{"var": "facings"}, 0]},
                "message": {"zh": "货架上没有陈列", "en": "Nothing on the shelf"}}],
    "issues": {"due_days": 3, "verify_by": {"role": "station_head", "of": "org_unit"}},
}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Live]:
    with live_city(tmp_path_factory.mktemp("admin-editor"), request.param) as city:
        yield city


def test_a_dry_run_scores_sample_answers_without_storing(live: Live) -> None:
    with live.client("admin") as c:
        r = c.post("/api/editor/dry-run?lang=zh", json={
            "content": STANDARD, "answers": {"facings": 0, "clean": "yes"}})
        assert r.status_code == 200, r.text
        got = r.json()
        assert got["score"]["points"] == 1 and got["score"]["max"] == 3
        assert [f["item"] for f in got["failed"]] == ["facings"]
        assert [a["message"]["zh"] for a in got["alerts"]] == ["货架上没有陈列"]
        [issue] = got["issues"]
        assert issue["title"] == "陈列不足" and issue["due"] == {"days": 3}
        assert issue["assign_to"] == {"role": "customer_manager", "of": "site"}
        assert "customer_manager" in issue["assign_text"]
        assert issue["verify_by"] == {"role": "station_head", "of": "org_unit"}
        assert got["explanation"] and got["shown"]["total"]["line"]
        assert "assignee" not in issue  # no sample site: the rule's words only
        # at a sample site, the persons the rules find there, by name
        at_a = c.post("/api/editor/dry-run?lang=zh", json={
            "content": STANDARD, "answers": {"facings": 0, "clean": "yes"},
            "site_code": "shop_a"})
        assert at_a.status_code == 200, at_a.text
        [issue] = at_a.json()["issues"]
        assert issue["assignee"]["name"] == "zhang" and issue["assigner"]["name"] == "zhao"
        unknown = c.post("/api/editor/dry-run", json={
            "content": STANDARD, "answers": {"facings": 0}, "site_code": "nope"})
        assert unknown.status_code == 422
        assert unknown.json()["errors"][0]["pointer"] == "/site_code"
        # nothing was stored: the definition does not exist, no issue was made
        assert c.get("/api/definitions/shelf_test").status_code == 404

        bad = c.post("/api/editor/dry-run", json={"content": STANDARD,
                                                 "answers": {"facings": "many"}})
        assert bad.status_code == 422
        assert any(e["pointer"] == "/answers/facings" for e in bad.json()["errors"])
        broken = copy.deepcopy(STANDARD)
        del broken["sections"][0]["items"][0]["title"]["en"]
        wrong = c.post("/api/editor/dry-run", json={"content": broken, "answers": {}})
        assert wrong.status_code == 422
        assert any(e["pointer"].startswith("/content/sections/0/items/0/title")
                   for e in wrong.json()["errors"])


def test_the_check_says_each_problem_in_the_page_language(live: Live) -> None:
    """The editor's live check: the validator's problems, each also in the reader's words
    (its own message is English, which a Chinese page must not show)."""
    broken = copy.deepcopy(STANDARD)
    del broken["sections"][0]["items"][0]["title"]["en"]
    with live.client("admin") as c:
        zh = c.post("/api/editor/check?lang=zh", json=broken).json()
        en = c.post("/api/editor/check?lang=en", json=broken).json()
        fine = c.post("/api/editor/check?lang=zh", json=STANDARD).json()
    assert zh["valid"] is False
    [problem] = [e for e in zh["errors"] if e["pointer"] == "/sections/0/items/0/title"]
    assert problem["message"] == "'en' is required here"
    assert problem["text"] == "这里缺少必填项 en。"
    assert [e["text"] for e in en["errors"]] == ["en is required here."]
    assert fine == {"valid": True, "errors": []}


def test_the_rule_operations_are_listed_with_words(live: Live) -> None:
    with live.client("admin") as c:
        ops = {o["name"]: o for o in c.get("/api/rules/operations").json()}
    assert ops["<"]["label"] == {"zh": "小于", "en": "is less than"}
    assert ops["distance_m"]["min_args"] == 2 and ops["distance_m"]["source"] == "domain"
    assert ops["count"]["max_args"] is None


def test_test_cases_run_again_before_each_publish(live: Live) -> None:
    with live.client("admin") as c:
        assert c.put("/api/definitions/shelf_test/draft", json=STANDARD).status_code == 200
        case = {"name": "两个陈列", "body": {"answers": {"facings": 2, "clean": "yes"}},
                "expected": {"score": None, "failed": ["facings"]}}
        dry = c.post("/api/editor/dry-run", json={"content": STANDARD, **case["body"]}).json()
        case["expected"]["score"] = dry["score"]["value"]
        saved = c.put("/api/editor/shelf_test/test-cases", json=[case])
        assert saved.status_code == 200, saved.text
        assert [x["name"] for x in saved.json()] == ["两个陈列"]
        dup = c.put("/api/editor/shelf_test/test-cases", json=[case, case])
        assert dup.status_code == 422 and dup.json()["errors"][0]["pointer"] == "/1/name"

        ran = c.post("/api/editor/shelf_test/test-cases/run", json={}).json()
        assert [r["passed"] for r in ran] == [True]
        published = c.post("/api/editor/shelf_test/versions/1/publish")
        assert published.status_code == 200, published.text
        assert published.json()["test_cases"][0]["passed"] is True
        assert c.get("/api/definitions/shelf_test").json()["number"] == 1

        # a new draft under which 2 facings pass: the test case fails, the publish is refused
        changed = copy.deepcopy(STANDARD)
        changed["sections"][0]["items"][0]["fail_if"] = {"<": [{"var": "facings"}, 2]}
        draft = c.put("/api/definitions/shelf_test/draft", json=changed).json()
        assert draft["number"] == 2
        ran = c.post("/api/editor/shelf_test/test-cases/run", json={"content": changed}).json()
        assert ran[0]["passed"] is False and ran[0]["got"]["failed"] == []
        refused = c.post("/api/editor/shelf_test/versions/2/publish")
        assert refused.status_code == 409
        body = refused.json()
        assert body["code"] == "publish_refused" and "两个陈列" in body["detail"]
        assert c.get("/api/definitions/shelf_test").json()["number"] == 1
        # the definition page's publish runs the cases too, and says which one fails
        page = c.post("/admin/definitions/shelf_test/versions/2/publish?lang=zh", content=b"",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert page.status_code == 422, page.text
        assert "两个陈列" in page.text and "这个测试用例的结果与预期不同" in page.text
        assert c.get("/api/definitions/shelf_test").json()["number"] == 1
        # the case brought up to date: the publish goes through
        case["expected"]["failed"] = []
        case["expected"]["score"] = c.post("/api/editor/dry-run", json={
            "content": changed, **case["body"]}).json()["score"]["value"]
        assert c.put("/api/editor/shelf_test/test-cases", json=[case]).status_code == 200
        assert c.post("/api/editor/shelf_test/versions/2/publish").status_code == 200
        audit = c.get("/admin/audit?target_kind=definition&target_id=shelf_test&lang=en")
        assert audit.status_code == 200 and audit.text.count("Published") >= 2, audit.text


def test_the_editor_pages_and_the_preview(live: Live) -> None:
    with live.client("admin") as c:
        new = c.get("/admin/definitions/new?kind=standard&lang=zh")
        assert new.status_code == 200, new.text
        assert 'id="editor-config"' in new.text and 'type="importmap"' in new.text
        assert "'sha256-" in new.headers["content-security-policy"]
        assert "新建标准" in new.text
        for kind in ("survey", "site_kind", "role", "okr"):
            assert c.get(f"/admin/definitions/new?kind={kind}&lang=en").status_code == 200
        assert c.get("/admin/definitions/new?kind=nonsense").status_code == 422
        c.put("/api/definitions/shelf_test/draft", json=STANDARD)
        edit = c.get("/admin/definitions/shelf_test/edit?lang=en")
        assert edit.status_code == 200 and "Edit shelf_test" in edit.text
        assert c.get("/admin/definitions/nope/edit").status_code == 404
        for path in ("/static/vendor/sortablejs/modular/sortable.esm.js",
                     "/static/vendor/codemirror__view/dist/index.js",
                     "/static/vendor/marijn__find-cluster-break/src/index.js",
                     "/static/admin/editor/editor.js",
                     "/static/admin/editor/complete.js"):
            assert c.get(path).status_code == 200, path
        # every module of the import map is served (an unserved one breaks the whole editor)
        imports = json.loads(re.search(r'<script type="importmap"[^>]*>(.*?)</script>',
                                       new.text, re.S)[1])["imports"]
        assert "@codemirror/autocomplete" in imports
        for name, url in imports.items():
            served = c.get(url)
            assert served.status_code == 200 and "javascript" in served.headers[
                "content-type"], (name, url)
        preview = c.post("/admin/definitions/preview", json={"content": STANDARD, "lang": "en"})
        assert preview.status_code == 200 and "Facing count" in preview.text
        assert "/api/editor/dry-run?lang=en" in preview.text


def test_a_field_user_gets_nothing(live: Live) -> None:
    with live.client("zhang") as c:
        assert c.get("/admin/definitions/new?kind=standard").status_code == 403
        assert c.get("/admin/definitions/shelf_test/edit").status_code == 403
        assert c.post("/api/editor/dry-run", json={"content": STANDARD}).status_code == 403
        assert c.post("/api/editor/check", json=STANDARD).status_code == 403
        assert c.get("/api/editor/shelf_test/test-cases").status_code == 403
        assert c.put("/api/editor/shelf_test/test-cases", json=[]).status_code == 403
        assert c.post("/api/editor/shelf_test/versions/1/publish").status_code == 403
        assert c.post("/admin/definitions/preview",
                      json={"content": STANDARD}).status_code == 403
