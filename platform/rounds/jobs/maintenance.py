"""Housekeeping tasks and the periodic reconciliation that makes lost messages harmless."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

log = logging.getLogger("rounds.jobs")

# Each slice that has work to recompute from the database registers a reconciler:
# an async function of a session that does what is due and returns how much it did.
RECONCILERS: list[Any] = []
_LAST: list[Any] = []  # registered with last=True: kept after all the others


def register(fn: Any, *, last: bool = False) -> Any:
    """Add a reconciler (once). ``last``: run after the others, whatever the import order
    (the publisher of notifications, so that it pushes what they made in the same tick)."""
    if fn not in RECONCILERS:
        if last:
            _LAST.append(fn)
        RECONCILERS.append(fn)
        RECONCILERS.sort(key=lambda f: f in _LAST)  # stable: the order within each group stays
    return fn


@shared_task(name="rounds.reconcile", acks_late=True)
def reconcile() -> dict[str, int]:
    """Do whatever is due according to the database (reminders, escalations, deliveries)."""
    from rounds.jobs.celery_app import run, sessions

    async def go() -> dict[str, int]:
        done: dict[str, int] = {}
        for fn in RECONCILERS:
            # Each in its own transaction, and one failing does not stop the others: they
            # are independent, and the next tick tries the failed one again.
            try:
                async with sessions()() as db, db.begin():
                    done[fn.__name__] = int(await fn(db))
            except Exception:
                log.exception("reconciler %s failed; the next tick tries again", fn.__name__)
                done[fn.__name__] = -1
        return done

    result = run(go())
    if any(result.values()):
        log.info("reconciled: %s", result)
    return result


@shared_task(name="rounds.ping", acks_late=True)
def ping(value: str) -> str:
    """A task that only answers: used to check that a worker is there."""
    return value
