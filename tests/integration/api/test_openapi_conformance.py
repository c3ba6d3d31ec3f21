"""The OpenAPI document tells the truth: Schemathesis generates requests from it and sends
them to a real server, signed in as a field user and as an administrator; every response
must be no 5xx and must keep to the document (status, content type, headers, body).

Bounded: a fixed number of examples per operation, derandomized, so a run is the same
every time and takes about a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from support.fieldwork import Live, live_city

EXAMPLES = 12  # per operation; ~70 operations
# Operations that end the test's own session (its token, its user), left out of the run;
# their documented 401s and 404s are still held to by the anonymous pass below.
SESSION_ENDING = {("POST", "/api/auth/sign-out"), ("POST", "/api/users/{user_id}/deactivate"),
                  ("POST", "/api/users/{user_id}/password")}
STREAM = ("GET", "/api/notifications/stream")  # never ends: its type is checked apart


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_city(tmp_path_factory.mktemp("openapi"), "sqlite") as city:
        yield city


def _checks() -> list[Any]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [not_a_server_error, status_code_conformance, content_type_conformance,
            response_headers_conformance, response_schema_conformance]


def _operations(live: Live) -> list[Any]:
    import schemathesis

    schema = schemathesis.openapi.from_url(live.url + "/api/docs/openapi.json")
    out = []
    for result in schema.get_all_operations():
        op = result.ok()
        key = (op.method.upper(), op.path)
        if op.path.startswith("/api/docs") or key in SESSION_ENDING or key == STREAM:
            continue
        out.append(op)
    return out


def _run(live: Live, op: Any, who: list[str]) -> str | None:
    checks = _checks()

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy(), user=st.sampled_from(who))
    def run(case: Any, user: str) -> None:
        headers = live.auth[user] if user != "anonymous" else {}
        case.call_and_validate(base_url=live.url, headers=headers, checks=checks,
                               timeout=30)

    try:
        run()
    except Exception as e:  # the failure, with Schemathesis's reproduction
        return f"{op.method.upper()} {op.path}: {e}"
    return None


def test_every_operation_keeps_to_the_document_for_a_field_user_and_an_admin(
        live: Live) -> None:
    failures = [f for op in _operations(live) if (f := _run(live, op, ["zhang", "admin"]))]
    assert not failures, "\n\n".join(failures)


def test_anonymous_requests_keep_to_the_document(live: Live) -> None:
    import schemathesis

    schema = schemathesis.openapi.from_url(live.url + "/api/docs/openapi.json")
    failures = []
    for result in schema.get_all_operations():
        op = result.ok()
        if op.path.startswith("/api/docs") or (op.method.upper(), op.path) == STREAM:
            continue
        if (f := _run(live, op, ["anonymous"])):
            failures.append(f)
    assert not failures, "\n\n".join(failures)


def test_the_documented_responses_are_the_real_ones(live: Live) -> None:
    doc = httpx.get(live.url + "/api/docs/openapi.json").json()
    stream = doc["paths"]["/api/notifications/stream"]["get"]["responses"]["200"]
    assert list(stream["content"]) == ["text/event-stream"]
    with httpx.stream("GET", live.url + "/api/notifications/stream",
                      headers=live.auth["zhang"], timeout=10) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
    one = doc["paths"]["/api/submissions/{submission_id}"]["get"]["responses"]
    assert one["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Submission"}
    for status in ("401", "403", "404", "422"):
        assert list(one.get(status, {}).get("content", {})) == ["application/problem+json"] \
            or status == "422", (status, one.get(status))
    r = httpx.delete(live.url + "/api/health")
    assert r.status_code == 405 and set(r.headers["allow"].replace(" ", "").split(",")) >= {
        "GET"}
    assert r.headers["content-type"].startswith("application/problem+json")
