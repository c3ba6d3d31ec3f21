"""Extension modules (rounds.extensions), with two installed the way pip leaves them
(tests/extensions/installed): ``sample`` contributes one of each part, ``broken`` fails to
import. Each case runs real processes (`rounds up`, `rounds rules eval`...) with that folder
on their PYTHONPATH, so this process never loads them."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from support.live import LiveServer, add_user, api_token, free_port

REPO = Path(__file__).resolve().parents[3]
INSTALLED = REPO / "tests" / "extensions" / "installed"


def _env(enabled: str | None, **more: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(INSTALLED), **more}
    env.pop("ROUNDS_EXTENSIONS_ENABLED", None)
    if enabled is not None:
        env["ROUNDS_EXTENSIONS_ENABLED"] = enabled
    return env


def rounds(*argv: str, enabled: str | None = None, **env: str
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rounds.cli", *argv], check=False,
                          env=_env(enabled, **env),
                          capture_output=True, text=True, timeout=120, cwd=REPO)


def _tables(server: LiveServer) -> set[str]:
    path = server.database_url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _definitions(server: LiveServer) -> set[str]:
    path = server.database_url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        return {r[0] for r in db.execute("SELECT id FROM definitions")}


def test_an_enabled_extension_brings_its_routes_definitions_operations_and_tables(
        tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "on", env={"PYTHONPATH": str(INSTALLED),
                                              "ROUNDS_EXTENSIONS_ENABLED": "sample"})
    try:
        assert httpx.get(f"{server.url}/api/sample").json() == {"sample": True}
        assert "sample_notes" in _tables(server)
        assert "sample_kiosk" in _definitions(server)
        # Migrations are "at head" with the extension's branch: the server is ready.
        ready = httpx.get(f"{server.url}/api/ready")
        assert ready.status_code == 200, ready.text
        # The browser's rule engine gets no operations.js from this one (it has none) but
        # the module that gathers them answers.
        js = httpx.get(f"{server.url}/static/extensions/operations.js")
        assert js.status_code == 200 and "export const operations" in js.text
        # The extension grants its capability to a role the installation has.
        add_user(server, "inspector", "market_inspector")
        add_user(server, "manager", "customer_manager")
        me = httpx.get(f"{server.url}/api/auth/me", headers=api_token(server, "inspector"))
        assert "sample.use" in me.json()["capabilities"]
        other = httpx.get(f"{server.url}/api/auth/me", headers=api_token(server, "manager"))
        assert "sample.use" not in other.json()["capabilities"]
    finally:
        server.stop()
    done = rounds("rules", "eval", '{"sample_twice": [{"var": "n"}]}', '{"n": 21}',
                  enabled="sample")
    assert (done.returncode, done.stdout.strip()) == (0, "42")


def test_a_disabled_extension_is_absent_though_installed(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "off", env={"PYTHONPATH": str(INSTALLED)})
    try:
        assert httpx.get(f"{server.url}/api/sample").status_code == 404
        assert "sample_notes" not in _tables(server)
        assert "sample_kiosk" not in _definitions(server)
        assert "sample_kiosk" not in httpx.get(f"{server.url}/openapi.json").text
        add_user(server, "inspector", "market_inspector")
        me = httpx.get(f"{server.url}/api/auth/me", headers=api_token(server, "inspector"))
        assert me.status_code == 200 and "sample.use" not in me.json()["capabilities"]
    finally:
        server.stop()
    done = rounds("rules", "eval", '{"sample_twice": [2]}')
    assert done.returncode == 1
    assert "unknown operation 'sample_twice'" in done.stderr


def test_a_broken_extension_stops_the_start_with_its_name_and_why(tmp_path: Path) -> None:
    port = free_port()
    done = rounds("up", "--no-worker", "--port", str(port), enabled="sample,broken",
                  ROUNDS_DATA_DIR=str(tmp_path), ROUNDS_DEFINITIONS_DIR=str(REPO / "definitions"))
    assert done.returncode == 2
    assert "extension 'broken'" in done.stderr
    assert "its licence server is not configured" in done.stderr
    assert not (tmp_path / "rounds.sqlite3").exists()  # nothing started, nothing migrated
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1)


def test_an_extension_not_installed_is_named_with_those_that_are() -> None:
    done = rounds("db", "upgrade", enabled="nonesuch")
    assert done.returncode == 2
    # The repository's own extensions are installed too (./dev setup): named among them.
    named = done.stderr.split("not installed (installed: ", 1)[1].split(")", 1)[0]
    assert "extension 'nonesuch': not installed" in done.stderr
    assert {"broken", "sample"} <= set(named.split(", "))


def test_extensions_list_shows_versions_and_contributions() -> None:
    done = rounds("extensions", "list", enabled="sample")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "sample 0.3.0  (enabled): Sample extension"
    assert "  operations: sample_twice" in lines
    assert "  capabilities: sample.use" in lines
    assert "  grants: market_inspector sample.use" in lines
    assert "  routes: /api/sample" in lines
    assert "  migrations: sm_0001_sample_notes" in lines
    assert any(line.startswith("broken  (installed, not enabled): failed to load: "
                               "RuntimeError") for line in lines)


def test_a_role_may_grant_an_enabled_extensions_capability_only(tmp_path: Path) -> None:
    folder = tmp_path / "definitions"
    shutil.copytree(REPO / "definitions", folder)
    role = json.loads((folder / "roles" / "market_inspector.json").read_text())
    role["capabilities"] = [*role["capabilities"], "sample.use", "sample.misspelt"]
    (folder / "roles" / "market_inspector.json").write_text(json.dumps(role))
    at = len(role["capabilities"]) - 2
    without = rounds("definitions", "validate", str(folder))
    assert without.returncode == 1
    assert f"/capabilities/{at}: no capability 'sample.use'" in without.stdout
    assert f"/capabilities/{at + 1}: no capability 'sample.misspelt'" in without.stdout
    with_it = rounds("definitions", "validate", str(folder), enabled="sample")
    assert f"/capabilities/{at}:" not in with_it.stdout
    assert f"/capabilities/{at + 1}: no capability 'sample.misspelt'" in with_it.stdout


def test_rules_eval_prints_json_and_says_what_is_wrong_with_a_rule() -> None:
    done = rounds("rules", "eval", '{"cat": ["营业", {"var": "x"}]}', '{"x": "执照"}')
    assert (done.returncode, done.stdout.strip()) == (0, '"营业执照"')
    assert rounds("rules", "eval", '{"+": [1, 2]}').stdout.strip() == "3"
    bad = rounds("rules", "eval", '{"if": [true, {"nope": [1]}, 2]}')
    assert bad.returncode == 1
    assert "RULE:/if/1: unknown operation 'nope' [unknown_operation]" in bad.stderr
    not_json = rounds("rules", "eval", '{"+": [1, 2]', "{}")
    assert not_json.returncode == 2 and not_json.stderr.startswith("RULE: not valid JSON")
    data = rounds("rules", "eval", '{"var": "a"}', "[1,")
    assert data.returncode == 2 and data.stderr.startswith("DATA: not valid JSON")
