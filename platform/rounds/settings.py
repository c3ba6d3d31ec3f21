"""Typed settings, read from ``ROUNDS_*`` environment variables when the app is created.

Every setting has a default that works on a fresh machine (SQLite in ``./var``, no broker to
install). ``docs/settings.md`` lists them all; ``rounds settings`` prints the values in force.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import time
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rounds import i18n

ENV_PREFIX = "ROUNDS_"


@dataclass(frozen=True)
class DatabaseSettings:
    """ROUNDS_DATABASE_URL: SQLAlchemy URL. Default: a SQLite file in the data folder.
    Production: ``postgresql+asyncpg://user@host/dbname``.
    ROUNDS_DATABASE_ECHO: log every SQL statement (true/false).
    ROUNDS_DATABASE_GROUP_COMMIT: the most submissions an API process stores in one write
    transaction (group commit; default 64; 1: no group commit, each request its own
    transaction)."""

    url: str = ""
    echo: bool = False
    group_commit: int = 64


@dataclass(frozen=True)
class ServerSettings:
    """ROUNDS_SERVER_HOST / ROUNDS_SERVER_PORT: where `rounds up` and `rounds serve` listen.
    ROUNDS_SERVER_WORKERS: API processes `rounds serve` runs (default 1; more need
    ROUNDS_REDIS_URL, so that a push made in one process reaches pages open on another).
    ROUNDS_SERVER_DRAIN_SECONDS: on SIGTERM or SIGINT, how long in-flight requests are given
    to finish (live streams end at once), and then under `rounds up` its worker its task,
    before they are stopped (default 20)."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    drain_seconds: int = 20


@dataclass(frozen=True)
class RedisSettings:
    """ROUNDS_REDIS_URL: when set (``redis://127.0.0.1:6379/0``), live notifications (SSE)
    fan out through Redis, so that any number of API processes and workers can publish to
    any open page. Unset: in process memory (one API process)."""

    url: str = ""


def redis_prefix(redis_url: str) -> str:
    """What goes before the names Rounds gives Redis channels and keys: nothing in memory;
    with Redis the database number.

    Redis pub/sub channels are global to the server, whatever database number a client
    selected; naming the number keeps installations (and test runs) that share a server on
    different database numbers from hearing each other.
    """
    if not redis_url:
        return ""
    url = urlparse(redis_url)
    db = (parse_qs(url.query).get("db") or [url.path.strip("/") or "0"])[0]
    return f"rounds.db{db}."


@dataclass(frozen=True)
class JobsSettings:
    """ROUNDS_JOBS_BROKER_URL: Celery broker. Default: kombu's SQLAlchemy transport on a
    SQLite file in the data folder (no server to install). Production: ``redis://...`` or
    ``amqp://...``.
    ROUNDS_JOBS_RECONCILE_SECONDS: how often beat runs the reconciliation (reminders,
    escalations, missed pushes); default 60.
    ROUNDS_JOBS_VISIBILITY_TIMEOUT: on Redis, seconds after which a task a dead worker had
    taken is given to another (longer than the slowest task); default 300.
    ROUNDS_JOBS_SCHEDULE_LOCK_SECONDS: the one-schedule guard: a beat holds a lock in the
    database and renews it; a second beat waits until it expires this long after its
    holder's last renewal (default 60)."""

    broker_url: str = ""
    reconcile_seconds: int = 60
    visibility_timeout: int = 300
    schedule_lock_seconds: int = 60


@dataclass(frozen=True)
class UploadsSettings:
    """Photo uploads (see docs/settings.md).
    ROUNDS_UPLOADS_MAX_MEGAPIXELS: larger images are refused before decoding (default 50).
    ROUNDS_UPLOADS_PER_MINUTE: uploads a user may try per minute, refused ones too (30).
    ROUNDS_UPLOADS_DAILY_QUOTA_MB: MB of photos a user may store in any 24 hours (300).
    ROUNDS_UPLOADS_ORPHAN_HOURS: a photo no submission or issue uses is deleted after this
    many hours (24).
    ROUNDS_UPLOADS_CLEANUP_SECONDS: how often beat runs that cleanup (3600)."""

    max_megapixels: int = 50
    per_minute: int = 30
    daily_quota_mb: int = 300
    orphan_hours: int = 24
    cleanup_seconds: int = 3600


@dataclass(frozen=True)
class ChecksSettings:
    """The anonymous requests that cost CPU: validating a definition
    (``/api/definitions-validate``), checking a form's body (``/api/forms/{id}/check``) and
    a closed campaign's public record (``/public/campaigns/{id}``, its CSV and XLSX, and
    ``/api/public/campaigns/{id}``).
    ROUNDS_CHECKS_PER_MINUTE: requests a client address may send to each of them per
    minute, counted per API process; past it 429 with Retry-After (default 120; 0: no
    limit, e.g. behind a proxy that limits them)."""

    per_minute: int = 120


