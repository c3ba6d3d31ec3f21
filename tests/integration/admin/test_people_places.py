"""The admin app's people and places over real HTTP (SQLite and PostgreSQL): org units,
people, sites with their kind's attributes, staff, the QR sheet, CSV imports with the
row-by-row report, a month's plans. Every change leaves one audit entry with what changed
(never a secret); a refused change leaves none. A customer manager gets 403 from every
route; a session without the page's CSRF token changes nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support.fieldwork import PASSWORD, Live, live_city


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Live]:
    with live_city(tmp_path_factory.mktemp("admin-people"), request.param) as city:
        yield city


def audit_rows(live: Live, action: str) -> list[dict[str, Any]]:
    """The audit entries of an action, oldest first, read behind the server's back."""
    from sqlalchemy import text

    from rounds.db import create_engine

    async def run() -> list[dict[str, Any]]:
        engine = create_engine(live.database_url())
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(text(
                    "SELECT actor_id, target_kind, target_id, changes FROM audit_entries "
                    "WHERE action = :a ORDER BY id"), {"a": action})
                return [{"actor": a, "kind": k, "target": t,
                         "changes": c if isinstance(c, dict) else json.loads(c)}
                        for a, k, t, c in rows]
        finally:
            await engine.dispose()

    return asyncio.run(run())


def unit_ids(c: httpx.Client) -> dict[str, int]:
    out: dict[str, int] = {}

    def walk(nodes: list[dict[str, Any]]) -> None:
        for n in nodes:
            out[n["code"]] = n["id"]
            walk(n["children"])

    walk(c.get("/api/org-units").json()["items"])
    return out


def test_org_units_tree_create_and_rename(live: Live) -> None:
    admin_id = live.field.users["admin"]
    with live.client("admin") as c:
        page = c.get("/admin/org-units?lang=zh")
        assert page.status_code == 200, page.text
        assert 'data-unit="north"' in page.text and "<details" in page.text
        assert 'data-people="2"' in page.text  # zhang and zhao in north
        assert c.get("/admin/orgs?lang=en").status_code == 200
        north = unit_ids(c)["north"]
        # Every mistake at once, each at its field; nothing stored, nothing audited.
        bad = c.post(f"/admin/orgs/{north}/children?lang=en",
                     data={"code": "north", "kind": "", "name_zh": "", "name_en": "x"})
        assert bad.status_code == 422
        for field in ("code", "kind", "name_zh"):
            assert f'data-error-for="{field}"' in bad.text
        assert audit_rows(live, "org_unit.create") == []
        made = c.post(f"/admin/orgs/{north}/children?lang=zh", data={
            "code": "north-a1", "kind": "area", "name_zh": "北一片区", "name_en": "North A1"})
        assert made.status_code == 303, made.text
        assert "north-a1" in unit_ids(c)
        [entry] = audit_rows(live, "org_unit.create")
        assert entry["actor"] == admin_id and entry["target"] == "north-a1"
        assert entry["changes"]["parent"] == "north"
        child = unit_ids(c)["north-a1"]
        assert c.post(f"/admin/orgs/{child}/rename", data={"name_zh": "", "name_en": ""}
                      ).status_code == 422
        assert audit_rows(live, "org_unit.rename") == []
        assert c.post(f"/admin/orgs/{child}/rename", data={
            "name_zh": "北一片区", "name_en": "North Area 1"}).status_code == 303
        [renamed] = audit_rows(live, "org_unit.rename")
        assert renamed["changes"] == {"name_en": ["North A1", "North Area 1"]}
        assert "北一片区" in c.get(f"/admin/orgs/{child}?lang=zh").text


