"""A one-shop city for the retailer's stories in the browser: the east station, its head
(``HEAD``), a customer manager (``CM``) serving 芙蓉烟酒店, the shop's own account (``SHOP``)
and a city leader (``LEADER``); a phone page, signing in, and the customer manager's visit
to the shop."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from support.field import retailer_attributes
from support.fieldwork import body, png_bytes, poor_answers
from support.live import LiveServer, run_async

PASSWORD = "password-123"
HERE = (28.228304, 112.938814)  # where the phone is, and the shop
PHONE = {"width": 390, "height": 844}
CM, HEAD, SHOP, LEADER = "cm_li", "head_wu", "shop_furong", "leader_zhao"


def seed(server: LiveServer) -> int:
    """The city on ``server``; the shop's id."""
    from rounds.db import create_engine, session_factory, transaction
    from rounds.runtime.orgs.service import create_org_unit
    from rounds.runtime.people.service import create_user
    from rounds.runtime.sites.models import SiteAssignment
    from rounds.runtime.sites.service import create_site

    async def run() -> int:
        engine = create_engine(server.database_url)
        try:
            async with transaction(session_factory(engine)) as db:
                await create_org_unit(db, code="city", kind="city", name_zh="市公司",
                                      name_en="City company")
                await create_org_unit(db, code="east", kind="station", name_zh="东区管理所",
                                      name_en="East station", parent_code="city")
                await create_user(db, username=LEADER, display_name="赵经理",
                                  role_id="city_leader", org_unit_code="city",
                                  password=PASSWORD, language="zh")
                cm = await create_user(db, username=CM, display_name="客户经理 李",
                                       role_id="customer_manager", org_unit_code="east",
                                       password=PASSWORD, phone="13800000001", language="zh")
                await create_user(db, username=HEAD, display_name="所长 吴",
                                  role_id="station_head", org_unit_code="east",
                                  password=PASSWORD, language="zh")
                site = await create_site(db, None, site_kind="retailer", code="R1",
                                         name="芙蓉烟酒店", lat=HERE[0], lng=HERE[1],
                                         org_unit="east", address="芙蓉中路 1 号",
                                         attributes=retailer_attributes("R1"))
                await db.flush()
                db.add(SiteAssignment(site_id=site.id, role_id="customer_manager",
                                      user_id=cm.id))
                await create_user(db, username=SHOP, display_name="芙蓉烟酒店 王老板",
                                  role_id="retailer_user", org_unit_code="east",
                                  password=PASSWORD, site_id=site.id, language="zh")
                return int(site.id)
        finally:
            await engine.dispose()

    return run_async(run())  # type: ignore[no-any-return]


def phone(browser: Any, errors: list[str]) -> Any:
    """A page on a phone (390×844, zh); script errors and CSP refusals go to ``errors``."""
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                              has_touch=True, locale="zh-CN")
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text)
            if "Content Security Policy" in m.text else None)
    return page


def sign_in(page: Any, url: str, username: str) -> None:
    page.goto(f"{url}/sign-in?lang=zh")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form[data-sign-in-form] button[type=submit]")


def visit_and_score(url: str, headers: dict[str, str], site_id: int, *,
                    check_out: bool = False) -> dict[str, Any]:
    """The customer manager's visit: check in, the standard with a failed item (as the
    phone's form posts it), and the check-out if asked. Returns the standard's result."""
    with httpx.Client(base_url=url, headers=headers, timeout=30) as c:
        r = c.post("/api/visits", json={"site_id": site_id, "gps": {
            "lat": HERE[0], "lng": HERE[1], "accuracy_m": 8}})
        assert r.status_code == 201, r.text
        visit = int(r.json()["id"])
        photo = c.post("/api/photos", files={"file": ("tags.png", png_bytes(1),
                                                      "image/png")}).json()["id"]
        version = c.get("/api/definitions/customer_manager_visit").json()["content_hash"]
        answers, evidence = poor_answers(photo)
        r = c.post("/api/submissions", json=body(str(uuid.uuid4()), version, answers,
                                                 evidence=evidence, visit_id=visit))
        assert r.status_code == 201, r.text
        result = dict(r.json())
        if check_out:
            r = c.post(f"/api/visits/{visit}/check-out")
            assert r.status_code == 200, r.text
        return result
