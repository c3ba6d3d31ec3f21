"""What every response and every request body is held to: security headers, JSON bodies
only as ``application/json`` (415), no NUL or bidirectional controls in JSON text (422),
and sign-in only from the app's own pages (login CSRF).

The content-type rule closes the hole a cross-site ``<form enctype="text/plain">`` opens: a
browser sends such a form (and ``multipart/form-data`` and urlencoded ones) to any origin
without asking, and its body can be made to look like JSON. A body without a content type
is taken as JSON, for scripts and older clients; a browser on another origin can send one
too (``fetch`` with a blob), which is why sign-in also checks ``Origin`` and
``Sec-Fetch-Site``, and every other state-changing request made with the session cookie
needs the CSRF token.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import RequestEncodingType
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from rounds.errors import Forbidden, InvalidInput, Problem, RoundsError
from rounds.textsafety import maybe_unsafe_json, unsafe_places

# Pages: scripts and styles from our own origin only (the npm packages are served from it
# too, under /static/vendor); photos shown before upload are blob: URLs.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'")
# Every response, /api/docs included (its page is ours, with no inline script: apidocs.py).
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # page addresses name issues and sites
    "X-Content-Type-Options": "nosniff",
}

JSON_TYPES = ("application/json",)
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Handler opt for routes that take other bodies, e.g. {"accepts": ("text/csv", ...)}.
ACCEPTS = "accepts"
CSV_UPLOAD = {ACCEPTS: ("text/csv", "multipart/form-data")}


class UnsupportedMediaType(RoundsError, code="unsupported_media_type", status=415,
                           title="Unsupported media type"):
    """A body in a media type the route does not take (JSON routes: ``application/json``)."""


class CrossOriginRefused(Forbidden, code="cross_origin", title="Not from this site"):
    """A sign-in sent from another site's page (login CSRF)."""


class SecurityHeadersMiddleware(ASGIMiddleware):
    """Adds the headers above to every HTTP response (the handler's own win)."""

    scopes = ("http",)  # type: ignore[assignment]

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await next_app(scope, receive, send_with_headers)


def _media_type(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return connection.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _has_body(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    length = connection.headers.get("content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return "transfer-encoding" in connection.headers


def accepted_types(handler: BaseRouteHandler) -> tuple[str, ...]:
    """The media types a route takes a body in: JSON unless it says otherwise (opt) or
    takes a multipart form."""
    declared = handler.opt.get(ACCEPTS)
    if declared:
        return tuple(declared)
    data = getattr(handler, "parsed_fn_signature", None)
    field = data.parameters.get("data") if data is not None else None
    kwarg = getattr(field, "kwarg_definition", None) if field is not None else None
    media = getattr(kwarg, "media_type", None)
    if media == RequestEncodingType.MULTI_PART:
        return ("multipart/form-data",)
    if media == RequestEncodingType.URL_ENCODED:
        return ("application/x-www-form-urlencoded",)
    return JSON_TYPES


async def check_request_body(connection: ASGIConnection[Any, Any, Any, Any],
                             handler: BaseRouteHandler) -> None:
    """Guard: the body's media type is one the route takes (415), and JSON text holds no
    NUL or bidirectional controls (422, naming each place)."""
    if connection.scope.get("method") not in BODY_METHODS or not _has_body(connection):
        return
    media = _media_type(connection)
    accepted = accepted_types(handler)
    if media and media not in accepted:
        raise UnsupportedMediaType(
            f"send this as {' or '.join(accepted)}, not {media}")
    if (media or "application/json") != "application/json" \
            or not isinstance(connection, Request):
        return
    raw = await connection.body()
    if not maybe_unsafe_json(raw):
        return
    try:
        doc = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return  # the handler says what is wrong with it
    places = unsafe_places(doc)
    if places:
        raise InvalidInput(
            "text must not contain NUL or bidirectional control characters (they make text "
            "read differently from what is stored); remove them", [
                Problem(pointer, f"contains {names}", "unsafe_characters")
                for pointer, names in places])


def require_same_origin(request: Request[Any, Any, Any]) -> None:
    """Refuse a request a browser made for a page of another site (Sec-Fetch-Site, or the
    Origin header where the browser sends no fetch metadata). Clients that are not browsers
    send neither and pass."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise CrossOriginRefused(f"refused: this request came from another site ({site})")
    origin = request.headers.get("origin")
    if origin is None:
        return
    host = request.headers.get("host", "").lower()
    _scheme, _, netloc = origin.lower().partition("://")
    # Scheme not compared: behind a TLS-terminating proxy the server sees http.
    if origin == "null" or not netloc or netloc != host:
        raise CrossOriginRefused(f"refused: this request came from another site ({origin})")
