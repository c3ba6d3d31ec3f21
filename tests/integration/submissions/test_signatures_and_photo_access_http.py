"""Signatures are stored PNGs, and one rule says who sees a photo: whoever may see a
submission or issue that uses it (real HTTP, SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from support.fieldwork import (
    STANDARD,
    Live,
    body,
    good_answers,
    jpeg_bytes,
    live_city,
    png_bytes,
    poor_answers,
)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Live]:
    with live_city(tmp_path_factory.mktemp("signatures"), request.param) as city:
        yield city


def _client(live: Live, who: str) -> httpx.Client:
    client: httpx.Client = live.client(who)
    return client


def _visit(c: httpx.Client, live: Live) -> int:
    return live.visit(c)


def _upload(c: httpx.Client, data: bytes, name: str = "a.png") -> str:
    r = c.post("/api/photos", files={"file": (name, data, "")})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _version(c: httpx.Client) -> str:
    return str(c.get(f"/api/definitions/{STANDARD}").json()["content_hash"])


def test_a_signature_is_a_stored_png_not_any_string(live: Live) -> None:
    with _client(live, "zhang") as c:
        visit, version = _visit(c, live), _version(c)
        photo, drawn = _upload(c, png_bytes(21)), _upload(c, png_bytes(22))
        jpeg = _upload(c, jpeg_bytes(seed=23), "a.jpg")

        def send(signature: object) -> httpx.Response:
            answers = good_answers(photo) | {"retailer_signature": signature}
            return c.post("/api/submissions",
                          json=body(str(uuid.uuid4()), version, answers, visit_id=visit))

        for bad, pointer, code in [
                ("data:image/png;base64,iVBORw0KGgo=", "/answers/retailer_signature", "type"),
                ("张三", "/answers/retailer_signature", "type"),
                ({"photo": jpeg}, "/answers/retailer_signature/photo", "signature_not_png"),
                ({"photo": str(uuid.uuid4())}, "/answers/retailer_signature/photo",
                 "unknown_photo")]:
            r = send(bad)
            assert r.status_code == 422, (bad, r.text)
            errors = {e["pointer"]: e for e in r.json()["errors"]}
            assert pointer in errors and errors[pointer]["code"] == code, (bad, errors)
        r = send("x")
        assert "signature" in r.json()["errors"][0]["message"]  # names the field
        ok = send({"photo": drawn})
        assert ok.status_code == 201, ok.text
        sid = ok.json()["id"]
        assert c.get(f"/api/submissions/{sid}").json()["answers"]["retailer_signature"] == {
            "photo": drawn}
    # the signature is seen as the submission's photos are
    with _client(live, "zhao") as c:
        assert c.get(f"/api/photos/{drawn}").status_code == 200
    with _client(live, "wang") as c:
        assert c.get(f"/api/photos/{drawn}").status_code == 404


def test_a_station_head_sees_the_photos_of_their_stations_submissions(live: Live) -> None:
    with _client(live, "zhang") as c:
        visit, version = _visit(c, live), _version(c)
        photo, evidence = _upload(c, png_bytes(31)), _upload(c, png_bytes(32))
        answers, ev = poor_answers(photo)
        ev = {k: {**v, "photos": [evidence]} if "photos" in v else v for k, v in ev.items()}
        r = c.post("/api/submissions",
                   json=body(str(uuid.uuid4()), version, answers, evidence=ev, visit_id=visit))
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
    # zhao heads the north station (shop_a's) and li the city: the submission page loads,
    # and so does every photo on it
    for who in ("zhao", "li"):
        with _client(live, who) as c:
            assert c.get(f"/api/submissions/{sid}").status_code == 200
            for pid in (photo, evidence):
                got = c.get(f"/api/photos/{pid}")
                assert got.status_code == 200, (who, pid, got.text)
                assert got.headers["content-type"] == "image/png"
            page = c.get(f"/submissions/{sid}", headers={"Accept": "text/html"})
            assert page.status_code == 200 and f"/api/photos/{evidence}" in page.text
    # wang serves the south station: neither the submission nor its photos
    with _client(live, "wang") as c:
        assert c.get(f"/api/submissions/{sid}").status_code == 404
        for pid in (photo, evidence):
            assert c.get(f"/api/photos/{pid}").status_code == 404


def test_a_photo_used_only_in_an_issue_is_seen_by_whoever_sees_the_issue(live: Live) -> None:
    with _client(live, "zhao") as c:
        r = c.post("/api/issues", json={
            "site_id": live.field.sites["shop_a"], "title": "门头招牌破损",
            "assignee_id": live.field.users["zhang"]})
        assert r.status_code == 201, r.text
        issue = r.json()["id"]
    with _client(live, "zhang") as c:
        photo = _upload(c, png_bytes(41))
        r = c.post(f"/api/issues/{issue}/comment", json={"text": "已联系店主", "photos": [photo]})
        assert r.status_code == 200, r.text
    for who, status in (("zhao", 200), ("li", 200), ("wang", 404)):
        with _client(live, who) as c:
            assert c.get(f"/api/photos/{photo}").status_code == status, who
            assert c.get(f"/api/issues/{issue}/photos/{photo}").status_code == status, who
