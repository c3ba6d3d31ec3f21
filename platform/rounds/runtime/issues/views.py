"""The shapes an issue is shown in: the JSON of the issues API and the data of the issue pages.

An issue as a person sees it (:class:`IssueView`: its title in their language, the names of
its people, what they may do now), with its history and evidence (:class:`IssueDetail`), and
a page of a list (:class:`IssuePage`). The web handlers (``issues.web``, the fieldwork issue
pages) send them; the read side (``queries``) builds them and every step of the loop answers
with the issue as it is afterwards.

Web-side: these are the web's shapes, kept out of the service modules. The module imports
nothing of the slice, so the services may return them without depending on the handlers.
"""

from __future__ import annotations

from typing import Any

import msgspec

from rounds.web.paging import Page


class Person(msgspec.Struct):
    id: int
    name: str


class IssueView(msgspec.Struct, kw_only=True):
    id: int
    title: str  # in the reader's language where the issue has both
    description: str
    standard: str | None  # the name of the standard it came from, in the reader's language
    source: str
    severity: str
    priority: int
    status: str
    site_id: int | None
    site_name: str | None
    org_unit_id: int
    submission_id: str | None
    definition_id: str | None
    item_id: str | None
    assigner: Person | None
    assignee: Person | None
    reporter: Person | None
    due_at: str | None
    overdue: bool
    assignee_signed_at: str | None
    assigner_signed_at: str | None
    # For what a retailer raised: the shop confirms the fix before it closes.
    needs_shop_confirmation: bool
    reporter_signed_at: str | None
    closed_at: str | None
    reminded_at: str | None
    escalation_level: int
    escalated_at: str | None
    escalated_to_unit_id: int | None
    created_at: str
    updated_at: str
    version: int
    allowed_actions: list[str]
    link: str


class EventView(msgspec.Struct):
    id: int
    at: str
    actor: Person | None
    action: str
    from_status: str | None
    to_status: str | None
    reason: str
    data: dict[str, Any]


class Evidence(msgspec.Struct):
    at: str
    by: Person | None
    note: str
    photos: list[str]


class IssueDetail(IssueView, kw_only=True):
    events: list[EventView]
    evidence: list[Evidence]  # each rectification's note and photos, oldest first


IssuePage = Page[IssueView]
