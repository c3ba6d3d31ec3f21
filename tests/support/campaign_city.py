"""A one-shop city for the campaign stories in the browser: a city company, the east
station and its market department, a city leader, the station's head, an inspector to draw
(``DRAWN``) and one who serves the shop and so is never drawn there (``SERVING``), and the
shop ``R1`` where the phone stands (``HERE``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from support.field import retailer_attributes
from support.live import LiveServer, run_async

PASSWORD = "password-123"
HERE = (28.228304, 112.938814)  # where the phone is, and the shop
LEADER, DRAWN, SERVING, HEAD = "leader_zhao", "mi_drawn", "mi_serving", "head_east"


@dataclass
class World:
    server: LiveServer
    site_id: int

    @property
    def url(self) -> str:
        return self.server.url


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
                await create_org_unit(db, code="east_mkt", kind="market_department",
                                      name_zh="东区市场部", name_en="East market department",
                                      parent_code="east")
                users = {}
                for name, display, role, unit in (
                        (LEADER, "赵经理", "city_leader", "city"),
                        (HEAD, "吴所长", "station_head", "east"),
                        (DRAWN, "市管员 钱", "market_inspector", "east"),
                        (SERVING, "市管员 孙", "market_inspector", "east_mkt")):
                    user = await create_user(db, username=name, display_name=display,
                                             role_id=role, org_unit_code=unit,
                                             password=PASSWORD, language="zh")
                    users[name] = user.id
                site = await create_site(db, None, site_kind="retailer", code="R1",
                                         name="芙蓉烟酒店", lat=HERE[0], lng=HERE[1],
                                         org_unit="east_mkt", address="芙蓉中路 1 号",
                                         attributes=retailer_attributes("R1"))
                await db.flush()
                db.add(SiteAssignment(site_id=site.id, role_id="market_inspector",
                                      user_id=users[SERVING]))
                return site.id
        finally:
            await engine.dispose()

    return run_async(run())  # type: ignore[no-any-return]


def new_page(browser: Any, errors: list[str], viewport: dict[str, int], *,
             console_errors: bool = False, **options: Any) -> Any:
    """A page in a fresh context (zh-CN) whose script errors and CSP refusals (and, with
    ``console_errors``, every console error) are collected in ``errors``."""
    ctx = browser.new_context(viewport=viewport, locale="zh-CN", **options)
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text)
            if (console_errors and m.type == "error") or "Content Security Policy" in m.text
            else None)
    return page
