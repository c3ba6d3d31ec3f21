"""What a rule reads, checked by hand and against what the compiled rule actually returns."""

from __future__ import annotations

from typing import Any

import pytest

from rounds.rules import apply
from rounds.rules.analysis import VarRead, operations, reads


def paths(rule: Any) -> list[str]:
    return [r.path for r in reads(rule)]


def test_a_var_inside_some_reads_each_element() -> None:
    rule = {"some": [{"var": "products"}, {">": [{"var": "qty"}, 0]}]}
    assert reads(rule) == [VarRead("products", "/some/0"), VarRead("products.*.qty", "/some/1/>/0")]


def test_reduce_reads_current_and_not_the_accumulator() -> None:
    rule = {"reduce": [{"var": "lines"},
                       {"+": [{"var": "accumulator"}, {"var": "current.price"}]}, 0]}
    assert paths(rule) == ["lines", "lines.*.price"]


def test_scope_up_resolves_like_the_compiler() -> None:
    inside = {"val": [[1], "index"]}
    assert paths({"map": [{"var": "a"}, inside]}) == ["a"]
    assert paths({"map": [{"var": "a"}, {"val": [[2], "limit"]}]}) == ["a", "limit"]
    nested = {"some": [{"var": "g"}, {"some": [{"var": "sub"}, {"val": [[2], "k"]}]}]}
    assert paths(nested) == ["g", "g.*.sub", "g.*.k"]


def test_unknown_sequences_are_marked_and_filter_keeps_elements() -> None:
    mapped = {"all": [{"map": [{"var": "a"}, {"var": "b"}]}, {"var": "c"}]}
    assert paths(mapped) == ["a", "a.*.b", "?.c"]
    assert [r.unknown for r in reads(mapped)] == [False, False, True]
    filtered = {"some": [{"filter": [{"var": "g"}, {"var": "ok"}]}, {"var": "q"}]}
    assert paths(filtered) == ["g", "g.*.ok", "g.*.q"]


def test_computed_paths_are_dynamic() -> None:
    got = reads({"var": {"cat": ["answers_", {"var": "k"}]}})
    assert got == [VarRead("k", "/var/cat/1"), VarRead("", "", dynamic=True)]
    assert reads({"val": ["ctx", {"var": "k"}]})[-1] == VarRead("ctx", "", dynamic=True)


def test_missing_exists_and_defaults() -> None:
    assert reads({"missing": ["a", "b.c"]}) == [VarRead("a", "/missing/0"),
                                                VarRead("b.c", "/missing/1")]
    assert paths({"missing_some": [1, ["x", "y"]]}) == ["x", "y"]
    assert paths({"exists": ["ctx", "site"]}) == ["ctx.site"]
    assert paths({"var": ["a", {"var": "fallback"}]}) == ["fallback", "a"]
    assert paths({"preserve": {"var": "x"}}) == []


def test_operations() -> None:
    rule = {"if": [{"some": [{"var": "g"}, {"==": [{"var": "x"}, 1]}]}, "yes",
                   {"preserve": {"nope": 1}}]}
    assert operations(rule) == {"if", "some", "var", "==", "preserve"}


def _value_at(data: Any, path: str) -> Any:
    """Follow a reported path in the data, taking the first element for each ``*``."""
    for key in path.split(".") if path else []:
        data = data[0] if key == "*" else data.get(key)
    return data


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("up", range(8))
def test_reported_scopes_match_what_the_compiled_rule_reads(depth: int, up: int) -> None:
    # Levels l0, l1, ... each with a distinct marker under "k"; the innermost body reads
    # {"val": [[up], "k"]}: the reported path must lead to the marker the rule returns.
    data: dict[str, Any] = {"k": "root"}
    node = data
    for d in range(depth):
        child: dict[str, Any] = {"k": f"e{d}"}
        node[f"l{d}"] = [child]
        node = child
    rule: Any = {"val": [[up], "k"]}
    for d in reversed(range(depth)):
        rule = {"map": [{"var": f"l{d}"}, rule]}
    result = apply(rule, data)
    for _ in range(depth):
        result = result[0]
    got = [r for r in reads(rule) if not r.pointer.endswith("/map/0")]  # not the sequences
    if up % 2 == 1 and up < 2 * depth:
        assert got == []  # an iteration context: {"index": i} has no "k"
        assert result is None
    else:
        (read,) = got
        assert _value_at(data, read.path) == result
