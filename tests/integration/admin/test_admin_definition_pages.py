"""The definitions section of the admin app over real HTTP (SQLite and PostgreSQL): the list
of every kind with search and status, a definition's versions; publishing a draft with
planted errors is refused with every problem at its JSON pointer, nothing changed; a fixed
file imported and published; a rollback needs its reason and makes the earlier version
current again; an export imported again changes nothing (same hash, no new version, no
audit entry); the diff page names what changed; each step is in the audit trail with its
actor. A customer manager gets 403 from every admin route and anonymous readers go to sign
in; with a session cookie every action needs the CSRF token."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.fieldwork import PASSWORD, Live, count_rows, live_city

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
DEFINITIONS = Path(__file__).resolve().parents[3] / "definitions"
STANDARD = "customer_manager_visit"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Live]:
    with live_city(tmp_path_factory.mktemp("admin-definitions"), request.param) as city:
        yield city


def shipped() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (DEFINITIONS / "standards" / f"{STANDARD}.json").read_text())
    return loaded


def planted() -> dict[str, Any]:
    """The standard with two mistakes only the other definitions reveal: a site kind and
    an issue rule's role that do not exist (a draft may be saved so; not published)."""
    content = shipped()
    content["title"]["zh"] = "客户经理拜访（新版）"
    content["site_kinds"] = [*content["site_kinds"], "no_such_kind"]
    content["issues"]["assign_to"] = {"role": "no_such_role", "of": "site"}
    return content


def upload(c: httpx.Client, path: str, content: Any, name: str = "file.json"
           ) -> httpx.Response:
    data = content if isinstance(content, bytes) else json.dumps(
        content, ensure_ascii=False).encode()
    return c.post(path, files={"file": (name, data, "application/json")})


def current_of(html: str) -> str:
    found = re.search(r'data-current-version="(\d*)"', html)
    assert found, html
    return found.group(1)


def test_the_list_every_kind_searched_and_by_status(live: Live) -> None:
    with live.client("admin") as c:
        page = c.get("/admin/definitions?lang=zh").text
        for kind_id in ("retailer", "administrator", STANDARD, "retailer_satisfaction",
                        "market_patrol"):
            assert f'data-definition="{kind_id}"' in page
        assert "aria-current=\"page\"" in page and 'data-section="definitions"' in page
        roles = c.get("/admin/definitions?lang=zh&kind=role").text
        assert 'data-definition="administrator"' in roles and STANDARD not in roles
        found = c.get("/admin/definitions", params={"lang": "zh", "q": "满意度"}).text
        assert 'data-definition="retailer_satisfaction"' in found
        assert 'data-definition="administrator"' not in found
        assert "data-no-definitions" in c.get("/admin/definitions?status=draft").text
        en = c.get("/admin/definitions?lang=en&kind=standard").text
        assert "Standard" in en and "业务标准" not in en


def test_publish_refused_then_fixed_by_import_rolled_back_and_audited(live: Live) -> None:
    with live.client("admin") as c:
        before = current_of(c.get(f"/admin/definitions/{STANDARD}?lang=zh").text)
        r = upload(c, f"/admin/definitions/{STANDARD}/import?lang=zh", planted())
        assert r.status_code == 303, r.text
        page = c.get(r.headers["location"]).text
        draft = int(re.findall(r'data-version="(\d+)" data-status="draft"', page)[0])
        assert f'data-publish="{draft}"' in page and 'data-edit' in page
        listed = c.get("/admin/definitions?lang=zh&status=draft").text
        assert f'data-definition="{STANDARD}"' in listed
        # Published: refused, every problem at its pointer, nothing changed.
        r = c.post(f"/admin/definitions/{STANDARD}/versions/{draft}/publish?lang=zh",
                   headers=FORM, content="")
        assert r.status_code == 422, r.text
        pointers = set(re.findall(r'data-problem data-pointer="([^"]+)"', r.text))
        assert pointers == {"/site_kinds/1", "/issues/assign_to/role"}
        assert "引用的定义不存在或类型不对" in r.text and "no_such_role" in r.text
        assert "should name" not in r.text  # the validator's English: English pages only
        assert current_of(r.text) == before
        en = c.post(f"/admin/definitions/{STANDARD}/versions/{draft}/publish?lang=en",
                    headers=FORM, content="")
        assert en.status_code == 422 and "should name a role" in en.text
        # Fixed by importing a corrected file: the same draft, then published.
        fixed = planted()
        fixed["site_kinds"] = shipped()["site_kinds"]
        fixed["issues"] = shipped()["issues"]
        assert upload(c, f"/admin/definitions/{STANDARD}/import?lang=zh",
                      fixed).status_code == 303
        r = c.post(f"/admin/definitions/{STANDARD}/versions/{draft}/publish?lang=zh",
                   headers=FORM, content="")
        assert r.status_code == 303, r.text
        page = c.get(f"/admin/definitions/{STANDARD}?lang=zh").text
        assert current_of(page) == str(draft)
        assert "客户经理拜访（新版）" in page
        # The diff between the earlier and the new version names the title.
        diff = c.get(f"/admin/definitions/{STANDARD}/diff",
                     params={"from": before, "to": draft, "lang": "zh"}).text
        assert 'data-change-count="1"' in diff and "title/zh" in diff
        assert "客户经理拜访（新版）" in diff
        # A rollback needs its reason; then the earlier version is current again.
        r = c.post(f"/admin/definitions/{STANDARD}/versions/{before}/rollback?lang=zh",
                   headers=FORM, content="reason=")
        assert r.status_code == 422 and "请填写回滚原因" in r.text
        r = c.post(f"/admin/definitions/{STANDARD}/versions/{before}/rollback?lang=zh",
                   headers=FORM, content=str(httpx.QueryParams({"reason": "新版标题有误"})))
        assert r.status_code == 303, r.text
        page = c.get(f"/admin/definitions/{STANDARD}?lang=zh").text
        assert current_of(page) == before
        assert f'data-version="{before}" data-status="published" data-current' in page
        api = c.get(f"/api/definitions/{STANDARD}").json()
        assert api["number"] == int(before)
        # The audit trail: each step, newest first, with who and the reason.
        trail = c.get("/admin/audit", params={"lang": "zh", "target_kind": "definition",
                                              "target_id": STANDARD}).text
        actions = re.findall(r'data-action="([a-z_.]+)"', trail)
        assert actions[:4] == ["definition.rollback", "definition.publish",
                               "definition.import", "definition.import"]
        assert "新版标题有误" in trail
        assert set(re.findall(r"<span data-who>([^<]*)<", trail)[:4]) == {"admin"}
        by_person = c.get("/admin/audit", params={"lang": "zh", "person": "admin",
                                                  "action": "definition."}).text
        assert re.findall(r'data-action="([a-z_.]+)"', by_person)[:4] == actions[:4]
        nobody = c.get("/admin/audit", params={"lang": "zh", "person": "nobody-here"})
        assert 'data-error-for="person"' in nobody.text


