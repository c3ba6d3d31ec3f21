"""Property test: the browser evaluates a definition exactly as the server does.

For every standard and survey (the repository's, the scoring schemes of tests/scoring/schemes,
and the rule-heavy ones beside this file), random answer sets (tests/support/random_answers.py,
seeded) are evaluated by Python (``compile_standard(definition).evaluate``) and by the page's
standard.js (``roundsRules.evaluateDefinition``, loaded as people get it, with the words the
page's config carries), all sets of a definition in one call. Everything the evaluation gives
must be identical, numbers to the bit: kept answers, calculated values, visibility,
required-ness, evidence, group entries, failed items, the score and its explanation, outcomes,
checks, alerts, and the rules that raised.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from rounds.rules.standards import compile_standard
from support.json_equality import json_equal
from support.random_answers import answer_sets

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
DEFINITIONS = sorted(
    [*ROOT.glob("definitions/standards/*.json"), *ROOT.glob("definitions/surveys/*.json"),
     *ROOT.glob("tests/scoring/schemes/*.json"), *Path(__file__).parent.glob("standards/*.json")])
SETS = 300  # answer sets per definition

EVALUATE_ALL = """([definition, bodies]) => {
  const { words } = JSON.parse(document.getElementById('rounds-rules').textContent)
  return bodies.map((b) => {
    try {
      return window.roundsRules.evaluateDefinition(definition, b.answers, b.ctx, { words })
    } catch (e) {
      return { crashed: String(e && e.stack ? e.stack : e) }
    }
  })
}"""


def first_difference(got: Any, want: Any, path: str = "") -> str | None:
    """Where two JSON values first differ (a JSON pointer), or None."""
    if isinstance(want, dict) and isinstance(got, dict):
        if got.keys() != want.keys():
            return f"{path} keys {sorted(got)} != {sorted(want)}"
        for k in want:
            found = first_difference(got[k], want[k], f"{path}/{k}")
            if found:
                return found
        return None
    if isinstance(want, list) and isinstance(got, list) and len(got) == len(want):
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            found = first_difference(g, w, f"{path}/{i}")
            if found:
                return found
        return None
    if json_equal(got, want, exact=True):
        return None
    return (f"{path or '/'}: browser {json.dumps(got, ensure_ascii=False)[:200]}, "
            f"server {json.dumps(want, ensure_ascii=False)[:200]}")


@pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: p.stem)
def test_random_answers_evaluate_alike(server: str, page: Any, page_errors: list[str],
                                       path: Path) -> None:
    definition = json.loads(path.read_text("utf-8"))
    bodies = answer_sets(definition, seed=len(path.stem), n=SETS)
    rules = compile_standard(definition)
    want = [msgspec.to_builtins(rules.evaluate(b["answers"], b["ctx"])) for b in bodies]

    page.goto(f"{server}/forms/customer_manager_visit/preview?lang=zh")
    page.wait_for_function("window.roundsRules !== undefined")
    got = page.evaluate(EVALUATE_ALL, [definition, bodies])

    assert len(got) == len(want) == SETS
    differences = []
    for n, (g, w) in enumerate(zip(got, want, strict=True)):
        found = first_difference(g, w)
        if found:
            differences.append(f"set #{n} {json.dumps(bodies[n], ensure_ascii=False)[:300]}\n"
                               f"    {found}")
    assert not differences, (f"{len(differences)} of {SETS} answer sets differ:\n"
                             + "\n".join(differences[:10]))
    assert not page_errors
