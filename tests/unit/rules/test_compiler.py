"""The rule compiler: compile-time errors with pointers, domain operations, extension
registries, the cache, ``compile_many``, fresh results, and no eval/exec anywhere."""

from __future__ import annotations

import ast
import copy
import math
import re
from pathlib import Path
from typing import Any, ClassVar

import pytest

import rounds
import rounds.rules
from rounds.errors import Problem
from rounds.rules import (
    Operation,
    OperationRegistry,
    RuleError,
    RuleEvaluationError,
    compile_many,
    compile_rule,
    default_registry,
)


def problems_of(rule: Any, **kw: Any) -> list[Problem]:
    with pytest.raises(RuleError) as info:
        compile_rule(rule, **kw)
    assert info.value.problems, "a RuleError always lists its problems"
    return info.value.problems


def pointers(rule: Any) -> list[str]:
    return [p.pointer for p in problems_of(rule)]


# -- compile-time errors ---------------------------------------------------------------------

class TestCompileErrors:
    def test_unknown_operation_deep_inside(self) -> None:
        rule = {"and": [True, {"if": [{"nope": [1]}, 1, 2]}]}
        [p] = problems_of(rule)
        assert p.pointer == "/and/1/if/0"
        assert p.code == "unknown_operation"
        assert "nope" in p.message
        assert p.source == "rule"

    def test_unknown_operation_at_the_top(self) -> None:
        [p] = problems_of({"nope": 1})
        assert p.pointer == ""

    def test_pointer_escapes_slash_and_tilde(self) -> None:
        # RFC 6901: "~" is written "~0" and "/" is written "~1" in a pointer.
        [p] = problems_of({"map": [{"var": "xs"}, {"a/b": 1}]})
        assert p.pointer == "/map/1"
        [p] = problems_of({"map": [[1], {"var": "x"}, 3]})
        assert p.pointer == "/map"
        [p] = problems_of({"if": [{"a~b": [{"c/d": 1}]}, 1, 2]})
        assert p.pointer == "/if/0"
        assert "a~b" in p.message

    def test_every_bad_subrule_is_reported(self) -> None:
        rule = {"and": [
            {"x": 1},
            {"or": [{"y": 2}, {"var": "a"}]},
            {"if": [{"var": "b"}, {"zz": 3}, {"?:": [1, 2]}]},
            {"map": [1, None]},
        ]}
        with pytest.raises(RuleError) as info:
            compile_rule(rule)
        ps = info.value.problems
        found = {(p.pointer, p.code) for p in ps}
        assert found == {
            ("/and/0", "unknown_operation"),
            ("/and/1/or/0", "unknown_operation"),
            ("/and/2/if/1", "unknown_operation"),
            ("/and/2/if/2/?:", "bad_arity"),
            ("/and/3/map/0", "bad_arguments"),
            ("/and/3/map/1", "bad_arguments"),
        }
        assert len(ps) == 6
        # The exception's message names the first three, with where they are, and counts the rest.
        assert str(info.value).startswith("rule:/and/0: unknown operation 'x'")
        assert str(info.value).endswith("(and 3 more)")

    @pytest.mark.parametrize(("rule", "pointer", "want"), [
        ({"?:": [1, 2]}, "/?:", "3 arguments, got 2"),
        ({"missing_some": [1]}, "/missing_some", "2 arguments, got 1"),
        ({"all": [[1], {"var": ""}, 2]}, "/all", "2 arguments, got 3"),
        ({"reduce": [[1]]}, "/reduce", "2 to 3 arguments, got 1"),
        ({"in": ["a"]}, "/in", "2 arguments, got 1"),
        ({"%": [1]}, "/%", "at least 2 arguments, got 1"),
        ({"<": [1]}, "/<", "at least 2 arguments, got 1"),
        ({"==": [1, {"distance_m": [1]}]}, "/==/1/distance_m", "2 arguments, got 1"),
        ({"percentage": [1, 2, 3, 4]}, "/percentage", "2 to 3 arguments, got 4"),
    ])
    def test_wrong_arity(self, rule: Any, pointer: str, want: str) -> None:
        [p] = problems_of(rule)
        assert p.pointer == pointer
        assert p.code == "bad_arity"
        assert want in p.message
        assert p.message.startswith("Invalid Arguments")

    @pytest.mark.parametrize("args", [{"var": "a"}, 1, "yes", True, None])
    def test_if_takes_an_array(self, args: Any) -> None:
        [p] = problems_of({"and": [True, {"if": args}]})
        assert p.pointer == "/and/1/if"
        assert p.code == "bad_arguments"
        assert "'if' takes an array" in p.message

    def test_object_with_two_keys(self) -> None:
        [p] = problems_of({"if": [{"a": 1, "b": 2}, 1, 2]})
        assert p.pointer == "/if/0"
        assert "one key" in p.message

    def test_bad_var_path(self) -> None:
        [p] = problems_of({"var": True})
        assert p.pointer == "/var"

    def test_nan_literal(self) -> None:
        [p] = problems_of({"+": [1, math.nan]})
        assert p.pointer == "/+/1"

    def test_run_time_error_is_not_a_compile_error(self) -> None:
        fn = compile_rule({"+": [{"var": "a"}, 1]})
        with pytest.raises(RuleEvaluationError) as info:
            fn({"a": "not a number"})
        assert info.value.error == {"type": "NaN"}
        with pytest.raises(RuleEvaluationError) as info:
            compile_rule({"throw": "Not an admin"})({})
        assert info.value.error == {"type": "Not an admin"}