def test_people_search_create_change_disable_and_reset(live: Live) -> None:
    with live.client("admin") as c:
        listed = c.get("/admin/people?lang=zh&q=zha")
        assert listed.status_code == 200 and 'data-person="zhang"' in listed.text
        assert 'data-person="wang"' not in listed.text
        by_role = c.get("/admin/people?lang=en&role=station_head").text
        assert 'data-person="zhao"' in by_role and 'data-person="zhang"' not in by_role
        refused = c.post("/admin/people?lang=en", data={
            "username": "zhang", "display_name": "", "role_id": "no_such_role",
            "org_unit": "nowhere"})
        assert refused.status_code == 422
        for field in ("username", "role_id", "org_unit"):
            assert f'data-error-for="{field}"' in refused.text
        assert audit_rows(live, "user.create") == []
        # A retailer's own account acts for one shop: it must be named, and exist.
        shopless = c.post("/admin/people?lang=zh", data={
            "username": "shopkeeper", "display_name": "店主", "role_id": "retailer_user",
            "org_unit": "north"})
        assert shopless.status_code == 422 and 'data-error-for="site"' in shopless.text
        assert 'data-error-for="site"' in c.post("/admin/people", data={
            "username": "shopkeeper", "display_name": "店主", "role_id": "retailer_user",
            "org_unit": "north", "site": "no_such_shop"}).text
        assert audit_rows(live, "user.create") == []
        keeper = c.post("/admin/people", data={
            "username": "shopkeeper", "display_name": "店主", "role_id": "retailer_user",
            "org_unit": "north", "site": "shop_a"})
        assert keeper.status_code == 200 and "data-password-once" in keeper.text
        made = c.post("/admin/people?lang=zh", data={
            "username": "sun", "display_name": "孙经理", "role_id": "customer_manager",
            "org_unit": "south", "phone": "13800001111"})
        assert made.status_code == 200, made.text
        assert "data-password-once" in made.text
        password = made.text.split("data-password>")[1].split("<")[0]
        assert len(password) >= 8
        [_, created] = audit_rows(live, "user.create")
        assert created["changes"]["username"] == "sun" and password not in json.dumps(created)
        sun = int(created["target"])
        assert 'data-person="sun"' in c.get("/admin/people?q=13800001111").text  # by phone
        # The generated password works.
        signed = httpx.post(live.url + "/api/auth/sign-in",
                            json={"username": "sun", "password": password, "kind": "api"})
        assert signed.status_code == 200
        page = c.get(f"/admin/people/{sun}?lang=zh")
        assert page.status_code == 200 and "孙经理" in page.text
        assert "data-password" not in page.text  # shown once, on the answer to the create
        assert c.post(f"/admin/people/{sun}/edit", data={
            "display_name": "孙经理", "role_id": "ghost", "org_unit": "north", "phone": ""}
        ).status_code == 422
        assert audit_rows(live, "user.update") == []
        assert c.post(f"/admin/people/{sun}/edit", data={
            "display_name": "孙经理", "role_id": "customer_manager", "org_unit": "north",
            "phone": "13800001111"}).status_code == 303
        [changed] = audit_rows(live, "user.update")
        assert changed["changes"] == {"org_unit": ["south", "north"]}
        assert c.post(f"/admin/people/{sun}/disable").status_code == 303
        assert 'data-state="disabled"' in c.get(f"/admin/people/{sun}").text
        assert c.post(f"/admin/people/{sun}/enable").status_code == 303
        reset = c.post(f"/admin/people/{sun}/password?lang=en")
        assert reset.status_code == 200 and "data-password-once" in reset.text
        new_password = reset.text.split("data-password>")[1].split("<")[0]
        [entry] = audit_rows(live, "user.password_reset")
        assert entry["changes"] == {} and new_password not in json.dumps(entry)
        assert [e["changes"] for e in audit_rows(live, "user.disable")] == [
            {"active": [True, False]}]
        assert len(audit_rows(live, "user.enable")) == 1


