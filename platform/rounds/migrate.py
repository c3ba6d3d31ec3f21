"""Schema migrations, run from code (``rounds db upgrade``, the app's start, the tests).

The core's revisions are one line (``migrations/versions``). Each enabled extension brings
a branch of its own (:mod:`rounds.extensions`): its first revision has the extension's name
as branch label and depends on the core revision it builds on. :func:`upgrade` brings the
core to its head, then each enabled extension's branch to its head; a disabled extension's
tables are never made.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

if TYPE_CHECKING:
    from rounds.extensions import Active

CORE_VERSIONS = Path(str(resources.files("rounds") / "migrations" / "versions"))


def alembic_config(url: str, extra_versions: Sequence[Path] = ()) -> Config:
    """Alembic's configuration for ``url``: the core's revisions and ``extra_versions``
    (enabled extensions' folders)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("rounds") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations",
                        os.pathsep.join(str(p) for p in (CORE_VERSIONS, *extra_versions)))
    return cfg


@functools.cache
def core_head() -> str:
    """The core's newest revision (read once: they are files)."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def extension_heads(active: Active) -> frozenset[str]:
    """The newest revision of each enabled extension's branch."""
    dirs = active.migration_dirs()
    if not dirs:
        return frozenset()
    script = ScriptDirectory.from_config(alembic_config("sqlite://", dirs))
    return frozenset(script.get_heads()) - {core_head()}


def reached(current: set[str], active: Active | None = None) -> set[str]:
    """The revisions a database at ``current`` (its ``alembic_version`` rows) has applied:
    those and all they build on. An extension's branch depends on a core revision, so a
    database at the extension's head is at the core's too, with one row for both. Rows
    unknown here (a disabled extension's) are left out."""
    script = ScriptDirectory.from_config(
        alembic_config("sqlite://", active.migration_dirs() if active is not None else []))
    revisions = {s.revision for s in script.walk_revisions()}
    known = tuple(r for r in current if r in revisions)
    return {r.revision for r in script.revision_map.iterate_revisions(
        known, "base", inclusive=True)} if known else set()


def upgrade(url: str, revision: str = "head", *, extensions: Active | None = None) -> None:
    """Bring the database at ``url`` to ``revision`` (``head``: the core's newest), then
    each extension of ``extensions`` to its branch's newest. Synchronous: from async code,
    run it in a thread (Alembic's environment starts its own event loop)."""
    dirs = extensions.migration_dirs() if extensions is not None else []
    cfg = alembic_config(url, dirs)
    try:
        command.upgrade(cfg, core_head() if revision == "head" else revision)
        for ext in (extensions.extensions if extensions is not None else ()):
            if ext.migrations is not None:
                command.upgrade(cfg, f"{ext.name}@head")
    except CommandError as exc:
        if "Can't locate revision" in str(exc):
            raise CommandError(
                f"{exc}: the database has revisions Rounds does not know here, most likely "
                "an extension's that is not enabled now: enable it again "
                "(ROUNDS_EXTENSIONS_ENABLED) to migrate this database") from exc
        raise


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)
