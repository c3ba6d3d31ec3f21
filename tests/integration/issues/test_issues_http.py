"""Issues over real HTTP, against a `rounds up` server on SQLite and on PostgreSQL: issues
made with the submission that has failed items, the loop step by step, problem details."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support.fieldwork import STANDARD, Live, body, live_city, png_bytes, poor_answers
from support.live import event_stream


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Live]:
    with live_city(tmp_path_factory.mktemp("issues"), request.param) as city:
        yield city


def client(live: Live, who: str) -> httpx.Client:
    return httpx.Client(base_url=live.url, headers=live.auth[who], timeout=60)


def photo(c: httpx.Client, seed: int) -> str:
    r = c.post("/api/photos", files={"file": ("fix.png", png_bytes(seed), "image/png")})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def submit_poor_visit(live: Live) -> dict[str, Any]:
    with client(live, "zhang") as c:
        current = c.get("/api/visits/current").json()["visit"]
        visit = current["id"] if current else c.post(
            "/api/visits", json={"qr_token": live.field.qr["shop_a"]}).json()["id"]
        version = c.get(f"/api/definitions/{STANDARD}").json()["content_hash"]
        answers, evidence = poor_answers(photo(c, 11))
        doc = body(str(uuid.uuid4()), version, answers, evidence=evidence, visit_id=visit)
        r = c.post("/api/submissions", json=doc)
        assert r.status_code == 201, r.text
        return {"doc": doc, "result": r.json()}


def issues_of(live: Live, who: str, submission_id: str) -> list[dict[str, Any]]:
    """The submission's issues as ``who`` sees them."""
    with client(live, who) as c:
        return [i for i in c.get("/api/issues/mine", params={"per_page": 200}).json()["items"]
                if i["submission_id"] == submission_id]


async def test_the_assignees_open_page_hears_of_a_submissions_issues(live: Live) -> None:
    async with event_stream(live.url + "/api/notifications/stream",
                            live.auth["zhang"]) as page:
        sent = await asyncio.to_thread(submit_poor_visit, live)
        made = {i["id"] for i in await asyncio.to_thread(
            issues_of, live, "zhang", sent["result"]["id"])}
        heard = set()
        while heard != made:  # pushed once the submission's transaction committed
            event = await page.next_event("notification", timeout=20)
            assert event["data"]["kind"] == "issue_assigned"
            heard.add(event["data"]["issue_id"])


def test_a_submissions_failed_items_are_issues_when_it_is_acknowledged(live: Live) -> None:
    sent = submit_poor_visit(live)
    sid, failed = sent["result"]["id"], sent["result"]["failed_items"]
    assert failed
    # Made in the submission's transaction: there as soon as the 201 is.
    made = issues_of(live, "zhang", sid)
    assert sorted(i["item_id"] for i in made) == sorted(f["item"] for f in failed)
    assert {i["assignee"]["id"] for i in made} == {live.field.users["zhang"]}
    assert {i["assigner"]["id"] for i in made} == {live.field.users["zhao"]}
    assert {i["status"] for i in made} == {"assigned"}
    assert all(i["allowed_actions"] == ["start", "comment"] for i in made)
    titles = {i["item_id"]: i["title"] for i in made}
    # Named as the problem, in the reader's language (zhang reads English).
    assert titles["price_tags_complete"] == "Prices not correctly marked"
    # A retry of the submission gets the stored result and makes no second set of issues.
    with client(live, "zhang") as c:
        again = c.post("/api/submissions", json=sent["doc"])
        assert again.status_code == 200
    assert len(issues_of(live, "zhang", sid)) == len(failed)
    board = client(live, "zhao").get("/api/issues", params={"status": "active"}).json()
    assert {i["id"] for i in made} <= {i["id"] for i in board["items"]}


