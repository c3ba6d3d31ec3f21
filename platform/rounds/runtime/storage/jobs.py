"""Background work of the storage slice: photos nobody uses are deleted after a day.

A photo is uploaded when it is chosen, before the form is sent; one that is removed again,
a signature drawn anew, a form never sent leave photos that no submission or issue refers
to. Beat runs ``rounds.storage.delete_unused_photos`` every
``ROUNDS_UPLOADS_CLEANUP_SECONDS`` (an hour); it deletes those older than
``ROUNDS_UPLOADS_ORPHAN_HOURS`` (a day), in batches, rows first and files after the commit.
Idempotent: a second run, or two at once, deletes nothing twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task

from rounds.db import transaction, utcnow
from rounds.jobs.celery_app import RETRY_POLICY, current_app, run, sessions
from rounds.runtime.storage import service
from rounds.runtime.storage.store import photo_store
from rounds.settings import Settings

log = logging.getLogger("rounds.storage")
BATCHES_PER_RUN = 20
BATCH = 500


@shared_task(name="rounds.storage.delete_unused_photos", **RETRY_POLICY)
def delete_unused_photos() -> int:
    """Delete unused photos older than the setting; how many were deleted."""
    settings: Settings = current_app().conf.rounds_settings

    async def go() -> int:
        store = photo_store(settings.data_dir)
        older_than = timedelta(hours=settings.uploads.orphan_hours)
        total = 0
        for _ in range(BATCHES_PER_RUN):  # short transactions; the rest waits for next time
            now = utcnow()
            async with transaction(sessions()) as db:
                deleted, keys = await service.delete_unused_photos(
                    db, now=now, older_than=older_than, batch=BATCH)
            await service.remove_files(store, keys, unless_put_since=now - older_than)
            total += deleted
            if deleted < BATCH:
                break
        if total:
            log.info("deleted %d unused photos", total)
        return total

    return run(go())
