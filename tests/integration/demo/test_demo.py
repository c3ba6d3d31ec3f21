"""The demo city on both databases: every page has something real to show at first start."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction
from rounds.definitions.loader import load_documents
from rounds.demo.city import build_city
from rounds.demo.work import build_month_of_work
from rounds.runtime.definitions import service as definitions
from rounds.runtime.sites.models import Site
from rounds.runtime.submissions.models import FailedItem, Submission
from rounds.runtime.visits.models import Visit
from rounds.runtime.visits.plans import generate_month_plans

REPO = Path(__file__).resolve().parents[3]


async def count(sessions: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessions() as db:
        return int((await db.execute(select(func.count()).select_from(model))).scalar_one())


async def test_demo_city_and_a_month_of_work(sessions: async_sessionmaker[AsyncSession],
                                             tmp_path: Path) -> None:
    docs, _ = load_documents([REPO / "definitions"])
    async with transaction(sessions) as db:
        await definitions.sync(db, docs)
    async with transaction(sessions) as db:
        city = await build_city(db, scale=0.05, progress=lambda _: None)
    assert await count(sessions, Site) == 100
    async with transaction(sessions) as db:
        plans = await generate_month_plans(db, "2026-11")
    assert plans.created > 0
    visits, submitted = await build_month_of_work(
        sessions, city, today=date(2026, 11, 16), data_dir=tmp_path, progress=lambda _: None)
    assert visits == await count(sessions, Visit) > 0
    assert submitted == await count(sessions, Submission) and submitted > visits * 0.9
    assert await count(sessions, FailedItem) > 0
    async with sessions() as db:
        scores = (await db.execute(select(Submission.percentage))).scalars().all()
        flagged = (await db.execute(select(func.count()).select_from(Visit)
                                    .where(Visit.flagged))).scalar_one()
    assert all(s is None or 0 <= s <= 100 for s in scores)
    assert len({round(s) for s in scores if s is not None}) > 5  # a spread, not one value
    assert flagged > 0  # some check-ins were too far or too vague, as in real life


async def test_demo_photos_load_for_the_station_head(sessions: async_sessionmaker[AsyncSession],
                                                     tmp_path: Path) -> None:
    """The demo's submissions link their photos as the API does: a station head opening a
    submission of their station sees its photos (and signature); a customer manager of
    another station does not."""
    from rounds.errors import NotFound
    from rounds.runtime.orgs.models import OrgUnit
    from rounds.runtime.people.auth import principal_for
    from rounds.runtime.people.models import User
    from rounds.runtime.storage.access import visible_photo
    from rounds.runtime.submissions.models import SubmissionPhoto

    docs, _ = load_documents([REPO / "definitions"])
    async with transaction(sessions) as db:
        await definitions.sync(db, docs)
    async with transaction(sessions) as db:
        city = await build_city(db, scale=0.05, progress=lambda _: None)
    async with transaction(sessions) as db:
        await generate_month_plans(db, "2026-11")
    await build_month_of_work(sessions, city, today=date(2026, 11, 16), data_dir=tmp_path,
                              progress=lambda _: None)
    async with sessions() as db:
        sub = (await db.execute(select(Submission).where(
            Submission.definition_id == "customer_manager_visit").order_by(Submission.id)
            .limit(1))).scalar_one()
        linked = set((await db.execute(select(SubmissionPhoto.photo_id).where(
            SubmissionPhoto.submission_id == sub.id))).scalars())
        signature = sub.answers["retailer_signature"]["photo"]
        assert signature in linked and len(linked) >= 1
        site = await db.get(Site, sub.site_id)
        assert site is not None
        unit = await db.get(OrgUnit, site.org_unit_id)
        assert unit is not None
        heads = (await db.execute(select(User).where(User.role_id == "station_head"))
                 ).scalars().all()
        paths = {i: p for i, p in (await db.execute(select(OrgUnit.id, OrgUnit.path))).all()}
        head = next(u for u in heads if unit.path.startswith(paths[u.org_unit_id]))
        other = next(u for u in (await db.execute(select(User).where(
            User.role_id == "customer_manager", User.id != sub.user_id))).scalars()
            if u.org_unit_id != site.org_unit_id)
        for pid in linked:
            assert (await visible_photo(db, await principal_for(db, head), pid)).id == pid
            with pytest.raises(NotFound):
                await visible_photo(db, await principal_for(db, other), pid)
