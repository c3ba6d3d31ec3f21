"""Extension modules: flows a company adds as installed packages, never as core changes.

An extension is a Python distribution that declares an entry point in the group
``rounds.extensions`` naming an :class:`Extension` (or a function of no arguments that
returns one)::

    [project.entry-points."rounds.extensions"]
    business_licence = "rounds_business_licence:extension"

It may contribute definitions (a folder of JSON validated and imported with the others),
rule operations (the typed registry of :mod:`rounds.rules.operations`), metrics for the OKR
catalogue, capabilities for roles, tables with an Alembic branch of their own, web handlers
and pages, job modules and periodic entries, words (gettext catalogues), menu entries, and
panels on the pages of a site (:mod:`rounds.runtime.sites.panels`).

Which are enabled is ``ROUNDS_EXTENSIONS_ENABLED`` (names, comma-separated). :func:`activate`
loads them once per process, before the app, the worker, the migrations or the CLI use
anything: an extension that is not installed, fails to import, or contributes what clashes
with the core (an operation or metric name taken) stops the start with an
:class:`ExtensionError` naming it and why, so there is never a half-started server.

Operations, metrics, capabilities and words are process-wide registries (rules are compiled
and cached per process by content), so one process serves one set of extensions: an
installation's. The core imports no extension; this module finds them by entry point.

Composition: like :mod:`rounds.slices`, it may import any part of the core.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from rounds.definitions.metrics import Metric
from rounds.rules.operations import Operation

GROUP = "rounds.extensions"


class ExtensionError(RuntimeError):
    """An extension that cannot be used: the start stops with this message."""

    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"extension {name!r}: {why}")
        self.name = name
        self.why = why


@dataclass(frozen=True)
class MenuEntry:
    """A link in the navigation of the field pages, shown to whoever has ``capability``
    (any signed-in user when empty). ``label`` is ``{"zh": …, "en": …}``."""

    href: str
    label: Mapping[str, str]
    capability: str = ""


@dataclass(frozen=True)
class Extension:
    """What an extension contributes. Every part is optional but the name and title.

    - ``definitions``: a folder of JSON definitions (site kinds, roles, standards, surveys,
      OKRs), validated and synced together with ``ROUNDS_DEFINITIONS_DIR``'s.
    - ``operations``, ``metrics``, ``capabilities``: added to the core's registries.
    - ``models``: modules that declare the extension's tables on :data:`rounds.db.Base`;
      ``migrations``: the folder of its Alembic revisions, one branch whose first revision
      has ``branch_labels = (name,)`` and ``depends_on`` the core revision it builds on.
    - ``handlers``: ``settings -> route handlers`` (API and pages), added to the app.
    - ``task_modules``: modules the job worker imports (Celery tasks, reconcilers);
      ``schedule``: ``settings -> beat entries`` (Celery's ``beat_schedule`` format).
    - ``locale``: a folder ``<lang>/LC_MESSAGES/<domain>.po`` of the extension's words.
    - ``menu``: links for the navigation of the field pages.
    - ``hooks``: modules imported on activation that fill the core's hooks (a site's
      panels, a check-out, ...), as :mod:`rounds.slices` does for the core's slices.
    - ``demo``: the extension's part of the demo city.
    """

    name: str
    title: Mapping[str, str]
    distribution: str = ""  # the installed distribution's name, for its version
    definitions: Path | None = None
    operations: Sequence[Operation] = ()
    metrics: Sequence[Metric] = ()
    capabilities: Sequence[str] = ()
    # Role id → capabilities (the extension's) that role has while the extension is
    # enabled: a role's definition cannot name them (it must validate without it).
    grants: Mapping[str, Sequence[str]] = field(default_factory=dict)
    models: Sequence[str] = ()
    migrations: Path | None = None
    handlers: Callable[[Any], Sequence[Any]] | None = None
    task_modules: Sequence[str] = ()
    schedule: Callable[[Any], Mapping[str, dict[str, Any]]] | None = None
    locale: Path | None = None
    # Files served at /static/extensions/<name>/; an ``operations.js`` there exporting
    # ``operations`` ({name: function}) gives the browser's rule engine the operations.
    static: Path | None = None
    menu: Sequence[MenuEntry] = ()
    hooks: Sequence[str] = ()
    # ``async (db, now) -> None``: the extension's part of the demo city (``rounds demo``).
    demo: Callable[[Any, Any], Awaitable[None]] | None = None
    version: str = field(default="", compare=False)

    def contributes(self) -> dict[str, list[str]]:
        """What it adds, by part (``rounds extensions list``)."""
        out: dict[str, list[str]] = {}
        if self.definitions is not None:
            out["definitions"] = sorted(p.stem for p in self.definitions.rglob("*.json"))
        if self.operations:
            out["operations"] = [op.name for op in self.operations]
        if self.metrics:
            out["metrics"] = [m.id for m in self.metrics]
        if self.capabilities:
            out["capabilities"] = list(self.capabilities)
        if self.grants:
            out["grants"] = [f"{role} {'+'.join(caps)}" for role, caps in self.grants.items()]
        if self.models:
            out["tables"] = sorted(_tables(self))
        if self.migrations is not None:
            out["migrations"] = sorted(p.stem for p in self.migrations.glob("*.py")
                                       if not p.stem.startswith("_"))
        if self.handlers is not None:
            out["routes"] = sorted(_routes(self))
        if self.task_modules or self.schedule is not None:
            out["jobs"] = list(self.task_modules)
        if self.menu:
            out["menu"] = list(dict.fromkeys(m.href for m in self.menu))
        return out


def _tables(ext: Extension) -> set[str]:
    from rounds.db import Base

    modules = tuple(ext.models)
    return {t.name for t in Base.metadata.tables.values()
            if any(getattr(m, "__module__", "").startswith(modules)
                   for m in Base.registry._class_registry.values()
                   if getattr(m, "__table__", None) is t)}


def _routes(ext: Extension) -> set[str]:
    from litestar import Router

    from rounds.settings import load_settings

    assert ext.handlers is not None
    # Handlers, controllers and routers alike: the paths a router made of them serves.
    router = Router(path="/", route_handlers=list(ext.handlers(load_settings())))
    return {route.path for route in router.routes}


def enabled_names(setting: str) -> list[str]:
    """``ROUNDS_EXTENSIONS_ENABLED`` as names, in order, each once."""
    names: list[str] = []
    for part in setting.split(","):
        name = part.strip()
        if name and name not in names:
            names.append(name)
    return names


def installed() -> dict[str, metadata.EntryPoint]:
    """Every extension installed in this environment, by name."""
    return {ep.name: ep for ep in metadata.entry_points(group=GROUP)}


def load(name: str, entry_point: metadata.EntryPoint | None = None) -> Extension:
    """Import one extension: an :class:`ExtensionError` names it and says why it failed."""
    ep = entry_point or installed().get(name)
    if ep is None:
        known = ", ".join(sorted(installed())) or "none"
        raise ExtensionError(name, f"not installed (installed: {known})")
    try:
        found = ep.load()
        ext = found() if callable(found) and not isinstance(found, Extension) else found
    except Exception as exc:  # an extension's bug must not look like ours
        raise ExtensionError(name, f"failed to load: {type(exc).__name__}: {exc}") from exc
    if not isinstance(ext, Extension):
        raise ExtensionError(name, f"{ep.value} is not a rounds.extensions.Extension")
    if ext.name != name:
        raise ExtensionError(name, f"its entry point is named {name!r} but the extension "
                                   f"calls itself {ext.name!r}")
    version = ""
    dist = ext.distribution or (ep.dist.name if ep.dist is not None else "")
    if dist:
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            version = ""
    for part, folder in (("definitions", ext.definitions), ("migrations", ext.migrations),
                         ("locale", ext.locale), ("static", ext.static)):
        if folder is not None and not folder.is_dir():
            raise ExtensionError(name, f"its {part} folder {folder} does not exist")
    from dataclasses import replace

    return replace(ext, version=version)


@dataclass(frozen=True, eq=False)  # one per set of names (activate): compared by identity
class Active:
    """The extensions this process runs with, in the order enabled."""

    extensions: tuple[Extension, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.extensions)

    def definition_dirs(self) -> list[Path]:
        return [e.definitions for e in self.extensions if e.definitions is not None]

    def migration_dirs(self) -> list[Path]:
        return [e.migrations for e in self.extensions if e.migrations is not None]

    def handlers(self, settings: Any) -> list[Any]:
        return [h for e in self.extensions if e.handlers is not None
                for h in e.handlers(settings)]

    def task_modules(self) -> list[str]:
        return [m for e in self.extensions for m in e.task_modules]

    def schedule(self, settings: Any) -> dict[str, dict[str, Any]]:
        entries: dict[str, dict[str, Any]] = {}
        for e in self.extensions:
            if e.schedule is not None:
                entries.update({f"{e.name}.{k}": v for k, v in e.schedule(settings).items()})
        return entries

    def browser_operations(self) -> list[str]:
        """The extensions whose ``static/operations.js`` the browser's rules import."""
        return [e.name for e in self.extensions
                if e.static is not None and (e.static / "operations.js").is_file()]

    def menu(self) -> list[MenuEntry]:
        return [m for e in self.extensions for m in e.menu]


