"""The periodic work of licence applications, as reconcilers of the core's periodic
reconciliation (``rounds.reconcile``): each recomputes from the rows what is due and is
idempotent (a column per application, and the notices' own keys)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import utcnow
from rounds.jobs import maintenance
from rounds.settings import load_settings
from rounds_retail_licence import service


async def licence_deadlines(db: AsyncSession) -> int:
    """Remind reviewers before an application's statutory limit; escalate once it passed."""
    return await service.remind_and_escalate(db, utcnow(), load_settings().tz)


async def licence_renewals(db: AsyncSession) -> int:
    """Tell shops 90 and 30 days before their licence expires."""
    return await service.remind_renewals(db, utcnow(), load_settings().tz)


maintenance.register(licence_deadlines)
maintenance.register(licence_renewals)
