"""Submissions over real HTTP, against a `rounds up` server on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support.fieldwork import (
    STANDARD,
    Live,
    body,
    count_rows,
    good_answers,
    live_city,
    png_bytes,
    poor_answers,
)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Live]:
    with live_city(tmp_path_factory.mktemp("submissions"), request.param) as city:
        yield city


def _client(live: Live, who: str) -> httpx.Client:
    client: httpx.Client = live.client(who)
    return client


def _visit(c: httpx.Client, live: Live) -> int:
    return live.visit(c)


def _photo(c: httpx.Client, seed: int = 7) -> str:
    r = c.post("/api/photos", files={"file": ("shop.png", png_bytes(seed), "image/png")})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _version(c: httpx.Client) -> str:
    return str(c.get(f"/api/definitions/{STANDARD}").json()["content_hash"])


def _count(live: Live, table: str, sid: str, column: str = "id") -> int:
    return count_rows(live.database_url(), table, f"{column} = '{sid}'")


def test_valid_submission_201_with_score_then_retry_200_same_body(live: Live) -> None:
    with _client(live, "zhang") as c:
        visit, photo, version = _visit(c, live), _photo(c), _version(c)
        sid = str(uuid.uuid4())
        doc = body(sid, version, good_answers(photo), visit_id=visit)
        first = c.post("/api/submissions", json=doc)
        assert first.status_code == 201, first.text
        b = first.json()
        assert b["score"]["percentage"] == 100.0 and b["score"]["passed"] is True
        assert b["score"]["items"] and b["failed_items"] == [] and b["alerts"] == []
        again = c.post("/api/submissions", json=doc)
        assert again.status_code == 200 and again.content == first.content
        read = c.get(f"/api/submissions/{sid}").json()
        assert "Total" in read.pop("explanation") and read == b
        assert _count(live, "submissions", sid) == 1
        other = c.post("/api/submissions", json={**doc, "answers": {
            **doc["answers"], "brands_in_stock": 26}})
        assert other.status_code == 409 and other.json()["code"] == "submission_id_conflict"
        mine = c.get("/api/submissions/mine", params={"per_page": 1}).json()
        assert mine["total"] >= 1 and len(mine["items"]) == 1 and mine["per_page"] == 1
        assert sid in {i["id"] for i in c.get("/api/submissions/mine").json()["items"]}


def test_failed_items_and_alerts(live: Live) -> None:
    with _client(live, "zhang") as c:
        visit, photo, version = _visit(c, live), _photo(c), _version(c)
        answers, evidence = poor_answers(photo)
        sid = str(uuid.uuid4())
        r = c.post("/api/submissions", json=body(sid, version, answers, evidence=evidence,
                                                 visit_id=visit))
        assert r.status_code == 201, r.text
        failed = {f["item"] for f in r.json()["failed_items"]}
        assert {"display_standard", "price_tags_complete"} <= failed
        assert "price_tags_missing" in {a["code"] for a in r.json()["alerts"]}
        assert _count(live, "failed_items", sid, "submission_id") == len(failed)
        # Made in the submission's transaction: there when the answer is, not later.
        assert _count(live, "issues", sid, "submission_id") == len(failed)


def test_invalid_submission_422_lists_every_error(live: Live) -> None:
    with _client(live, "zhang") as c:
        visit, photo, version = _visit(c, live), _photo(c), _version(c)
        answers = good_answers(photo) | {"brands_in_stock": "many", "display_standard": "x",
                                         "policy_topics": []}
        del answers["arrival_location"]
        sid = str(uuid.uuid4())
        r = c.post("/api/submissions", json=body(sid, version, answers, visit_id=visit))
        assert r.status_code == 422
        problem = r.json()
        assert problem["code"] == "submission_invalid"
        pointers = {e["pointer"] for e in problem["errors"]}
        assert {"/answers/brands_in_stock", "/answers/display_standard",
                "/answers/policy_topics", "/answers/arrival_location"} <= pointers
        assert all(e["message"] for e in problem["errors"])
        assert _count(live, "submissions", sid) == 0
        # An unknown photo and a broken envelope are 422 too, naming where.
        bad = good_answers("f" * 8)
        r = c.post("/api/submissions", json=body(sid, version, bad, visit_id=visit))
        assert r.status_code == 422
        assert {e["pointer"] for e in r.json()["errors"]} == {
            "/answers/storefront_photo/0", "/answers/display_photo/0",
            "/answers/retailer_signature/photo"}
        r = c.post("/api/submissions", content=b'{"id": 5}')
        assert r.status_code == 422 and "/id" in {e["pointer"] for e in r.json()["errors"]}


def test_fifty_parallel_retries_store_exactly_one_row(live: Live) -> None:
    with _client(live, "zhang") as c:
        visit, photo, version = _visit(c, live), _photo(c), _version(c)
    answers, evidence = poor_answers(photo)
    sid = str(uuid.uuid4())
    doc = body(sid, version, answers, evidence=evidence, visit_id=visit)

    async def race() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=live.url, headers=live.auth["zhang"],
                                     timeout=120, limits=limits) as ac:
            return list(await asyncio.gather(*(ac.post("/api/submissions", json=doc)
                                               for _ in range(50))))

    responses = asyncio.run(race())
    codes = [r.status_code for r in responses]
    assert codes.count(201) == 1 and codes.count(200) == 49, codes
    assert len({r.content for r in responses}) == 1  # every one the same document
    assert _count(live, "submissions", sid) == 1
    failed = len(responses[0].json()["failed_items"])
    assert failed and _count(live, "failed_items", sid, "submission_id") == failed


def test_scope_another_customer_manager_gets_404(live: Live) -> None:
    with _client(live, "zhang") as c:
        visit, photo, version = _visit(c, live), _photo(c, 99), _version(c)
        sid = str(uuid.uuid4())
        r = c.post("/api/submissions", json=body(sid, version, good_answers(photo),
                                                 visit_id=visit))
        assert r.status_code == 201, r.text
    with _client(live, "wang") as c:
        assert c.get(f"/api/submissions/{sid}").status_code == 404
        assert c.get(f"/api/photos/{photo}").status_code == 404
        assert c.get(f"/api/visits/{visit}").status_code == 404
        # Nor may wang submit into zhang's visit.
        other: dict[str, Any] = body(str(uuid.uuid4()), version, good_answers(photo),
                                     visit_id=visit)
        r = c.post("/api/submissions", json=other)
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/visit_id"
    with _client(live, "zhao") as c:  # the station head over shop A
        assert c.get(f"/api/submissions/{sid}").json()["id"] == sid
        assert c.get(f"/api/photos/{photo}").content == png_bytes(99)
    with _client(live, "qian") as c:  # a consumer: no standard to submit, nothing to see
        assert c.get(f"/api/submissions/{sid}").status_code == 404
        r = c.post("/api/submissions", json=body(str(uuid.uuid4()), version,
                                                 good_answers(photo), visit_id=visit))
        assert r.status_code == 403
