"""What field staff write in the demo: a note on a failed item that says what was wrong with
that item, and an assignee's fix note that says what was done about it.

Keyed by the item ids of the shipped standards; an item of another standard gets a note
built from its own title, so it still matches its item.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from rounds.i18n import pick

# item id → what a field worker writes in Chinese when the item fails ("found") and when it
# is fixed ("done"): the demo's words are data, beside this module.
NOTES: dict[str, tuple[list[str], list[str]]] = {
    item: (words["found"], words["done"]) for item, words in json.loads(
        (Path(__file__).parent / "notes.json").read_text(encoding="utf-8")).items()}


def _title(item: dict[str, Any] | None, item_id: str) -> str:
    title = (item or {}).get("title") or {}
    return pick(title, "zh", item_id) if isinstance(title, dict) else item_id


def problem_note(item_id: str, item: dict[str, Any] | None, rng: random.Random) -> str:
    """A field worker's note on a failed item: what was wrong with that item."""
    if item_id in NOTES:
        return rng.choice(NOTES[item_id][0])
    return f"“{_title(item, item_id)}”未达标，已拍照留存并告知店主。"


def fix_note(item_id: str, item: dict[str, Any] | None, rng: random.Random) -> str:
    """An assignee's note on a fix: what was done about that item."""
    if item_id in NOTES:
        return rng.choice(NOTES[item_id][1])
    return f"已按要求整改“{_title(item, item_id)}”，现场复核无误。"
