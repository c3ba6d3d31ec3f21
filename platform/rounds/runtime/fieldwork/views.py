"""What the field pages show, worked out from what the services return (pure: no database,
no web framework), so each rule of presentation can be tested on its own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import urlencode

from rounds.forms.render import LANGUAGES
from rounds.rules.alerts import format_number
from rounds.runtime.fieldwork.texts import WORDS

HOME = "/today"


def language(asked: str | None, account: str | None, default: str) -> str:
    """``?lang=`` first, then the user's own language, then the site's default."""
    for lang in (asked, account, default):
        if lang in LANGUAGES:
            return str(lang)
    return LANGUAGES[0]


def href(path: str, lang: str, **params: Any) -> str:
    """A link inside the field pages; the language goes along so a switch sticks."""
    query = {k: v for k, v in params.items() if v is not None}
    query["lang"] = lang
    return f"{path}?{urlencode(query)}"


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a path on this site (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") \
            or "\\" in target or any(ord(c) < 32 for c in target):
        return HOME
    return target


def distance_text(metres: float | None, lang: str) -> str:
    if metres is None:
        return WORDS[lang]["distance_unknown"]
    if metres < 1000:
        return WORDS[lang]["metres"].format(n=round(metres))
    return WORDS[lang]["kilometres"].format(n=format_number(metres / 1000, 1))


def local(at: datetime | str | None, tz: tzinfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time (UTC; SQLite gives it back naive) in the company's time zone."""
    if at is None:
        return ""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(tz).strftime(fmt)


def text(value: Any, lang: str, fallback: str = "") -> str:
    """A ``{"zh", "en"}`` label in the page's language."""
    if isinstance(value, Mapping):
        return str(value.get(lang) or value.get("en") or value.get("zh") or fallback)
    return fallback if value is None else str(value)


# -- check-in flags -------------------------------------------------------------------------

def flag_texts(flags: Sequence[str], *, distance_m: float | None, accuracy_m: float | None,
               radius_m: float, max_accuracy_m: float, lang: str) -> list[str]:
    """Each flag of a check-in in words, with the numbers that raised it."""
    w = WORDS[lang]
    out = []
    for flag in flags:
        if flag == "far":
            out.append(w["flag_far"].format(distance=distance_text(distance_m, lang),
                                            radius=format_number(radius_m)))
        elif flag == "poor_accuracy":
            shown = (w["accuracy_value"].format(accuracy=format_number(accuracy_m, 0))
                     if accuracy_m is not None else "—")
            out.append(w["flag_poor_accuracy"].format(accuracy=shown,
                                                      max=format_number(max_accuracy_m)))
        elif flag == "no_position":
            out.append(w["flag_no_position"])
        else:
            out.append(flag)
    return out


# -- a scored submission --------------------------------------------------------------------

@dataclass(frozen=True)
class ItemLine:
    item: str
    title: str
    counted: bool
    points: str  # "1.5 of 2" or "not counted"
    why: str  # what decided it, in words
    full: bool  # all its points


@dataclass
class SectionLines:
    section: str
    title: str
    points: str
    percentage: str
    items: list[ItemLine] = field(default_factory=list)


@dataclass(frozen=True)
class Problem:
    """A failed item of a submission: the seed of an issue."""

    item: str
    title: str
    section: str
    severity: str
    severity_code: str
    answer: str
    note: str
    photos: list[str]


@dataclass(frozen=True)
class AlertLine:
    code: str
    severity: str
    severity_code: str
    message: str


def items_by_id(definition: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(i["id"]): i for s in definition.get("sections", []) for i in s.get("items", [])}


def answer_text(item: Mapping[str, Any] | None, value: Any, lang: str) -> str:
    """An answer as a person reads it: choices by their labels, yes/no in words."""
    w = WORDS[lang]
    if value is None:
        return "—"
    kind = item.get("type") if item else None
    if kind == "yes_no" and value in ("yes", "no", "na"):
        return w[str(value)]
    if kind in ("single_choice", "multiple_choice") and item is not None:
        labels = {str(c["value"]): text(c.get("label"), lang, str(c["value"]))
                  for c in item.get("choices", [])}
        if isinstance(value, list):
            return "、".join(labels.get(str(v), str(v)) for v in value) if lang == "zh" \
                else ", ".join(labels.get(str(v), str(v)) for v in value)
        return labels.get(str(value), str(value))
    if kind == "scale" and value == "na":
        return w["na"]
    if isinstance(value, bool):
        return w["yes"] if value else w["no"]
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, str):
        return value if len(value) <= 80 else value[:77] + "…"
    return "—"  # photos, positions, groups: not readable as a line


