"""A new role with its own standard, and a new kind of site, as JSON files only: they
validate, sync, compile, render and take submissions with no change to Python code."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from rounds.forms.compiled import SubmissionInvalid, compile_form
from rounds.forms.render import render_form
from rounds.rules.standards import compile_standard
from support.live import LiveServer

REPO = Path(__file__).resolve().parents[3]

WAREHOUSE = {
    "kind": "site_kind", "id": "warehouse",
    "title": {"zh": "仓库", "en": "Warehouse"},
    "attributes": [
        {"id": "capacity_cartons", "type": "integer", "required": True,
         "title": {"zh": "库容(件)", "en": "Capacity (cartons)"}},
        {"id": "cold_storage", "type": "boolean", "title": {"zh": "冷库", "en": "Cold storage"}},
    ],
}
KEEPER = {
    "kind": "role", "id": "warehouse_keeper",
    "title": {"zh": "仓库管理员", "en": "Warehouse keeper"},
    "audience": "field_staff",
    "capabilities": ["visit.check_in", "submission.create", "submission.view_own",
                     "issue.rectify"],
    "org_scope": "own_sites", "site_kinds": ["warehouse"],
    "standards": ["warehouse_inspection"], "surveys": [],
    "visit_targets": [{"site_kind": "warehouse", "per": "week", "visits": 1}],
    "check_in": {"radius_m": 200, "max_accuracy_m": 60},
}
INSPECTION = {
    "kind": "standard", "id": "warehouse_inspection",
    "title": {"zh": "仓库7S检查", "en": "Warehouse 7S inspection"},
    "site_kinds": ["warehouse"], "pass_percentage": 80,
    "sections": [{"id": "order", "title": {"zh": "整理整顿", "en": "Sort and order"}, "items": [
        {"id": "aisles_clear", "type": "yes_no", "weight": 2,
         "title": {"zh": "通道畅通", "en": "Aisles clear"},
         "evidence_if": {"===": [{"var": "aisles_clear"}, "no"]}},
        {"id": "stock_labelled", "type": "check", "weight": 1,
         "title": {"zh": "货位标识清楚", "en": "Stock locations labelled"},
         "problem": {"zh": "货位标识不清", "en": "Stock locations not labelled"},
         "fail_if": {"!": {"var": "stock_labelled"}}},
        {"id": "temperature_c", "type": "number", "min": -30, "max": 40, "unit":
         {"zh": "摄氏度", "en": "°C"}, "title": {"zh": "库温", "en": "Temperature"},
         "required": True, "weight": 1,
         "score": {"if": [{"<=": [{"var": "temperature_c"}, 25]}, 1, 0]}},
        {"id": "fix_note", "type": "text", "title": {"zh": "整改说明", "en": "What will be fixed"},
         "required_if": {"===": [{"var": "aisles_clear"}, "no"]}},
    ]}],
    "alerts": [{"code": "hot_store", "severity": "high",
                "when": {">": [{"var": "temperature_c"}, 30]},
                "message": {"zh": "库温 {temperature_c}℃ 过高",
                            "en": "Store at {temperature_c} °C"},
                "items": ["temperature_c"]}],
    "issues": {"per": "item", "default_severity": "medium", "due_days": 3,
               "assign_to": {"role": "warehouse_keeper", "of": "site"},
               # the keeper may not accept fixes: the station head of the unit does
               "verify_by": {"role": "station_head", "of": "org_unit"}},
}


@pytest.fixture(scope="module")
def definitions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("defs") / "definitions"
    shutil.copytree(REPO / "definitions", folder)
    for sub, doc in (("site_kinds", WAREHOUSE), ("roles", KEEPER), ("standards", INSPECTION)):
        (folder / sub / f"{doc['id']}.json").write_text(
            json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    return folder


def rounds(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rounds.cli", *args], capture_output=True,
                          text=True, check=False, env=env)


def test_they_validate_and_sync(definitions: Path, tmp_path: Path) -> None:
    out = rounds("definitions", "validate", str(definitions))
    assert out.returncode == 0, out.stdout
    assert "(3 okr, 11 role, 3 site_kind, 6 standard, 4 survey)" in out.stdout
    env = {"ROUNDS_DATA_DIR": str(tmp_path), "ROUNDS_DEFINITIONS_DIR": str(definitions),
           "PATH": "/usr/bin:/bin"}
    synced = rounds("definitions", "sync", env=env)
    assert synced.returncode == 0, synced.stderr
    assert "warehouse_inspection: version 1 (published" in synced.stdout
    assert "warehouse_keeper: version 1" in synced.stdout


def test_the_standard_compiles_scores_and_renders() -> None:
    form = compile_form(INSPECTION)
    good = {"answers": {"aisles_clear": "yes", "stock_labelled": True, "temperature_c": 18}}
    valid = form.validate(json.dumps(good).encode())
    assert valid.evaluation.score.percentage == 100.0
    bad = {"answers": {"aisles_clear": "no", "stock_labelled": False, "temperature_c": 33}}
    with pytest.raises(SubmissionInvalid) as err:
        form.validate(json.dumps(bad).encode(), lang="en")
    pointers = {p.pointer for p in err.value.problems}
    assert {"/answers/fix_note", "/evidence/aisles_clear/photos"} <= pointers
    ev = compile_standard(INSPECTION).evaluate({**bad["answers"], "fix_note": "清理通道"})
    assert ev.score.percentage == 0.0
    assert [a.code for a in ev.alerts] == ["hot_store"]
    assert "33" in ev.alerts[0].message["zh"]
    assert {f.item for f in ev.failed} == {"aisles_clear", "stock_labelled"}
    html = render_form(INSPECTION, lang="zh")
    assert "仓库7S检查" in html and "通道畅通" in html and "摄氏度" in html
    assert "Aisles clear" in render_form(INSPECTION, lang="en")


def test_a_warehouse_keeper_works_with_no_code_change(definitions: Path,
                                                      tmp_path: Path) -> None:
    """Over HTTP: a site of the new kind, a user of the new role, a check-in, a submission."""
    from support.live import add_user, api_token

    server = LiveServer(tmp_path / "srv", definitions=definitions)
    try:
        add_user(server, "admin", "administrator")
        admin = api_token(server, "admin")
        add_user(server, "keeper", "warehouse_keeper")
        users = httpx.get(server.url + "/api/users", headers=admin).json()["items"]
        keeper_id = next(u["id"] for u in users if u["username"] == "keeper")
        site: dict[str, Any] = {"site_kind": "warehouse", "code": "WH-001", "name": "城东仓库",
                                "lat": 30.39, "lng": 114.9, "org_unit": "city",
                                "attributes": {"capacity_cartons": "lots"}}
        r = httpx.post(server.url + "/api/sites", json=site, headers=admin)
        assert r.status_code == 422  # the kind's own attribute rules apply
        assert any(e["pointer"] == "/attributes/capacity_cartons" for e in r.json()["errors"])
        site["attributes"] = {"capacity_cartons": 5000, "cold_storage": False}
        r = httpx.post(server.url + "/api/sites", json=site, headers=admin)
        assert r.status_code == 201, r.text
        site_id = r.json()["id"]
        r = httpx.post(server.url + f"/api/sites/{site_id}/assignments",
                       json={"role_id": "warehouse_keeper", "user_id": keeper_id}, headers=admin)
        assert r.status_code in (200, 201), r.text
        keeper = api_token(server, "keeper")
        visit = httpx.post(server.url + "/api/visits", headers=keeper, json={
            "site_id": site_id, "gps": {"lat": 30.3901, "lng": 114.9, "accuracy_m": 10}})
        assert visit.status_code == 201, visit.text
        forms = httpx.get(server.url + f"/api/visits/{visit.json()['id']}/forms",
                          headers=keeper).json()
        offered = forms["forms"] if isinstance(forms, dict) else forms
        form = next(f for f in offered if f["definition_id"] == "warehouse_inspection")
        body = {"id": "6f1f0a0e-2a52-4a4b-9c36-0d4d2b3a5f11",
                "definition_id": "warehouse_inspection", "version": form["content_hash"],
                "visit_id": visit.json()["id"],
                "answers": {"aisles_clear": "yes", "stock_labelled": True, "temperature_c": 19}}
        r = httpx.post(server.url + "/api/submissions", json=body, headers=keeper)
        assert r.status_code == 201, r.text
        assert r.json()["score"]["percentage"] == 100.0
        page = httpx.get(server.url + "/forms/warehouse_inspection/preview?lang=en")
        assert page.status_code == 200 and "Warehouse 7S inspection" in page.text
    finally:
        server.stop()