def test_the_loop_over_http_with_problem_details(live: Live) -> None:
    sent = submit_poor_visit(live)
    issue = issues_of(live, "zhang", sent["result"]["id"])[0]
    url = f"/api/issues/{issue['id']}"
    with client(live, "zhang") as zhang, client(live, "zhao") as zhao, \
            client(live, "wang") as wang:
        r = zhao.post(url + "/start", json={"version": 1})
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
        assert r.headers["content-type"].startswith("application/problem+json")
        r = zhang.post(url + "/rectify", json={"version": 1, "note": "x", "photos": ["p"]})
        assert r.status_code == 409 and r.json()["code"] == "issue_wrong_state"
        assert r.json()["issue_status"] == "assigned"
        assert r.json()["allowed_actions"] == ["start", "comment"]
        r = zhang.post(url + "/start", json={"versoin": 1})
        assert r.status_code == 422
        assert {e["pointer"] for e in r.json()["errors"]} <= {"/version", "/versoin"}
        r = zhang.post(url + "/start", json={"version": "one"})
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/version"
        r = zhang.post(url + "/start", json={"version": 1})
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["version"]) == ("in_progress", 2)
        r = zhao.post(url + "/cancel", json={"version": 1, "reason": "dup"})
        assert r.status_code == 409 and r.json()["code"] == "stale_version"
        assert r.json()["current_version"] == 2
        r = zhang.post(url + "/rectify", json={"version": 2, "note": " ", "photos": []})
        assert r.status_code == 422
        assert {e["pointer"] for e in r.json()["errors"]} == {"/note", "/photos"}
        fix = photo(zhang, 99)
        r = zhang.post(url + "/rectify", json={"version": 2, "note": "tags replaced",
                                               "photos": [fix]})
        assert r.status_code == 200 and r.json()["status"] == "rectified"
        r = zhao.post(url + "/refuse", json={"version": 3})
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/reason"
        # The assigner sees the assignee's photo through the issue.
        r = zhao.get(f"{url}/photos/{fix}")
        assert r.status_code == 200 and r.content == png_bytes(99)
        assert wang.get(f"{url}/photos/{fix}").status_code == 404
        r = zhao.post(url + "/verify", json={"version": 3})
        assert r.status_code == 200 and r.json()["allowed_actions"] == ["close", "comment"]
        r = zhao.post(url + "/close", json={"version": 4})
        assert r.status_code == 200 and r.json()["status"] == "closed"
        r = zhang.post(url + "/comment", json={"text": "thanks"})
        assert r.status_code == 200
        got = zhang.get(url).json()
        assert [e["action"] for e in got["events"]] == [
            "created", "assigned", "started", "rectified", "verified", "closed", "commented"]
        assert got["evidence"][0]["photos"] == [fix]
        assert got["assignee_signed_at"] and got["assigner_signed_at"] and got["closed_at"]
        r = wang.get(url)
        assert r.status_code == 404 and r.json()["code"] == "not_found"
        assert zhang.post(url + "/approve", json={"version": 5}).status_code in (404, 405)


def test_assigning_and_feedback_over_http(live: Live) -> None:
    with client(live, "zhao") as zhao, client(live, "zhang") as zhang:
        r = zhao.post("/api/issues", json={"site_id": live.field.sites["shop_a"],
                                           "assignee_id": live.field.users["zhang"]})
        assert r.status_code == 422
        assert {e["pointer"] for e in r.json()["errors"]} == {"/title"}
        r = zhao.post("/api/issues", json={
            "site_id": live.field.sites["shop_a"], "assignee_id": live.field.users["zhang"],
            "title": "Fix the shop sign", "severity": "high"})
        assert r.status_code == 201, r.text
        made = r.json()
        assert made["source"] == "assigned" and made["assigner"]["id"] == live.field.users["zhao"]
        assert made["id"] in {i["id"] for i in zhang.get(
            "/api/issues/mine", params={"as": "assignee", "per_page": 200}).json()["items"]}
        r = zhang.post("/api/issues", json={
            "site_id": live.field.sites["shop_a"], "assignee_id": live.field.users["zhang"],
            "title": "x"})
        assert r.status_code == 403
        # Only a retailer account gives feedback about its shop.
        r = zhang.post("/api/issues/feedback", json={"kind": "complaint", "text": "x"})
        assert r.status_code == 403
        r = zhao.get("/api/issues", params={"page": 0})
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/page"


def test_a_submitter_whose_role_may_not_cancel_is_refused(live: Live) -> None:
    # zhang (customer manager: no issue.cancel) found the problems and must fix them; the
    # station head accepts the fix and may cancel.
    sent = submit_poor_visit(live)
    issue = issues_of(live, "zhang", sent["result"]["id"])[0]
    assert issue["reporter"]["id"] == issue["assignee"]["id"] == live.field.users["zhang"]
    assert issue["assigner"]["id"] == live.field.users["zhao"]
    assert "cancel" not in issue["allowed_actions"]
    url = f"/api/issues/{issue['id']}"
    with client(live, "zhang") as zhang, client(live, "zhao") as zhao:
        r = zhang.post(url + "/cancel", json={"version": issue["version"], "reason": "mine"})
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
        assert "issue.cancel" in r.json()["detail"]
        assert zhang.get(url).json()["status"] == "assigned"
        r = zhao.post(url + "/cancel", json={"version": issue["version"], "reason": "dup"})
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