# -- domain operations -----------------------------------------------------------------------

EARTH_RADIUS_M = 6_371_008.8
YELLOW_CRANE_TOWER = {"lat": 30.5450, "lng": 114.3020}
HANKOU_STATION = {"lat": 30.6186, "lng": 114.2550}


def chord_distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance by a different route than haversine: the 3-D chord between the
    two points on the sphere, then the arc it subtends."""
    def xyz(lat: float, lng: float) -> tuple[float, float, float]:
        la, lo = math.radians(lat), math.radians(lng)
        return math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)

    chord = math.dist(xyz(*a), xyz(*b))
    return 2 * EARTH_RADIUS_M * math.asin(chord / 2)


class TestDomainOperations:
    def test_distance_in_wuhan(self) -> None:
        rule = {"distance_m": [{"var": "checkin.position"}, {"var": "site.position"}]}
        got = rounds.rules.apply(rule, {"checkin": {"position": YELLOW_CRANE_TOWER},
                                        "site": {"position": HANKOU_STATION}})
        want = chord_distance((30.5450, 114.3020), (30.6186, 114.2550))
        assert 9_000 < want < 10_000  # about 9.3 km, a sanity check of the reference itself
        assert abs(got - want) < 1.0

    def test_distance_point_forms_and_nulls(self) -> None:
        near = {"lat": 30.5451, "lng": 114.3021}
        got = rounds.rules.apply({"distance_m": [[30.5450, 114.3020], {"var": "p"}]},
                                 {"p": near})
        want = chord_distance((30.5450, 114.3020), (30.5451, 114.3021))
        assert abs(got - want) < 0.01
        assert rounds.rules.apply({"distance_m": [{"var": "p"}, {"var": "q"}]},
                                  {"p": near}) is None
        assert rounds.rules.apply({"distance_m": [{"var": "p"}, {"var": "q"}]},
                                  {"p": near, "q": {"lat": 1}}) is None
        # A check-in within 200 m of the shop, as a checklist would say it.
        rule = {"<=": [{"distance_m": [{"var": "gps"}, {"var": "shop"}]}, 200]}
        assert rounds.rules.apply(rule, {"gps": near, "shop": YELLOW_CRANE_TOWER}) is True
        assert rounds.rules.apply(rule, {"gps": HANKOU_STATION,
                                         "shop": YELLOW_CRANE_TOWER}) is False

    @pytest.mark.parametrize(("a", "b", "days"), [
        ("2024-02-27", "2024-03-01", 3),  # leap year
        ("2023-02-27", "2023-03-01", 2),
        ("2024-03-01", "2024-02-27", -3),
        ("2024-01-01T23:59:00Z", "2024-01-02T00:01:00+00:00", 1),
        ("2024-12-31", "2025-01-01", 1),
    ])
    def test_days_between(self, a: str, b: str, days: int) -> None:
        rule = {"days_between": [{"var": "a"}, {"var": "b"}]}
        assert rounds.rules.apply(rule, {"a": a, "b": b}) == days

    def test_days_between_not_dates(self) -> None:
        rule = {"days_between": [{"var": "a"}, "2024-01-01"]}
        assert rounds.rules.apply(rule, {"a": "yesterday"}) is None
        assert rounds.rules.apply(rule, {}) is None

    def test_count(self) -> None:
        assert rounds.rules.apply({"count": [{"var": "photos"}]},
                                  {"photos": ["a.jpg", "b.jpg", "c.jpg"]}) == 3
        rule = {"count": [{"var": "a"}, {"var": "b"}, {"var": "c"}, {"var": "d"}]}
        assert rounds.rules.apply(rule, {"a": True, "b": False, "c": "yes", "d": []}) == 2

    def test_count_truthy(self) -> None:
        rule = {"count_truthy": [{"var": "ticks"}]}
        assert rounds.rules.apply(rule, {"ticks": [True, False, 1, 0, "", "x", None, {}]}) == 4
        assert rounds.rules.apply(rule, {"ticks": "not a list"}) == 0

    def test_sum(self) -> None:
        rule = {"sum": [{"map": [{"var": "shelf"}, {"*": [{"var": "qty"}, {"var": "price"}]}]}]}
        shelf = [{"qty": 2, "price": 10.5}, {"qty": 3, "price": 4}, {"qty": 0, "price": 99}]
        assert rounds.rules.apply(rule, {"shelf": shelf}) == 33
        assert rounds.rules.apply({"sum": [{"var": "xs"}]}, {"xs": [1, None, 2.5]}) == 3.5
        assert rounds.rules.apply({"sum": [1, 2, 3]}, None) == 6

    def test_percentage(self) -> None:
        rule = {"percentage": [{"count_truthy": [{"var": "ticks"}]}, {"count": [{"var": "ticks"}]}]}
        assert rounds.rules.apply(rule, {"ticks": [True, True, False]}) == 66.7
        assert rounds.rules.apply(rule, {"ticks": []}) is None  # whole is zero
        assert rounds.rules.apply({"percentage": [1, 3, 3]}, None) == 33.333
        assert rounds.rules.apply({"percentage": [1, 8, 0]}, None) == 12
        assert rounds.rules.apply({"percentage": ["x", 8]}, None) is None


# -- extension operations --------------------------------------------------------------------

class TestExtensionRegistry:
    def test_child_registry(self) -> None:
        child = default_registry.child()
        child.register(Operation("licence_valid", lambda no: isinstance(no, str)
                                 and len(no) == 12 and no.isdigit(), 1, 1, "bool"))
        rule = {"and": [{"licence_valid": {"var": "shop.licence"}},
                        {"<": [{"distance_m": [{"var": "gps"}, {"var": "shop.pos"}]}, 500]}]}
        fn = compile_rule(rule, operations=child)
        data: dict[str, Any] = {"shop": {"licence": "420100123456", "pos": YELLOW_CRANE_TOWER},
                                "gps": YELLOW_CRANE_TOWER}
        assert fn(data) is True
        data["shop"]["licence"] = "42"
        assert fn(data) is False
        # The parent (and so every other extension) does not see the child's operation.
        assert default_registry.get("licence_valid") is None
        [p] = problems_of(rule)
        assert (p.pointer, p.code) == ("/and/0", "unknown_operation")
        assert child.names() >= {"licence_valid", "distance_m"}

    def test_extension_arity_is_checked(self) -> None:
        child = default_registry.child()
        child.register(Operation("clamp", lambda x, lo, hi: max(lo, min(hi, x)), 3, 3, "num"))
        assert compile_rule({"clamp": [{"var": "x"}, 0, 10]}, operations=child)({"x": 42}) == 10
        [p] = problems_of({"clamp": [1, 2]}, operations=child)
        assert (p.pointer, p.code) == ("/clamp", "bad_arity")

    def test_registry_refuses_clashes(self) -> None:
        reg = OperationRegistry()
        with pytest.raises(ValueError, match="JsonLogic operation"):
            reg.register(Operation("if", lambda *a: None, 0, None))
        reg.register(Operation("twice", lambda x: 2 * x, 1, 1, "num"))
        with pytest.raises(ValueError, match="already registered"):
            reg.register(Operation("twice", lambda x: 3 * x, 1, 1, "num"))

    def test_same_rule_different_registries(self) -> None:
        a, b = OperationRegistry(), OperationRegistry()
        a.register(Operation("f", lambda x: x + 1, 1, 1, "num"))
        b.register(Operation("f", lambda x: x * 10, 1, 1, "num"))
        rule = {"f": [{"var": "x"}]}
        assert compile_rule(rule, operations=a)({"x": 2}) == 3
        assert compile_rule(rule, operations=b)({"x": 2}) == 20


# -- cache, compile_many, fresh results -----------------------------------------------------

class TestCompileApi:
    def test_cache_by_content(self) -> None:
        rule = {"if": [{"var": "cache.test.a"}, {"cat": ["x", {"var": "b"}]}, [1, 2]]}
        fn = compile_rule(rule)
        assert compile_rule(copy.deepcopy(rule)) is fn
        assert rounds.rules.compile is compile_rule
        assert compile_rule({"if": [{"var": "cache.test.a"}, 1, 2]}) is not fn

    def test_compile_many(self) -> None:
        rules = {
            "ok": {">=": [{"var": "score"}, 60]},
            "grade": {"if": [{">=": [{"var": "score"}, 90]}, "A",
                             {">=": [{"var": "score"}, 60]}, "B", "C"]},
            "late": {">": [{"days_between": [{"var": "due"}, {"var": "done"}]}, 0]},
        }
        fns = compile_many(rules)
        assert set(fns) == set(rules)
        data = {"score": 75, "due": "2024-05-01", "done": "2024-05-03"}
        assert {k: f(data) for k, f in fns.items()} == {"ok": True, "grade": "B", "late": True}

    def test_compile_many_reports_all_rules(self) -> None:
        with pytest.raises(RuleError) as info:
            compile_many({"good": {"var": "a"}, "bad1": {"nope": []},
                          "bad2": {"and": [1, {"if": 3}]}})
        found = {(p.source, p.pointer, p.code) for p in info.value.problems}
        assert found == {("bad1", "", "unknown_operation"),
                         ("bad2", "/and/1/if", "bad_arguments")}

    @pytest.mark.parametrize("rule", [
        [1, 2, {"preserve": {"k": "v"}}],
        [1, [2, 3]],
        {"preserve": {"a": [1, 2]}},
        {"if": [{"var": "x"}, [1, 2], [3]]},
        {"merge": [[1], [2, 3]]},
        {"map": [[1, 2, 3], {"*": [{"var": ""}, 2]}]},
        {"filter": [{"var": "xs"}, True]},
        {"??": [{"var": "missing"}, [7, 8]]},
        {"missing": ["a", "b"]},
    ])
    def test_results_are_not_shared(self, rule: Any) -> None:
        fn = compile_rule(rule)
        data = {"x": True, "xs": [4, 5]}
        first = fn(data)
        want = copy.deepcopy(first)
        if isinstance(first, list):
            first.append("junk")
            if first and isinstance(first[0], list):
                first[0].append("junk")
        else:
            first.clear()
        assert fn(data) == want
        assert data == {"x": True, "xs": [4, 5]}

    def test_source_is_python(self) -> None:
        text = rounds.rules.source({"+": [{"if": [{"var": "a"}, 3, 0]}, 1]})
        ast.parse(text)
        assert "def _rule" in text


def test_no_eval_or_exec_in_platform() -> None:
    """Rules become code only through ast + compile(); nothing evaluates text as code."""
    root = Path(rounds.__file__).resolve().parent
    files = sorted(root.rglob("*.py"))
    assert files
    called = re.compile(r"(?<![\w.])(eval|exec)\s*\(")
    offenders = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        for n, line in enumerate(text.splitlines(), 1):
            if called.search(line.split("#", 1)[0]):
                offenders.append(f"{path}:{n}: {line.strip()}")
        for node in ast.walk(ast.parse(text)):  # also catches builtins.eval(...), getattr spelt
            if isinstance(node, ast.Call):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", None)
                if name in ("eval", "exec"):
                    offenders.append(f"{path}:{node.lineno}: call of {name}")
    assert offenders == []


# -- the generated code's fast paths give what the general helpers give ----------------------

class TestFastPaths:
    """Each inline fast path against the slow path it stands for (the helpers in semantics)."""

    @pytest.mark.parametrize(("a", "b", "want"), [
        (1.5, 1.5, 3), (1, 2, 3), (0.1, 0.2, 0.30000000000000004), (2, 0.5, 2.5),
        ("1", 2, 3), (None, 2, 2), (True, 1, 2),
    ])
    def test_plus_of_two_reads(self, a: Any, b: Any, want: Any) -> None:
        got = rounds.rules.apply({"+": [{"var": "a"}, {"var": "b"}]}, {"a": a, "b": b})
        assert got == want
        assert type(got) is type(want)  # whole floats come back as int, like the helpers

    def test_number_sums_are_normalised(self) -> None:
        assert type(rounds.rules.apply({"+": [1.5, 1.5]})) is int
        rule = {"+": [{"if": [{"var": "a"}, 1.5, 0]}, {"if": [{"var": "b"}, 2.5, 0]}]}
        assert rounds.rules.apply(rule, {"a": True, "b": True}) == 4
        assert type(rounds.rules.apply(rule, {"a": True, "b": True})) is int
        assert rounds.rules.apply(rule, {"a": True}) == 1.5

    @pytest.mark.parametrize("rule", [
        {"-": [{"var": "a"}, {"var": "b"}]},
        {"+": [{"var": "a"}, {"*": [{"var": "b"}, -1]}]},
        {"<": [{"-": [{"var": "a"}, {"var": "b"}]}, 1]},
        {"reduce": [{"var": "xs"}, {"-": [{"var": "accumulator"}, {"var": "current"}]},
                    {"var": "a"}]},
        {"reduce": [{"var": "ys"}, {"+": [{"var": "accumulator"}, {"var": "current"}]}, 0]},
    ])
    def test_nan_is_an_error(self, rule: Any) -> None:
        data = {"a": math.inf, "b": math.inf, "xs": [math.inf], "ys": [math.inf, -math.inf]}
        with pytest.raises(RuleEvaluationError) as info:
            compile_rule(rule)(data)
        assert info.value.error == {"type": "NaN"}

    def test_divide_by_literal(self) -> None:
        rule = {"/": [{"var": "n"}, 4]}
        assert rounds.rules.apply(rule, {"n": 10}) == 2.5
        assert type(rounds.rules.apply(rule, {"n": 8})) is int
        assert rounds.rules.apply(rule, {"n": "8"}) == 2
        with pytest.raises(RuleEvaluationError):
            rounds.rules.apply(rule, {"n": "eight"})

    def test_max_min_of_two(self) -> None:
        assert rounds.rules.apply({"max": [{"var": "n"}, 50]}, {"n": 70}) == 70
        assert rounds.rules.apply({"min": [{"var": "n"}, 50]}, {"n": 70}) == 50
        with pytest.raises(RuleEvaluationError) as info:
            rounds.rules.apply({"max": [{"var": "n"}, 50]}, {"n": "70"})
        assert info.value.error == {"type": "Invalid Arguments"}

    def test_cat(self) -> None:
        rule = {"cat": ["grade-", {"var": "g"}]}
        assert rounds.rules.apply(rule, {"g": "A"}) == "grade-A"
        assert rounds.rules.apply(rule, {"g": 1.0}) == "grade-1"
        assert rounds.rules.apply(rule, {}) == "grade-"
        assert rounds.rules.apply(rule, {"g": [1, 2]}) == "grade-1,2"

    def test_in_with_string_needle(self) -> None:
        rule = {"in": ["broken", {"var": "notes"}]}
        assert rounds.rules.apply(rule, {"notes": "door broken"}) is True
        assert rounds.rules.apply(rule, {"notes": ["broken", "old"]}) is True
        assert rounds.rules.apply(rule, {"notes": ["door broken"]}) is False
        assert rounds.rules.apply(rule, {"notes": None}) is False
        assert rounds.rules.apply(rule, {}) is False

    @pytest.mark.parametrize(("value", "want"), [
        (True, 1), (False, 0), (None, 0), ({}, 1), ({"a": 1}, 1), ([], 0), ([0], 1),
        ("", 0), ("0", 1), (0, 0), (0.0, 0), (math.nan, 0), (-1.5, 1),
    ])
    def test_truthiness_of_data(self, value: Any, want: int) -> None:
        assert rounds.rules.apply({"if": [{"var": "v"}, 1, 0]}, {"v": value}) == want
        assert rounds.rules.apply({"!!": {"var": "v"}}, {"v": value}) is bool(want)
        got = rounds.rules.apply({"filter": [{"var": "vs"}, {"var": ""}]}, {"vs": [value]})
        assert len(got) == want

    @pytest.mark.parametrize(("data", "want"), [
        ({"ctx": {"site": {"grade": "A"}}}, "A"),
        ({"ctx": {"site": {"grade": None}}}, None),   # found: null, not the default
        ({"ctx": {"site": {}}}, "dflt"),
        ({"ctx": {"site": None}}, "dflt"),
        ({"ctx": {"site": "shop"}}, "dflt"),
        ({"ctx": [1, 2]}, "dflt"),
        ({}, "dflt"),
        ([{"site": {"grade": "B"}}], "dflt"),
        (None, "dflt"),
        ("text", "dflt"),
    ])
    def test_dotted_paths(self, data: Any, want: Any) -> None:
        assert rounds.rules.apply({"var": ["ctx.site.grade", "dflt"]}, data) == want

    def test_paths_through_arrays(self) -> None:
        data = {"shelf": [{"sku": "P01"}, {"sku": "P02"}]}
        assert rounds.rules.apply({"var": "shelf.1.sku"}, data) == "P02"
        assert rounds.rules.apply({"var": ["shelf.5.sku", "none"]}, data) == "none"
        assert rounds.rules.apply({"var": "1.sku"}, data["shelf"]) == "P02"
        assert rounds.rules.apply({"val": ["shelf", 0, "sku"]}, data) == "P01"

    def test_data_that_is_not_an_object(self) -> None:
        rule = {"+": [{"var": "0"}, {"var": "1"}, {"if": [{"var": "2"}, 10, 0]}]}
        assert rounds.rules.apply(rule, [1, 2, True]) == 13
        assert rounds.rules.apply(rule, {"0": 1, "1": 2, "2": True}) == 13
        assert rounds.rules.apply({"missing": ["0", "5"]}, [1, 2]) == ["5"]
        assert rounds.rules.apply({"var": ""}, 7) == 7

    @pytest.mark.parametrize(("data", "want"), [
        ({"a": 1, "b": "", "c": 0, "ctx": {"x": False}}, ["b", "d", "ctx.y"]),
        ({"a": None, "b": [], "d": {}, "ctx": None}, ["a", "c", "ctx.x", "ctx.y"]),
    ])
    def test_missing(self, data: Any, want: list[str]) -> None:
        keys = ["a", "b", "c", "d", "ctx.x", "ctx.y"]
        assert rounds.rules.apply({"missing": keys}, data) == want
        assert rounds.rules.apply({"missing": [keys]}, data) == want
        some = {"missing_some": [4, keys]}
        assert rounds.rules.apply(some, data) == ([] if len(keys) - len(want) >= 4 else want)
        assert rounds.rules.apply({"missing_some": [2, keys]}, data) == []

    def test_iteration_over_objects_and_others(self) -> None:
        rule = {"map": [{"var": "xs"}, {"+": [{"var": "qty"}, {"var": "extra"}]}]}
        xs = [{"qty": 2, "extra": 1}, {"qty": 3}, [5, 6], "ab", None]
        # non-objects read nothing: null + null is 0 (null counts as 0)
        assert rounds.rules.apply(rule, {"xs": xs}) == [3, 3, 0, 0, 0]
        rule = {"all": [{"var": "xs"}, {"and": [{"var": "ok"}, {">": [{"var": "n"}, 0]}]}]}
        assert rounds.rules.apply(rule, {"xs": [{"ok": True, "n": 1}, {"ok": 1, "n": 2}]})
        assert not rounds.rules.apply(rule, {"xs": [{"ok": True, "n": 1}, {"ok": True}]})
        assert not rounds.rules.apply(rule, {"xs": []})


class TestCommonSubrules:
    """A sub-rule met twice is computed once where the first one surely ran before."""

    SUM: ClassVar[dict[str, Any]] = {
        "+": [{"if": [{"var": f"a{i}"}, w, 0]} for i, w in enumerate([3, 2, 5, 1], 1)]}

    def test_grade_bands_compute_the_score_once(self) -> None:
        rule = {"if": [{">=": [self.SUM, 9]}, "A", {">=": [self.SUM, 5]}, "B", "C"]}
        text = rounds.rules.source(rule)
        fast = text.split("\n    return")[0]  # the body for object data
        assert fast.count("d.get('a1')") == 1
        fn = compile_rule(rule)
        assert fn({"a1": True, "a2": True, "a3": True}) == "A"
        assert fn({"a1": True, "a2": True}) == "B"
        assert fn({"a4": True}) == "C"
        assert fn([True, True]) == "C"  # data that is not an object: the general body

    def test_a_value_from_a_branch_is_not_reused_outside_it(self) -> None:
        x = {"*": [{"var": "n"}, 2]}
        rule: dict[str, Any] = {"+": [{"if": [{"var": "c"}, x, 0]}, x]}
        fn = compile_rule(rule)
        assert fn({"c": True, "n": 3}) == 12
        assert fn({"c": False, "n": 3}) == 6
        rule = {"or": [{"var": "c"}, {">": [x, 4]}, {"<": [x, 0]}]}
        assert compile_rule(rule)({"n": -1}) is True
        assert compile_rule(rule)({"n": 1}) is False

    def test_values_inside_loops(self) -> None:
        double = {"+": [{"var": ""}, {"var": ""}]}
        rule = {"map": [{"var": "xs"}, {"if": [{">": [double, 4]}, double, 0]}]}
        assert compile_rule(rule)({"xs": [1, 3, 5]}) == [0, 6, 10]
        rule = {"and": [{"some": [{"var": "xs"}, {">": [{"var": ""}, 2]}]},
                        {"some": [{"var": "xs"}, {">": [{"var": ""}, 2]}]}]}
        assert compile_rule(rule)({"xs": [1, 3]}) is True

    def test_repeated_lists_are_not_shared(self) -> None:
        m = {"merge": [[1], {"var": "xs"}]}
        out = compile_rule([m, m])({"xs": [2]})
        assert out == [[1, 2], [1, 2]]
        assert out[0] is not out[1]

    def test_throw_and_try_keep_their_meaning(self) -> None:
        boom = {"throw": "boom"}
        # in try's fallback the data is the error ({"type": "boom"}): x is null there
        rule = {"try": [{"if": [{"var": "x"}, boom, 1]}, {"if": [{"var": "x"}, boom, 2]}]}
        assert compile_rule(rule)({"x": True}) == 2
        assert compile_rule(rule)({"x": False}) == 1
        rule = {"try": [{"if": [{"var": "x"}, boom, 1]}, {"if": [{"var": "type"}, boom, 2]}]}
        with pytest.raises(RuleEvaluationError) as info:
            compile_rule(rule)({"x": True})
        assert info.value.error == {"type": "boom"}
