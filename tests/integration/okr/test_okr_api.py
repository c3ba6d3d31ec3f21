"""OKR grades over real HTTP (a `rounds up` server, on SQLite and on PostgreSQL): the grade
tables, one grade explained, the rows behind a key result, my grades; in the OpenAPI
document; a station head cannot read another station's grades by any parameter; and
``rounds okr recompute`` records what it did."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from okr_support import seed_store  # the store of test_okr_grades, figured by hand there

from rounds.db import create_engine, session_factory, transaction
from support.field import FieldServer, field_server
from support.live import run_async

OKR = "service_quality"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[FieldServer]:
    with field_server(tmp_path_factory.mktemp("okr_api"),
                      postgres=request.param == "postgres") as srv:
        async def seed() -> None:
            engine = create_engine(srv.server.database_url)
            try:
                async with transaction(session_factory(engine)) as db:
                    await seed_store(db, srv.world)
            finally:
                await engine.dispose()

        run_async(seed())
        yield srv


def get(api: FieldServer, who: str, path: str, **params: Any) -> httpx.Response:
    return httpx.get(api.url + path, headers=api.tokens[who], params=params, timeout=30)


def test_grade_tables_and_one_grade(api: FieldServer) -> None:
    u, units = api.world.users, api.world.units
    r = get(api, "leader", f"/api/okr/{OKR}/grades", period="2026-11", level="person")
    assert r.status_code == 200, r.text
    rows = r.json()
    assert [(x["subject_id"], x["grade"]) for x in rows] == [(u["cm_b"], "B"), (u["cm_a"], "C")]
    assert rows[1]["score"] == pytest.approx(0.61)
    r = get(api, "leader", f"/api/okr/{OKR}/grades", period="2026-11", level="org_unit")
    city = next(x for x in r.json() if x["subject_id"] == units["city"])
    assert (round(city["score"], 9), city["grade"]) == (0.59, "C")
    one = get(api, "head_a", rows[1]["link"]).json()
    assert one["grade"] == "C"
    assert one["explanation"][0]["zh"] == "总考评分 0.61，考评等级 C（合格）"
    kr = one["objectives"][0]["key_results"][0]
    assert (kr["id"], kr["value"], kr["grade"]) == ("visits_done", 0.75, "D")
    behind = get(api, "head_a", kr["rows"])
    assert behind.status_code == 200 and behind.json()["total"] == 0  # no raw visits here
    mine = get(api, "cm_a", "/api/okr/mine", period="2026-11").json()
    # (the retailer satisfaction OKR grades cm_a from the survey rows of the fixture)
    assert [(g["okr_id"], g["subject_id"]) for g in mine] == [
        (OKR, u["cm_a"]), ("shop_satisfaction", u["cm_a"])]
    assert [g["grade"] for g in mine if g["okr_id"] == OKR] == ["C"]
    listed = get(api, "cm_a", "/api/okr").json()
    assert {o["id"] for o in listed} == {"service_quality", "market_patrol",
                                         "shop_satisfaction"}


def test_another_stations_grades_are_not_found_by_any_parameter(api: FieldServer) -> None:
    u, units = api.world.users, api.world.units
    base = f"/api/okr/{OKR}/grades"
    for path, params in (
        (base, {"period": "2026-11", "level": "person", "unit_id": units["st_a"]}),
        (base, {"period": "2026-11", "level": "org_unit", "unit_id": units["area_a1"]}),
        (base, {"period": "2026-11", "level": "org_unit", "unit_id": units["city"]}),
        (f"{base}/2026-11/person/{u['cm_a']}", {}),
        (f"{base}/2026-11/org_unit/{units['st_a']}", {}),
        (f"{base}/2026-11/org_unit/{units['city']}", {}),
        (f"{base}/2026-11/person/{u['cm_a']}/key-results/visits_done/rows", {}),
    ):
        r = get(api, "head_b", path, **params)
        assert r.status_code == 404, (path, params, r.text)
    own = get(api, "head_b", base, period="2026-11", level="person").json()
    assert [x["subject_id"] for x in own] == [u["cm_b"]]
    # a field user: only their own, whatever they ask
    assert get(api, "cm_b", base, period="2026-11", level="org_unit").status_code == 404
    assert [x["subject_id"] for x in get(api, "cm_b", base, period="2026-11").json()] == [
        u["cm_b"]]
    assert get(api, "cm_b", f"{base}/2026-11/person/{u['cm_a']}").status_code == 404
    bad = get(api, "leader", base, period="2026-13")
    assert bad.status_code == 422 and bad.json()["code"] == "bad_period"


def test_in_the_openapi_document(api: FieldServer) -> None:
    paths = httpx.get(api.url + "/api/docs/openapi.json", timeout=30).json()["paths"]
    assert {"/api/okr", "/api/okr/mine", "/api/okr/{okr_id}/grades",
            "/api/okr/{okr_id}/grades/{period}/{subject_kind}/{subject_id}",
            "/api/okr/{okr_id}/grades/{period}/{subject_kind}/{subject_id}/key-results/"
            "{key_result_id}/rows"} <= set(paths)


def test_recompute_from_the_command_line(api: FieldServer) -> None:
    env = {**os.environ, "ROUNDS_DATABASE_URL": api.server.database_url,
           "ROUNDS_DATA_DIR": str(api.server.log.parent)}
    out = subprocess.run([sys.executable, "-m", "rounds.cli", "okr", "recompute", "2026-11",
                          "--okr", OKR, "--reason", "test", "--by", "ops"],
                         capture_output=True, text=True, env=env, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    units = len(api.world.units)
    assert f"{OKR} 2026-11: {2 + units} grades, {2 + units} changed" in out.stdout
    assert f"  person {api.world.users['cm_a']}: new -> 0.610 C" in out.stdout
    frozen = get(api, "leader", f"/api/okr/{OKR}/grades", period="2026-11").json()
    assert all(x["frozen"] for x in frozen)