_lock = threading.Lock()
_active: dict[tuple[str, ...], Active] = {}


def activate(setting: str) -> Active:
    """Load and register the extensions ``setting`` (``ROUNDS_EXTENSIONS_ENABLED``) names.

    Idempotent: the same names again give the same :class:`Active`. Everything is checked
    before anything is registered, so a failure leaves the registries as they were.
    """
    names = tuple(enabled_names(setting))
    with _lock:
        if names in _active:
            return _active[names]
        found = installed()
        loaded = [load(name, found.get(name)) if name in found else load(name)
                  for name in names]
        _check_clashes(loaded)
        for ext in loaded:
            _register(ext)
        active = Active(tuple(loaded))
        _active[names] = active
        return active


def _check_clashes(loaded: Sequence[Extension]) -> None:
    from rounds.definitions import capabilities
    from rounds.definitions.metrics import CATALOGUE
    from rounds.rules.operations import JSONLOGIC_OPERATIONS, default_registry

    for ext in loaded:
        for op in ext.operations:
            taken = default_registry.get(op.name)
            if op.name in JSONLOGIC_OPERATIONS or (taken is not None and taken != op):
                raise ExtensionError(ext.name, f"operation {op.name!r} is taken")
        for m in ext.metrics:
            if m.id in CATALOGUE and CATALOGUE[m.id] != m:
                raise ExtensionError(ext.name, f"metric {m.id!r} is taken")
        for c in ext.capabilities:
            if not capabilities.well_formed(c):
                raise ExtensionError(ext.name, f"capability {c!r} is not area.action "
                                               "(lower case letters and _)")
        for role_id, caps in ext.grants.items():
            for c in caps:
                if c not in ext.capabilities:
                    raise ExtensionError(ext.name, f"grants {c!r} to {role_id!r}, but an "
                                                   "extension grants only its own capabilities")
        for module in (*ext.models, *ext.hooks):
            try:
                importlib.import_module(module)
            except Exception as exc:
                raise ExtensionError(ext.name, f"module {module} failed to import: "
                                               f"{type(exc).__name__}: {exc}") from exc


def _register(ext: Extension) -> None:
    from rounds import i18n
    from rounds.definitions import capabilities
    from rounds.definitions.metrics import register_metric
    from rounds.rules.operations import default_registry

    for op in ext.operations:
        if default_registry.get(op.name) is None:
            default_registry.register(op)
    for m in ext.metrics:
        register_metric(m)
    for c in ext.capabilities:
        capabilities.register(c)
    for role_id, caps in ext.grants.items():
        for c in caps:
            capabilities.grant(role_id, c)
    if ext.locale is not None:
        i18n.add_locale_dir(ext.locale)


def activate_from(settings: Any) -> Active:
    """:func:`activate` with ``settings.extensions.enabled``."""
    return activate(settings.extensions.enabled)
