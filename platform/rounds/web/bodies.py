"""The bounds every JSON request body is held to, checked once where bodies are read.

A body nested deeper than :data:`MAX_DEPTH`, or carrying a number no decoder or database
here can hold (a float that overflows to infinity, ``1e309``; an integer outside the signed
64-bit range), is refused with a 422 that names each place by its JSON pointer — before any
decoder sees it, so no handler meets a ``RecursionError``, a ``Number out of range`` or an
``OverflowError`` from the database. :class:`BoundedRequest` is the app's request class:
every way a handler reads a body (``request.body()``, a ``data`` parameter) passes here.

The check is two passes of C-speed byte operations for an ordinary body; the token-by-token
scan that finds the pointers runs only when those passes have found something suspicious.
The messages are the ``web`` catalogue's, in the request's language
(:func:`rounds.web.language.request_language`).
"""

from __future__ import annotations

import math
import re
from typing import Any

import msgspec
from litestar import Request

from rounds import pointer
from rounds.errors import InvalidInput, Problem
from rounds.i18n import DEFAULT, text
from rounds.web.language import request_language

MAX_DEPTH = 64  # the definitions shipped nest 14 deep; answers 5
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_MAX_PROBLEMS = 20

_STRING = rb'"[^"\\]*(?:\\.[^"\\]*)*"'
_STRINGS = re.compile(_STRING)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_ONE_KIND = bytes.maketrans(b"{}", b"[]")  # for depth, an object is a bracket like an array
# A number worth a closer look: an exponent, or 19+ digits (|n| may pass 2**63 - 1).
_SUSPECT_NUMBER = re.compile(rb"\d[eE]|\d{19}")
_TOKENS = re.compile(_STRING + rb"|[\[\]{}:,]|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")

class JsonOutOfBounds(InvalidInput, code="json_out_of_bounds", title="JSON body out of bounds"):
    """A JSON body nested too deep, or with a number no decoder or database here can hold."""


def _depth_exceeds(stripped: bytes, limit: int) -> bool:
    """Whether the brackets (strings already removed) nest deeper than ``limit``: each round
    removes the innermost pairs."""
    brackets = stripped.translate(_ONE_KIND, _NOT_BRACKETS)
    if len(brackets) <= limit:
        return False
    for _ in range(limit):
        shorter = brackets.replace(b"[]", b"")
        if not shorter:
            return False
        if len(shorter) == len(brackets):
            return True  # not balanced: the token scan tells deep from merely malformed
        brackets = shorter
    return True


def suspicious(raw: bytes, max_depth: int = MAX_DEPTH) -> bool:
    """The fast test: False when ``raw`` surely holds neither problem."""
    if raw.count(b"[") + raw.count(b"{") <= max_depth and not _SUSPECT_NUMBER.search(raw):
        return False
    stripped = _STRINGS.sub(b'""', raw)
    return _depth_exceeds(stripped, max_depth) or bool(_SUSPECT_NUMBER.search(stripped))


def _number_ok(token: bytes) -> bool:
    if any(c in token for c in b".eE"):
        return math.isfinite(float(token))
    digits = len(token) - token.startswith(b"-")
    return digits <= 19 and INT64_MIN <= int(token) <= INT64_MAX


def problems(raw: bytes, lang: str = DEFAULT, max_depth: int = MAX_DEPTH) -> list[Problem]:
    """Every place in ``raw`` that is out of bounds (at most 20), each with its pointer."""
    if not suspicious(raw, max_depth):
        return []
    out: list[Problem] = []
    # The path to the current value: for an object the key being read, for an array the
    # index; ``expect_key`` is True in an object where the next string is a key.
    path: list[str | int] = []
    kinds: list[bytes] = []
    expect_key = False
    skip_below = None  # deeper than the limit: reported once, not looked into
    for m in _TOKENS.finditer(raw):
        token = m.group()
        first = token[:1]
        if first in (b"[", b"{"):
            kinds.append(first)
            if skip_below is None and len(kinds) > max_depth:
                skip_below = len(kinds)
                out.append(Problem(pointer.path(path),
                                   text("web", lang, "too_deep", max=max_depth),
                                   "too_deep", "body"))
            path.append(0 if first == b"[" else "")
            expect_key = first == b"{"
        elif first in (b"]", b"}"):
            if kinds:
                kinds.pop()
                path.pop()
            if skip_below is not None and len(kinds) < skip_below:
                skip_below = None
            expect_key = False
        elif first == b",":
            last = path[-1] if path else None
            if kinds and kinds[-1] == b"[" and isinstance(last, int):
                path[-1] = last + 1
            expect_key = bool(kinds) and kinds[-1] == b"{"
        elif first == b":":
            expect_key = False
        elif first == b'"':
            if expect_key and path:
                try:
                    path[-1] = str(_decode_string(token))
                except ValueError:
                    path[-1] = token[1:-1].decode("utf-8", "replace")
        elif skip_below is None and not _number_ok(token):
            shown = token.decode() if len(token) <= 40 else token[:37].decode() + "..."
            out.append(Problem(pointer.path(path),
                               text("web", lang, "number_out_of_range", number=shown),
                               "number_out_of_range", "body"))
        if len(out) >= _MAX_PROBLEMS:
            break
    return out


def _decode_string(token: bytes) -> str:
    try:
        value = msgspec.json.decode(token)
    except msgspec.DecodeError as e:
        raise ValueError(str(e)) from None
    if not isinstance(value, str):
        raise ValueError("not a string")
    return value


def check(raw: bytes, lang: str = DEFAULT) -> None:
    """Raise :class:`JsonOutOfBounds` (422) naming every place out of bounds."""
    found = problems(raw, lang)
    if found:
        where = "; ".join(str(p) for p in found[:3])
        raise JsonOutOfBounds(text("web", lang, "body_out_of_bounds", where=where), found)


def _looks_like_json(raw: bytes) -> bool:
    head = raw[:64].lstrip()
    return head[:1] in (b"{", b"[")


class BoundedRequest(Request[Any, Any, Any]):
    """The app's request: a JSON body is checked against the bounds the first time it is
    read, whichever way the handler reads it."""

    async def body(self) -> bytes:
        raw = await super().body()
        state = self.scope.setdefault("state", {})
        if not state.get("rounds_body_checked"):
            if _looks_like_json(raw):
                check(raw, request_language(self))
            state["rounds_body_checked"] = True
        return raw
