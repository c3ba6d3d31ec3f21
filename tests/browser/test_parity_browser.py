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


def json_equal(got: Any, exp: Any) -> bool:
    """Identical as JSON: booleans are not numbers, 1 == 1.0, and floats agree to the bit
    (distance_m rounds to the millimetre, which absorbs the last-bit differences V8's and
    glibc's sin/cos could have)."""
    if isinstance(exp, bool) or isinstance(got, bool):
        return type(got) is bool and type(exp) is bool and got == exp
    if exp is None or got is None:
        return got is None and exp is None
    if isinstance(exp, int | float):
        return isinstance(got, int | float) and got == exp
    if isinstance(exp, list):
        return (isinstance(got, list) and len(got) == len(exp)
                and all(json_equal(g, e) for g, e in zip(got, exp, strict=True)))
    if isinstance(exp, dict):
        return (isinstance(got, dict) and got.keys() == exp.keys()
                and all(json_equal(got[k], exp[k]) for k in exp))
    return bool(got == exp)


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
