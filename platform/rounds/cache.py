"""A bounded cache: what Rounds keeps of compiled work, never more than a set number of entries.

Compiling a rule, a standard or a form costs milliseconds; doing it once per content and
keeping the result makes every later request cheap. What is compiled can come from a request
(a draft checked by an anonymous client, a form posted for checking), so a cache that kept
everything would grow with every new input. :class:`BoundedCache` keeps at most ``maxsize``
entries and forgets the least recently used one first; :func:`content_key` turns a JSON value
into a short key (a SHA-256 of its canonical text), so that a large input costs its key
64 characters, not its own size.

Safe to share between threads: every read and write of the order holds one lock. The value
is made outside the lock (two threads missing the same key may both make it; the first one
stored is the one kept and returned to both), so a slow compile never blocks other readers.

Foundation: imports nothing from Rounds.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MISSING: Any = object()


def content_key(value: Any) -> str:
    """A key for a JSON value by its content: the same for equal values whatever the order
    of their object keys (hex SHA-256 of the canonical JSON text)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=True)
    # JSON text may hold a lone surrogate ("\ud800"); it still has one key.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class BoundedCache(Generic[K, V]):
    """At most ``maxsize`` entries, the least recently used forgotten first."""

    __slots__ = ("_data", "_lock", "maxsize")

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("a bounded cache keeps at least one entry")
        self.maxsize = maxsize
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value kept for ``key`` (now the most recently used), else None."""
        with self._lock:
            value = self._data.get(key, _MISSING)
            if value is _MISSING:
                return None
            self._data.move_to_end(key)
            return value  # type: ignore[no-any-return]

    def put(self, key: K, value: V) -> V:
        """Keep ``value`` unless a value is kept for ``key`` already; return the kept one."""
        with self._lock:
            kept = self._data.get(key, _MISSING)
            if kept is not _MISSING:
                self._data.move_to_end(key)
                return kept  # type: ignore[no-any-return]
            self._data[key] = value
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)
            return value

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The value kept for ``key``, else ``make()`` kept and returned. An exception from
        ``make`` is raised and nothing is kept."""
        value = self.get(key)
        if value is None:
            value = self.put(key, make())
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data
