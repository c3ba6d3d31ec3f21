"""HTTP of operations: ``GET /api/ready`` (readiness), ``GET /metrics`` (Prometheus) and the
middleware that counts requests, assembled by ``OpsPlugin`` (one line in ``create_app``)."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, get
from litestar.config.app import AppConfig
from litestar.exceptions import HTTPException, NotFoundException
from litestar.middleware import ASGIMiddleware
from litestar.openapi.datastructures import ResponseSpec
from litestar.plugins import InitPlugin
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.core import Metric
from sqlalchemy import func, select

from rounds.errors import NotAuthenticated, RoundsError
from rounds.ops import metrics, readiness
from rounds.settings import Settings, metrics_networks
from rounds.web.problems import PROBLEM_JSON

log = logging.getLogger("rounds.ops")

# Routes that check their own credentials: the scrape's token is no user's bearer token.
OWN_CREDENTIALS = "own_credentials"
REUSE_SECONDS = 1.0  # readiness results younger than this answer further calls


class CheckResult(msgspec.Struct):
    name: str
    ok: bool
    detail: str


class Readiness(msgspec.Struct):
    status: str  # "ready"
    checks: list[CheckResult]


class FailedCheck(msgspec.Struct):
    pointer: str
    message: str  # what is wrong
    code: str  # database_unavailable, migrations_behind, broker_unavailable, ...
    source: str  # the check's name: database, migrations, broker, redis


class NotReadyProblem(msgspec.Struct):
    """The problem document of a 503 from /api/ready (code ``not_ready``)."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FailedCheck]
    instance: str | None = None


@get("/api/ready", tags=["system"], summary="Readiness: the database, its migrations, the "
     "broker and Redis answer", opt={"public": True},
     description="200 when every dependency answers; 503 (problem `not_ready`) naming each "
     "failed check in `errors` (`source`: database, migrations, broker, redis; `code`: why). "
     "Each check is bounded to a few seconds; calls within a second share one run. What "
     "each check found (addresses, the error) is told only to the operators' networks "
     "(ROUNDS_METRICS_ALLOW_FROM). `/api/health` is the cheap liveness answer.",
     responses={503: ResponseSpec(NotReadyProblem, description="Some dependency is "
                                  "unavailable", media_type=PROBLEM_JSON)})
async def ready(request: Request[Any, Any, Any]) -> Readiness:
    settings: Settings = request.app.state.settings
    checks = await _shared_checks(request.app)
    if not _from_operators(request, settings):
        # Hosts, users and database names are for operators, not for anyone on the Internet.
        checks = [readiness.Check(c.name, c.ok, "ok" if c.ok else "unavailable", c.code)
                  for c in checks]
    failed = [c for c in checks if not c.ok]
    if failed:
        raise readiness.NotReady.of(failed)
    return Readiness(status="ready",
                     checks=[CheckResult(c.name, c.ok, c.detail) for c in checks])


async def _shared_checks(app: Litestar) -> list[readiness.Check]:
    """The checks, run at most about once a second whoever asks: probes of several load
    balancers (or anyone, the route is public) share a run instead of each opening
    connections to the database and the broker."""
    state = app.state
    last: tuple[float, asyncio.Task[list[readiness.Check]]] | None = \
        state.get("readiness_run")
    if last is None or (last[1].done() and time.monotonic() - last[0] > REUSE_SECONDS):
        last = (time.monotonic(), asyncio.ensure_future(
            readiness.run_checks(state.settings, state.engine)))
        state.readiness_run = last
    return await asyncio.shield(last[1])


def _from_operators(request: Request[Any, Any, Any], settings: Settings) -> bool:
    """The client address is in ROUNDS_METRICS_ALLOW_FROM."""
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in metrics_networks(settings.metrics.allow_from))


