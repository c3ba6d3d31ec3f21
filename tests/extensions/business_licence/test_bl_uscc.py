"""uscc_valid and uscc_region: published codes pass; every single-character change of each
fails (exhaustively: every position, every other charset character and characters outside
it); through the rule compiler once the extension is active; the browser's port agrees."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from rounds_business_licence.uscc import CHARSET, WEIGHTS, check_character, uscc_region, uscc_valid

from support.extensions import ENABLED

# Codes published by the companies on their licences (the four of the issue's discussion
# and more from public registers); each one passes the check, asserted below.
PUBLISHED = ("91330100716105852F", "9144030071526726XG", "914403001922038216",
             "91110000802100433B", "91440300708461136T", "91110108551385082Q")
# Outside the charset: the five letters GB 32100 leaves out, lower case, other scripts.
OUTSIDE = ("I", "O", "S", "V", "Z", "a", "f", "x", "-", " ", "０", "Ａ", "中", "\u00a0")
EXT = Path(__file__).resolve().parents[3] / "extensions" / "business_licence"


def test_the_charset_and_weights_are_the_standard_s() -> None:
    assert len(CHARSET) == 31 and not set(CHARSET) & set("IOSVZ")
    assert tuple(pow(3, i, 31) for i in range(17)) == WEIGHTS  # 3^(i) mod 31, GB 32100


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code: str) -> None:
    assert uscc_valid(code) is True
    assert uscc_region(code) == code[2:8]


@pytest.mark.parametrize("code", PUBLISHED)
def test_every_single_character_change_fails(code: str) -> None:
    changed = 0
    for i in range(len(code)):
        for ch in (*CHARSET, *OUTSIDE):
            if ch == code[i]:
                continue
            other = code[:i] + ch + code[i + 1:]
            assert uscc_valid(other) is False, other
            assert uscc_region(other) is None
            changed += 1
    # exhaustive: 18 positions × (30 other charset characters + every outside one)
    assert changed == 18 * (30 + len(OUTSIDE))


@pytest.mark.parametrize("value", [None, 91330100716105852, 1.5, True, ["91330100716105852F"],
                                   {"code": "91330100716105852F"}, "", "91330100716105852",
                                   "91330100716105852FF", "91330100716105852f"])
def test_anything_else_is_not_a_code_and_never_raises(value: object) -> None:
    assert uscc_valid(value) is False
    assert uscc_region(value) is None


def test_the_check_character_of_the_first_17() -> None:
    assert check_character("91330100716105852") == "F"
    assert check_character("9133010071610585") is None  # 16
    assert check_character("9133010071610585I") is None  # outside the charset


def test_a_valid_code_whose_division_is_not_digits_has_no_region() -> None:
    first17 = "91A301007161058" + "52"
    code = first17 + str(check_character(first17))
    assert uscc_valid(code) and uscc_region(code) is None


def test_the_operations_through_the_rule_compiler_once_active() -> None:
    from rounds.extensions import activate
    from rounds.rules import apply, compile_rule

    activate(ENABLED)
    assert apply({"uscc_valid": [{"var": "c"}]}, {"c": "91330100716105852F"}) is True
    assert apply({"uscc_valid": [{"var": "c"}]}, {"c": "91330100716105852E"}) is False
    assert apply({"uscc_valid": [{"var": "c"}]}, {}) is False
    assert apply({"uscc_region": [{"var": "c"}]}, {"c": "9144030071526726XG"}) == "440300"
    rule = compile_rule({"if": [{"uscc_valid": {"var": "c"}}, {"uscc_region": {"var": "c"}},
                                "bad"]})
    assert rule({"c": "91110000802100433B"}) == "110000"
    assert rule({"c": 42}) == "bad"


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_the_browser_port_gives_the_same_answers() -> None:
    values: list[object] = [*PUBLISHED, None, 1, True, [], {}, "", "91330100716105852f",
                            "91A3010071610585" + "2" + "X"]
    values += [c[:i] + ch + c[i + 1:] for c in PUBLISHED[:2] for i in range(18)
               for ch in ("0", "Y", "I", "a") if ch != c[i]]
    module = (EXT / "rounds_business_licence/static/operations.js").as_uri()
    script = (f"import({json.dumps(module)})"
              ".then(({operations: o}) => { const vs = JSON.parse(process.argv[1]);"
              " console.log(JSON.stringify(vs.map(v => [o.uscc_valid(v), o.uscc_region(v)]))) })")
    out = subprocess.run(["node", "-e", script, json.dumps(values)], check=True,
                         capture_output=True, text=True).stdout
    assert json.loads(out) == [[uscc_valid(v), uscc_region(v)] for v in values]
