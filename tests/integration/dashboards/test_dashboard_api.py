"""The dashboards' API over real HTTP, on SQLite and PostgreSQL: figures read from the query
store (rows written here by hand, so every expected value is worked out below), the scope
of every endpoint under every parameter, and exports that parse back (csv, openpyxl) to the
JSON's figures.

The field (tests/support/field.py): city → st_a (→ area_a1) and st_b; cm_a serves RA1 and
RA2 (area_a1), cm_b RB1 (st_b), mi_a RA1. November 2026 in the store:

===========  ========  =======  ======  ===========================================
who          checkins  flagged  done    plan (per site: planned / visits done / in)
===========  ========  =======  ======  ===========================================
cm_a (a1)    6         2        5       RA1 4/5/6, RA2 4/0/0
mi_a (a1)    2         1        1       RA1 2/1/2
cm_b (st_b)  4         0        4       RB1 2/4/4
===========  ========  =======  ======  ===========================================

st_a: visits 8, flagged 3/8, done Σmin = 4 + 0 + 1 = 5 of 10 planned, coverage 2 of 3
sites; forms: 8 at 85 % on average; issues opened 3, closed 2 (1 on time), overdue 1.
st_b: visits 4, flagged 0, done 2 of 2 (visits past the plan do not count), coverage 1;
4 forms at 90 %; 1 issue opened.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import httpx
import openpyxl
import pytest

from support.dashboards import CMV, MONTH, fill_store
from support.field import FieldServer, field_server

TABLES = ("grades_units", "grades_people", "grades_trend", "units", "people", "trend",
          "items", "funnel", "ages", "flagged")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[FieldServer]:
    with field_server(tmp_path_factory.mktemp(f"dash_{request.param}"),
                      postgres=request.param == "postgres") as srv:
        fill_store(srv)
        yield srv


def call(api: FieldServer, who: str, path: str, **params: Any) -> httpx.Response:
    return httpx.get(api.url + path, headers=api.tokens[who], timeout=30,
                     params={k: v for k, v in params.items() if v is not None})


def rows_by(body: dict[str, Any], key: str = "name") -> dict[Any, dict[str, Any]]:
    return {r[key]: r for r in body["rows"]}


def test_city_leader_sees_every_station_ranked(api: FieldServer) -> None:
    units = call(api, "leader", "/api/dashboard/units", month=MONTH, lang="en").json()
    assert units["unit_id"] == api.world.units["city"] and units["month"] == MONTH
    by = rows_by(units)
    a, b = by["st_a"], by["st_b"]
    assert (a["visits.count"], a["checkins.flagged_ratio"], a["visits.done_ratio"]) == (
        8, 3 / 8, 0.5)
    assert a["visits.coverage"] == pytest.approx(2 / 3)
    assert (a["submissions.count"], a["submissions.avg_percentage"], a["issues.opened"],
            a["issues.closed_on_time_ratio"], a["issues.overdue_count"]) == (8, 85, 3, 0.5, 1)
    assert (b["visits.count"], b["checkins.flagged_ratio"], b["visits.done_ratio"],
            b["visits.coverage"], b["submissions.avg_percentage"], b["issues.opened"],
            b["issues.closed_on_time_ratio"]) == (4, 0, 1, 1, 90, 1, None)
    assert [(r["name"], r["rank"]) for r in units["rows"]] == [("st_b", 1), ("st_a", 2)]
    labels = {c["key"]: c["label"] for c in units["columns"]}
    assert labels["visits.done_ratio"] == "Planned visits done"
    zh = call(api, "leader", "/api/dashboard/units", month=MONTH, lang="zh").json()
    assert {c["key"]: c["label"] for c in zh["columns"]}["visits.done_ratio"] == "计划走访完成率"

    people = rows_by(call(api, "leader", "/api/dashboard/people", month=MONTH).json(),
                     "username")
    assert set(people) == {"cm_a", "mi_a", "cm_b"}
    assert (people["cm_a"]["visits.done_ratio"], people["mi_a"]["visits.done_ratio"],
            people["cm_b"]["visits.done_ratio"]) == (0.5, 0.5, 1.0)
    assert people["cm_b"]["rank"] == 1


def test_trend_items_funnel_ages_flagged(api: FieldServer) -> None:
    trend = call(api, "leader", "/api/dashboard/trend", month=MONTH).json()["rows"]
    assert len(trend) == 6 * 3  # six months × (the city, st_a, st_b)
    st_a = {r["month"]: r["visits.done_ratio"] for r in trend if r["name"] == "st_a"}
    assert (st_a["2026-10"], st_a["2026-11"], st_a["2026-06"]) == (0.5, 0.5, None)
    city = {r["month"]: r["visits.done_ratio"] for r in trend if r["name"] == "city"}
    assert city["2026-11"] == 7 / 12  # (5 + 2) of (10 + 2)

    items = call(api, "leader", "/api/dashboard/items", month=MONTH, lang="zh").json()
    a, b = api.world.units["st_a"], api.world.units["st_b"]
    assert [(r["item_id"], r["failed"], r[f"u{a}"], r[f"u{b}"]) for r in items["rows"]] == [
        ("price_tags_complete", 4, 3, 1), ("display_standard", 1, 1, 0)]
    assert items["rows"][0]["item"] == "明码标价规范"

    funnel = call(api, "leader", "/api/dashboard/funnel", month=MONTH).json()["rows"]
    assert [(r["stage"], r["count"]) for r in funnel] == [
        ("issues_opened", 4), ("issues_rectified", 2), ("issues_verified", 2),
        ("issues_closed", 2), ("issues_overdue", 1), ("issues_escalated", 1)]
    ages = call(api, "leader", "/api/dashboard/ages").json()["rows"]
    assert [r["count"] for r in ages] == [0, 0, 1, 0]  # one open issue, 10 days old

    flagged = call(api, "leader", "/api/dashboard/flagged", month=MONTH).json()["rows"]
    assert [(r["day"], r["code"], r["flagged"], r["checkins"]) for r in flagged] == [
        ("2026-11-07", "RA1", 1, 2), ("2026-11-05", "RA1", 2, 3)]


def test_grades_are_the_okr_slices_ranked(api: FieldServer) -> None:
    """The grade tables show the OKR slice's grades (the store's figures graded by the
    definitions' rules): the same scores, ranked per OKR, each linking to its explanation."""
    people = call(api, "leader", "/api/dashboard/grades_people", month=MONTH, lang="en").json()
    by_user = {(r["okr_id"], r["subject_id"]): r for r in people["rows"]}
    for okr_id in ("service_quality", "market_patrol"):
        okr_rows = call(api, "leader", f"/api/okr/{okr_id}/grades",
                        period=MONTH, level="person").json()
        assert okr_rows, okr_id
        for g in okr_rows:
            mine = by_user[(okr_id, g["subject_id"])]
            assert (mine["score"], mine["period"]) == (g["score"], MONTH)
    cm_a = by_user[("service_quality", api.world.users["cm_a"])]
    assert cm_a["name"] == "CM_A" and cm_a["score"] is not None
    ranked = [r for r in people["rows"] if r["okr_id"] == "service_quality"]
    assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
    assert [r["score"] for r in ranked] == sorted((r["score"] for r in ranked), reverse=True)
    assert {r["subject_id"] for r in people["rows"] if r["okr_id"] == "market_patrol"} == {
        api.world.users["mi_a"]}
    units = call(api, "leader", "/api/dashboard/grades_units", month=MONTH).json()["rows"]
    assert {r["name"] for r in units} <= {"st_a", "st_b"} and units
    okr_units = {g["subject_id"]: g["score"] for g in call(
        api, "leader", "/api/okr/service_quality/grades", period=MONTH,
        level="org_unit").json()}
    for r in units:
        if r["okr_id"] == "service_quality":
            assert r["score"] == okr_units[r["subject_id"]]
    trend = call(api, "leader", "/api/dashboard/grades_trend", month=MONTH).json()["rows"]
    # only the months the store has facts for (October has a plan row only)
    assert {r["month"] for r in trend} == {"2026-11"}
    head = call(api, "head_a", "/api/dashboard/grades_people", month=MONTH).json()["rows"]
    assert {r["subject_id"] for r in head} == {api.world.users["cm_a"], api.world.users["mi_a"]}


