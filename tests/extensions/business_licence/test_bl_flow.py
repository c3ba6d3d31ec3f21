"""The verification flow on both databases: each check made or not made, the outcome, the
duplicates across sites, every input mistake at once, the scope and the capability; with
the registry served over real HTTP (known, unknown, not trading, another holder, 500, a
timeout, a wrong token) and without one."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from registry_server import BROKEN, SILENT, TOKEN, RegistryServer
from rounds_business_licence import service
from rounds_business_licence.registry import HttpRegistry, Registry, RegistrySettings
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction
from rounds.errors import Forbidden, NotFound
from support.field import Field, principal
from support.fieldwork import png_bytes

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
TODAY = date(2026, 12, 3)
GOOD = "91330100716105852F"
BAD = "91330100716105852E"  # its check character changed


async def photo(db: AsyncSession, username: str, tmp_path: Path, seed: int = 0) -> str:
    from rounds.runtime.storage import service as storage
    from rounds.runtime.storage.store import photo_store

    who = await principal(db, username)
    return (await storage.upload(db, photo_store(tmp_path / "photos"), who,
                                 png_bytes(seed))).id


async def check(sessions: async_sessionmaker[AsyncSession], world: Field, tmp_path: Path,
                site: str = "RA1", *, username: str = "cm_a", code: str = GOOD,
                holder: str = "Wang", expires_on: Any = "2028-06-30",
                registry: Registry | None = None) -> Any:
    async with transaction(sessions) as db:
        pid = await photo(db, username, tmp_path)
        row = await service.create_check(
            db, await principal(db, username), world.sites[site], code=code, holder=holder,
            address=f"{site} Road", expires_on=expires_on, photo_id=pid, now=NOW,
            today=TODAY, registry=registry)
        return row


def results(row: Any) -> dict[str, tuple[str, str]]:
    return {c["check"]: (c["result"], c["detail"]["key"]) for c in row.checks}


async def test_without_a_registry_the_local_checks_are_made_and_the_registry_is_not(
        bl_sessions: async_sessionmaker[AsyncSession], world: Field, tmp_path: Path) -> None:
    row = await check(bl_sessions, world, tmp_path, code=" 9133 0100 7161 0585 2f ")
    assert row.code == GOOD  # blanks removed, upper case: the form is lenient, the rule not
    assert results(row) == {"check_character": ("ok", "code_valid"),
                            "duplicate": ("ok", "duplicate_none"),
                            "holder": ("ok", "holder_matches"),
                            "expiry": ("ok", "valid_until"),
                            "registry": ("not_made", "registry_none")}
    assert row.outcome == "passed" and row.registry_answer is None
    assert [c["check"] for c in row.checks] == list(service.CHECKS)


async def test_a_wrong_check_character_fails_and_is_not_looked_up(
        bl_sessions: async_sessionmaker[AsyncSession], world: Field, tmp_path: Path,
        registry_server: RegistryServer) -> None:
    registry = HttpRegistry(RegistrySettings(registry_server.url, TOKEN, 5))
    row = await check(bl_sessions, world, tmp_path, code=BAD, registry=registry)
    assert results(row)["check_character"] == ("failed", "code_invalid")
    assert results(row)["registry"] == ("not_made", "registry_code_invalid")
    assert row.outcome == "failed"
    assert registry_server.requests == []


async def test_holder_and_expiry(bl_sessions: async_sessionmaker[AsyncSession], world: Field,
                                 tmp_path: Path) -> None:
    row = await check(bl_sessions, world, tmp_path, holder="ｗａｎｇ")  # full width, case
    assert results(row)["holder"] == ("ok", "holder_matches")
    row = await check(bl_sessions, world, tmp_path, holder="Zhang")
    assert results(row)["holder"] == ("failed", "holder_differs")
    assert row.checks[2]["detail"]["params"] == {"record": "Wang"}
    assert row.outcome == "failed"
    row = await check(bl_sessions, world, tmp_path, expires_on="2026-12-02")
    assert results(row)["expiry"] == ("failed", "expired") and row.outcome == "failed"
    row = await check(bl_sessions, world, tmp_path, expires_on="2026-12-03")
    assert results(row)["expiry"] == ("warning", "expires_soon")
    row = await check(bl_sessions, world, tmp_path,
                      expires_on=(TODAY + timedelta(days=60)).isoformat())
    assert results(row)["expiry"] == ("warning", "expires_soon") and row.outcome == "warning"
    assert row.checks[3]["detail"]["params"] == {"date": "2027-02-01", "days": 60}
    row = await check(bl_sessions, world, tmp_path,
                      expires_on=(TODAY + timedelta(days=61)).isoformat())
    assert results(row)["expiry"] == ("ok", "valid_until") and row.outcome == "passed"
    row = await check(bl_sessions, world, tmp_path, expires_on="0001-01-01")
    assert results(row)["expiry"] == ("failed", "expired")
    async with transaction(bl_sessions) as db:  # its issue is due as usual, no overflow
        from zoneinfo import ZoneInfo
        assert await service.open_expiry_issues(db, NOW, ZoneInfo("Asia/Shanghai")) == 1
    row = await check(bl_sessions, world, tmp_path, expires_on=None)  # 长期
    assert results(row)["expiry"] == ("ok", "expiry_none") and row.expires_on is None


async def test_the_same_code_on_another_site_s_latest_check_is_a_duplicate(
        bl_sessions: async_sessionmaker[AsyncSession], world: Field, tmp_path: Path) -> None:
    await check(bl_sessions, world, tmp_path, "RA1")
    again = await check(bl_sessions, world, tmp_path, "RA1")  # its own earlier check: fine
    assert results(again)["duplicate"] == ("ok", "duplicate_none")
    row = await check(bl_sessions, world, tmp_path, "RA2")
    assert results(row)["duplicate"] == ("failed", "duplicate_found")
    assert row.checks[1]["detail"]["params"] == {"sites": "Shop RA1 (RA1)"}
    assert row.outcome == "failed"
    # RA1's latest check has another code now: the code is RA2's alone.
    await check(bl_sessions, world, tmp_path, "RA1", code="91110000802100433B")
    row = await check(bl_sessions, world, tmp_path, "RA2")
    assert results(row)["duplicate"] == ("ok", "duplicate_none")


async def test_every_input_mistake_at_once_and_nothing_stored(
        bl_sessions: async_sessionmaker[AsyncSession], world: Field) -> None:
    from rounds_business_licence.models import LicenceCheck
    from sqlalchemy import func, select

    async with transaction(bl_sessions) as db:
        with pytest.raises(service.LicenceCheckInvalid) as caught:
            await service.create_check(
                db, await principal(db, "cm_a"), world.sites["RA1"], code="9133", holder=" ",
                address="x" * 201, expires_on="2027-02-30", photo_id="no-such-photo",
                now=NOW, today=TODAY, registry=None)
        assert {(p.pointer, p.code) for p in caught.value.problems} == {
            ("/code", "length"), ("/holder", "required"), ("/address", "max_length"),
            ("/expires_on", "date"), ("/photo_id", "unknown_photo")}
        assert caught.value.status == 422
        with pytest.raises(service.LicenceCheckInvalid) as caught:
            await service.create_check(
                db, await principal(db, "cm_a"), world.sites["RA1"], code="", holder="W",
                address="A", expires_on=None, photo_id="", now=NOW, today=TODAY,
                registry=None)
        assert {(p.pointer, p.code) for p in caught.value.problems} == {
            ("/code", "required"), ("/photo_id", "photo_required")}
        assert (await db.execute(select(func.count()).select_from(LicenceCheck))
                ).scalar_one() == 0


async def test_a_photo_of_someone_else_is_refused(
        bl_sessions: async_sessionmaker[AsyncSession], world: Field, tmp_path: Path) -> None:
    async with transaction(bl_sessions) as db:
        theirs = await photo(db, "mi_a", tmp_path)
        with pytest.raises(service.LicenceCheckInvalid) as caught:
            await service.create_check(
                db, await principal(db, "cm_a"), world.sites["RA1"], code=GOOD,
                holder="Wang", address="A", expires_on=None, photo_id=theirs, now=NOW,
                today=TODAY, registry=None)
        assert [(p.pointer, p.code) for p in caught.value.problems] == [
            ("/photo_id", "unknown_photo")]


async def test_scope_and_capability(bl_sessions: async_sessionmaker[AsyncSession],
                                    world: Field, tmp_path: Path) -> None:
    with pytest.raises(NotFound):  # RA1 is not cm_b's
        await check(bl_sessions, world, tmp_path, username="cm_b")
    with pytest.raises(Forbidden):  # a station head may see, not verify
        async with transaction(bl_sessions) as db:
            await service.create_check(
                db, await principal(db, "head_a"), world.sites["RA1"], code=GOOD,
                holder="Wang", address="A", expires_on=None, photo_id="x", now=NOW,
                today=TODAY, registry=None)
    row = await check(bl_sessions, world, tmp_path, username="mi_a")  # the inspector may
    async with transaction(bl_sessions) as db:
        for who, seen in (("head_a", 1), ("shop_ra1", 1), ("leader", 1)):
            rows, total = await service.checks_of_site(db, await principal(db, who),
                                                       world.sites["RA1"])
            assert (total, rows[0].id) == (seen, row.id)
        with pytest.raises(NotFound):
            await service.checks_of_site(db, await principal(db, "head_b"),
                                         world.sites["RA1"])
        assert await service.latest_visible(db, await principal(db, "head_b"),
                                            world.sites["RA1"]) is None


async def test_with_the_registry(bl_sessions: async_sessionmaker[AsyncSession], world: Field,
                                 tmp_path: Path, registry_server: RegistryServer) -> None:
    registry = HttpRegistry(RegistrySettings(registry_server.url, TOKEN, 5))
    row = await check(bl_sessions, world, tmp_path, registry=registry)
    assert results(row)["registry"] == ("ok", "registry_ok") and row.outcome == "passed"
    assert row.registry_answer == {"found": True, "code": GOOD, "holder": "Wang",
                                   "status": "存续", "address": "RA1 Road"}
    assert registry_server.requests[-1] == {"path": f"/licences/{GOOD}",
                                            "auth": f"Bearer {TOKEN}"}
    row = await check(bl_sessions, world, tmp_path, "RA2", code="914403001922038216",
                      registry=registry)
    assert results(row)["registry"] == ("failed", "registry_status")
    assert row.checks[4]["detail"]["params"] == {"status": "注销"}
    row = await check(bl_sessions, world, tmp_path, "RB1", username="cm_b",
                      code="91440300708461136T", registry=registry)
    assert results(row)["registry"] == ("failed", "registry_holder")
    row = await check(bl_sessions, world, tmp_path, "RB1", username="cm_b",
                      code="91110000802100433B", registry=registry)
    assert results(row)["registry"] == ("failed", "registry_unknown")
    assert row.registry_answer == {"found": False} and row.outcome == "failed"


@pytest.mark.parametrize("case", ["500", "timeout", "wrong_token", "no_server"])
async def test_a_registry_that_cannot_answer_leaves_the_local_checks_standing(
        bl_sessions: async_sessionmaker[AsyncSession], world: Field, tmp_path: Path,
        registry_server: RegistryServer, case: str) -> None:
    url, token, code = registry_server.url, TOKEN, GOOD
    if case == "500":
        code = BROKEN
    elif case == "timeout":
        code = SILENT
    elif case == "wrong_token":
        token = "wrong"
    else:
        from support.live import free_port

        url = f"http://127.0.0.1:{free_port()}/licences"
    registry = HttpRegistry(RegistrySettings(url, token, 0.5))
    row = await check(bl_sessions, world, tmp_path, code=code, registry=registry)
    assert results(row)["registry"] == ("not_made", "registry_unreachable")
    assert results(row)["check_character"] == ("ok", "code_valid")
    assert results(row)["holder"] == ("ok", "holder_matches")
    assert row.outcome == "passed" and row.registry_answer is None


def test_registry_settings_from_the_environment() -> None:
    from rounds_business_licence.registry import registry_from

    assert RegistrySettings.from_env({}) == RegistrySettings("", "", 5.0)
    assert registry_from(RegistrySettings.from_env({})) is None
    s = RegistrySettings.from_env({"ROUNDS_BUSINESS_LICENCE_REGISTRY_URL": " http://r/x/ ",
                                   "ROUNDS_BUSINESS_LICENCE_REGISTRY_TOKEN": "t",
                                   "ROUNDS_BUSINESS_LICENCE_REGISTRY_TIMEOUT": "2.5"})
    assert s == RegistrySettings("http://r/x", "t", 2.5)
    assert isinstance(registry_from(s), HttpRegistry)
    for bad in ("0", "-1", "soon"):
        with pytest.raises(ValueError, match="TIMEOUT"):
            RegistrySettings.from_env({"ROUNDS_BUSINESS_LICENCE_REGISTRY_TIMEOUT": bad})


async def test_the_site_panel(bl_sessions: async_sessionmaker[AsyncSession], world: Field,
                              tmp_path: Path) -> None:
    from rounds.runtime.sites.panels import panels_for

    ra1 = world.sites["RA1"]

    async def panels(username: str, lang: str = "zh") -> list[Any]:
        async with bl_sessions() as db:
            return [p for p in await panels_for(db, await principal(db, username), ra1, lang)
                    if p.href.startswith(f"/sites/{ra1}/business-licence")]

    # Nothing checked: the way to check, for those who may; nothing for the others.
    (first,) = await panels("cm_a")
    assert (first.status, first.link_text, first.tone) == ("尚未核验", "核验营业执照", "")
    assert await panels("shop_ra1") == [] and await panels("head_a") == []
    await check(bl_sessions, world, tmp_path, expires_on="2027-01-20")  # within 60 days
    for who in ("cm_a", "head_a", "shop_ra1", "leader"):
        (p,) = await panels(who)
        assert (p.title, p.tone, p.status) == ("营业执照", "warn", "需留意")
        assert dict(p.rows) == {"统一社会信用代码": GOOD, "营业期限至": "2027年1月20日",
                                "核验日期": "2026年12月3日"}
    (en,) = await panels("shop_ra1", "en")
    assert (en.status, en.link_text) == ("Needs attention", "See the check")
    assert await panels("head_b") == []  # not their site


async def test_a_check_s_photo_is_kept_by_the_cleanup_of_unused_photos(
        bl_sessions: async_sessionmaker[AsyncSession], world: Field, tmp_path: Path) -> None:
    from rounds.runtime.storage import service as storage
    from rounds.runtime.storage.models import Photo

    row = await check(bl_sessions, world, tmp_path)
    async with transaction(bl_sessions) as db:
        unused = await photo(db, "cm_a", tmp_path, seed=5)  # uploaded, never used
        deleted, _ = await storage.delete_unused_photos(
            db, now=datetime.now(UTC) + timedelta(days=2), older_than=timedelta(days=1))
        assert deleted == 1
        assert await db.get(Photo, unused) is None
        assert await db.get(Photo, str(row.photo_id)) is not None