def test_sites_with_attributes_staff_and_the_qr_sheet(live: Live) -> None:
    with live.client("admin") as c:
        listed = c.get("/admin/sites?lang=zh&kind=retailer")
        assert listed.status_code == 200 and 'data-site="shop_a"' in listed.text
        form = c.get("/admin/sites/new?kind=retailer&lang=zh")
        assert form.status_code == 200
        assert 'name="attributes.grade"' in form.text and 'name="attributes.delivery_cycle"' \
            in form.text and "许可证号" in form.text
        base = {"site_kind": "retailer", "code": "shop_new", "name": "新店", "org_unit": "north",
                "lat": "31.23", "lng": "121.47", "address": "北京路 1 号"}
        bad = c.post("/admin/sites?lang=en", data={
            **base, "lat": "north", "attributes.licence_no": "123",
            "attributes.grade": "99"})
        assert bad.status_code == 422
        for field in ("lat", "attributes.licence_no", "attributes.grade",
                      "attributes.owner_name", "attributes.delivery_cycle"):
            assert f'data-error-for="{field}"' in bad.text, field
        assert audit_rows(live, "site.create") == []
        good = {**base, "attributes.licence_no": "310101000099", "attributes.shop_name": "新店",
                "attributes.owner_name": "周", "attributes.grade": "5",
                "attributes.delivery_cycle": "weekly",
                "attributes.business_type": "convenience_store"}
        kinds = c.get("/api/definitions/retailer").json()
        for attr in kinds.get("content", kinds).get("attributes", []):
            if attr.get("required") and f"attributes.{attr['id']}" not in good \
                    and attr["id"] != "address":
                good[f"attributes.{attr['id']}"] = attr["choices"][0]["value"] \
                    if attr.get("type") == "choice" else "x"
        made = c.post("/admin/sites?lang=zh", data=good)
        assert made.status_code == 303, made.text
        site_id = int(made.headers["location"].split("/admin/sites/")[1].split("?")[0])
        [created] = audit_rows(live, "site.create")
        assert created["target"] == "shop_new" and created["changes"]["attributes.grade"] == 5
        page = c.get(f"/admin/sites/{site_id}?lang=zh")
        assert page.status_code == 200 and "data-qr" in page.text
        assert 'data-role="customer_manager"' in page.text
        assert c.post(f"/admin/sites/{site_id}", data={**good, "attributes.grade": "6"}
                      ).status_code == 303
        [updated] = audit_rows(live, "site.update")
        assert updated["changes"] == {"attributes.grade": [5, 6]}
        zhang = live.field.users["zhang"]
        assert c.post(f"/admin/sites/{site_id}/staff", data={
            "role_id": "customer_manager", "user_id": str(live.field.users["zhao"])}
        ).status_code == 422  # a station head is not a customer manager
        assert audit_rows(live, "site.assign") == []
        assert c.post(f"/admin/sites/{site_id}/staff", data={
            "role_id": "customer_manager", "user_id": str(zhang)}).status_code == 303
        assert audit_rows(live, "site.assign")[0]["changes"]["user_id"] == [None, zhang]
        assert c.post(f"/admin/sites/{site_id}/staff/remove",
                      data={"role_id": "customer_manager"}).status_code == 303
        assert len(audit_rows(live, "site.unassign")) == 1
        sheet = c.get("/admin/sites/qr-sheet?lang=zh&unit=" + str(unit_ids(c)["north"]))
        assert sheet.status_code == 200
        assert sheet.text.count('class="ad-sheet-card"') == 3  # shop_a, shop_c, shop_new
        assert "@media print" in c.get("/static/admin/places.css").text


SITES_HEADER = ("code,name,site_kind,org_unit,lat,lng,address,licence_no,shop_name,owner_name,"
                "grade,delivery_cycle,business_type\n")


def test_imports_report_every_bad_row_and_store_nothing(live: Live) -> None:
    with live.client("admin") as c:
        page = c.get("/admin/imports?lang=zh")
        assert page.status_code == 200 and 'data-import-kind="sites"' in page.text
        template = c.get("/admin/imports/sites/template.csv")
        assert template.status_code == 200 and "licence_no" in template.text
        bad = (SITES_HEADER + "imp_1,导入一,retailer,north,31.2,121.4,路 1,310101000101,导入一,"
               "吴,3,weekly,convenience_store\n"
               "imp_2,导入二,retailer,nowhere,91,121.4,路 2,12,导入二,郑,3,weekly,"
               "convenience_store\n")
        refused = c.post("/admin/imports/sites?lang=zh",
                         files={"file": ("sites.csv", bad.encode(), "text/csv")})
        assert refused.status_code == 422
        assert 'data-import-report="refused"' in refused.text
        for column in ("org_unit", "lat", "licence_no"):
            assert f'data-row="3" data-column="{column}"' in refused.text, column
        assert 'data-row="2"' not in refused.text
        assert c.get("/api/sites?q=imp_").json()["total"] == 0
        assert audit_rows(live, "import.sites") == []
        skipped = c.post("/admin/imports/sites?lang=en", data={"skip_bad_rows": "1"},
                         files={"file": ("sites.csv", bad.encode(), "text/csv")})
        assert skipped.status_code == 200 and 'data-import-report="ok"' in skipped.text
        [entry] = audit_rows(live, "import.sites")
        assert entry["changes"] == {"rows": 2, "imported": 1, "skipped": 1}
        nothing = c.post("/admin/imports/sites", files={"file": ("x.csv", b"", "text/csv")})
        assert nothing.status_code == 422


