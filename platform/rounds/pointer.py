"""JSON Pointers (RFC 6901): the one way Rounds writes and reads a place inside a document.

Problems, rule errors and dropped answers all say *where* with a pointer such as
``/answers/shelf/0/sku`` or ``/sections/0/items/3/visible_if/and/1``. A token is escaped
(``~`` → ``~0``, then ``/`` → ``~1``) so that ids and keys holding those characters still
point at one place; :func:`parse` undoes it.

Foundation: imports nothing from Rounds, so every layer may use it.
"""

from __future__ import annotations

from collections.abc import Iterable

Token = str | int


def escape(token: Token) -> str:
    """One reference token as it is written inside a pointer."""
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    """A written token back to the key it names (``~1`` before ``~0``, as RFC 6901 says)."""
    return token.replace("~1", "/").replace("~0", "~")


def join(*tokens: Token) -> str:
    """The pointer of a path from the document's root: ``join("answers", "a/b", 0)`` is
    ``/answers/a~1b/0``; no tokens is the whole document, ``""``."""
    return "".join("/" + escape(t) for t in tokens)


def path(tokens: Iterable[Token]) -> str:
    """:func:`join` of a path held as a sequence (``path(("answers", "x"))``)."""
    return join(*tokens)


def child(base: str, *tokens: Token) -> str:
    """The pointer ``tokens`` below the pointer ``base``."""
    return base + join(*tokens)


def parse(pointer: str) -> list[str]:
    """The tokens of a pointer, unescaped (``"/a~1b/0"`` → ``["a/b", "0"]``).

    Raises ``ValueError`` for text that is not a pointer (not empty and not starting
    with ``/``)."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"not a JSON pointer: {pointer!r}")
    return [unescape(t) for t in pointer[1:].split("/")]


def nearest(pointer: str, places: Iterable[tuple[str, str]]) -> str | None:
    """Which named place holds ``pointer``: the name whose pointer is ``pointer`` itself or
    the deepest one above it (``places``: pairs of a name and a pointer, a name may come
    more than once), None when none does. A form
    finds the field a problem belongs to this way (``/pool/roles/0`` → ``pool_roles``)."""
    best: tuple[int, str] | None = None
    for name, at in places:
        if (pointer == at or pointer.startswith(at + "/")) and (best is None or len(at) > best[0]):
            best = (len(at), name)
    return best[1] if best else None