def test_map_of_sites_and_todays_checkins(api: FieldServer) -> None:
    city = call(api, "leader", "/api/dashboard/map").json()
    assert sorted(s["id"] for s in city["sites"]) == sorted(api.world.sites.values())
    assert (city["checkins_today"], city["sites_today"]) == (2, 1)
    ra1 = next(s for s in city["sites"] if s["id"] == api.world.sites["RA1"])
    assert (ra1["checkins"], ra1["flagged"]) == (2, 1)
    head_b = call(api, "head_b", "/api/dashboard/map").json()
    assert [s["id"] for s in head_b["sites"]] == [api.world.sites["RB1"]]
    assert head_b["checkins_today"] == 0


def test_station_head_sees_their_station_only(api: FieldServer) -> None:
    units, world = api.world.units, api.world
    head = call(api, "head_a", "/api/dashboard/units", month=MONTH).json()
    assert head["unit_id"] == units["st_a"]
    assert [r["name"] for r in head["rows"]] == ["area_a1"]
    people = call(api, "head_a", "/api/dashboard/people", month=MONTH).json()
    assert {r["username"] for r in people["rows"]} == {"cm_a", "mi_a"}
    assert call(api, "head_a", "/api/dashboard/ages").json()["rows"][2]["count"] == 0
    assert call(api, "head_a", "/api/dashboard/units", unit=units["area_a1"]).status_code == 200
    card = call(api, "head_a", "/api/dashboard/month", month=MONTH, user=world.users["cm_a"])
    assert card.status_code == 200 and card.json()["figures"]["visits.done_ratio"] == 0.5

    # Every endpoint, every parameter that names something outside: 404, like nothing.
    outside = {"unit": [units["st_b"], units["city"], 999999]}
    paths = [f"/api/dashboard/{t}{suffix}" for t in TABLES for suffix in ("", ".csv", ".xlsx")]
    for path in [*paths, "/api/dashboard/map"]:
        for unit in outside["unit"]:
            r = call(api, "head_a", path, unit=unit, month=MONTH)
            assert r.status_code == 404, (path, unit, r.status_code)
            assert "st_b" not in r.text and "RB1" not in r.text
        mine = call(api, "head_a", path, month=MONTH)
        assert mine.status_code == 200 and "RB1" not in mine.text and "st_b" not in mine.text
    for user in (world.users["cm_b"], world.users["head_b"], world.users["leader"], 999999):
        r = call(api, "head_a", "/api/dashboard/month", user=user, month=MONTH)
        assert r.status_code == 404 and "cm_b" not in r.text.lower()
    bad = call(api, "head_a", "/api/dashboard/units", month="2026-13")
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/month"
    # the other station's head the same way round
    assert call(api, "head_b", "/api/dashboard/people", unit=units["st_a"]).status_code == 404
    assert {r["username"] for r in call(api, "head_b", "/api/dashboard/people",
                                        month=MONTH).json()["rows"]} == {"cm_b"}


