"""The OpenAPI document, made to tell the truth where Litestar cannot infer it.

Litestar documents a 400 in its own shape and nothing else; every error here is a problem
detail (``application/problem+json``, ``rounds.web.problems``), raised by the guard, the
auth middleware, the body bounds or a service. This adds them once, by what an operation
can meet — not per handler — and documents the few responses a handler builds by hand
(a stored submission as bytes, the event stream). The test suite holds the document to
the server with Schemathesis (tests/integration/api/test_openapi_conformance.py).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection
from typing import Any

from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)

from rounds.web.problems import PROBLEM_JSON

_PROBLEM = Schema(
    type=OpenAPIType.OBJECT, required=["type", "title", "status", "code"],
    description="RFC 7807 problem details; ``code`` is stable, ``errors`` name each place",
    properties={
        "type": Schema(type=OpenAPIType.STRING), "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER), "detail": Schema(type=OpenAPIType.STRING),
        "code": Schema(type=OpenAPIType.STRING), "instance": Schema(type=OpenAPIType.STRING),
        "request_id": Schema(type=OpenAPIType.STRING, description="The X-Request-ID of the "
                             "request: quote it in an error report (docs/logs.md)"),
        "errors": Schema(type=OpenAPIType.ARRAY, items=Schema(
            type=OpenAPIType.OBJECT, required=["pointer", "message", "code"], properties={
                "pointer": Schema(type=OpenAPIType.STRING, description="RFC 6901"),
                "message": Schema(type=OpenAPIType.STRING),
                "code": Schema(type=OpenAPIType.STRING),
                "source": Schema(type=OpenAPIType.STRING)})),
    })

_WHY = {
    400: "A parameter is missing, malformed or out of bounds (``errors`` names it)",
    401: "Not signed in, or the bearer token is unknown or expired",
    403: "Signed in without the capability, or a cookie request without its CSRF token",
    404: "Nothing there that you may see",
    409: "Conflicts with the current state (a stale version, a duplicate, a wrong state)",
    413: "The body (or an upload) is too large",
    415: "The body is not of a type this operation takes",
    422: "The body is invalid, nested too deep or holds an out-of-range number; "
         "``errors`` names every place by JSON pointer",
    429: "Too many attempts; Retry-After says when to try again",
}

_SUBMISSION = Schema(
    type=OpenAPIType.OBJECT, description="A stored submission, scored",
    required=["id", "definition_id", "version", "version_number", "user_id", "site_id",
              "visit_id", "submitted_at", "score", "alerts", "failed_items", "calculated",
              "rule_errors", "answers", "evidence"],
    properties={
        "id": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.UUID),
        "definition_id": Schema(type=OpenAPIType.STRING),
        "version": Schema(type=OpenAPIType.STRING, description="content hash"),
        "version_number": Schema(type=OpenAPIType.INTEGER),
        "user_id": Schema(type=OpenAPIType.INTEGER),
        "site_id": Schema(one_of=[Schema(type=OpenAPIType.INTEGER),
                                  Schema(type=OpenAPIType.NULL)]),
        "visit_id": Schema(one_of=[Schema(type=OpenAPIType.INTEGER),
                                   Schema(type=OpenAPIType.NULL)]),
        "submitted_at": Schema(type=OpenAPIType.STRING),
        "score": Schema(type=OpenAPIType.OBJECT),
        "explanation": Schema(type=OpenAPIType.STRING),
        "alerts": Schema(type=OpenAPIType.ARRAY),
        "failed_items": Schema(type=OpenAPIType.ARRAY),
        "calculated": Schema(type=OpenAPIType.OBJECT),
        "rule_errors": Schema(type=OpenAPIType.ARRAY),
        "answers": Schema(type=OpenAPIType.OBJECT),
        "evidence": Schema(type=OpenAPIType.OBJECT),
    })


def _problem(status: int, ref: Reference) -> OpenAPIResponse:
    headers: dict[str, OpenAPIHeader | Reference] | None = {
        "Retry-After": OpenAPIHeader(schema=Schema(type=OpenAPIType.INTEGER),
                                     description="seconds")} if status == 429 else None
    return OpenAPIResponse(description=_WHY[status], headers=headers,
                           content={PROBLEM_JSON: OpenAPIMediaType(schema=ref)})


def _json(schema: Schema | Reference, description: str) -> OpenAPIResponse:
    return OpenAPIResponse(description=description,
                           content={"application/json": OpenAPIMediaType(schema=schema)})


def _statuses(path: str, method: str, op: Operation, public: bool, limited: bool
              ) -> set[int]:
    has_body = op.request_body is not None or method in ("post", "put", "patch")
    out = {401}  # a bad bearer token is refused on any route, public or not
    if op.parameters or has_body:
        out |= {400}
    if "{" in path:
        out |= {404}
    if not public or method not in ("get", "head"):
        out |= {403}
    if has_body:
        out |= {409, 413, 415, 422}
    if not public:
        out |= {404, 422}  # services look things up and check what they are given
    if path == "/api/auth/sign-in" or limited:
        out |= {429}
    return out


def document(openapi: OpenAPI, public: set[tuple[str, str]],
             rate_limited: Collection[tuple[str, str]] = ()) -> OpenAPI:
    """Add the problem responses and the hand-built ones to ``openapi`` (in place).

    ``public``: (path, method) of the operations open to anonymous users;
    ``rate_limited``: (METHOD, path) of the operations with a rate limit (``limits``).
    """
    assert openapi.components is not None
    schemas: dict[str, Any] = openapi.components.schemas or {}
    schemas["Problem"] = _PROBLEM
    schemas["Submission"] = _SUBMISSION
    openapi.components.schemas = schemas
    _name_generics(openapi)
    problem, submission = (Reference(ref="#/components/schemas/Problem"),
                           Reference(ref="#/components/schemas/Submission"))
    for path, item in (openapi.paths or {}).items():
        for method in ("get", "put", "post", "delete", "patch"):
            op: Operation | None = getattr(item, method)
            if op is None:
                continue
            responses = op.responses or {}
            is_public = (path, method) in public
            limited = (method.upper(), path) in rate_limited
            for status in sorted(_statuses(path, method, op, is_public, limited)):
                responses[str(status)] = _problem(status, problem)
            if path.startswith("/api/docs"):
                responses.pop("401", None)
            op.responses = responses
            _exact_bounds(op)
    _hand_built(openapi, submission)
    return openapi


def _hand_built(openapi: OpenAPI, submission: Reference) -> None:
    paths = openapi.paths or {}
    one = paths.get("/api/submissions/{submission_id}")
    if one and one.get and one.get.responses:
        one.get.responses["200"] = _json(submission, "The submission")
    submit = paths.get("/api/submissions")
    if submit and submit.post and submit.post.responses is not None:
        submit.post.responses["201"] = _json(submission, "Stored now")
        submit.post.responses["200"] = _json(
            submission, "Stored before: a retry with the same id and content")
    stream = paths.get("/api/notifications/stream")
    if stream and stream.get and stream.get.responses:
        stream.get.responses["200"] = OpenAPIResponse(
            description="Server-Sent Events: `unread` first, then `notification` and `unread`",
            content={"text/event-stream": OpenAPIMediaType(schema=Schema(
                type=OpenAPIType.OBJECT, description="one event", properties={
                    "event": Schema(type=OpenAPIType.STRING),
                    "data": Schema(type=OpenAPIType.STRING, description="JSON"),
                    "id": Schema(type=OpenAPIType.STRING),
                    "retry": Schema(type=OpenAPIType.INTEGER)}))})


def _name_generics(openapi: OpenAPI) -> None:
    """Litestar keys a generic's component by its arguments' module paths
    (``Page_rounds.runtime.sites.service.SiteSummary_``); key it by its title instead
    (``Page[SiteSummary]``: ``Page_SiteSummary``), and point every reference there."""
    assert openapi.components is not None
    schemas: dict[str, Any] = openapi.components.schemas or {}
    renamed: dict[str, str] = {}
    for key, schema in list(schemas.items()):
        title = getattr(schema, "title", None) or ""
        if "[" not in title:
            continue
        new = re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_")
        if new != key and new not in schemas:
            schemas[new] = schemas.pop(key)
            renamed[f"#/components/schemas/{key}"] = f"#/components/schemas/{new}"
    if not renamed:
        return
    seen: set[int] = set()

    def walk(node: Any) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, Reference):
            node.ref = renamed.get(node.ref, node.ref)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list | tuple):
            for value in node:
                walk(value)
        elif dataclasses.is_dataclass(node) and not isinstance(node, type):
            for f in dataclasses.fields(node):
                walk(getattr(node, f.name))

    walk(openapi)


def _exact_bounds(op: Operation) -> None:
    """Litestar writes a parameter's bounds as floats (2147483647.0); an integer's bounds
    are integers, or a client that reads the document exactly sends one past them."""
    for param in op.parameters or []:
        schema = getattr(param, "schema", None)
        if isinstance(schema, Schema) and schema.type == OpenAPIType.INTEGER:
            for name in ("minimum", "maximum"):
                value = getattr(schema, name)
                if isinstance(value, float) and value.is_integer():
                    setattr(schema, name, int(value))


def public_operations(app: Any) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every operation marked ``opt={"public": True}``."""
    out: set[tuple[str, str]] = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if handler.opt.get("public"):
                out |= {(route.path_format, m.lower()) for m in handler.http_methods}
    return out


def document_app(app: Any, rate_limited: Collection[tuple[str, str]] = ()) -> None:
    """On startup: the app's document, completed (Litestar builds it once and keeps it)."""
    document(app.openapi_schema, public_operations(app), rate_limited)
