"""Housekeeping tasks and the periodic reconciliation that makes lost messages harmless."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

log = logging.getLogger("rounds.jobs")

# Each slice that has work to recompute from the database registers a reconciler: an async
# function that does what is due and returns how much it did. By default it is given a
# session in a write transaction of its own; ``own_transactions`` reconcilers are given the
# session factory instead, for work done in many short transactions.
RECONCILERS: list[Any] = []
_LAST: list[Any] = []  # registered with last=True: kept after all the others
_OWN: list[Any] = []  # registered with own_transactions=True


class Incomplete(Exception):
    """A reconciler did part of its work: ``done`` items, and ``reason`` (one line) for the
    rest. The tick is reported failed; the next one tries the rest again."""

    def __init__(self, done: int, reason: str) -> None:
        super().__init__(reason)
        self.done, self.reason = done, reason


class TickFailed(Exception):
    """A reconciliation tick in which some reconciler failed: the task fails (the others'
    work is committed). Expected, so Celery logs it in one line, without a traceback."""


def register(fn: Any, *, last: bool = False, own_transactions: bool = False) -> Any:
    """Add a reconciler (once). ``last``: run after the others, whatever the import order
    (the publisher of notifications, so that it pushes what they made in the same tick)."""
    if fn not in RECONCILERS:
        if last:
            _LAST.append(fn)
        if own_transactions:
            _OWN.append(fn)
        RECONCILERS.append(fn)
        RECONCILERS.sort(key=lambda f: f in _LAST)  # stable: the order within each group stays
    return fn


def _one_line(exc: BaseException) -> str:
    text = exc.reason if isinstance(exc, Incomplete) else " ".join(str(exc).split())[:300]
    return text if isinstance(exc, Incomplete) else f"{type(exc).__name__}: {text}"


@shared_task(name="rounds.reconcile", acks_late=True, throws=(TickFailed,))
def reconcile() -> dict[str, int]:
    """Do whatever is due according to the database (reminders, escalations, deliveries).

    Each reconciler in short transactions of its own (on SQLite queued with the other
    writers and retried while the database is busy), and one failing does not stop the
    others: they are independent, and the next tick tries the failed one again. A tick in
    which any failed fails (``TickFailed``), with one log line saying what and why."""
    from rounds.jobs.celery_app import run, sessions
    from rounds.runtime.sql import retry_busy, write_transaction

    async def go() -> tuple[dict[str, int], dict[str, str]]:
        done: dict[str, int] = {}
        failed: dict[str, str] = {}
        for fn in RECONCILERS:
            name = fn.__name__
            try:
                if fn in _OWN:
                    done[name] = int(await fn(sessions()))
                else:
                    async def once(fn: Any = fn) -> int:
                        async with write_transaction(sessions()) as db:
                            return int(await fn(db))

                    done[name] = await retry_busy(once)
            except Incomplete as exc:
                done[name] = exc.done
                failed[name] = _one_line(exc)
            except Exception as exc:
                log.debug("reconciler %s failed", name, exc_info=True)
                failed[name] = _one_line(exc)
        return done, failed

    result, failed = run(go())
    if failed:
        reasons = "; ".join(f"{name} could not finish: {why}" for name, why in failed.items())
        log.error("reconcile tick failed (done: %s): %s", result, reasons)
        raise TickFailed(", ".join(failed))
    return result


@shared_task(name="rounds.ping", acks_late=True)
def ping(value: str) -> str:
    """A task that only answers: used to check that a worker is there."""
    return value
