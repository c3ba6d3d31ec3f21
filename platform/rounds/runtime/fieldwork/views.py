"""What the field pages show, worked out from what the services return (pure: no database,
no web framework), so each rule of presentation can be tested on its own.

The pages' words are the ``fieldwork`` catalogue of :mod:`rounds.i18n` (:func:`say`); labels
from definitions (titles, choices, messages) are read with :func:`rounds.i18n.pick`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import urlencode

from rounds.db import as_utc
from rounds.i18n import pick, table, text
from rounds.rules.alerts import format_number
from rounds.runtime.access import Principal, has_dashboard
from rounds.runtime.forms import results

HOME = "/today"  # the field staff's home: their day
DASHBOARD = "/dashboard"  # the home of those who read a unit's figures (leaders, heads)
SHOP = "/shop"  # a retailer's own account (scope own_shop): its shop's portal
INDUSTRY = "/industry"  # an industry user (public scope, report.view_scope): the figures
DOMAIN = "fieldwork"  # the catalogue of the field pages' words (fieldwork.js gets it too)


def say(lang: str, key: str, /, **fields: Any) -> str:
    """One of the field pages' words in ``lang``, its ``{fields}`` filled."""
    return text(DOMAIN, lang, key, **fields)


def words(lang: str) -> Mapping[str, str]:
    """All the field pages' words in ``lang`` (for the scripts; for a key made up at run
    time, with ``.get(key, default)``)."""
    return table(DOMAIN, lang)


def href(path: str, lang: str, **params: Any) -> str:
    """A link inside the field pages; the language goes along so a switch sticks."""
    query = {k: v for k, v in params.items() if v is not None}
    query["lang"] = lang
    return f"{path}?{urlencode(query)}"


# Homes for accounts the core has none for, filled by extensions (the retail licence's
# applicant who has no shop yet lands on their applications): ``principal -> path | None``.
_homes: list[Callable[[Principal], str | None]] = []


def home_hook(fn: Callable[[Principal], str | None]) -> Callable[[Principal], str | None]:
    """Register ``fn``: asked where an account with no home of its own lands."""
    if fn not in _homes:
        _homes.append(fn)
    return fn


def home_for(principal: Principal) -> str:
    """Where a person lands: a retailer's account on its shop's portal, an industry user
    (public scope, reading figures) on the industry page, a leader or a station head on
    their dashboard (the city's or the station's figures), everyone else on their day. A
    retailer's account with no shop yet (an applicant) lands where an extension says."""
    if is_shop(principal):
        if principal.site_id is None:
            for fn in _homes:
                home = fn(principal)
                if home:
                    return home
        return SHOP
    if is_industry(principal):
        return INDUSTRY
    return DASHBOARD if has_dashboard(principal) else HOME


def is_shop(principal: Principal) -> bool:
    """A retailer's own account: it acts for one shop."""
    return principal.org_scope == "own_shop"


def has_shop(principal: Principal) -> bool:
    """A retailer's own account with its shop (an applicant may have none yet)."""
    return is_shop(principal) and principal.site_id is not None


def is_industry(principal: Principal) -> bool:
    """An industry user: no scope of sites, but reads (aggregated) figures."""
    return principal.org_scope == "public" and principal.can("report.view_scope")


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a path on this site (no open redirect); none
    given, the site's root, which sends each person to their own home."""
    if not target or not target.startswith("/") or target.startswith("//") \
            or "\\" in target or any(ord(c) < 32 for c in target):
        return "/"
    return target


def distance_text(metres: float | None, lang: str) -> str:
    if metres is None:
        return say(lang, "distance_unknown")
    if metres < 1000:
        return say(lang, "metres", n=round(metres))
    return say(lang, "kilometres", n=format_number(metres / 1000, 1))


@dataclass(frozen=True)
class PageLink:
    number: int | None  # None: a gap ("…") between numbers
    href: str
    current: bool


@dataclass(frozen=True)
class Pager:
    """Where a list is: its page, how many pages and items, and the links to the others."""

    page: int
    pages: int
    total: int
    line: str  # "第 2 / 8 页，共 153 个问题"
    prev_href: str | None
    next_href: str | None
    links: list[PageLink]


