"""Check-in methods required by a role or a site kind, on SQLite and PostgreSQL: a GPS
check-in where QR is required is refused with a problem naming the method (nothing stored),
or accepted and flagged where the definition says so; the default takes either."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction
from rounds.definitions.loader import load_documents
from rounds.runtime.definitions.service import sync
from rounds.runtime.visits import service
from rounds.runtime.visits.models import Visit
from rounds.runtime.visits.service import CheckInMethodRefused, Position
from support.fieldwork import Field, north_of, principal, seed
from support.visit_rules import definitions_with_check_in

Sessions = async_sessionmaker[AsyncSession]


async def _city(sessions: Sessions, folder: Path) -> Field:
    docs, problems = load_documents([folder])
    assert not problems, problems
    async with transaction(sessions) as db:
        await sync(db, docs)
        return await seed(db)


async def _check_in(sessions: Sessions, **kw: Any) -> service.VisitView:
    async with transaction(sessions) as db:
        return await service.check_in(db, await principal(db, "zhang"), **kw)


async def _visits(sessions: Sessions) -> int:
    async with sessions() as db:
        return int((await db.execute(select(func.count()).select_from(Visit))).scalar_one())


def _near(city: Field) -> dict[str, Any]:
    return {"site_id": city.sites["shop_a"], "position": Position(*north_of("shop_a", 10), 5)}


async def test_a_gps_check_in_where_the_role_requires_qr_is_refused(
        sessions: Sessions, tmp_path: Path) -> None:
    city = await _city(sessions, definitions_with_check_in(tmp_path, role={"methods": ["qr"]}))
    with pytest.raises(CheckInMethodRefused) as exc:
        await _check_in(sessions, **_near(city))
    err = exc.value
    assert err.status == 422 and err.code == "check_in_method"
    assert "GPS check-in is not accepted" in err.detail and "QR code" in err.detail
    assert "customer_manager" in err.detail  # whose rule it is
    [problem] = err.problems
    assert problem.pointer == "/qr_token" and problem.code == "check_in_method"
    assert problem.params == {"method": "gps", "allowed": ["qr"], "required_by": "role"}
    assert await _visits(sessions) == 0
    view = await _check_in(sessions, qr_token=city.qr["shop_a"])  # the code is accepted
    assert view.visit.method == "qr" and view.visit.flags == {}


async def test_the_flag_instead_variant_accepts_and_flags(sessions: Sessions, tmp_path: Path
                                                          ) -> None:
    city = await _city(sessions, definitions_with_check_in(
        tmp_path, role={"methods": ["qr"], "other_method": "flag"}))
    view = await _check_in(sessions, **_near(city))
    assert view.visit.method == "gps" and view.visit.flagged
    assert view.visit.flags == {"method_not_allowed": True}


async def test_a_site_kind_can_require_gps(sessions: Sessions, tmp_path: Path) -> None:
    city = await _city(sessions, definitions_with_check_in(
        tmp_path, site_kind={"methods": ["gps"]}))
    with pytest.raises(CheckInMethodRefused) as exc:
        await _check_in(sessions, qr_token=city.qr["shop_a"])
    [problem] = exc.value.problems
    assert problem.pointer == "/gps" and problem.params["required_by"] == "site_kind"
    assert "the site kind 'retailer'" in exc.value.detail and "by GPS" in exc.value.detail
    assert await _visits(sessions) == 0
    view = await _check_in(sessions, **_near(city))
    assert view.visit.method == "gps" and not view.visit.flagged


async def test_both_the_role_and_the_site_kind_apply(sessions: Sessions, tmp_path: Path
                                                     ) -> None:
    # The role takes either; the retailer wants the code, and flags a GPS check-in.
    city = await _city(sessions, definitions_with_check_in(
        tmp_path, site_kind={"methods": ["qr"], "other_method": "flag"}))
    view = await _check_in(sessions, **_near(city))
    assert view.visit.flags == {"method_not_allowed": True}


async def test_either_method_by_default(sessions: Sessions, tmp_path: Path) -> None:
    city = await _city(sessions, definitions_with_check_in(tmp_path))
    view = await _check_in(sessions, **_near(city))
    assert view.visit.method == "gps" and view.visit.flags == {}
