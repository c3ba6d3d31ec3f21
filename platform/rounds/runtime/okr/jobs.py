"""Background work of the OKR slice: closed periods are frozen by the periodic
reconciliation (beat's ``rounds.reconcile``), once each; see ``freeze``."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import utcnow
from rounds.jobs import maintenance
from rounds.jobs.celery_app import current_app
from rounds.runtime.okr import freeze
from rounds.settings import Settings


async def freeze_closed_periods(db: AsyncSession) -> int:
    """Grade and freeze each OKR period that is over and closed in the store."""
    settings: Settings = current_app().conf.rounds_settings
    return await freeze.freeze_due(db, now=utcnow(), tz=settings.tz)


maintenance.register(freeze_closed_periods)
