"""What the engines compile is kept in bounded caches: anonymous input cannot grow them.

A rule or a definition can come from a request (``/api/definitions-validate``, a form posted
to ``/api/forms/{id}/check``); each cache forgets its least recently used entry past its size.
"""

from __future__ import annotations

from typing import Any

import pytest

from rounds.cache import BoundedCache
from rounds.forms import compiled
from rounds.rules import compiler, standards


def definition(n: int) -> dict[str, Any]:
    return {"id": f"d{n}", "kind": "standard", "title": {"zh": "标准", "en": "Standard"},
            "sections": [{"id": "s", "title": {"zh": "节", "en": "Section"}, "items": [
                {"id": "a", "type": "yes_no", "title": {"zh": "甲", "en": "A"}},
                {"id": "b", "type": "check", "title": {"zh": "乙", "en": "B"},
                 "visible_if": {"==": [{"var": "a"}, f"yes{n}"]}}]}]}


def test_rule_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compiler, "_compiled", BoundedCache(8))
    fns = [compiler.compile_rule({"+": [{"var": "x"}, n]}) for n in range(50)]
    assert len(compiler._compiled) == 8
    assert compiler.compile_rule({"+": [{"var": "x"}, 49]}) is fns[49]  # kept: the latest
    assert compiler.compile_rule({"+": [{"var": "x"}, 0]}) is not fns[0]  # forgotten


@pytest.mark.parametrize(("module", "compile_"), [
    (standards, standards.compile_standard), (compiled, compiled.compile_form)],
    ids=["standards", "forms"])
def test_definition_caches_are_bounded(monkeypatch: pytest.MonkeyPatch, module: Any,
                                       compile_: Any) -> None:
    monkeypatch.setattr(module, "_compiled", BoundedCache(4))
    kept = [compile_(definition(n)) for n in range(20)]
    assert len(module._compiled) == 4
    assert compile_(definition(19)) is kept[19]  # kept: the latest
    assert compile_(definition(0)) is not kept[0]  # forgotten
