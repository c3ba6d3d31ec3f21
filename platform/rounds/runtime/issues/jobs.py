"""Background work of the issues slice: the closed loop keeps going outside requests.

The periodic reconciliation (beat's ``rounds.reconcile``, every
``ROUNDS_JOBS_RECONCILE_SECONDS``) recomputes from the database what is due: issues for
failed items that have none yet, reminders of issues due soon, escalations of overdue ones.
Each is idempotent (it only does what the rows say is still to do), so a lost message, a
retried task or two workers at once change nothing.

A submission's issues are made in the transaction that stored it (``bulk``); the
reconciliation repairs any submission left without them. ``rounds.issues.for_submission``
does one submission's issues in a worker, for whoever sends that task (nothing in Rounds
sends it today: an operator, or a test).
"""

from __future__ import annotations

import logging

from celery import shared_task
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import utcnow
from rounds.jobs import maintenance
from rounds.jobs.celery_app import RETRY_POLICY, TRANSIENT_ERRORS, run, sessions
from rounds.runtime.issues import deadlines, sources
from rounds.runtime.notifications.jobs import push_now
from rounds.runtime.sql import retry_busy, write_transaction

log = logging.getLogger("rounds.issues")


async def create_missing_issues(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Issues for failed items that have none (the request's background work failed or was
    lost: a crash after the submission's commit), in short
    transactions of a few submissions each, so that it goes on while people submit."""
    done = await sources.reconcile_missing_issues(sessions, utcnow())
    if done.failed:
        raise maintenance.Incomplete(done.made, done.summary())
    return done.made


async def remind_due_soon(db: AsyncSession) -> int:
    """Remind assignees of issues due within a day (once per issue)."""
    return await deadlines.remind_due_soon(db, utcnow())


async def escalate_overdue(db: AsyncSession) -> int:
    """Escalate overdue issues a level up (once per level)."""
    return await deadlines.escalate_overdue(db, utcnow())


maintenance.register(create_missing_issues, own_transactions=True)
for _fn in (remind_due_soon, escalate_overdue):
    maintenance.register(_fn)


@shared_task(name="rounds.issues.for_submission", **RETRY_POLICY)
def for_submission(submission_id: str) -> int:
    """Open the issues of a submission's failed items, and notify (idempotent: a failed item
    has one issue at most). Returns how many issues it opened."""
    async def create() -> int:
        async with write_transaction(sessions()) as db:
            return await sources.create_issues_for_submission(db, submission_id, utcnow())

    async def go() -> int:
        created = await retry_busy(create)
        try:
            await push_now()  # after the commit: the rows exist for anyone the push reaches
        except TRANSIENT_ERRORS:  # not worth redoing the task for: the next tick pushes them
            log.warning("pushing the notifications of submission %s failed", submission_id,
                        exc_info=True)
        return created

    return run(go())

