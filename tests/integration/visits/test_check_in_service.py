"""Check-in and check-out at service level, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction, utcnow
from rounds.errors import NotFound
from rounds.runtime.access import Forbidden
from rounds.runtime.visits import service
from rounds.runtime.visits.models import Visit
from rounds.runtime.visits.service import Position, VisitAlreadyOpen, VisitClosed
from support.fieldwork import Field, load_definitions, north_of, principal, seed

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def city(sessions: Sessions) -> Field:
    async with transaction(sessions) as db:
        await load_definitions(db)
        return await seed(db)


async def _check_in(sessions: Sessions, who: str, **kw: Any) -> service.VisitView:
    async with transaction(sessions) as db:
        return await service.check_in(db, await principal(db, who), **kw)


async def _check_out(sessions: Sessions, who: str, visit_id: int) -> service.VisitView:
    async with transaction(sessions) as db:
        return await service.check_out(db, await principal(db, who), visit_id)


@pytest.mark.parametrize(("metres", "accuracy", "flags"), [
    (20, 10, {}),
    (450, 10, {"far": True}),  # the customer manager's radius is 100 m
    (20, 120, {"poor_accuracy": True}),  # max accuracy 50 m
    (20, None, {"poor_accuracy": True}),  # an accuracy not given is not trusted
    (800, 300, {"far": True, "poor_accuracy": True}),
])
async def test_gps_check_in_is_flagged_never_refused(
        sessions: Sessions, city: Field, metres: float, accuracy: float | None,
        flags: dict[str, bool]) -> None:
    lat, lng = north_of("shop_a", metres)
    view = await _check_in(sessions, "zhang", site_id=city.sites["shop_a"],
                           position=Position(lat, lng, accuracy))
    v = view.visit
    assert v.method == "gps" and v.checked_out_at is None
    assert v.distance_m == pytest.approx(metres, abs=0.5)
    assert (v.lat, v.lng, v.accuracy_m) == (lat, lng, accuracy)
    assert v.flags == flags and v.flagged is bool(flags)


async def test_gps_check_in_without_a_position_is_flagged(sessions: Sessions, city: Field
                                                          ) -> None:
    view = await _check_in(sessions, "zhang", site_id=city.sites["shop_a"])
    assert view.visit.flags == {"no_position": True} and view.visit.flagged
    assert view.visit.distance_m is None


async def test_qr_check_in(sessions: Sessions, city: Field) -> None:
    view = await _check_in(sessions, "zhang", qr_token=city.qr["shop_a"])
    assert view.visit.method == "qr" and view.site.code == "shop_a"
    assert view.visit.flags == {} and not view.visit.flagged  # the code proves presence
    await _check_out(sessions, "zhang", view.visit.id)
    far = north_of("shop_a", 2_000)
    view = await _check_in(sessions, "zhang", qr_token="rounds:checkin:" + city.qr["shop_a"],
                           position=Position(*far, 5))  # the code's payload as scanned
    assert view.visit.flags == {"far": True}  # a photographed code scanned elsewhere


async def test_sites_out_of_scope_are_not_found(sessions: Sessions, city: Field) -> None:
    for kw in ({"site_id": city.sites["shop_b"]}, {"qr_token": city.qr["shop_b"]},
               {"site_id": city.sites["shop_c"]}, {"site_id": 999_999},
               {"qr_token": "no-such-code"}):
        with pytest.raises(NotFound):
            await _check_in(sessions, "zhang", **kw)
    # The station head's scope is the north station's shops, assigned or not.
    view = await _check_in(sessions, "zhao", site_id=city.sites["shop_c"])
    assert view.site.code == "shop_c"


async def test_roles_without_check_in_are_refused(sessions: Sessions, city: Field) -> None:
    for who in ("qian", "admin"):
        with pytest.raises(Forbidden):
            await _check_in(sessions, who, site_id=city.sites["shop_a"])


async def test_one_open_visit_at_a_time(sessions: Sessions, city: Field) -> None:
    first = await _check_in(sessions, "zhang", qr_token=city.qr["shop_a"])
    with pytest.raises(VisitAlreadyOpen) as exc:
        await _check_in(sessions, "zhang", qr_token=city.qr["shop_a"])
    assert exc.value.visit_id == first.visit.id and exc.value.status == 409
    async with sessions() as db:
        current = await service.current_visit(db, await principal(db, "zhang"))
    assert current is not None and current.visit.id == first.visit.id


async def test_racing_check_ins_open_one_visit(sessions: Sessions, city: Field) -> None:
    results = await asyncio.gather(*(
        _check_in(sessions, "zhang", qr_token=city.qr["shop_a"]) for _ in range(12)),
        return_exceptions=True)
    opened = [r for r in results if isinstance(r, service.VisitView)]
    refused = [r for r in results if isinstance(r, VisitAlreadyOpen)]
    assert len(opened) == 1 and len(refused) == 11, results
    async with sessions() as db:
        count = (await db.execute(select(func.count()).select_from(Visit))).scalar_one()
    assert count == 1


async def test_check_out_records_the_duration(sessions: Sessions, city: Field) -> None:
    start = utcnow() - timedelta(minutes=25, seconds=3)
    async with transaction(sessions) as db:
        view = await service.check_in(db, await principal(db, "zhang"),
                                      qr_token=city.qr["shop_a"])
        view.visit.checked_in_at = start
    out = await _check_out(sessions, "zhang", view.visit.id)
    assert out.visit.checked_out_at is not None
    assert out.visit.duration_s is not None and 1503 <= out.visit.duration_s <= 1510
    with pytest.raises(VisitClosed):
        await _check_out(sessions, "zhang", view.visit.id)
    with pytest.raises(NotFound):  # not someone else's
        await _check_out(sessions, "wang", view.visit.id)
    # Closed: a new check-in may start.
    again = await _check_in(sessions, "zhang", qr_token=city.qr["shop_a"])
    assert again.visit.id != view.visit.id


async def test_who_sees_which_visits(sessions: Sessions, city: Field) -> None:
    far = north_of("shop_a", 1_000)
    mine = await _check_in(sessions, "zhang", site_id=city.sites["shop_a"],
                           position=Position(*far, 10))
    theirs = await _check_in(sessions, "wang", qr_token=city.qr["shop_b"])
    async with sessions() as db:
        zhang, wang, zhao = [await principal(db, n) for n in ("zhang", "wang", "zhao")]
        assert (await service.get_visit(db, zhang, mine.visit.id)).visit.id == mine.visit.id
        with pytest.raises(NotFound):
            await service.get_visit(db, wang, mine.visit.id)
        assert (await service.get_visit(db, zhao, mine.visit.id)).visit.flagged
        with pytest.raises(NotFound):  # south is not the north station head's
            await service.get_visit(db, zhao, theirs.visit.id)
        flagged, total = await service.flagged_visits(db, zhao)
        assert total == 1 and [v.visit.id for v in flagged] == [mine.visit.id]
        with pytest.raises(Forbidden):
            await service.flagged_visits(db, zhang)
        listed, total = await service.list_visits(db, zhang)
        assert total == 1 and listed[0].visit.id == mine.visit.id


async def test_forms_of_a_visit(sessions: Sessions, city: Field) -> None:
    view = await _check_in(sessions, "zhang", qr_token=city.qr["shop_a"])
    async with sessions() as db:
        _, forms = await service.visit_forms(db, await principal(db, "zhang"), view.visit.id)
    # The role's standards, then its surveys (the market survey campaigns' form).
    assert [f.definition_id for f in forms] == ["customer_manager_visit", "market_price_stock"]
    assert forms[0].version == 1 and len(forms[0].content_hash) == 64


async def test_the_database_itself_refuses_a_second_open_visit(sessions: Sessions, city: Field
                                                                ) -> None:
    """The partial unique index, without the service's own check in front of it."""
    from rounds.runtime.sql import insert_or_nothing

    row = {"user_id": city.users["zhang"], "site_id": city.sites["shop_a"], "method": "qr",
           "checked_in_at": utcnow(), "flags": {}, "flagged": False}
    async with transaction(sessions) as db:
        table: Any = Visit.__table__
        stmt = insert_or_nothing(db, table).values(row).returning(table.c.id)
        assert (await db.execute(stmt)).scalar_one_or_none() is not None
        assert (await db.execute(stmt)).scalar_one_or_none() is None
        # A closed visit does not count: the index covers open visits only.
        closed = {**row, "checked_out_at": utcnow(), "duration_s": 0}
        stmt = insert_or_nothing(db, table).values(closed).returning(table.c.id)
        assert (await db.execute(stmt)).scalar_one_or_none() is not None
