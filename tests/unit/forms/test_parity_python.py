"""Every parity vector (tests/conformance/parity.json) gives its expected answer on the server.

The same vectors run in Chromium (tests/browser/test_parity_browser.py): together they keep
the browser's rules and ``rounds.rules`` to one answer. Regenerate the file with
``tests/conformance/make_parity.py`` after changing an operation or a definition's rules.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rounds.rules import RuleEvaluationError, apply
from support.json_equality import json_equal as _json_equal

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "conformance" / "parity.json")
                     .read_text(encoding="utf-8"))


def test_the_vectors_cover_every_domain_operation() -> None:
    from rounds.rules.operations import default_registry

    used = json.dumps([v["rule"] for v in VECTORS])
    for name in default_registry.names():
        assert f'"{name}"' in used, f"no parity vector uses {name}"


@pytest.mark.parametrize("vector", VECTORS, ids=[f"v{n}" for n in range(len(VECTORS))])
def test_vector(vector: dict[str, Any]) -> None:
    if "error" in vector:
        with pytest.raises(RuleEvaluationError) as caught:
            apply(vector["rule"], vector["data"])
        assert caught.value.error.get("type") == vector["error"]
    else:
        got = apply(vector["rule"], vector["data"])
        assert json_equal(got, vector["expected"]), (vector["rule"], got, vector["expected"])


def json_equal(got: Any, exp: Any) -> bool:
    return _json_equal(got, exp, exact=True)