def test_an_export_imported_again_changes_nothing(live: Live) -> None:
    with live.client("admin") as c:
        r = c.get("/admin/definitions/retailer_satisfaction/export")
        assert r.status_code == 200
        assert 'filename="retailer_satisfaction.json"' in r.headers["content-disposition"]
        exported = r.content
        on_disk = json.loads((DEFINITIONS / "surveys" / "retailer_satisfaction.json")
                             .read_text())
        assert json.loads(exported) == on_disk  # the file `rounds definitions sync` reads
        versions = count_rows(live.database_url(), "definition_versions")
        entries = count_rows(live.database_url(), "audit_entries")
        hash_before = c.get("/api/definitions/retailer_satisfaction").json()["content_hash"]
        r = upload(c, "/admin/definitions/retailer_satisfaction/import?lang=zh", exported,
                   "retailer_satisfaction.json")
        assert r.status_code == 303
        assert count_rows(live.database_url(), "definition_versions") == versions
        assert count_rows(live.database_url(), "audit_entries") == entries
        assert c.get("/api/definitions/retailer_satisfaction").json()["content_hash"] \
            == hash_before


def test_bad_files_are_refused_with_every_problem(live: Live) -> None:
    with live.client("admin") as c:
        r = upload(c, "/admin/definitions/retailer_satisfaction/import?lang=zh", b"{not json")
        assert r.status_code == 422 and 'data-code="invalid_json"' in r.text
        r = upload(c, "/admin/definitions/retailer_satisfaction/import?lang=zh", shipped())
        assert r.status_code == 422 and 'data-pointer="/id"' in r.text
        broken = copy.deepcopy(shipped())
        broken["id"] = "broken_new"
        del broken["title"]
        broken["sections"][0]["items"][0]["type"] = "no_such_type"
        r = upload(c, "/admin/definitions/import?lang=zh", broken)
        assert r.status_code == 422
        assert len(re.findall(r"data-problem ", r.text)) >= 2
        assert count_rows(live.database_url(), "definitions", "id = 'broken_new'") == 0


def test_a_field_user_gets_nothing_and_anonymous_signs_in(live: Live) -> None:
    routes = ["/admin", "/admin/definitions", f"/admin/definitions/{STANDARD}",
              f"/admin/definitions/{STANDARD}/diff", f"/admin/definitions/{STANDARD}/export",
              "/admin/audit"]
    posts = [f"/admin/definitions/{STANDARD}/versions/1/publish",
             f"/admin/definitions/{STANDARD}/versions/1/rollback"]
    with live.client("zhang") as c:
        for path in routes:
            assert c.get(path).status_code == 403, path
        for path in posts:
            assert c.post(path, headers=FORM, content="reason=x").status_code == 403, path
        assert upload(c, f"/admin/definitions/{STANDARD}/import", shipped()).status_code == 403
        assert upload(c, "/admin/definitions/import", shipped()).status_code == 403
        # and the API behind the pages
        assert c.put(f"/api/definitions/{STANDARD}/draft", json=shipped()).status_code == 403
        assert c.post(f"/api/definitions/{STANDARD}/versions/1/publish").status_code == 403
    with httpx.Client(base_url=live.url, timeout=60) as anonymous:
        for path in routes:
            r = anonymous.get(path)
            assert r.status_code in (302, 303) and r.headers["location"].startswith(
                "/sign-in?next="), path


def test_every_action_needs_the_csrf_token_with_a_session(live: Live) -> None:
    with httpx.Client(base_url=live.url, timeout=60) as c:
        r = c.post("/api/auth/sign-in", json={"username": "admin", "password": PASSWORD})
        csrf = r.json()["csrf_token"]
        actions = [(f"/admin/definitions/{STANDARD}/versions/1/publish", None),
                   (f"/admin/definitions/{STANDARD}/versions/1/rollback", None),
                   (f"/admin/definitions/{STANDARD}/import", shipped()),
                   ("/admin/definitions/import", shipped())]
        for path, content in actions:
            r = upload(c, path, content) if content is not None else \
                c.post(path, headers=FORM, content="reason=x")
            assert r.status_code == 403 and "csrf_failed" in r.text, path
        ok = c.post(f"/admin/definitions/{STANDARD}/versions/1/rollback?lang=zh",
                    headers={**FORM, "X-CSRF-Token": csrf}, content="reason=")
        assert ok.status_code == 422  # past the CSRF check: the missing reason
