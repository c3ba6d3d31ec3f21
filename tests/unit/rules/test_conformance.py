"""Every case of the JsonLogic conformance suites as one test (data: tests/conformance/jsonlogic).

Test ids name the suite file and the case's position in that file's JSON array, e.g.
``compat/val.json#3`` is ``compat-tables/val.json[3]``; ``legacy/jsonlogic.com-tests.json#12``
is element 12 of the jsonlogic.com file (whose strings are section headings).

Results are compared JSON-typed, as the shared runner's default does: booleans are not numbers,
``1 == 1.0``, floats agree within 1e-9 relative. An error case passes only when the rule raises
``RuleError`` (compile time) or ``RuleEvaluationError`` (run time) and the message names the
expected error type.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

import rounds.rules
from rounds.rules import RuleError, RuleEvaluationError
from support.json_equality import json_equal

DATA = Path(__file__).resolve().parents[2] / "conformance" / "jsonlogic"
LEGACY_FILE = DATA / "jsonlogic.com-tests.json"
COMPAT_DIR = DATA / "compat-tables"


def _load_cases() -> list[Any]:
    params: list[Any] = []
    raw = json.loads(LEGACY_FILE.read_text(encoding="utf-8"))
    for pos, item in enumerate(raw):
        if isinstance(item, str):  # a section heading
            continue
        rule, data, expected = item
        case = {"rule": rule, "data": data, "result": expected}
        params.append(pytest.param(case, id=f"legacy/{LEGACY_FILE.name}#{pos}"))
    index = json.loads((COMPAT_DIR / "index.json").read_text(encoding="utf-8"))
    for name in index:
        raw = json.loads((COMPAT_DIR / name).read_text(encoding="utf-8"))
        for pos, item in enumerate(raw):
            if isinstance(item, dict):  # strings are comments
                params.append(pytest.param(item, id=f"compat/{name}#{pos}"))
    return params


CASES = _load_cases()


def test_suites_are_all_there() -> None:
    assert len(CASES) == 277 + 1138


@pytest.mark.parametrize("case", CASES)
def test_case(case: dict[str, Any]) -> None:
    rule = copy.deepcopy(case.get("rule"))
    data = copy.deepcopy(case.get("data"))
    if "error" in case:
        error = case["error"]
        expected_type = str(error.get("type", "")) if isinstance(error, dict) else str(error)
        assert expected_type
        with pytest.raises((RuleError, RuleEvaluationError)) as info:
            rounds.rules.apply(rule, data)
        assert expected_type.lower() in str(info.value).lower(), (
            f"raised {info.value!r}, expected an error of type {expected_type!r}")
        return
    got = rounds.rules.apply(rule, data)
    assert json_equal(got, case["result"]), f"got {got!r}, want {case['result']!r}"
