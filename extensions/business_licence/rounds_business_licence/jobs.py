"""The extension's background work: before a licence expires, its issue is opened by the
periodic reconciliation (beat's ``rounds.reconcile``), with the core's other reconcilers
(idempotent: see ``service.open_expiry_issues``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import utcnow
from rounds.jobs import maintenance
from rounds.jobs.celery_app import current_app
from rounds.settings import Settings
from rounds_business_licence import service


async def open_licence_expiry_issues(db: AsyncSession) -> int:
    """An issue for each licence that expires within 30 days and has none yet."""
    settings: Settings = current_app().conf.rounds_settings
    return await service.open_expiry_issues(db, utcnow(), settings.tz)


maintenance.register(open_licence_expiry_issues)
