"""Characters that have no place in names and free text: NUL, and the bidirectional
embedding, override and isolate controls that make text display in another order than it
is stored (a file name or a comment that reads differently from what it is).

JSON bodies that carry them are refused with the JSON pointer of each place
(``rounds.web.security``); CSV imports have them stripped (``runtime/imports.py``).
The invisible marks LRM/RLM stay allowed: they change no order.
"""

from __future__ import annotations

import re
from typing import Any

from rounds.pointer import child

UNSAFE = "\x00\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_UNSAFE_RE = re.compile(f"[{re.escape(UNSAFE)}]")
_DELETE = {ord(c): None for c in UNSAFE}
# The same characters in raw JSON: as UTF-8 or as \\u escapes (any case).
_IN_JSON = re.compile(rb"\\u(?:0000|202[a-eA-E]|206[6-9])|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]")

NAMES = {"\x00": "NUL", "\u202a": "LRE", "\u202b": "RLE", "\u202c": "PDF", "\u202d": "LRO",
         "\u202e": "RLO", "\u2066": "LRI", "\u2067": "RLI", "\u2068": "FSI", "\u2069": "PDI"}


def strip_unsafe(text: str) -> str:
    return text.translate(_DELETE)


def maybe_unsafe_json(raw: bytes) -> bool:
    """A fast scan of a JSON body: False means it certainly holds none of them."""
    return _IN_JSON.search(raw) is not None


def unsafe_places(doc: Any, pointer: str = "") -> list[tuple[str, str]]:
    """(JSON pointer, names of the characters) of every string, or key, holding some."""
    found: list[tuple[str, str]] = []
    if isinstance(doc, str):
        chars = sorted({NAMES[c] for c in _UNSAFE_RE.findall(doc)})
        if chars:
            found.append((pointer, ", ".join(chars)))
    elif isinstance(doc, dict):
        for k, v in doc.items():
            here = child(pointer, k)
            found += unsafe_places(str(k), here)
            found += unsafe_places(v, here)
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            found += unsafe_places(v, f"{pointer}/{i}")
    return found
