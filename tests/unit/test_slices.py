"""What runs the product loads every slice, so the hooks higher slices fill in lower ones
are in place whichever module a caller happened to import first."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import {entry}
from rounds.runtime.storage import access
from rounds.runtime.submissions import service
print(sorted(use.__module__ for use in access._USES), len(service.failed_items_hooks()),
      [hook.__module__ for hook in service.with_failed_items_hooks()])
"""


@pytest.mark.parametrize("entry", ["rounds.app", "rounds.demo", "rounds.jobs.celery_app"])
def test_each_entry_point_fills_every_hook(entry: str) -> None:
    code = PROBE.format(entry=entry)
    if entry == "rounds.jobs.celery_app":  # the worker imports its task modules at start
        code = code.replace("from rounds.runtime.storage", "import importlib\n"
                            "from rounds.jobs.celery_app import TASK_MODULES\n"
                            "[importlib.import_module(m) for m in TASK_MODULES]\n"
                            "from rounds.runtime.storage", 1)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    # A submission's issues are made in its transaction (issues.bulk), none after it.
    assert out == ("['rounds.runtime.issues.queries', 'rounds.runtime.submissions.service'] 0 "
                   "['rounds.runtime.issues.bulk']")


def test_the_storage_slice_alone_pulls_in_no_higher_slice() -> None:
    code = ("from rounds.runtime.storage import access\n"
            "print(len(access._USES))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "0"  # storage alone: no hook, so visible_photo fails closed
