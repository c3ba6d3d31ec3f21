"""Odd input gets a 4xx naming the place, never a 500: JSON nested too deep, numbers no
decoder or column can hold, and integers past the database's range in paths, queries and
bodies — on every endpoint family, over real HTTP."""

from __future__ import annotations

import types
import typing
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support.fieldwork import STANDARD, Live, live_city

JSON = {"content-type": "application/json"}
INT64_OVER = 2**63  # 9223372036854775808: the 500 of issue 9
DEEP = 1000
DB_INT_MAX = 2**31 - 1  # INTEGER on PostgreSQL


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_city(tmp_path_factory.mktemp("bounds"), "sqlite") as city:
        yield city


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _problem(r: httpx.Response, status: int = 422) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    return body


def _version(live: Live) -> str:
    return str(httpx.get(f"{live.url}/api/definitions/{STANDARD}").json()["content_hash"])


def _submission(live: Live, answers: bytes) -> bytes:
    return (b'{"id":"' + str(uuid.uuid4()).encode() + b'","definition_id":"' + STANDARD.encode()
            + b'","version":"' + _version(live).encode() + b'","answers":' + answers + b"}")


# -- nesting --------------------------------------------------------------------------------------

def _endpoints(live: Live) -> dict[str, tuple[str, bytes, str]]:
    """family: (path, body with a 1,000-deep array at one place, that place's pointer)."""
    deep = _nested(DEEP)
    return {
        "submissions": ("/api/submissions",
                        _submission(live, b'{"policy_topics":' + deep + b"}"),
                        "/answers/policy_topics"),
        "comments": ("/api/issues/1/comment", b'{"text":"hi","photos":' + deep + b"}",
                     "/photos"),
        "definitions-validate": ("/api/definitions-validate",
                                 b'{"kind":"standard","sections":[{"items":' + deep + b"}]}",
                                 "/sections/0/items"),
        "forms check": (f"/api/forms/{STANDARD}/check",
                        b'{"answers":{"stock_checked":true,"advice_topics":' + deep + b"}}",
                        "/answers/advice_topics"),
    }


@pytest.mark.parametrize("family", ["submissions", "comments", "definitions-validate",
                                    "forms check"])
def test_deep_nesting_is_a_422_naming_where(live: Live, family: str) -> None:
    path, body, where = _endpoints(live)[family]
    r = httpx.post(live.url + path, content=body, headers={**JSON, **live.auth["zhang"]},
                   timeout=30)
    problem = _problem(r)
    assert problem["code"] == "json_out_of_bounds"
    [error] = problem["errors"]
    assert error["code"] == "too_deep"
    # The pointer names the field, then the levels down to where the limit was passed.
    assert error["pointer"].startswith(where + "/0/0")
    assert "64" in error["message"]


def test_nesting_within_the_limit_goes_on_to_ordinary_validation(live: Live) -> None:
    r = httpx.post(f"{live.url}/api/forms/{STANDARD}/check?lang=en",
                   content=b'{"answers":{"advice_topics":' + _nested(20) + b"}}",
                   headers=JSON)
    assert _problem(r)["code"] == "submission_invalid"  # the form's own words, not a bound


# -- numbers --------------------------------------------------------------------------------------

OUT_OF_RANGE = [b"1e309", b"-1e309", b"1E400", str(INT64_OVER).encode(),
                str(-INT64_OVER - 1).encode(), b"1" + b"0" * 400]


@pytest.mark.parametrize("number", OUT_OF_RANGE, ids=lambda n: n[:12].decode())
def test_out_of_range_numbers_are_a_422_naming_the_field_on_check_and_submit(
        live: Live, number: bytes) -> None:
    answers = b'{"stock_checked":true,"brands_in_stock":' + number + b"}"
    check = httpx.post(f"{live.url}/api/forms/{STANDARD}/check",
                       content=b'{"answers":' + answers + b"}",
                       headers={**JSON, "Accept-Language": "zh-CN,zh;q=0.9"})
    submit = httpx.post(live.url + "/api/submissions", content=_submission(live, answers),
                        headers={**JSON, **live.auth["zhang"]})
    for r in (check, submit):
        problem = _problem(r)
        assert problem["code"] == "json_out_of_bounds"
        [error] = problem["errors"]
        assert error["pointer"] == "/answers/brands_in_stock"
        assert error["code"] == "number_out_of_range"
    assert "超出范围" in check.json()["errors"][0]["message"]  # anonymous, Accept-Language
    assert "out of range" in submit.json()["errors"][0]["message"]  # zhang reads English


def test_numbers_at_the_edge_of_the_range_are_taken(live: Live) -> None:
    """The largest 64-bit integer and a tiny float are numbers like any other: the form
    judges them (brands_in_stock has its own maximum), the bounds do not."""
    for number in (str(2**63 - 1).encode(), b"1.5e-300", b"-0.0"):
        r = httpx.post(f"{live.url}/api/forms/{STANDARD}/check?lang=en",
                       content=b'{"answers":{"stock_checked":true,"brands_in_stock":'
                       + number + b"}}", headers=JSON)
        assert r.status_code in (200, 422), r.text
        assert r.json().get("code") != "json_out_of_bounds"


def test_a_number_inside_a_string_is_text(live: Live) -> None:
    r = httpx.post(f"{live.url}/api/forms/{STANDARD}/check",
                   content=b'{"answers":{"retailer_signature":"1e309 ' + b"[" * 100 + b'"}}',
                   headers=JSON)
    assert r.json().get("code") != "json_out_of_bounds", r.text


