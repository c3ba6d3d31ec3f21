"""Uploads decoded for real, over real HTTP (SQLite and PostgreSQL): what is not an image is
refused, a decompression bomb is refused before decoding, metadata does not survive, and
each user has a rate and a daily quota (small ones here, set as ROUNDS_UPLOADS_*)."""

from __future__ import annotations

import io
import os
import random
import struct
import zlib
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from support.fieldwork import Live, count_rows, jpeg_bytes, live_city

LIMITS = {"ROUNDS_UPLOADS_PER_MINUTE": "4", "ROUNDS_UPLOADS_DAILY_QUOTA_MB": "1"}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Live]:
    with live_city(tmp_path_factory.mktemp("uploads"), request.param, env=LIMITS) as city:
        yield city


def _client(live: Live, who: str) -> httpx.Client:
    client: httpx.Client = live.client(who)
    return client


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def _png_bomb(side: int = 40_000) -> bytes:
    """A valid PNG of side × side black pixels (1 bit each): ~200 KB that would decode into
    1.6 gigapixels."""
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    row = b"\x00" * (1 + side // 8)
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat)
            + _chunk(b"IEND", b""))


def _exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretPhoneMaker"  # Make
    exif[0x0112] = 6  # Orientation: turned 90°: the stored photo is upright instead
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (30.0, 23.0, 41.0)  # GPSLatitude: where the shop is
    return exif.tobytes()


def _noise_jpeg(seed: int, side: int = 1000) -> bytes:
    """A JPEG that compresses badly (~0.7 MB stored): noise."""
    noise = random.Random(seed).randbytes(side * side * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), noise).save(out, "JPEG", quality=95)
    return out.getvalue()


def test_random_bytes_behind_a_png_signature_are_refused(live: Live) -> None:
    before = count_rows(live.database_url(), "photos")
    fake = b"\x89PNG\r\n\x1a\n" + os.urandom(200_000)
    with _client(live, "zhao") as c:
        r = c.post("/api/photos", files={"file": ("shop.png", fake, "image/png")})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "photo_unreadable"
    assert "PNG" in r.json()["detail"]
    assert count_rows(live.database_url(), "photos") == before  # nothing stored


def test_a_decompression_bomb_is_refused_before_decoding(live: Live) -> None:
    bomb = _png_bomb()
    assert len(bomb) < 1024 * 1024
    with _client(live, "zhao") as c:
        r = c.post("/api/photos", files={"file": ("bomb.png", bomb, "image/png")})
    assert r.status_code == 413, r.text
    problem = r.json()
    assert problem["code"] == "photo_too_many_pixels"
    assert "40000 × 40000" in problem["detail"] and "50 megapixels" in problem["detail"]


def test_exif_and_text_metadata_are_not_stored(live: Live) -> None:
    sent = jpeg_bytes(exif=_exif(), seed=5)
    assert b"SecretPhoneMaker" in sent
    with _client(live, "li") as c:
        r = c.post("/api/photos", files={"file": ("a.jpg", sent, "image/jpeg")})
        assert r.status_code == 201, r.text
        photo = r.json()
        stored = c.get(photo["url"]).content
    assert photo["content_type"] == "image/jpeg" and photo["size"] == len(stored)
    assert b"SecretPhoneMaker" not in stored and b"Exif" not in stored
    image = Image.open(io.BytesIO(stored))
    assert dict(image.getexif()) == {}
    # Turned upright by the orientation it carried: 16×12 sent, 12×16 stored.
    assert (image.width, image.height) == (12, 16) == (photo["width"], photo["height"])

    png = io.BytesIO()
    info = PngInfo()
    info.add_text("Author", "SecretAuthorName")
    Image.new("RGBA", (8, 8), (10, 20, 30, 128)).save(png, "PNG", pnginfo=info)
    with _client(live, "li") as c:
        photo = c.post("/api/photos", files={"file": ("b.png", png.getvalue(), "image/png")}
                       ).json()
        stored = c.get(photo["url"]).content
    assert b"SecretAuthorName" not in stored
    assert Image.open(io.BytesIO(stored)).getpixel((3, 3)) == (10, 20, 30, 128)


def test_heic_is_stored_as_jpeg(live: Live) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    heic = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(heic, "HEIF")
    with _client(live, "li") as c:
        r = c.post("/api/photos", files={"file": ("IMG_0001.HEIC", heic.getvalue(), "")})
        assert r.status_code == 201, r.text
        stored = c.get(r.json()["url"])
    assert r.json()["content_type"] == "image/jpeg"
    assert stored.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(stored.content)).size == (32, 24)


def test_the_rate_of_uploads_per_user_is_limited(live: Live) -> None:
    with _client(live, "zhang") as c:
        codes = [c.post("/api/photos", files={"file": ("x.jpg", data, "image/jpeg")}
                        ).status_code
                 for data in (jpeg_bytes(seed=1), b"\x89PNG\r\n\x1a\n" + b"junk" * 100,
                              jpeg_bytes(seed=2), jpeg_bytes(seed=3))]
        assert codes == [201, 422, 201, 201]  # a refused attempt counts too
        r = c.post("/api/photos", files={"file": ("x.jpg", jpeg_bytes(seed=4), "image/jpeg")})
        assert r.status_code == 429, r.text
        assert r.json()["code"] == "too_many_uploads" and "4 uploads a minute" in r.json()["detail"]
        assert 1 <= int(r.headers["Retry-After"]) <= 60
    with _client(live, "zhao") as c:  # per user: someone else may still upload
        assert c.post("/api/photos", files={"file": ("x.jpg", jpeg_bytes(seed=4), "image/jpeg")}
                      ).status_code == 201


def test_the_daily_quota_per_user_is_kept(live: Live) -> None:
    first, second = _noise_jpeg(1), _noise_jpeg(2)
    assert len(first) > 600_000 and len(second) > 600_000  # two > 1 MB
    with _client(live, "wang") as c:
        r = c.post("/api/photos", files={"file": ("a.jpg", first, "image/jpeg")})
        assert r.status_code == 201, r.text
        assert r.json()["size"] > 512 * 1024
        again = c.post("/api/photos", files={"file": ("a.jpg", first, "image/jpeg")})
        assert again.status_code == 201 and again.json()["id"] == r.json()["id"]  # a retry
        r = c.post("/api/photos", files={"file": ("b.jpg", second, "image/jpeg")})
        assert r.status_code == 429, r.text
        problem = r.json()
        assert problem["code"] == "photo_quota_exceeded" and "1 MB" in problem["detail"]
        assert 3600 * 23 < int(r.headers["Retry-After"]) <= 24 * 3600