@dataclass(frozen=True)
class SurveysSettings:
    """Surveys answered by people outside the company (docs/surveys.md).
    ROUNDS_SURVEYS_LINK_KEY: the secret that signs public survey links and their single-use
    tokens (at least 32 characters); empty (default): a random key made once and kept in the
    database, so links printed on QR codes stay valid across restarts and processes.
    ROUNDS_SURVEYS_PER_MINUTE: answers a client address may send per minute to public
    survey links, per API process (default 20; 0: no limit).
    ROUNDS_SURVEYS_CAMPAIGN_PER_MINUTE: answers one campaign takes per minute from all
    addresses together, per API process (default 600; 0: no limit): a flood stops at the
    campaign, not at the server.
    ROUNDS_SURVEYS_MIN_GROUP: the fewest responses a figure shown to industry users may be
    made of (default 5): a group smaller than this is not shown, so no single response (or
    two) can be read out of an average."""

    link_key: str = ""
    per_minute: int = 20
    campaign_per_minute: int = 600
    min_group: int = 5


@dataclass(frozen=True)
class ExtensionsSettings:
    """Extension modules (docs/extensions.md).
    ROUNDS_EXTENSIONS_ENABLED: the installed extensions to run with, by name,
    comma-separated (``rounds extensions list`` shows those installed); default none. One
    that is not installed or fails to load stops the start with its name and why."""

    enabled: str = ""


@dataclass(frozen=True)
class StoreSettings:
    """The query store (facts rolled up for dashboards and OKR grades; docs/store.md).
    ROUNDS_STORE_CLOSE_AT: when the nightly job closes the day before, as HH:MM in the
    company's time zone (default 00:30); a night missed is caught up the next time.
    ROUNDS_STORE_REFRESH_SECONDS: how often the incremental refresh runs (default 60; it
    runs in the reconciliation, so never more often than ROUNDS_JOBS_RECONCILE_SECONDS)."""

    close_at: str = "00:30"
    refresh_seconds: int = 60

    @property
    def close_time(self) -> time:
        hour, minute = self.close_at.split(":")
        return time(int(hour), int(minute))


@dataclass(frozen=True)
class LogSettings:
    """ROUNDS_LOG_FORMAT: ``text`` (for a person), ``json`` (one JSON object per line, for
    a log collector) or ``auto`` (default: text on a terminal, else JSON).
    ROUNDS_LOG_LEVEL: debug, info, warning or error (default info)."""

    format: str = "auto"
    level: str = "info"


@dataclass(frozen=True)
class MetricsSettings:
    """The Prometheus endpoint ``/metrics`` (docs/health-and-metrics.md).
    ROUNDS_METRICS_ALLOW_FROM: client addresses (comma-separated CIDR blocks) that may read
    it, and see what ``/api/ready``'s checks found; default ``127.0.0.1/32,::1/128``;
    empty: nobody (the endpoint answers 404).
    ROUNDS_METRICS_TOKEN: when set, a scrape must also send ``Authorization: Bearer <token>``.
    ROUNDS_METRICS_DIR: where the processes of one machine (API processes, workers) keep
    their counters for one scrape to add up (default ``$ROUNDS_DATA_DIR/metrics``)."""

    allow_from: str = "127.0.0.1/32,::1/128"
    token: str = ""
    dir: Path = Path("")


