"""The extension in a real server (`rounds up`): enabled, its migration, routes, page and
panel are there and a check goes through the API and the page (with a registry served over
HTTP by the test); disabled (the default), its routes are 404 and a standard using
``uscc_valid`` does not validate."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from support.field import DEFINITIONS, Field
from support.fieldwork import png_bytes
from support.live import LiveServer, api_token

REPO = Path(__file__).resolve().parents[3]
CODE = "91330100716105852F"
STANDARD = {
    "kind": "standard", "id": "licence_code_check",
    "title": {"zh": "营业执照代码登记", "en": "Licence code record"},
    "site_kinds": ["retailer"],
    "sections": [{"id": "licence", "title": {"zh": "营业执照", "en": "Business licence"},
                  "items": [{"id": "uscc", "type": "text", "required": True,
                             "title": {"zh": "统一社会信用代码", "en": "USCC"}}]}],
    "checks": [{"id": "uscc_ok", "item": "uscc",
                "when": {"!": {"uscc_valid": {"var": "uscc"}}},
                "message": {"zh": "统一社会信用代码有误", "en": "The code is wrong"}}],
}


def _env(enabled: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ROUNDS_EXTENSIONS_ENABLED"}
    if enabled:
        env["ROUNDS_EXTENSIONS_ENABLED"] = enabled
    return env


def validate(folder: Path, enabled: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rounds.cli", "definitions", "validate",
                           str(folder)], env=_env(enabled), capture_output=True, text=True,
                          timeout=120, cwd=REPO, check=False)


def test_enabled_the_routes_page_and_panel_work(enabled_server: tuple[LiveServer, Field]
                                                ) -> None:
    server, world = enabled_server
    path = server.database_url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM licence_checks").fetchone() == (0,)
    assert httpx.get(f"{server.url}/api/ready").status_code == 200
    cm = api_token(server, "cm_a")
    ra1 = world.sites["RA1"]
    with httpx.Client(base_url=server.url, headers=cm, timeout=30) as c:
        assert c.get(f"/api/sites/{ra1}/business-licence-checks").json()["total"] == 0
        photo = c.post("/api/photos", files={"file": ("l.png", png_bytes(1), "image/png")})
        assert photo.status_code == 201, photo.text
        bad = c.post(f"/api/sites/{ra1}/business-licence-checks", json={"code": "1"})
        assert bad.status_code == 422, bad.text
        assert {e["pointer"] for e in bad.json()["errors"]} >= {
            "/code", "/holder", "/address", "/photo_id"}
        made = c.post(f"/api/sites/{ra1}/business-licence-checks", json={
            "code": CODE, "holder": "Wang", "address": "RA1 Road",
            "expires_on": "2030-01-01", "photo_id": photo.json()["id"]})
        assert made.status_code == 201, made.text
        out = made.json()
        assert out["outcome"] == "passed"
        assert {c_["check"]: c_["result"] for c_ in out["checks"]}["registry"] == "ok"
        assert out["registry"]["status"] == "存续"
        listed = c.get(f"/api/sites/{ra1}/business-licence-checks").json()
        assert listed["total"] == 1 and listed["items"][0]["id"] == out["id"]

        page = c.get(f"/sites/{ra1}/business-licence?lang=zh")
        assert page.status_code == 200
        assert "营业执照核验" in page.text and "核验通过" in page.text and CODE in page.text
        assert "登记机关查询" in page.text and 'name="code"' in page.text
        en = c.get(f"/sites/{ra1}/business-licence?lang=en")
        assert "Passed" in en.text and "营业执照" not in en.text.split("<main", 1)[1]
        # The page's form: every mistake at its field and the summary (422)...
        wrong = c.post(f"/sites/{ra1}/business-licence?lang=zh",
                       data={"code": "9133", "holder": "", "address": "A",
                             "expires_on": ""},
                       # no photo chosen: the browser sends the field empty
                       files={"photo": ("", b"", "application/octet-stream")})
        assert wrong.status_code == 422
        assert "有 3 处填写有误，请修改" in wrong.text
        assert wrong.text.count('aria-invalid="true"') == 3
        # ... then right: 303 to the page, with the new result on it.
        done = c.post(f"/sites/{ra1}/business-licence?lang=zh",
                      data={"code": "91110000802100433B", "holder": "Wang",
                            "address": "A", "expires_on": "2030-01-01"},
                      files={"photo": ("p.png", png_bytes(2), "image/png")})
        assert done.status_code == 303, done.text
        after = c.get(done.headers["location"])
        assert "已核验：核验未通过" in after.text and "登记机关查无此代码" in after.text
        assert c.get(f"/api/sites/{ra1}/business-licence-checks").json()["total"] == 2
        # The photo is shown to those who see the site.
        assert c.get(f"/api/photos/{photo.json()['id']}").status_code == 200
        # The operations reach the browser's rule engine.
        js = httpx.get(f"{server.url}/static/extensions/operations.js").text
        assert "/static/extensions/business_licence/operations.js" in js
    # The shop sees its licence's result on its own page, and its photo.
    with httpx.Client(base_url=server.url, headers=api_token(server, "shop_ra1"),
                      timeout=30) as shop:
        home = shop.get("/shop?lang=zh")
        assert "营业执照" in home.text and "核验未通过" in home.text
        assert shop.get(f"/api/photos/{photo.json()['id']}").status_code == 200
    # Another station's head sees neither the site's checks nor the photo.
    with httpx.Client(base_url=server.url, headers=api_token(server, "head_b"),
                      timeout=30) as other:
        assert other.get(f"/api/sites/{ra1}/business-licence-checks").status_code == 404
        assert other.get(f"/api/photos/{photo.json()['id']}").status_code == 404
        assert other.post(f"/api/sites/{ra1}/business-licence-checks",
                          json={}).status_code == 403


def test_disabled_it_is_absent(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "off", env={"ROUNDS_EXTENSIONS_ENABLED": ""})
    try:
        assert httpx.get(f"{server.url}/api/sites/1/business-licence-checks").status_code \
            == 404
        assert httpx.get(f"{server.url}/sites/1/business-licence").status_code == 404
        assert "business-licence" not in httpx.get(f"{server.url}/openapi.json").text
        path = server.database_url.split("///", 1)[1]
        with sqlite3.connect(path) as db:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        assert "licence_checks" not in tables
    finally:
        server.stop()


def test_a_standard_using_uscc_valid_validates_only_when_enabled(tmp_path: Path) -> None:
    folder = tmp_path / "definitions"
    shutil.copytree(DEFINITIONS, folder)
    (folder / "standards" / "licence_code_check.json").write_text(
        json.dumps(STANDARD, ensure_ascii=False))
    off = validate(folder, None)
    assert off.returncode == 1, off.stdout + off.stderr
    assert "unknown operation 'uscc_valid'" in off.stdout + off.stderr
    on = validate(folder, "business_licence")
    assert on.returncode == 0, on.stdout + on.stderr
