"""What the issue pages show, worked out without a server: the board's bars and links, an
issue as a card, its history in words, and the actions its state offers."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

from rounds import i18n
from rounds.runtime.fieldwork import views
from rounds.runtime.issues.models import STATES
from rounds.runtime.issues.states import ACTIONS

# The field pages' words as each catalogue holds them (no fallback filled in).
WORDS = {lang: i18n._catalogue("fieldwork", lang) for lang in i18n.LANGUAGES}

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_pages_know_every_state_and_action_of_the_loop() -> None:
    assert views.ISSUE_STATES == STATES  # the bars keep the loop's order
    for lang in ("zh", "en"):
        assert all(f"st_{s}" in WORDS[lang] for s in STATES)
        assert all(f"act_{a}" in WORDS[lang] for a in ACTIONS)
        assert all(f"ev_{views._EVENT_KEYS[past]}" in WORDS[lang]
                   for past in ("created", "assigned", "started", "rectified", "verified",
                                "refused", "closed", "reopened", "cancelled", "reassigned",
                                "commented", "reminded", "escalated"))
    assert set(views.ACTION_ORDER) == set(ACTIONS)


def test_board_links_keep_the_other_filters_and_start_again_at_page_one() -> None:
    filters = {"status": "assigned", "org_unit_id": 4, "assignee_id": None, "site_id": None,
               "overdue": True}
    assert views.board_query(filters) == {"status": "assigned", "org_unit_id": 4,
                                          "overdue": "true"}
    assert views.board_query(filters, status="closed", page=1) == {
        "status": "closed", "org_unit_id": 4, "overdue": "true"}
    assert views.board_query(filters, overdue=None, page=3) == {
        "status": "assigned", "org_unit_id": 4, "page": 3}
    assert views.href("/issues", "en", **views.board_query(filters, status=None)) == \
        "/issues?org_unit_id=4&overdue=true&lang=en"


def test_bars_for_every_state_relative_to_the_largest() -> None:
    bars = views.status_bars({"assigned": 6, "in_progress": 3, "closed": 1}, "en",
                             lambda s: f"/issues?status={s}", current="in_progress")
    assert [b.code for b in bars] == list(STATES)
    by = {b.code: b for b in bars}
    assert (by["assigned"].percent, by["in_progress"].percent, by["open"].percent) == \
        (100.0, 50.0, 0.0)
    assert by["closed"].count == 1 and by["closed"].label == "Closed"
    assert by["in_progress"].current and not by["assigned"].current
    assert by["verified"].href == "/issues?status=verified"
    # nothing at all: empty bars, no division by zero
    assert {b.percent for b in views.status_bars({}, "zh", str)} == {0.0}


ISSUE = {
    "id": 7, "title": "明码标价规范", "description": "芙蓉烟酒店\ntwo tags missing",
    "source": "failed_item", "severity": "high", "status": "rectified",
    "site_name": "芙蓉烟酒店", "submission_id": "abc",
    "assignee": {"id": 2, "name": "李"}, "assigner": {"id": 3, "name": "吴"},
    "reporter": None, "due_at": "2026-03-02T16:30:00+00:00", "overdue": True,
    "created_at": "2026-02-23T08:00:00+00:00", "assignee_signed_at": "2026-02-24T01:00:00",
    "assigner_signed_at": None, "version": 4,
    "allowed_actions": ["comment", "refuse", "verify", "cancel"],
}


def test_an_issue_as_a_card_in_the_company_time_zone() -> None:
    card = views.issue_card(ISSUE, "zh", SHANGHAI, org_unit="东区市场部")
    assert (card.status, card.status_code, card.severity) == ("待验收", "rectified", "严重")
    assert card.due == "2026-03-03 00:30 前" and card.overdue
    assert card.assignee_signed == "2026-02-24 09:00"  # naive from SQLite: UTC
    assert card.assigner_signed == "" and card.reporter == ""
    assert card.href == "/issues/7?lang=zh"
    assert card.submission_href == "/submissions/abc?lang=zh"
    assert card.source == "检查未达标项" and card.org_unit == "东区市场部"
    # the next step of the loop first; a list offers only some
    assert [f.action for f in card.forms] == ["verify", "refuse", "comment", "cancel"]
    listed = views.issue_card(ISSUE, "en", UTC, actions=("verify", "refuse"))
    assert [f.action for f in listed.forms] == ["verify", "refuse"]
    assert views.issue_card({**ISSUE, "due_at": None}, "en", UTC).due == "no due date"


def test_actions_ask_for_what_they_need() -> None:
    forms = {f.action: f for f in views.action_forms(
        ["rectify", "refuse", "reassign", "start", "frobnicate"], "en")}
    assert list(forms) == ["start", "rectify", "refuse", "reassign", "frobnicate"]
    assert forms["start"].fields == [] and forms["start"].primary
    assert [(f.name, f.kind, f.required) for f in forms["rectify"].fields] == [
        ("note", "textarea", True), ("photos", "photos", True)]
    assert forms["rectify"].fields[1].missing == "Add at least one photo of the fix."
    assert forms["refuse"].fields[0].missing == "Give a reason." and not forms["refuse"].primary
    assert forms["reassign"].fields[0].kind == "person"
    assert forms["frobnicate"].label == "frobnicate"  # unknown: shown, as a plain button


def test_the_history_in_words() -> None:
    events = [
        {"id": 2, "at": "2026-02-23T08:00:00+00:00", "actor": None, "action": "assigned",
         "from_status": "open", "to_status": "assigned", "reason": "",
         "data": {"assignee_id": 2}},
        {"id": 1, "at": "2026-02-23T08:00:00+00:00", "actor": None, "action": "created",
         "from_status": None, "to_status": "open", "reason": "",
         "data": {"note": "two tags missing", "photos": ["p1"]}},
        {"id": 3, "at": "2026-02-24T01:00:00+00:00", "actor": {"id": 3, "name": "吴"},
         "action": "refused", "from_status": "rectified", "to_status": "in_progress",
         "reason": "还缺一个", "data": {}},
        {"id": 4, "at": "2026-02-25T01:00:00+00:00", "actor": {"id": 3, "name": "吴"},
         "action": "reassigned", "from_status": "in_progress", "to_status": "assigned",
         "reason": "", "data": {"from_assignee_id": 2, "to_assignee_id": 5}},
        {"id": 5, "at": "2026-02-26T01:00:00+00:00", "actor": None, "action": "escalated",
         "from_status": None, "to_status": None, "reason": "",
         "data": {"unit": {"zh": "市公司", "en": "City company"}}},
    ]
    lines = views.event_lines(events, {2: "李", 5: "王"}, "zh", SHANGHAI)
    assert [e.action for e in lines] == ["create", "assign", "refuse", "reassign", "escalate"]
    created, assigned, refused, reassigned, escalated = lines
    assert (created.what, created.who, created.moved) == ("发现问题", "系统", "待交办")
    assert created.note == "two tags missing" and created.photos == ["p1"]
    assert assigned.extra == "整改责任人：李" and assigned.at == "2026-02-23 16:00"
    assert (refused.who, refused.moved, refused.reason) == ("吴", "待验收 → 整改中", "还缺一个")
    assert reassigned.extra == "整改责任人：王"
    assert escalated.extra == "督办至市公司" and escalated.moved == ""
    assert views.mentioned_people(events) == {2, 5}
    en = views.event_lines(events[2:3], {}, "en", UTC)[0]
    assert (en.what, en.moved) == ("Sent back", "To accept → In progress")


def test_a_routing_fallback_in_the_history_gives_its_reason_in_the_readers_language() -> None:
    events = [
        {"id": 2, "at": "2026-02-23T08:00:00+00:00", "actor": None, "action": "routed",
         "from_status": None, "to_status": None, "reason": "",
         "data": {"party": "assignee", "user_id": 4, "assignee_id": 4, "fallback": "head",
                  "why_text": {"zh": "规则没有找到整改责任人，已交给北站的负责人。",
                               "en": "The rule found no assignee; given to the head of "
                                     "North."}}},
        {"id": 3, "at": "2026-02-23T08:00:00+00:00", "actor": None, "action": "routed",
         "from_status": None, "to_status": None, "reason": "",
         "data": {"party": "assigner", "user_id": 6, "fallback": "administrators",
                  "why_text": {"zh": "规则没有找到交办人，已交给系统管理员。",
                               "en": "The rule found no assigner; given to the "
                                     "administrators."}}},
    ]
    zh = views.event_lines(events, {4: "赵", 6: "管理员"}, "zh", SHANGHAI)
    assert [(e.what, e.who, e.reason) for e in zh] == [
        ("按兜底规则交办", "系统", "规则没有找到整改责任人，已交给北站的负责人。"),
        ("按兜底规则交办", "系统", "规则没有找到交办人，已交给系统管理员。")]
    assert zh[1].extra == "交办人：管理员"
    en = views.event_lines(events, {4: "Zhao", 6: "Admin"}, "en", UTC)
    assert en[0].what == "Routed by the fallback"
    assert en[0].reason == "The rule found no assignee; given to the head of North."
    assert views.mentioned_people(events) == {4, 6}
