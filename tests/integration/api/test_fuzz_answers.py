"""Arbitrary JSON thrown at the check and submission endpoints over real HTTP: whatever
comes in — any shape, NaN and Infinity, huge or tiny numbers, deep nesting, valid answers
with one value swapped for junk — the answer is never a 5xx."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.fieldwork import STANDARD, Live, good_answers, live_city

SCALARS = (st.none() | st.booleans() | st.integers()
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20)
           | st.sampled_from([2**63, -(2**63) - 1, 10**400, 1e308, 5e-324, 2**31]))
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=30)
RAW_NUMBERS = st.sampled_from([b"1e309", b"-1e309", b"1" + b"0" * 500, b"NaN", b"-Infinity",
                               b"1e-400", b"[" * 3000])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_city(tmp_path_factory.mktemp("fuzz"), "sqlite") as city:
        yield city


@st.composite
def answers(draw: st.DrawFn) -> bytes:
    """Mostly a valid answer set with some values replaced by junk; sometimes pure junk."""
    base: dict[str, Any] = good_answers("0" * 64)
    kind = draw(st.sampled_from(["swap", "junk", "raw"]))
    if kind == "junk":
        return json.dumps(draw(JSON_VALUES)).encode()
    for key in draw(st.lists(st.sampled_from(sorted(base)), min_size=1, max_size=3)):
        base[key] = draw(JSON_VALUES)
    if draw(st.booleans()):
        base[draw(st.text(max_size=8))] = draw(JSON_VALUES)
    text = json.dumps(base).encode()  # NaN and Infinity come out as bare words, as sent
    if kind == "raw":  # a literal no encoder here would write
        key = draw(st.sampled_from(sorted(base)))
        text = text.replace(f'"{key}": '.encode(), f'"{key}": '.encode()
                            + draw(RAW_NUMBERS) + b', "_": ', 1)
    return text


def _version(live: Live) -> str:
    return str(httpx.get(f"{live.url}/api/definitions/{STANDARD}").json()["content_hash"])


FUZZ = settings(max_examples=120, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


def test_check_never_answers_5xx(live: Live) -> None:
    with httpx.Client(base_url=live.url, timeout=30) as c:
        @FUZZ
        @given(body=answers(), evidence=st.none() | JSON_VALUES)
        def run(body: bytes, evidence: Any) -> None:
            doc = b'{"answers":' + body
            doc += (b',"evidence":' + json.dumps(evidence).encode() + b"}") if evidence \
                is not None else b"}"
            r = c.post(f"/api/forms/{STANDARD}/check", content=doc,
                       headers={"content-type": "application/json"})
            assert r.status_code < 500, (doc[:300], r.text[:300])
            assert r.status_code in (200, 400, 422), (doc[:300], r.text[:300])

        run()


def test_submit_never_answers_5xx(live: Live) -> None:
    version = _version(live)
    with httpx.Client(base_url=live.url, headers=live.auth["zhang"], timeout=30) as c:
        @FUZZ
        @given(body=answers(), visit=st.none() | st.integers() | JSON_VALUES,
               extra=st.none() | st.dictionaries(st.text(max_size=6), JSON_VALUES,
                                                  max_size=2))
        def run(body: bytes, visit: Any, extra: Any) -> None:
            head = {"id": str(uuid.uuid4()), "definition_id": STANDARD, "version": version}
            if visit is not None:
                head["visit_id"] = visit
            if extra:
                head.update(extra)
            doc = json.dumps(head).encode()[:-1] + b', "answers":' + body + b"}"
            r = c.post("/api/submissions", content=doc,
                       headers={"content-type": "application/json"})
            assert r.status_code < 500, (doc[:300], r.text[:300])

        run()