def _allowed(request: Request[Any, Any, Any], settings: Settings) -> None:
    """From ROUNDS_METRICS_ALLOW_FROM (else 404: nothing to see here), and with the bearer
    token when ROUNDS_METRICS_TOKEN is set (else 401)."""
    if not _from_operators(request, settings):
        raise NotFoundException()
    token = settings.metrics.token
    if token:
        sent = request.headers.get("authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            raise NotAuthenticated("send the metrics token (ROUNDS_METRICS_TOKEN) as "
                                   "Authorization: Bearer <token>")


async def _scrape_time(settings: Settings, sessions: Any) -> list[Metric]:
    """What is read when scraped: jobs waiting on the broker, the query store's age."""
    from rounds.runtime.store.models import Refresh

    out: list[Metric] = []
    try:
        depth = await asyncio.wait_for(
            asyncio.to_thread(readiness.queue_depth, settings.broker_url),
            readiness.CHECK_SECONDS)
        out.append(metrics.gauge("rounds_jobs_queued", "Jobs waiting on the broker for a "
                                 "worker", depth, {"queue": readiness.JOBS_QUEUE}))
    except Exception as exc:  # the broker is away: no sample (readiness says why)
        log.warning("metrics: the broker's queue depth is unknown: %s",
                    readiness.mask_url(str(exc)))
    try:
        async with asyncio.timeout(readiness.CHECK_SECONDS), sessions() as db:
            last = (await db.execute(select(func.max(Refresh.finished_at)))).scalar()
        age = None if last is None else time.time() - last.timestamp()
        out.append(metrics.gauge("rounds_store_refresh_age_seconds", "Seconds since the "
                                 "query store was last refreshed (+Inf: never)", age))
    except Exception as exc:
        log.warning("metrics: the query store's age is unknown: %s",
                    readiness.mask_url(str(exc)))
    return out


@get("/metrics", include_in_schema=False, opt={"public": True, OWN_CREDENTIALS: True})
async def scrape(request: Request[Any, Any, Any]) -> Response[bytes]:
    settings: Settings = request.app.state.settings
    _allowed(request, settings)
    extra = await _scrape_time(settings, request.app.state.sessions)
    body = await asyncio.to_thread(metrics.exposition, extra)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def _status_of(exc: BaseException) -> int:
    """The status the exception handlers (rounds.web.problems) will answer ``exc`` with."""
    from sqlalchemy.exc import IntegrityError

    if isinstance(exc, RoundsError):
        return exc.status
    if isinstance(exc, HTTPException):
        return exc.status_code
    return 409 if isinstance(exc, IntegrityError) else 500


class RequestMetricsMiddleware(ASGIMiddleware):
    """Counts each request by method, route template and status, and times it to the start
    of its response. Outermost, so that what the other middleware refuse is counted too;
    an exception is counted with the status its problem response will have."""

    scopes = ("http",)  # type: ignore[assignment]

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        m = metrics.metrics()
        method, route = scope.get("method", ""), scope.get("path_template") or "unmatched"
        started = time.perf_counter()
        status = 0

        async def timed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                m.request_seconds.labels(method, route).observe(time.perf_counter() - started)
            await send(message)

        try:
            await next_app(scope, receive, timed)
        except Exception as exc:
            if not status:
                status = _status_of(exc)
                m.request_seconds.labels(method, route).observe(time.perf_counter() - started)
            raise
        finally:
            m.requests.labels(method, route, str(status or 499)).inc()


class OpsPlugin(InitPlugin):
    """Readiness, the metrics endpoint and the request counter; metrics kept in
    ROUNDS_METRICS_DIR for this machine's processes to be scraped together."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        metrics.enable(self.settings.metrics_dir)
        app_config.route_handlers.extend([ready, scrape])
        app_config.middleware.insert(0, RequestMetricsMiddleware())
        app_config.lifespan.append(self._lifespan)
        return app_config

    @asynccontextmanager
    async def _lifespan(self, app: Litestar) -> AsyncIterator[None]:
        metrics.watch_pool(app.state.engine)  # opened by the app's own lifespan, before
        try:
            yield
        finally:
            metrics.process_ended(self.settings.metrics_dir)