def test_field_user_sees_their_month_only(api: FieldServer) -> None:
    world = api.world
    for table in TABLES:
        assert call(api, "cm_a", f"/api/dashboard/{table}").status_code == 403
        assert call(api, "cm_a", f"/api/dashboard/{table}.csv").status_code == 403
    assert call(api, "cm_a", "/api/dashboard/map").status_code == 403
    mine = call(api, "cm_a", "/api/dashboard/month", month=MONTH, lang="en").json()
    assert (mine["figures"]["visits.done_ratio"], mine["figures"]["visits.coverage"],
            mine["left_visits"], mine["left_sites"]) == (0.5, 0.5, 4, 1)
    assert mine["figures"]["submissions.avg_percentage"] == 85
    assert [(r["code"], r["left"]) for r in mine["sites"]["rows"]] == [("RA2", 4), ("RA1", 0)]
    assert mine["sums"]["checkins.flagged_ratio"] == {"checkins": 6, "checkins_flagged": 2}
    assert mine["planned"] == 8 and mine["sums"]["visits.done_ratio"]["visits_done"] == 4
    for other in (world.users["mi_a"], world.users["cm_b"], world.users["head_a"]):
        for path in ("/api/dashboard/month", *[f"/api/dashboard/{t}{x}" for t in (
                "my_sites", "my_funnel") for x in ("", ".csv", ".xlsx")]):
            r = call(api, "cm_a", path, user=other, month=MONTH)
            assert r.status_code == 404, path
    # my plan as CSV: the same rows as the JSON
    sites = call(api, "cm_a", "/api/dashboard/my_sites", month=MONTH, lang="en").json()
    got = list(csv.reader(io.StringIO(call(api, "cm_a", "/api/dashboard/my_sites.csv",
                                           month=MONTH, lang="en").content.decode("utf-8-sig"))))
    assert got[0] == [c["label"] for c in sites["columns"]]
    assert [r[0] for r in got[1:]] == ["Shop RA2", "Shop RA1"] == [r["site"] for r in
                                                                 sites["rows"]]
    assert call(api, "head_a", "/api/dashboard/my_sites.xlsx", month=MONTH,
                user=world.users["cm_a"]).status_code == 200
    assert call(api, "head_b", "/api/dashboard/my_funnel", month=MONTH,
                user=world.users["cm_a"]).status_code == 404
    assert call(api, "cm_a", "/api/dashboard/month", user=world.users["cm_a"],
                month=MONTH).status_code == 200


