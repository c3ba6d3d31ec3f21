"""What both paths of a form's check agree on: "answered", "shown", and missing evidence.

- :func:`answered`: present and not empty: ``""`` and ``[]`` are unanswered (whitespace is an
  answer, as in HTML), and a required ``check`` must be ticked (``true``).
- :func:`shown`: whether a place in the body (an answer, an entry's field, evidence) belongs
  to an item that is shown; hidden items' answers are dropped, their errors not reported.
- :func:`evidence_raws`: what the evidence sent for one item lacks, when evidence is asked.

The fast path (``forms.fast_path``), the slow path (``forms.slow_path``) and
``ValidSubmission`` use these, so that the two paths give the same outcome.

May import: ``rounds.pointer``, ``rounds.rules`` (result types) and ``rounds.forms.messages``
(the raw error type).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import msgspec

from rounds import pointer as json_pointer
from rounds.forms.messages import Path, Raw
from rounds.rules.results import EntryResult

UNSET = msgspec.UNSET


def answered(value: Any, tick: bool = False) -> bool:
    """Present and not empty; a check (``tick``) only when ticked."""
    if value is None or value is UNSET:
        return False
    if tick:
        return value is True
    cls = value.__class__
    return not ((cls is str or cls is list) and not value)


def evidence_raws(path_key: str, entry: Any, photo_min: int, note: bool) -> Iterator[Raw]:
    """Problems with the evidence sent for one item (a dict or an ``EvidenceEntry``)."""
    if isinstance(entry, Mapping):
        photos, text_ = entry.get("photos"), entry.get("note")
    elif entry is None or entry is UNSET:
        photos = text_ = None
    else:
        photos, text_ = entry.photos, entry.note
    count = len(photos) if isinstance(photos, list) else 0
    if count < photo_min:
        yield ("evidence", path_key, "photos"), "evidence_photos", {"limit": photo_min}
    if note and not (isinstance(text_, str) and text_.strip()):
        yield ("evidence", path_key, "note"), "evidence_note", {}


def entry_path(e_pointer: str) -> Path:
    """An entry's place as a path: ``/shelf/0`` (a pointer from ``rules``) or ``shelf/0/sku``
    (an entry evidence key) → ``("shelf", 0)``, ``("shelf", 0, "sku")``."""
    return tuple(int(p) if p.isdigit() else p for p in e_pointer.strip("/").split("/"))


def shown(path: Path, visible: Mapping[str, bool], entries: Mapping[str, EntryResult]) -> bool:
    """False when the path lies in an answer (or evidence) of a hidden item."""
    def entry(group: str, index: int) -> Mapping[str, bool] | None:
        e = entries.get(json_pointer.path((group, index)))
        return None if e is None else e.visible

    return shown_by(path, visible, entry)


def shown_by(path: Path, visible: Mapping[str, bool],
             entry: Callable[[str, int], Mapping[str, bool] | None]) -> bool:
    """:func:`shown`, with the visibility in a group's entry given by ``entry(group,
    index)`` (None: no such entry)."""
    if len(path) < 2 or path[0] not in ("answers", "evidence"):
        return True
    parts: Path = path[1:]
    if path[0] == "evidence":
        parts = entry_path(str(path[1]))
    if visible.get(str(parts[0])) is False:
        return False
    if len(parts) >= 3 and isinstance(parts[1], int):
        e = entry(str(parts[0]), parts[1])
        if e is not None and e.get(str(parts[2])) is False:
            return False
    return True