def test_plans_for_a_month_and_a_unit(live: Live) -> None:
    with live.client("admin") as c:
        assert c.get("/admin/plans?lang=zh").status_code == 200
        north = unit_ids(c)["north"]
        bad = c.post("/admin/plans?lang=en", data={"month": "2026-13", "unit": str(north)})
        assert bad.status_code == 422 and 'data-error-for="month"' in bad.text
        assert audit_rows(live, "plan.generate") == []
        done = c.post("/admin/plans?lang=zh", data={"month": "2026-12", "unit": str(north)})
        assert done.status_code == 200 and "data-plan-result" in done.text
        assert 'data-person="zhang"' in done.text and 'data-person="wang"' not in done.text
        [entry] = audit_rows(live, "plan.generate")
        assert entry["target"] == "2026-12" and entry["changes"]["unit"] == north


ROUTES = [("GET", "/admin/orgs"), ("GET", "/admin/org-units"), ("GET", "/admin/orgs/1"),
          ("POST", "/admin/orgs/1/rename"), ("POST", "/admin/orgs/1/children"),
          ("GET", "/admin/people"), ("GET", "/admin/people/new"), ("POST", "/admin/people"),
          ("GET", "/admin/people/1"), ("POST", "/admin/people/1/edit"),
          ("POST", "/admin/people/1/disable"), ("POST", "/admin/people/1/enable"),
          ("POST", "/admin/people/1/password"), ("GET", "/admin/sites"),
          ("GET", "/admin/sites/new"), ("POST", "/admin/sites"), ("GET", "/admin/sites/1"),
          ("POST", "/admin/sites/1"), ("POST", "/admin/sites/1/staff"),
          ("POST", "/admin/sites/1/staff/remove"), ("GET", "/admin/sites/qr-sheet"),
          ("GET", "/admin/imports"), ("POST", "/admin/imports/sites"),
          ("GET", "/admin/imports/sites/template.csv"), ("GET", "/admin/plans"),
          ("POST", "/admin/plans"), ("GET", "/api/users"), ("POST", "/api/users/1/deactivate"),
          ("POST", "/api/sites/1/assignments"), ("GET", "/api/sites/1/qr.svg"),
          ("POST", "/api/plans/2026-12/generate"), ("POST", "/api/imports/sites")]


def test_a_customer_manager_gets_403_everywhere(live: Live) -> None:
    before = audit_rows(live, "user.disable")
    with live.client("zhang") as c:
        for method, path in ROUTES:
            if method == "GET":
                r = c.get(path)
            elif path.startswith("/admin"):
                r = c.post(path, data={"x": "1"})
            elif path.startswith("/api/imports"):
                r = c.post(path, content=SITES_HEADER.encode(),
                           headers={"Content-Type": "text/csv"})
            else:  # a well-formed body: the refusal is the capability's, not the body's
                r = c.post(path, json={"role_id": "customer_manager", "user_id": 1})
            assert r.status_code == 403, (method, path, r.status_code)
    assert audit_rows(live, "user.disable") == before


def test_a_session_without_the_csrf_token_changes_nothing(live: Live) -> None:
    with httpx.Client(base_url=live.url, timeout=60) as c:
        r = c.post("/api/auth/sign-in", json={"username": "admin", "password": PASSWORD})
        assert r.status_code == 200
        csrf = r.json()["csrf_token"]
        wang = live.field.users["wang"]
        refused = c.post(f"/admin/people/{wang}/disable")
        assert refused.status_code == 403
        assert 'data-state="active"' in c.get(f"/admin/people/{wang}").text
        assert c.post(f"/admin/people/{wang}/disable",
                      headers={"X-CSRF-Token": csrf}).status_code == 303
        assert c.post(f"/admin/people/{wang}/enable",
                      headers={"X-CSRF-Token": csrf}).status_code == 303