def test_an_org_unit_role_gets_its_month_not_a_subtree(api: FieldServer) -> None:
    """An enforcement officer's scope is their own unit's sites, while every dashboard
    figure is a subtree's: they get their own month, and no unit's figures."""
    from rounds.runtime.people.service import create_user
    from support.live import api_token, in_database

    async def add(db: Any) -> None:
        await create_user(db, username="jicha_a", display_name="JICHA", org_unit_code="st_a",
                          role_id="enforcement_officer", password="password-123")

    in_database(api.server.database_url, add)
    token = api_token(api.server, "jicha_a", "password-123")
    for path in ("/api/dashboard/units", "/api/dashboard/people.csv", "/api/dashboard/map"):
        r = httpx.get(api.url + path, headers=token, timeout=30)
        assert r.status_code == 403, path
    r = httpx.get(api.url + "/api/dashboard/month", headers=token, timeout=30,
                  params={"user": api.world.users["cm_a"]})
    assert r.status_code == 404
    assert httpx.get(api.url + "/api/dashboard/month", headers=token,
                     timeout=30).status_code == 200


def _same(json_value: Any, cell: Any) -> bool:
    if json_value is None:
        return cell in ("", None)
    if isinstance(json_value, int | float) and not isinstance(json_value, bool):
        return float(cell) == pytest.approx(float(json_value))
    return str(cell) == str(json_value)


@pytest.mark.parametrize("table", TABLES)
def test_exports_equal_the_json(api: FieldServer, table: str) -> None:
    body = call(api, "leader", f"/api/dashboard/{table}", month=MONTH, lang="zh").json()
    keys = [c["key"] for c in body["columns"]]
    labels = [c["label"] for c in body["columns"]]
    expected = [[r.get(k) for k in keys] for r in body["rows"]]

    r = call(api, "leader", f"/api/dashboard/{table}.csv", month=MONTH, lang="zh")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    parsed = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert parsed[0] == labels and len(parsed) == len(expected) + 1
    for want, got in zip(expected, parsed[1:], strict=True):
        assert all(_same(w, g) for w, g in zip(want, got, strict=True)), (want, got)

    x = call(api, "leader", f"/api/dashboard/{table}.xlsx", month=MONTH, lang="zh")
    assert x.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(x.content), read_only=True).active
    assert sheet is not None
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert [str(c) for c in cells[0]] == labels and len(cells) == len(expected) + 1
    for want, got in zip(expected, cells[1:], strict=True):
        got = got + [None] * (len(want) - len(got))
        assert all(_same(w, g) for w, g in zip(want, got, strict=True)), (want, got)


def test_raw_submissions_export_one_column_per_item(api: FieldServer) -> None:
    path = f"/api/dashboard/submissions/{CMV}/1/submissions.csv"
    zh = call(api, "leader", path, lang="zh")
    assert zh.status_code == 200
    rows = list(csv.DictReader(io.StringIO(zh.content.decode("utf-8-sig"))))
    assert len(rows) == 2
    mine = next(r for r in rows if r["许可证号"] == "RA1")
    # a choice's label (not its value), numbers as numbers, yes/no in words
    assert (mine["卷烟陈列情况"], mine["在柜销售品规数"], mine["明码标价规范"]) == (
        "杂乱无序", "42", "否")
    en = call(api, "leader", path, lang="en")
    rows_en = list(csv.DictReader(io.StringIO(en.content.decode("utf-8-sig"))))
    ra1 = next(r for r in rows_en if r["Licence no."] == "RA1")
    assert ra1["Any brand out of stock?"] == "" and ra1["Prices correctly marked"] == "no"
    assert ra1["Topics covered"] == "Pricing policy; Tobacco monopoly law"
    assert ra1["Cigarette display"] == "Untidy"
    # scoped as the submission lists: a head sees their station's, a field user their own
    head_b = list(csv.DictReader(io.StringIO(call(api, "head_b", path, lang="en")
                                             .content.decode("utf-8-sig"))))
    assert [r["Licence no."] for r in head_b] == ["RB1"]
    cm_a = list(csv.DictReader(io.StringIO(call(api, "cm_a", path, lang="en")
                                           .content.decode("utf-8-sig"))))
    assert [r["Licence no."] for r in cm_a] == ["RA1"]
    x = call(api, "leader", path.replace(".csv", ".xlsx"), lang="en")
    sheet = openpyxl.load_workbook(io.BytesIO(x.content), read_only=True).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    head = list(values[0])
    assert len(values) == 3 and "Cigarette display" in head
    assert call(api, "leader", f"/api/dashboard/submissions/{CMV}/99/submissions.csv"
                ).status_code == 404
    assert call(api, "leader", "/api/dashboard/submissions/city_leader/1/submissions.csv"
                ).status_code == 404
