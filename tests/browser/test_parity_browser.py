"""The parity vectors in Chromium: the browser's rules give the server's answers.

One page (a form preview, which loads /static/rounds/rounds-form.js and the vendored
json-logic-engine, exactly as people get them) evaluates every vector in one call; the
answers are compared here, and every mismatch is reported at once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from support.json_equality import json_equal as _json_equal

pytestmark = pytest.mark.browser

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).resolve().parents[1] / "conformance" / "parity.json").read_text("utf-8"))

EVALUATE_ALL = """(vectors) => vectors.map((v) => {
  try {
    return { value: window.roundsRules.evaluate(v.rule, v.data) }
  } catch (e) {
    return { error: e && e.error ? e.error.type : String(e) }
  }
})"""


def test_every_vector_gives_the_servers_answer(server: str, page: Any,
                                               page_errors: list[str]) -> None:
    page.goto(f"{server}/forms/customer_manager_visit/preview?lang=zh")
    page.wait_for_function("window.roundsRules !== undefined")
    results = page.evaluate(EVALUATE_ALL, VECTORS)
    assert len(results) == len(VECTORS)
    mismatches = []
    for n, (vector, got) in enumerate(zip(VECTORS, results, strict=True)):
        if "error" in vector:
            ok = got.get("error") == vector["error"]
            want: Any = {"error": vector["error"]}
        else:
            ok = "value" in got and json_equal(got["value"], vector["expected"])
            want = vector["expected"]
        if not ok:
            mismatches.append(f"#{n} {json.dumps(vector['rule'], ensure_ascii=False)[:160]}\n"
                              f"    want {json.dumps(want, ensure_ascii=False)[:160]}\n"
                              f"    got  {json.dumps(got, ensure_ascii=False)[:160]}")
    assert not mismatches, f"{len(mismatches)} of {len(VECTORS)} vectors differ:\n" + "\n".join(
        mismatches)
    assert not page_errors


def json_equal(got: Any, exp: Any) -> bool:
    return _json_equal(got, exp, exact=True)