# -- integers in paths, queries and bodies ---------------------------------------------------------

def _int_parameters() -> list[tuple[str, str, str, str]]:
    """(method, path template, parameter, "path" | "query") for every integer parameter of
    every route of the app, pages included, read from the handlers themselves and the
    dependencies they take: a new route with an unbounded integer is tested without anyone
    listing it here."""
    import warnings

    from rounds.app import create_app
    from rounds.settings import load_settings

    with warnings.catch_warnings():  # Litestar's deprecation notes, once per handler
        warnings.simplefilter("ignore")
        app = create_app(load_settings())
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            fields = dict(handler.parsed_fn_signature.parameters)
            for key, provide in handler.resolve_dependencies().items():
                if key in fields:  # a dependency's own parameters (paging: page, per_page)
                    fields.update(provide.parsed_fn_signature.parameters)
            for name, field in fields.items():
                ann = field.annotation
                union = typing.get_origin(ann) in (typing.Union, types.UnionType)
                kinds = [a for a in typing.get_args(ann) if a is not type(None)] if union \
                    else [ann]
                if kinds != [int] or name in ("self",):
                    continue
                where = "path" if "{" + name + ":" in route.path else "query"
                for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                    found.append((method, route.path, name, where))
    return found


INT_PARAMETERS = _int_parameters()
SAMPLE = {"definition_id": STANDARD, "photo_id": "x", "month": "2026-01", "name": "standard"}


def _url(path: str, name: str, where: str, value: int) -> tuple[str, dict[str, str]]:
    import re

    def fill(m: re.Match[str]) -> str:
        param, kind = m.group(1), m.group(2)
        if param == name and where == "path":
            return str(value)
        return "1" if kind == "int" else SAMPLE.get(param, "x")

    url = re.sub(r"\{(\w+):(\w+)\}", fill, path)
    return url, ({name: str(value)} if where == "query" else {})


def test_the_app_has_the_integer_parameters_this_test_walks() -> None:
    names = {(p, n) for _, p, n, _ in INT_PARAMETERS}
    assert ("/api/sites/{site_id:int}", "site_id") in names
    assert ("/api/issues", "page") in names and ("/api/issues", "site_id") in names
    assert ("/issues/{issue_id:int}", "issue_id") in names  # a page, not in the API doc
    assert len(INT_PARAMETERS) > 40


@pytest.mark.parametrize("value", [INT64_OVER, DB_INT_MAX + 1, -INT64_OVER - 1])
def test_every_integer_parameter_refuses_what_the_database_cannot_hold(
        live: Live, value: int) -> None:
    failures = []
    with httpx.Client(base_url=live.url, headers=live.auth["admin"], timeout=30) as c:
        for method, path, name, where in INT_PARAMETERS:
            url, params = _url(path, name, where, value)
            # Streamed: an event stream that (wrongly) opens would never end.
            # A page's form posts an urlencoded body (those routes take no other); the API JSON.
            body: dict[str, Any] = {} if method not in ("POST", "PUT") else (
                {"json": {}} if url.startswith("/api/") else
                {"content": b"", "headers": {"Content-Type":
                                             "application/x-www-form-urlencoded"}})
            with c.stream(method, url, params=params, **body) as r:
                text = r.read().decode(errors="replace") if r.status_code >= 300 else ""
            ok = r.status_code in (400, 422)
            if ok and url.startswith("/api/"):
                problem = httpx.Response(r.status_code, content=text).json()
                ok = any(e["pointer"] == "/" + name for e in problem.get("errors", []))
            if not ok:
                failures.append(f"{method} {url} {params}: {r.status_code} {text[:120]}")
    assert not failures, "\n".join(failures)


def test_body_ids_past_the_database_integer_are_a_422_naming_the_field(live: Live) -> None:
    zhang = {**JSON, **live.auth["zhang"]}
    start = httpx.post(f"{live.url}/api/issues/1/start", json={"version": DB_INT_MAX + 1},
                       headers=zhang)
    assert [e["pointer"] for e in _problem(start)["errors"]] == ["/version"]
    answers = b'{"stock_checked":true}'
    doc = _submission(live, answers)[:-1] + b',"visit_id":' + str(DB_INT_MAX + 1).encode() + b"}"
    submit = httpx.post(live.url + "/api/submissions", content=doc, headers=zhang)
    assert "/visit_id" in [e["pointer"] for e in _problem(submit)["errors"]]
    visit = httpx.post(live.url + "/api/visits", json={"site_id": INT64_OVER - 1},
                       headers=zhang)
    # Litestar's own body validation answers 400 (the issues slice maps it to 422).
    assert [e["pointer"] for e in _problem(visit, 400)["errors"]] == ["/site_id"]


def test_a_huge_last_event_id_header_is_ignored_not_a_500(live: Live) -> None:
    headers = {**live.auth["zhang"], "Accept": "text/event-stream",
               "Last-Event-ID": "9" * 30}
    with httpx.stream("GET", live.url + "/api/notifications/stream", headers=headers,
                      timeout=httpx.Timeout(10, read=10)) as r:
        assert r.status_code == 200
        first = next(r.iter_lines())
        assert first.startswith(("event:", "id:", "retry:", ":", "data:")), first
