"""``rounds doctor``: the readiness checks of ``/api/ready``, printed for a person."""

from __future__ import annotations

import asyncio
import sys

from rounds.ops.readiness import Check, run_checks
from rounds.settings import Settings


async def _checks(settings: Settings) -> list[Check]:
    from rounds.db import create_engine

    engine = create_engine(settings.database_url)
    try:
        return await run_checks(settings, engine)
    finally:
        await engine.dispose()


def _marks() -> tuple[str, str]:
    """✓ and ✗ where the terminal can print them, else ok and FAIL."""
    try:
        "✓✗".encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return "ok  ", "FAIL"
    return "✓", "✗"


def doctor(settings: Settings) -> int:
    checks = asyncio.run(_checks(settings))
    good, bad = _marks()
    width = max(len(c.name) for c in checks)
    for c in checks:
        print(f"{good if c.ok else bad} {c.name:<{width}}  {c.detail}")
    failed = [c.name for c in checks if not c.ok]
    if failed:
        print(f"not ready: {', '.join(failed)}", file=sys.stderr)
        return 1
    print("ready")
    return 0
