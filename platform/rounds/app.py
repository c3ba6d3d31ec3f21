"""The Litestar application factory: settings are read here, never at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.di import Provide

import rounds.slices  # noqa: F401  (every hook a higher slice fills in a lower one)
from rounds import __version__
from rounds.db import create_engine, session_factory
from rounds.extensions import activate_from
from rounds.logs import configure_logging
from rounds.ops.web import OpsPlugin
from rounds.runtime.admin import pages as admin_pages
from rounds.runtime.campaigns import pages as campaigns_pages
from rounds.runtime.campaigns import web as campaigns_web
from rounds.runtime.dashboards import pages as dashboards_pages
from rounds.runtime.dashboards import web as dashboards_web
from rounds.runtime.definitions.web import (
    DefinitionController,
    SchemaController,
    ValidateController,
)
from rounds.runtime.fieldwork import pages as fieldwork_pages
from rounds.runtime.forms import pages as forms_pages
from rounds.runtime.forms import web as forms_web
from rounds.runtime.issues import web as issues_web
from rounds.runtime.notifications import web as notifications_web
from rounds.runtime.okr import web as okr_web
from rounds.runtime.orgs import web as orgs_web
from rounds.runtime.people import admin_web as people_admin_web
from rounds.runtime.people.auth import listen_for_invalidations
from rounds.runtime.people.guards import (
    AuthenticationMiddleware,
    provide_optional_principal,
    provide_principal,
)
from rounds.runtime.people.web import AuthController
from rounds.runtime.portals import consumer as consumer_page
from rounds.runtime.portals import industry as industry_portal
from rounds.runtime.portals import pages as portals_pages
from rounds.runtime.portals import web as portals_web
from rounds.runtime.sites import web as sites_web
from rounds.runtime.submissions import service as submissions_service
from rounds.runtime.submissions import web as submissions_web
from rounds.runtime.surveys import links as survey_links
from rounds.runtime.surveys import pages as surveys_pages
from rounds.runtime.surveys import public_pages as survey_public_pages
from rounds.runtime.surveys import results_pages as survey_results_pages
from rounds.runtime.surveys import web as surveys_web
from rounds.runtime.visits import plans_web
from rounds.runtime.visits import web as visits_web
from rounds.settings import Settings, load_settings
from rounds.web import apidocs, extension_assets
from rounds.web.auth import signed_in_unless_public
from rounds.web.bodies import BoundedRequest
from rounds.web.deps import provide_session, provide_settings
from rounds.web.limits import Route, rate_limit
from rounds.web.openapi import document_app
from rounds.web.problems import exception_handlers
from rounds.web.requestid import install_request_ids
from rounds.web.security import SecurityHeadersMiddleware, check_request_body
from rounds.web.stopping import watch_stop_signals

# Anonymous requests that cost CPU (a definition validated, a form's body checked, a closed
# campaign's public record gathered or exported), limited per client address
# (ROUNDS_CHECKS_PER_MINUTE). Named by route, not by handler: the limit stays whichever
# module serves them.
CPU_HEAVY: frozenset[Route] = frozenset({("POST", "/api/definitions-validate"),
                                         ("POST", "/api/forms/{definition_id}/check"),
                                         ("GET", "/public/campaigns/{name}"),
                                         ("GET", "/api/public/campaigns/{campaign_id}")})


@get("/api/health", tags=["system"], summary="Liveness", opt={"public": True})
async def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings()
    survey_links.check_settings(settings)  # a short link key is no secret: refuse to start
    # The enabled extensions, loaded before anything else: one that fails stops the start.
    extensions = activate_from(settings)
    configure_logging(settings, "api")

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url, echo=settings.database.echo)
        app.state.engine = engine
        app.state.sessions = session_factory(engine)
        submissions_service.group_commit(engine, settings.database.group_commit)
        # With Redis, a deactivation ends the user's cached sessions in every process.
        stop_listening = await listen_for_invalidations(settings.redis.url) \
            if settings.redis.url else None
        try:
            yield
        finally:
            if stop_listening is not None:
                await stop_listening()
            await engine.dispose()

    route_handlers: list[Any] = [health, AuthController, SchemaController,
                                 DefinitionController, ValidateController,
                                 *forms_web.api_handlers(),
                                 *sites_web.handlers(), *plans_web.handlers(),
                                 *orgs_web.handlers(), *people_admin_web.handlers(),
                                 *visits_web.handlers(),
                                 *submissions_web.handlers(), *issues_web.handlers(),
                                 *forms_pages.page_handlers(settings),
                                 *fieldwork_pages.handlers(settings),
                                 *dashboards_web.handlers(),
                                 *dashboards_pages.handlers(settings),
                                 *notifications_web.handlers(), *okr_web.handlers(),
                                 *campaigns_web.handlers(),
                                 *campaigns_pages.handlers(settings),
                                 *survey_results_pages.handlers(settings),
                                 *industry_portal.handlers(settings),
                                 *surveys_web.handlers(), *surveys_pages.handlers(settings),
                                 *portals_web.handlers(), *portals_pages.handlers(settings),
                                 *admin_pages.handlers(settings),
                                 *survey_public_pages.handlers(), *consumer_page.handlers(),
                                 *apidocs.asset_handlers(settings),
                                 *extension_assets.handlers(extensions),
                                 *extensions.handlers(settings)]
    return install_request_ids(Litestar(  # the request id and access line of every request
        route_handlers=route_handlers,
        lifespan=[watch_stop_signals, lifespan],  # live streams end on SIGTERM/SIGINT
        # Problem responses and hand-built ones, documented.
        on_startup=[partial(document_app, rate_limited=CPU_HEAVY)],
        plugins=[notifications_web.NotificationsPlugin(settings),  # live pushes (SSE)
                 OpsPlugin(settings)],  # /api/ready, /metrics, requests counted
        state=State({"settings": settings, "extensions": extensions}),
        dependencies={"db": Provide(provide_session),
                      "settings": Provide(provide_settings, sync_to_thread=False),
                      "principal": Provide(provide_principal, sync_to_thread=False),
                      "maybe_principal": Provide(provide_optional_principal,
                                                 sync_to_thread=False)},
        middleware=[SecurityHeadersMiddleware(),
                    *rate_limit(CPU_HEAVY, settings.checks.per_minute),
                    AuthenticationMiddleware()],
        request_class=BoundedRequest,  # JSON bodies held to depth and number bounds
        # Deny by default: a route is open to anonymous users only if marked public. Then
        # the body: JSON unless the route says otherwise (415), no hidden controls (422).
        guards=[signed_in_unless_public, check_request_body],
        exception_handlers=exception_handlers,
        logging_config=None,  # rounds.logs (configured above), not Litestar's own
        # The explorer's files come from npm (package-lock.json), not a CDN: works offline.
        openapi_config=apidocs.openapi_config("Rounds API", __version__),
    ))
