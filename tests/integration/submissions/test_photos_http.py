"""Photo uploads over real HTTP (SQLite and PostgreSQL): the type comes from the bytes."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from support.fieldwork import Live, jpeg_bytes, live_city, png_bytes


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Live]:
    with live_city(tmp_path_factory.mktemp("photos"), request.param) as city:
        yield city


def _client(live: Live, who: str = "zhang") -> httpx.Client:
    return httpx.Client(base_url=live.url, headers=live.auth[who], timeout=60)


def test_a_png_named_txt_is_a_png(live: Live) -> None:
    with _client(live) as c:
        data = png_bytes(3)
        r = c.post("/api/photos", files={"file": ("notes.txt", data, "text/plain")})
        assert r.status_code == 201, r.text
        photo = r.json()
        assert photo["content_type"] == "image/png"
        assert photo["url"] == f"/api/photos/{photo['id']}"
        got = c.get(photo["url"])
        assert got.status_code == 200 and len(got.content) == photo["size"]
        assert got.headers["content-type"] == "image/png"
        # stored re-encoded: the same pixels
        assert Image.open(io.BytesIO(got.content)).getpixel((0, 0)) == \
            Image.open(io.BytesIO(data)).getpixel((0, 0))
        # The same bytes again: the same photo.
        again = c.post("/api/photos", files={"file": ("other.png", data, "image/png")})
        assert again.json()["id"] == photo["id"]
        jpeg = c.post("/api/photos", files={"file": ("x.bin", jpeg_bytes(), "application/x")})
        assert jpeg.status_code == 201 and jpeg.json()["content_type"] == "image/jpeg"


def test_text_named_jpg_is_refused_415(live: Live) -> None:
    with _client(live) as c:
        r = c.post("/api/photos", files={
            "file": ("shop.jpg", b"just some text, not a photo\n" * 20, "image/jpeg")})
        assert r.status_code == 415
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "unsupported_photo_type"


def test_too_large_is_413(live: Live) -> None:
    with _client(live) as c:
        big = jpeg_bytes(10 * 1024 * 1024 + 1)
        r = c.post("/api/photos", files={"file": ("big.jpg", big, "image/jpeg")})
        assert r.status_code == 413 and r.json()["code"] == "photo_too_large"
        huge = jpeg_bytes(12 * 1024 * 1024)  # past what the server reads at all
        assert c.post("/api/photos", files={"file": ("h.jpg", huge, "image/jpeg")}
                      ).status_code == 413


def test_a_form_field_named_file_is_required(live: Live) -> None:
    with _client(live) as c:
        r = c.post("/api/photos", files={"photo": ("a.png", png_bytes(), "image/png")})
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/file"


def test_photos_are_private_to_their_uploader(live: Live) -> None:
    with _client(live) as c:
        photo = c.post("/api/photos", files={"file": ("a.png", png_bytes(11), "image/png")}
                       ).json()
    for who in ("wang", "zhao"):  # zhao supervises only photos used in submissions
        with _client(live, who) as c:
            assert c.get(f"/api/photos/{photo['id']}").status_code == 404
    assert httpx.get(f"{live.url}/api/photos/{photo['id']}").status_code == 401
    with _client(live, "admin") as c:  # no role to submit with, no uploads
        r = c.post("/api/photos", files={"file": ("a.png", png_bytes(), "image/png")})
        assert r.status_code == 403
