"""The bounded cache: least recently used out first, never more than its size."""

from __future__ import annotations

import threading

import pytest

from rounds.cache import BoundedCache, content_key


def test_keeps_at_most_its_size_forgetting_the_least_recently_used() -> None:
    cache: BoundedCache[str, int] = BoundedCache(3)
    for n, key in enumerate("abc"):
        cache.put(key, n)
    assert cache.get("a") == 0  # "a" is now the most recently used: "b" goes first
    cache.put("d", 3)
    assert len(cache) == 3
    assert "b" not in cache
    assert [cache.get(k) for k in "acd"] == [0, 2, 3]
    for n in range(100):
        cache.put(f"k{n}", n)
    assert len(cache) == 3
    assert [k for k in (f"k{n}" for n in range(100)) if k in cache] == ["k97", "k98", "k99"]


def test_get_or_make_makes_once_and_keeps_the_first_value() -> None:
    cache: BoundedCache[str, list[int]] = BoundedCache(2)
    made: list[str] = []

    def make(key: str) -> list[int]:
        made.append(key)
        return [len(made)]

    first = cache.get_or_make("x", lambda: make("x"))
    assert cache.get_or_make("x", lambda: make("x")) is first
    assert made == ["x"]
    assert cache.put("x", [99]) is first  # a value already kept stays
    with pytest.raises(ZeroDivisionError):
        cache.get_or_make("y", lambda: [1 // 0])
    assert "y" not in cache
    cache.clear()
    assert len(cache) == 0


def test_a_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        BoundedCache(0)


def test_bounded_under_threads() -> None:
    cache: BoundedCache[int, int] = BoundedCache(50)

    def work(base: int) -> None:
        for n in range(2000):
            cache.get_or_make(base * 10_000 + n, lambda n=n: n)
            cache.get(base * 10_000 + n // 2)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache) == 50


def test_content_key_is_by_content_not_key_order() -> None:
    assert content_key({"a": 1, "b": [1, 2]}) == content_key({"b": [1, 2], "a": 1})
    assert content_key({"a": 1}) != content_key({"a": 1.5})
    assert len(content_key({"big": "x" * 100_000})) == 64
    assert content_key({"s": "\ud800"}) != content_key({"s": "\ud801"})  # lone surrogates


def test_content_key_is_a_definition_versions_content_hash() -> None:
    """compile_form keys a definition given without its hash by this: the same identity."""
    from rounds.definitions.loader import content_hash

    definition = {"id": "d", "kind": "standard", "title": {"zh": "标准", "en": "Standard"},
                  "sections": [{"id": "s", "items": [{"id": "a", "type": "check"}]}]}
    assert content_key(definition) == content_hash(definition)