def pager(page: int, per_page: int, total: int, link: Any, line: str) -> Pager:
    """The pager of a list: ``link(n)`` is page n's address; ``line`` a text with {page},
    {pages} and {total}. The numbers: the first, the last and two around the current page,
    gaps in between, so a phone's width holds them."""
    pages = max(1, -(-total // per_page))
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    links: list[PageLink] = []
    for n in shown:
        if links and links[-1].number is not None and n - int(links[-1].number) > 1:
            links.append(PageLink(None, "", False))
        links.append(PageLink(n, str(link(n)), n == page))
    return Pager(page=page, pages=pages, total=total,
                 line=line.format(page=page, pages=pages, total=total),
                 prev_href=str(link(page - 1)) if page > 1 else None,
                 next_href=str(link(page + 1)) if page < pages else None,
                 links=links if pages > 1 else [])


def local(at: datetime | str | None, tz: tzinfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time (a column's, or its ISO text in a document) in the company's time zone."""
    if at is None:
        return ""
    if isinstance(at, str):
        at = as_utc(datetime.fromisoformat(at))
    return at.astimezone(tz).strftime(fmt)


# -- check-in flags -------------------------------------------------------------------------

def flag_texts(flags: Sequence[str], *, distance_m: float | None, accuracy_m: float | None,
               radius_m: float, max_accuracy_m: float, lang: str,
               method: str | None = None) -> list[str]:
    """Each flag of a check-in in words, with the numbers that raised it."""
    out = []
    for flag in flags:
        if flag == "far":
            out.append(say(lang, "flag_far", distance=distance_text(distance_m, lang),
                           radius=format_number(radius_m)))
        elif flag == "poor_accuracy":
            shown = (say(lang, "accuracy_value", accuracy=format_number(accuracy_m, 0))
                     if accuracy_m is not None else "—")
            out.append(say(lang, "flag_poor_accuracy", accuracy=shown,
                           max=format_number(max_accuracy_m)))
        elif flag == "no_position":
            out.append(say(lang, "flag_no_position"))
        elif flag == "method_not_allowed":
            out.append(say(lang, "flag_method_not_allowed",
                           method=words(lang).get(f"method_{method}", method or "—")))
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
    score: str  # its value in its model: "83.3%（25 / 30 分）", "27 分", "均分 3.4"...
    note: str  # "分数越低越好" where the section's direction differs from the total's
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
    if value is None:
        return "—"
    kind = item.get("type") if item else None
    if kind == "yes_no" and value in ("yes", "no", "na"):
        return say(lang, str(value))
    if kind in ("single_choice", "multiple_choice") and item is not None:
        labels = {str(c["value"]): pick(c.get("label"), lang, str(c["value"]))
                  for c in item.get("choices", [])}
        if isinstance(value, list):
            return say(lang, "list_separator").join(labels.get(str(v), str(v)) for v in value)
        return labels.get(str(value), str(value))
    if kind == "scale" and value == "na":
        return say(lang, "na")
    if isinstance(value, bool):
        return say(lang, "yes") if value else say(lang, "no")
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, str):
        return value if len(value) <= 80 else value[:77] + "…"
    return "—"  # photos, positions, groups: not readable as a line


def decided_text(line: Mapping[str, Any], item: Mapping[str, Any] | None, answer: Any,
                 lang: str) -> str:
    """What decided an item's points (``decided_by`` of the engine's explanation), in words."""
    how = str(line.get("decided_by") or "")
    if how == "default:check":
        return say(lang, "dec_check_on") if answer is True else say(lang, "dec_check_off")
    if how == "default:yes_no":
        return say(lang, "dec_yes_no", answer=answer_text(item, answer, lang))
    if how == "default:scale":
        return say(lang, "dec_scale", answer=answer_text(item, answer, lang))
    if how.startswith("choice:"):
        why = say(lang, "dec_choice", label=answer_text(item, how[len("choice:"):], lang))
    elif how.startswith("rule:"):
        why = say(lang, "dec_rule", answer=answer_text(item, answer, lang))
    elif how == "value":
        why = say(lang, "dec_value", answer=answer_text(item, answer, lang))
    elif how in ("na", "hidden", "missing"):
        why = say(lang, f"dec_{how}")
    else:
        why = how
    if line.get("reversed"):
        why += say(lang, "dec_reversed")
    return why


def explanation(score: Mapping[str, Any], definition: Mapping[str, Any],
                answers: Mapping[str, Any], lang: str) -> list[SectionLines]:
    """The stored explanation, section by section: the section's score in its model, each
    item's points and what decided them."""
    items = items_by_id(definition)
    total = results.total_line(score, definition, lang)
    out: list[SectionLines] = []
    for sec in score.get("sections", []):
        shown = results.section_line(sec, definition, lang)
        lines = SectionLines(
            section=str(sec["section"]),
            title=pick(sec.get("title"), lang, str(sec["section"])),
            score=shown.line,
            note=shown.note if shown.direction != total.direction else "")
        for line in score.get("items", []):
            if line.get("section") != sec.get("section"):
                continue
            item_id = str(line["item"])
            counted = bool(line.get("counted")) and line.get("points") is not None
            weight = line.get("weight") or 0
            points = (say(lang, "points_of", points=format_number(line["points"]),
                          weight=format_number(weight))
                      if counted else say(lang, "not_counted"))
            # "full": nothing to improve: all its points, or where lower is better, none.
            full = counted and (float(line["points"]) <= 0
                                if shown.direction == "lower_better"
                                else float(line["points"]) >= float(weight))
            lines.items.append(ItemLine(
                item=item_id, title=pick(line.get("title"), lang, item_id), counted=counted,
                points=points,
                why=decided_text(line, items.get(item_id), answers.get(item_id), lang),
                full=full))
        out.append(lines)
    return out


def problems(failed: Sequence[Mapping[str, Any]], definition: Mapping[str, Any],
             answers: Mapping[str, Any], evidence: Mapping[str, Any], lang: str
             ) -> list[Problem]:
    items = items_by_id(definition)
    sections = {str(s["id"]): pick(s.get("title"), lang, str(s["id"]))
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
        named = f.get("problem") or (item.get("title") if item else None)  # as the problem
        out.append(Problem(
            item=item_id, title=pick(named, lang, item_id),
            section=sections.get(str(f.get("section")), str(f.get("section") or "")),
            severity=words(lang).get(f"sev_{severity}", severity), severity_code=severity,
            answer=answer_text(item, answers.get(item_id), lang),
            note=str(given.get("note") or ""), photos=[str(p) for p in photos]))
    return out


def alert_lines(alerts: Sequence[Mapping[str, Any]], lang: str) -> list[AlertLine]:
    w = words(lang)
    return [AlertLine(code=str(a.get("code")), severity_code=str(a.get("severity") or ""),
                      severity=w.get(f"sev_{a.get('severity')}", str(a.get("severity") or "")),
                      message=pick(a.get("message"), lang, str(a.get("code"))))
            for a in alerts]


# -- issues: the closed loop ----------------------------------------------------------------

# The states in the order of the loop (as rounds.runtime.issues.models has them).
ISSUE_STATES = ("open", "assigned", "in_progress", "rectified", "verified", "closed",
                "cancelled")
# The board's filters, in the order its links carry them.
BOARD_FILTERS = ("status", "org_unit_id", "assignee_id", "site_id", "overdue")
# The order actions are offered in: the next step of the loop first, cancelling last.
ACTION_ORDER = ("start", "rectify", "verify", "confirm", "close", "refuse", "send_back",
                "reopen", "reassign",
                "comment", "cancel")
# What each action asks for besides the version: field name → (kind, label word, required).
ACTION_FIELDS: dict[str, tuple[tuple[str, str, str, bool], ...]] = {
    "rectify": (("note", "textarea", "rectify_note", True),
                ("photos", "photos", "rectify_photos", True)),
    "refuse": (("reason", "textarea", "refuse_reason", True),),
    "send_back": (("reason", "textarea", "send_back_reason", True),),
    "reopen": (("reason", "textarea", "reopen_reason", True),),
    "cancel": (("reason", "textarea", "cancel_reason", True),),
    "reassign": (("assignee_id", "person", "reassign_to", True),),
    "comment": (("text", "textarea", "comment_text", True),),
}
PRIMARY_ACTIONS = frozenset({"start", "rectify", "verify", "confirm", "close"})
# Event names as the service may write them (a verb or its past tense) → the word's key.
_EVENT_KEYS = {"created": "create", "assigned": "assign", "started": "start",
               "rectified": "rectify", "verified": "verify", "refused": "refuse",
               "closed": "close", "reopened": "reopen", "cancelled": "cancel",
               "canceled": "cancel", "reassigned": "reassign", "commented": "comment",
               "reminded": "remind", "escalated": "escalate", "due_soon": "remind",
               "overdue": "escalate", "routed": "routed", "confirmed": "confirm",
               "sent_back": "send_back"}


def status_text(code: str | None, lang: str) -> str:
    return words(lang).get(f"st_{code}", str(code or ""))


def event_text(action: str, lang: str) -> str:
    key = _EVENT_KEYS.get(action, action)
    return words(lang).get(f"ev_{key}", action)


def board_query(filters: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    """The board's filters with some changed; empty ones dropped, and back to page 1 unless
    a page is given (other filters, other pages)."""
    query = {k: filters.get(k) for k in BOARD_FILTERS}
    query.update(changes)
    return {k: "true" if v is True else v for k, v in query.items()
            if v not in (None, "", False) and not (k == "page" and v == 1)}


@dataclass(frozen=True)
class Bar:
    """One status on the board's chart: its count and its share of the longest bar."""

    code: str
    label: str
    count: int
    percent: float
    href: str
    current: bool


def status_bars(counts: Mapping[str, int], lang: str, link: Any,
                current: str | None = None) -> list[Bar]:
    """Every state (those with none too, so the chart keeps its shape), widths relative to
    the largest; ``link(status)`` is the board filtered to that state."""
    top = max([int(counts.get(s) or 0) for s in ISSUE_STATES] + [1])
    return [Bar(code=s, label=status_text(s, lang), count=int(counts.get(s) or 0),
                percent=round(100 * int(counts.get(s) or 0) / top, 1), href=str(link(s)),
                current=s == current)
            for s in ISSUE_STATES]


@dataclass(frozen=True)
class EventLine:
    """One step of an issue's history: who did what, when, from which state to which."""

    action: str
    what: str
    who: str
    at: str
    at_iso: str
    from_status: str
    to_status: str
    moved: str  # "整改中 → 待验收", or "" when the state did not change
    reason: str
    note: str
    photos: list[str]  # photo ids
    extra: str  # a reassignment's new assignee, an escalation's unit...


def _person_name(person: Any, names: Mapping[int, str], lang: str) -> str:
    if isinstance(person, Mapping):
        return str(person.get("name") or names.get(int(person.get("id") or 0), "")
                   or person.get("id"))
    return say(lang, "system")


def event_lines(events: Sequence[Mapping[str, Any]], names: Mapping[int, str], lang: str,
                tz: tzinfo) -> list[EventLine]:
    """The audit trail, oldest first, in words. ``names``: display names of the people an
    event's data mentions by id (a new assignee)."""
    colon = say(lang, "colon")
    out = []
    for e in sorted(events, key=lambda e: int(e.get("id") or 0)):
        raw = e.get("data")
        data: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        src, dst = e.get("from_status"), e.get("to_status")
        moved = (say(lang, "event_line", from_status=status_text(src, lang),
                     to_status=status_text(dst, lang))
                 if src and dst and src != dst else
                 status_text(dst, lang) if dst and not src else "")
        extra = ""
        to_person = data.get("to_assignee_id", data.get("assignee_id"))
        if isinstance(to_person, int):
            extra = say(lang, "assignee") + colon + names.get(to_person, str(to_person))
        elif isinstance(data.get("unit"), Mapping):
            extra = say(lang, "escalated_to", unit=pick(data["unit"], lang))
        elif data.get("party") == "assigner" and isinstance(data.get("user_id"), int):
            extra = say(lang, "assigner") + colon + names.get(data["user_id"],
                                                              str(data["user_id"]))
        # The routing fallback's reason is stored in both languages (the reason column is
        # for what people type).
        why = data.get("why_text")
        photos = data.get("photos")
        action = str(e.get("action") or "")
        out.append(EventLine(
            action=_EVENT_KEYS.get(action, action), what=event_text(action, lang),
            who=_person_name(e.get("actor"), names, lang),
            at=local(e.get("at"), tz), at_iso=str(e.get("at") or ""),
            from_status=str(src or ""), to_status=str(dst or ""), moved=moved,
            reason=str(e.get("reason") or (pick(why, lang) if isinstance(why, Mapping) else "")),
            note=str(data.get("note") or data.get("text") or ""),
            photos=[str(p) for p in photos] if isinstance(photos, list) else [],
            extra=extra))
    return out


def mentioned_people(events: Sequence[Mapping[str, Any]]) -> set[int]:
    """The user ids an issue's events name in their data (whose names the page needs)."""
    out = set()
    for e in events:
        data = e.get("data")
        if isinstance(data, Mapping):
            for key in ("assignee_id", "to_assignee_id", "from_assignee_id", "user_id"):
                if isinstance(data.get(key), int):
                    out.add(int(data[key]))
    return out


@dataclass(frozen=True)
class IssueCard:
    """An issue as the pages show it, in a list or on its own page."""

    id: int
    href: str
    title: str
    description: str
    standard: str  # the standard it came from, in the page's language ("" when none)
    severity: str
    severity_code: str
    status: str
    status_code: str
    site: str
    org_unit: str
    assignee: str
    assigner: str
    reporter: str
    due: str
    overdue: bool
    created: str
    source: str
    assignee_signed: str
    assigner_signed: str
    needs_shop: bool  # a retailer raised it: the shop confirms the fix before it closes
    reporter_signed: str
    submission_href: str | None
    version: int
    forms: list[ActionForm]


def issue_card(issue: Mapping[str, Any], lang: str, tz: tzinfo, *,
               actions: Sequence[str] | None = None, org_unit: str = "") -> IssueCard:
    """``issue``: the issues service's view as plain data; ``actions``: which of its
    ``allowed_actions`` to offer here (all of them by default); ``org_unit``: its name."""
    allowed = list(issue.get("allowed_actions") or [])
    offered = [a for a in allowed if actions is None or a in actions]

    def name(key: str) -> str:
        person = issue.get(key)
        return str(person.get("name") or "") if isinstance(person, Mapping) else ""

    severity = str(issue.get("severity") or "medium")
    status = str(issue.get("status") or "")
    source = str(issue.get("source") or "")
    due = issue.get("due_at")
    sub = issue.get("submission_id")
    return IssueCard(
        id=int(issue["id"]), href=href(f"/issues/{issue['id']}", lang),
        title=str(issue.get("title") or ""), description=str(issue.get("description") or ""),
        standard=str(issue.get("standard") or ""),
        severity=words(lang).get(f"sev_{severity}", severity), severity_code=severity,
        status=status_text(status, lang), status_code=status,
        site=str(issue.get("site_name") or ""), org_unit=org_unit, assignee=name("assignee"),
        assigner=name("assigner"), reporter=name("reporter"),
        due=say(lang, "due_on", date=local(due, tz)) if due else say(lang, "no_due"),
        overdue=bool(issue.get("overdue")), created=local(issue.get("created_at"), tz),
        source=words(lang).get(f"src_{source}", source),
        assignee_signed=local(issue.get("assignee_signed_at"), tz),
        assigner_signed=local(issue.get("assigner_signed_at"), tz),
        needs_shop=bool(issue.get("needs_shop_confirmation")),
        reporter_signed=local(issue.get("reporter_signed_at"), tz),
        submission_href=href(f"/submissions/{sub}", lang) if sub else None,
        version=int(issue.get("version") or 0), forms=action_forms(offered, lang))


@dataclass(frozen=True)
class ActionField:
    name: str
    kind: str  # textarea, photos, person
    label: str
    required: bool
    missing: str  # what to say when it is left empty


@dataclass(frozen=True)
class ActionForm:
    action: str
    label: str
    primary: bool
    fields: list[ActionField]


def action_forms(allowed: Sequence[str], lang: str) -> list[ActionForm]:
    """The actions the issue's state allows this user, each with the fields it needs, in
    the loop's order (unknown ones last, as plain buttons)."""
    w = words(lang)
    rank = {a: i for i, a in enumerate(ACTION_ORDER)}
    out = []
    for action in sorted(dict.fromkeys(allowed), key=lambda a: rank.get(a, len(rank))):
        fields = [ActionField(name=name, kind=kind, label=w[label], required=required,
                              missing=w["photo_required"] if kind == "photos" else
                              w["note_required"] if name == "note" else
                              w["choose"] if kind == "person" else w["reason_required"])
                  for name, kind, label, required in ACTION_FIELDS.get(action, ())]
        out.append(ActionForm(action=action, label=w.get(f"act_{action}", action),
                              primary=action in PRIMARY_ACTIONS, fields=fields))
    return out
