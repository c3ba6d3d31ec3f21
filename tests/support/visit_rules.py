"""Definitions for tests of what rules see of the visit (``ctx.visit``, ``ctx.site``): a
fire-safety standard whose rules compare an answer date with the visit's date, given to
customer managers beside their visit standard; written as JSON, the way a user would."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DEFINITIONS = REPO / "definitions"
FIRE_SAFETY_ID = "fire_safety"

# Expired before the day of the visit: days from the visit's date to the expiry date < 0.
EXPIRED = {"<": [{"days_between": [{"var": "ctx.visit.date"},
                                   {"var": "extinguisher_expires"}]}, 0]}

FIRE_SAFETY: dict[str, Any] = {
    "kind": "standard", "id": FIRE_SAFETY_ID,
    "title": {"zh": "消防安全检查", "en": "Fire safety check"},
    "site_kinds": ["retailer"],
    "sections": [{
        "id": "extinguisher", "title": {"zh": "灭火器", "en": "Fire extinguisher"},
        "items": [
            {"id": "extinguisher_expires", "type": "date", "required": True,
             "severity": "high", "fail_if": EXPIRED,
             "title": {"zh": "灭火器有效期至", "en": "Extinguisher valid until"}},
            {"id": "replacement_note", "type": "text", "required": True, "max_length": 200,
             "visible_if": EXPIRED,
             "title": {"zh": "更换安排", "en": "Replacement arranged"}},
            {"id": "visit_day", "type": "text",
             "calculate": {"cat": [{"var": "ctx.visit.date"}, " ",
                                   {"var": "ctx.visit.time"}]},
             "title": {"zh": "走访时间", "en": "Visited at"}},
            {"id": "today_is", "type": "text", "calculate": {"var": "ctx.today"},
             "title": {"zh": "今天", "en": "Today"}},
            {"id": "shop_grade", "type": "text", "calculate": {"var": "ctx.site.grade"},
             "title": {"zh": "档位", "en": "Grade"}},
        ],
    }],
}


def definitions_with_fire_safety(folder: Path) -> Path:
    """A copy of the repository's definitions with the fire-safety standard, which customer
    managers fill as well."""
    target = folder / "definitions"
    shutil.copytree(DEFINITIONS, target)
    (target / "standards" / f"{FIRE_SAFETY_ID}.json").write_text(
        json.dumps(FIRE_SAFETY, ensure_ascii=False, indent=2))
    path = target / "roles" / "customer_manager.json"
    role = json.loads(path.read_text())
    role["standards"] = [*role["standards"], FIRE_SAFETY_ID]
    path.write_text(json.dumps(role, ensure_ascii=False, indent=2))
    return target


def definitions_with_check_in(folder: Path, *, role: dict[str, Any] | None = None,
                              site_kind: dict[str, Any] | None = None) -> Path:
    """A copy of the repository's definitions where the customer manager's ``check_in`` is
    extended by ``role`` and the retailer site kind gets ``check_in: site_kind``."""
    target = folder / "definitions"
    shutil.copytree(DEFINITIONS, target)
    if role is not None:
        path = target / "roles" / "customer_manager.json"
        content = json.loads(path.read_text())
        content["check_in"] = {**content.get("check_in", {}), **role}
        path.write_text(json.dumps(content, ensure_ascii=False, indent=2))
    if site_kind is not None:
        path = target / "site_kinds" / "retailer.json"
        content = json.loads(path.read_text())
        content["check_in"] = site_kind
        path.write_text(json.dumps(content, ensure_ascii=False, indent=2))
    return target


def definitions_with_targets(folder: Path, targets: list[dict[str, Any]]) -> Path:
    """A copy of the repository's definitions where customer managers visit by ``targets``."""
    target = folder / "definitions"
    shutil.copytree(DEFINITIONS, target)
    path = target / "roles" / "customer_manager.json"
    content = json.loads(path.read_text())
    content["visit_targets"] = targets
    path.write_text(json.dumps(content, ensure_ascii=False, indent=2))
    return target