@dataclass(frozen=True)
class Settings:
    """ROUNDS_DATA_DIR: folder for the SQLite files and uploaded photos (default ./var).
    ROUNDS_DEFINITIONS_DIR: the definitions folder that `rounds definitions sync` imports.
    ROUNDS_DEFAULT_LANGUAGE: zh or en (a folder of rounds/i18n/locale), the language of pages
    and messages when neither ?lang=, the user's account nor the browser names one.
    ROUNDS_NODE_MODULES_DIR: where `./dev setup` installed the front-end packages (npm).
    ROUNDS_ADMIN_UI_DIR: the administrators' app's templates and static files (admin_ui).
    ROUNDS_TIMEZONE: the company's time zone (IANA name): what "today" and "this month"
    mean for plans and reports (default Asia/Shanghai).
    ROUNDS_MAP_TILES_URL: the dashboards' map tiles, a Leaflet URL template such as
    ``https://tiles.example.com/{z}/{x}/{y}.png`` (its origin is then allowed for images);
    empty by default: the map draws the sites as points on a plain background, offline."""

    data_dir: Path = Path("var")
    definitions_dir: Path = Path("definitions")
    node_modules_dir: Path = Path("node_modules")
    admin_ui_dir: Path = Path("admin_ui")
    timezone: str = "Asia/Shanghai"
    default_language: str = i18n.DEFAULT
    map_tiles_url: str = ""
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    jobs: JobsSettings = field(default_factory=JobsSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    uploads: UploadsSettings = field(default_factory=UploadsSettings)
    checks: ChecksSettings = field(default_factory=ChecksSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    surveys: SurveysSettings = field(default_factory=SurveysSettings)
    extensions: ExtensionsSettings = field(default_factory=ExtensionsSettings)
    log: LogSettings = field(default_factory=LogSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite+aiosqlite:///{self.data_dir / 'rounds.sqlite3'}"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def metrics_dir(self) -> Path:
        return self.metrics.dir if str(self.metrics.dir) not in ("", ".") \
            else self.data_dir / "metrics"

    @property
    def broker_url(self) -> str:
        return self.jobs.broker_url or f"sqla+sqlite:///{self.data_dir / 'jobs.sqlite3'}"


class SettingsError(ValueError):
    pass


def _convert(name: str, raw: str, kind: Any) -> Any:
    if kind is bool:
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off", ""):
            return False
        raise SettingsError(f"{name}: expected true or false, got {raw!r}")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"{name}: expected a whole number, got {raw!r}") from None
    if kind is Path:
        return Path(raw)
    return raw


def _read(cls: type[Any], env: Mapping[str, str], prefix: str) -> Any:
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in fields(cls):
        kind = hints[f.name]
        if isinstance(kind, type) and hasattr(kind, "__dataclass_fields__"):
            values[f.name] = _read(kind, env, f"{prefix}{f.name.upper()}_")
            continue
        name = f"{prefix}{f.name.upper()}"
        if name in env:
            values[f.name] = _convert(name, env[name], kind)
    return cls(**values)


def read_group(cls: type[Any], prefix: str, env: Mapping[str, str] | None = None) -> Any:
    """A settings group (a frozen dataclass) from ``<prefix><FIELD>`` variables, typed as
    the core's are: an extension's own (``ROUNDS_BUSINESS_LICENCE_``...), read when its
    handlers are made. A value of the wrong type raises :class:`SettingsError` naming it."""
    return _read(cls, os.environ if env is None else env, prefix)


def metrics_networks(allow_from: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """ROUNDS_METRICS_ALLOW_FROM as networks (an address alone is a network of one)."""
    return [ipaddress.ip_network(part.strip(), strict=False)
            for part in allow_from.split(",") if part.strip()]


def _check_networks(allow_from: str) -> None:
    try:
        metrics_networks(allow_from)
    except ValueError as e:
        raise SettingsError(f"ROUNDS_METRICS_ALLOW_FROM: expected CIDR blocks such as "
                            f"10.0.0.0/8, separated by commas: {e}") from None


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Settings from the environment (``os.environ`` by default), then explicit overrides."""
    settings: Settings = _read(Settings, os.environ if env is None else env, ENV_PREFIX)
    if settings.checks.per_minute < 0:
        raise SettingsError("ROUNDS_CHECKS_PER_MINUTE: expected 0 (no limit) or more, "
                            f"got {settings.checks.per_minute}")
    if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", settings.store.close_at):
        raise SettingsError("ROUNDS_STORE_CLOSE_AT: expected a time of day as HH:MM, "
                            f"got {settings.store.close_at!r}")
    if settings.store.refresh_seconds < 1:
        raise SettingsError("ROUNDS_STORE_REFRESH_SECONDS: expected 1 or more, "
                            f"got {settings.store.refresh_seconds}")
    for name, value, least in (("ROUNDS_SERVER_WORKERS", settings.server.workers, 1),
                               ("ROUNDS_SERVER_DRAIN_SECONDS", settings.server.drain_seconds, 0),
                               ("ROUNDS_DATABASE_GROUP_COMMIT", settings.database.group_commit,
                                1),
                               ("ROUNDS_JOBS_SCHEDULE_LOCK_SECONDS",
                                settings.jobs.schedule_lock_seconds, 5)):
        if value < least:
            raise SettingsError(f"{name}: expected {least} or more, got {value}")
    if settings.log.format not in ("auto", "text", "json"):
        raise SettingsError("ROUNDS_LOG_FORMAT: expected auto, text or json, "
                            f"got {settings.log.format!r}")
    if settings.log.level.lower() not in ("debug", "info", "warning", "error"):
        raise SettingsError("ROUNDS_LOG_LEVEL: expected debug, info, warning or error, "
                            f"got {settings.log.level!r}")
    _check_networks(settings.metrics.allow_from)
    if settings.default_language not in i18n.LANGUAGES:
        raise SettingsError(f"ROUNDS_DEFAULT_LANGUAGE: expected {' or '.join(i18n.LANGUAGES)}, "
                            f"got {settings.default_language!r}")
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"ROUNDS_TIMEZONE: no time zone {settings.timezone!r} "
                            "(use an IANA name such as Asia/Shanghai)") from None
    if overrides:
        from dataclasses import replace

        settings = replace(settings, **overrides)
    return settings