def decided_text(line: Mapping[str, Any], item: Mapping[str, Any] | None, answer: Any,
                 lang: str) -> str:
    """What decided an item's points (``decided_by`` of the engine's explanation), in words."""
    w = WORDS[lang]
    how = str(line.get("decided_by") or "")
    if how == "default:check":
        return w["dec_check_on"] if answer is True else w["dec_check_off"]
    if how == "default:yes_no":
        return w["dec_yes_no"].format(answer=answer_text(item, answer, lang))
    if how == "default:scale":
        return w["dec_scale"].format(answer=answer_text(item, answer, lang))
    if how.startswith("choice:"):
        return w["dec_choice"].format(label=answer_text(item, how[len("choice:"):], lang))
    if how.startswith("rule:"):
        return w["dec_rule"].format(answer=answer_text(item, answer, lang))
    if how in ("na", "hidden", "missing"):
        return w[f"dec_{how}"]
    return how


def explanation(score: Mapping[str, Any], definition: Mapping[str, Any],
                answers: Mapping[str, Any], lang: str) -> list[SectionLines]:
    """The stored explanation, section by section: each item's points and what decided them."""
    w = WORDS[lang]
    items = items_by_id(definition)
    out: list[SectionLines] = []
    for sec in score.get("sections", []):
        pct = sec.get("percentage")
        lines = SectionLines(
            section=str(sec["section"]),
            title=text(sec.get("title"), lang, str(sec["section"])),
            points=w["section_line"].format(points=format_number(sec.get("points", 0)),
                                            max=format_number(sec.get("max", 0))),
            percentage=f"{format_number(pct, 1)}%" if pct is not None else "—")
        for line in score.get("items", []):
            if line.get("section") != sec.get("section"):
                continue
            item_id = str(line["item"])
            counted = bool(line.get("counted")) and line.get("points") is not None
            weight = line.get("weight") or 0
            points = (w["points_of"].format(points=format_number(line["points"]),
                                            weight=format_number(weight))
                      if counted else w["not_counted"])
            lines.items.append(ItemLine(
                item=item_id, title=text(line.get("title"), lang, item_id), counted=counted,
                points=points,
                why=decided_text(line, items.get(item_id), answers.get(item_id), lang),
                full=counted and float(line["points"]) >= float(weight)))
        out.append(lines)
    return out


def problems(failed: Sequence[Mapping[str, Any]], definition: Mapping[str, Any],
             answers: Mapping[str, Any], evidence: Mapping[str, Any], lang: str
             ) -> list[Problem]:
    w = WORDS[lang]
    items = items_by_id(definition)
    sections = {str(s["id"]): text(s.get("title"), lang, str(s["id"]))
                for s in definition.get("sections", [])}
    out = []
    for f in failed:
        item_id = str(f["item"])
        item = items.get(item_id)
        sent = evidence.get(item_id)
        given: Mapping[str, Any] = sent if isinstance(sent, Mapping) else {}
        listed = given.get("photos")
        photos: list[Any] = listed if isinstance(listed, list) else []
        severity = str(f.get("severity") or "medium")
        out.append(Problem(
            item=item_id, title=text(item.get("title") if item else None, lang, item_id),
            section=sections.get(str(f.get("section")), str(f.get("section") or "")),
            severity=w.get(f"sev_{severity}", severity), severity_code=severity,
            answer=answer_text(item, answers.get(item_id), lang),
            note=str(given.get("note") or ""), photos=[str(p) for p in photos]))
    return out


def alert_lines(alerts: Sequence[Mapping[str, Any]], lang: str) -> list[AlertLine]:
    w = WORDS[lang]
    return [AlertLine(code=str(a.get("code")), severity_code=str(a.get("severity") or ""),
                      severity=w.get(f"sev_{a.get('severity')}", str(a.get("severity") or "")),
                      message=text(a.get("message"), lang, str(a.get("code"))))
            for a in alerts]
