"""The demo's issues: one for each failed item, made when it was found, and each taken as far
through the loop as its people would have by now.

Who rectifies and who accepts comes from the issues slice's own routing (``route``
with the standard's ``issues`` rules, ``due_days``, the roles' capabilities), so the demo
routes as the running system does. The rows are then written in bulk (SQLAlchemy Core), with
their past times: found when submitted, due after that, started, rectified (with a fix note
about that item and a photo), accepted (验收), sometimes sent back, closed. Those still open
when their due date passed were escalated a level a day (督办), to whom
``escalate_overdue`` would have told, until they were fixed and accepted. How often an
assignee is late follows their temper that month (``rounds.demo.work.Temper``): the people
who slip close fewer issues on time. Older issues have mostly been dealt with; a few were
never started and went up to the city.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import as_utc, table_of
from rounds.definitions.items import items_by_id
from rounds.demo.notes import fix_note
from rounds.demo.work import Temper, tempers
from rounds.i18n import LANGUAGES
from rounds.runtime.definitions.models import DefinitionVersion
from rounds.runtime.issues import bulk, deadlines, routing, sources, texts
from rounds.runtime.issues.models import (
    ACTIVE,
    ASSIGNED,
    CLOSED,
    IN_PROGRESS,
    OPEN,
    RECTIFIED,
    VERIFIED,
    Issue,
    IssueEvent,
)
from rounds.runtime.notifications.models import Notification
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.people.models import User
from rounds.runtime.sites.models import Site
from rounds.runtime.storage.models import Photo
from rounds.runtime.submissions.models import FailedItem, Submission

REFUSE_REASONS = ("整改照片看不清，请重新拍摄。", "现场复核仍未整改到位。")


class _Router:
    """(assignee, assigner) of a submission's issues, from the slice's routing (``route``,
    with its fallback), asked once for each set of facts its answer depends on: a rule
    naming the site's staff depends on the site, one naming an org unit's on the unit, the
    submitter on the submitter, the fallback on the unit. (Every issue is new here, so its
    round robin starts alike.)"""

    def __init__(self, db: AsyncSession, known: Mapping[str, routing.Role],
                 roles: dict[int, str]) -> None:
        self.db, self.known_roles, self.roles = db, known, roles
        self.known: dict[tuple[Any, ...], routing.Routed] = {}

    async def _route(self, party: str, rule: Any, defaults: Sequence[routing.Party], *,
                     site_id: int | None, unit_id: int, submitter_id: int,
                     exclude: int | None = None) -> routing.Routed:
        found = routing.Party.of_json(rule)
        role = self.roles.get(submitter_id)
        parties = [found] if found is not None else list(defaults)
        key = (party, exclude, unit_id, tuple(
            (p.of, p.role or role, site_id if p.of == "site" else submitter_id
             if p.of == "submitter" else None) for p in parties))
        if key not in self.known:
            self.known[key] = await routing.route(
                self.db, party, found, routing.Where(site_id, unit_id, submitter_id, role),
                rule_from="standard" if found is not None else "default", default=defaults,
                exclude=exclude, known=self.known_roles)
        return self.known[key]

    async def parties(self, config: dict[str, Any], site_id: int | None, unit_id: int,
                      submitter_id: int) -> tuple[routing.Routed, routing.Routed]:
        facts: dict[str, Any] = {"site_id": site_id, "unit_id": unit_id,
                                 "submitter_id": submitter_id}
        assignee = await self._route(routing.ASSIGNEE, config.get("assign_to"),
                                     routing.DEFAULT_ASSIGN_TO, **facts)
        assigner = await self._route(routing.ASSIGNER, config.get("verify_by"),
                                     routing.DEFAULT_VERIFY_BY, exclude=assignee.user_id,
                                     **facts)
        return assignee, assigner


class _Story:
    """One issue's events, from when it was found up to now."""

    def __init__(self, found: datetime, now: datetime) -> None:
        self.now = now
        self.events: list[dict[str, Any]] = []
        self.notes: list[dict[str, Any]] = []  # escalation notices (no issue id yet)
        self.status = OPEN
        self.version = 1
        self.at = found

    def add(self, at: datetime, actor: int | None, action: str, to: str | None, *,
            data: dict[str, Any] | None = None, reason: str = "", bump: bool = True) -> None:
        self.events.append({"at": at, "actor_id": actor, "action": action,
                            "from_status": self.status if to is not None else None,
                            "to_status": to, "reason": reason, "data": data or {}})
        if to is not None:
            self.status = to
            if bump:
                self.version += 1
        self.at = at


async def build_issues(sessions: async_sessionmaker[AsyncSession], *, now: datetime,
                       seed: int = 7, progress: Callable[[str], None] = print
                       ) -> dict[str, int]:
    """The issues of every failed item so far; how many ended in each state."""
    rng = random.Random(seed + 2)
    now = as_utc(now)
    async with sessions() as db, db.begin():
        failed = (await db.execute(
            select(FailedItem.id, FailedItem.item_id, FailedItem.severity, Submission.id,
                   Submission.user_id, Submission.site_id, Submission.definition_id,
                   Submission.version_id, Submission.submitted_at, Submission.evidence,
                   Site.org_unit_id, Site.name, Site.code, User.org_unit_id,
                   Submission.evaluation)
            .join(Submission, Submission.id == FailedItem.submission_id)
            .join(User, User.id == Submission.user_id)
            .outerjoin(Site, Site.id == Submission.site_id)
            .order_by(Submission.submitted_at, FailedItem.id))).all()
        if not failed:
            return {}
        versions = {vid: dict(content) for vid, content in (await db.execute(
            select(DefinitionVersion.id, DefinitionVersion.content).where(
                DefinitionVersion.id.in_({r[7] for r in failed})))).all()}
        users = {uid: (role, lang, name) for uid, role, lang, name in (await db.execute(
            select(User.id, User.role_id, User.language, User.display_name))).all()}
        photos: dict[int, list[str]] = {}
        for pid, uid in (await db.execute(select(Photo.id, Photo.uploaded_by))).all():
            photos.setdefault(uid, []).append(pid)
        above = _Above()
        router = _Router(db, await routing.roles(db),
                         {u: r for u, (r, _, _) in users.items()})
        items_of = {vid: items_by_id(content) for vid, content in versions.items()}
        moods = tempers(users, seed)
        first_month = min(r[8] for r in failed)

        issues: list[dict[str, Any]] = []
        stories: list[_Story] = []
        by_submission: set[str] = set()  # standards that want one issue per submission
        for (fid, item_id, severity, sid, uid, site_id, def_id, version_id, submitted,
             evidence, site_unit, site_name, site_code, user_unit, evaluation) in failed:
            content = versions.get(version_id, {})
            config: dict[str, Any] = dict(content.get("issues") or {})
            if config.get("per", "item") == "submission":
                by_submission.add(sid)
                continue
            items = items_of.get(version_id, {})
            unit_id = site_unit if site_unit is not None else user_unit
            routed = await router.parties(config, site_id, unit_id, uid)
            assignee, assigner = routed[0].user_id, routed[1].user_id
            severity = severity or str(config.get("default_severity") or "medium")
            days = deadlines.due_days(config.get("due_days"), severity)
            found = submitted
            due = found + timedelta(days=days)
            lang = users.get(uid, ("", "zh", ""))[1]
            # The problem's name (not the item's, worded as a pass) in both languages, and a
            # language-free description, as the slice stores them (each reader's own).
            title = bulk.problem_titles(content, evaluation).get(item_id) or {}
            note = evidence.get(item_id) if isinstance(evidence, dict) else None
            note = note if isinstance(note, dict) else {}
            where = f"{site_name}（{site_code}）" if site_name else ""
            definition_title = dict(content.get("title") or {})
            standard = {"zh": texts.title_in(definition_title, "zh", def_id),
                        "en": texts.title_in(definition_title, "en", def_id)}
            text = [where, str(note.get("note") or "")]
            rules = {"assign_to": config.get("assign_to"), "verify_by": config.get("verify_by")}
            story = _Story(found, now)
            story.add(found, None, "created", OPEN, data={
                "title": title, "submission_id": sid, "item_id": item_id, "severity": severity,
                "rules": rules, "due_days": days, "photos": list(note.get("photos") or []),
                "note": str(note.get("note") or "")}, bump=False)
            story.events[0]["from_status"] = None  # it did not exist before
            for r in routed:  # the fallback says why, as the slice's own path does
                if r.fallback is not None:
                    story.add(found, None, "routed", None, data=r.event_data(), bump=False)
            row = {"title": texts.title_in(title, lang, item_id)[:300],
                   "titles": {"zh": texts.title_in(title, "zh", item_id)[:300],
                              "en": texts.title_in(title, "en", item_id)[:300],
                              "standard": standard},
                   "description": "\n".join(t for t in text if t), "source": "failed_item",
                   "severity": severity, "priority": deadlines.PRIORITY_OF.get(severity, 3),
                   "site_id": site_id, "org_unit_id": unit_id, "submission_id": sid,
                   "failed_item_id": fid, "definition_id": def_id, "item_id": item_id,
                   "assigner_id": assigner, "assignee_id": assignee, "reporter_id": uid,
                   "due_at": due, "assignee_signed_at": None, "assigner_signed_at": None,
                   "closed_at": None, "reminded_at": None, "escalation_level": 0,
                   "escalated_at": None, "escalated_to_unit_id": None, "created_at": found}
            if assignee is None:
                story.add(found, None, "needs_assignee", None)
            else:
                story.add(found, None, "assigned", ASSIGNED,
                          data={"assignee_id": assignee}, bump=False)
                mood = moods.get(assignee) or Temper(1.0, 0.85, 0.05, 0.2, 0.0)
                _live(story, row, rng, found=found, due=due, now=now, assignee=assignee,
                      assigner=assigner, photos=photos.get(assignee, []),
                      fix=fix_note(item_id, items.get(item_id), rng),
                      late=mood.month(_months_between(first_month, found)).late)
            row.update(status=story.status, version=story.version, updated_at=story.at)
            raised, told = await _escalate(db, above, row, now, rng)
            if raised:  # in the history where they happened, between the others
                story.events = sorted(story.events + raised, key=lambda e: e["at"])
                row["updated_at"] = max(row["updated_at"], row["escalated_at"])
            story.notes = told
            issues.append(row)
            stories.append(story)

        counts: dict[str, int] = {}
        for start in range(0, len(issues), 500):
            chunk = issues[start:start + 500]
            ids = (await db.execute(insert(table_of(Issue)).returning(
                Issue.id, sort_by_parameter_order=True), chunk)).scalars().all()
            events: list[dict[str, Any]] = []
            notes: list[dict[str, Any]] = []
            for issue_id, row, story in zip(ids, chunk, stories[start:start + 500],
                                            strict=True):
                counts[row["status"]] = counts.get(row["status"], 0) + 1
                events += [{**e, "issue_id": issue_id} for e in story.events]
                name = users.get(row["assignee_id"] or 0, ("", "", ""))[2]
                notes += _notifications(issue_id, row, now, assignee_name=name)
                notes += [{**n, "link": f"/issues/{issue_id}", "issue_id": issue_id,
                           "dedupe_key": f"demo:issue:{issue_id}:{n['dedupe_key']}"}
                          for n in story.notes]
            await db.execute(insert(table_of(IssueEvent)), events)
            if notes:
                await db.execute(insert(table_of(Notification)), notes)
        for sid in sorted(by_submission):  # rare: the slice's own path, one by one
            await sources.create_issues_for_submission(db, sid, now)
    overdue = sum(1 for r in issues if r["status"] in ACTIVE and r["due_at"] < now)
    escalated = sum(1 for r in issues if r["status"] in ACTIVE and r["escalation_level"])
    ever = sum(1 for r in issues if r["escalation_level"])
    progress(f"  issues: {len(issues)} ("
             + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
             + f"; {overdue} overdue, {escalated} of them escalated; {ever} escalated"
             " at some time)")
    return {**counts, "overdue": overdue, "escalated": escalated, "escalated_ever": ever}


class _Above:
    """Who an overdue issue of a unit is escalated to, level by level: the next units up
    that have someone who may verify or view issues there (as ``escalate_overdue`` picks)."""

    def __init__(self) -> None:
        self.chains: dict[int, list[tuple[int, list[int], dict[str, str]]]] = {}

    async def levels(self, db: AsyncSession, unit_id: int
                     ) -> list[tuple[int, list[int], dict[str, str]]]:
        """(unit, the people told there, its name) for each level up."""
        if unit_id not in self.chains:
            unit = await db.get(OrgUnit, unit_id)
            above = routing.unit_chain(unit)[1:] if unit is not None else []
            roles = await routing.roles_with(db, "issue.verify", "issue.view_scope")
            people = await routing.users_by_unit(db, roles, above)
            levels = []
            for u in above:
                if people.get(u):
                    found = await db.get(OrgUnit, u)
                    name = {"zh": found.name_zh if found else "",
                            "en": found.name_en if found else ""}
                    levels.append((u, people[u], name))
            self.chains[unit_id] = levels
        return self.chains[unit_id]


def _months_between(first: datetime, then: datetime) -> int:
    return (then.year - first.year) * 12 + then.month - first.month


async def _escalate(db: AsyncSession, above: _Above, row: dict[str, Any], now: datetime,
                    rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """An issue overdue while still open: one org level up per day overdue (督办), each step
    with its event and a notice to the people of that unit, as the daily reconciliation did,
    until it was accepted (it is no longer active then) or now.
    Sets the row's escalation columns; (events, notifications) without the issue id."""
    until = now if row["status"] in ACTIVE else (row["assigner_signed_at"] or now)
    if row["due_at"] >= until:
        return [], []
    chain = await above.levels(db, row["org_unit_id"])
    at = row["due_at"] + timedelta(minutes=rng.uniform(5, 55))  # the next tick after
    level, start = 0, row["org_unit_id"]
    events: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    while level < len(chain) and at <= until:
        target, people, name = chain[level]
        level += 1
        events.append({"at": at, "actor_id": None, "action": "escalated", "from_status": None,
                       "to_status": None, "reason": "",
                       "data": {"level": level, "from_unit_id": start, "to_unit_id": target,
                                "unit": name, "notified": people}})
        message = {lang: texts.message("issue_escalated", row["titles"],
                                       due_in=at - row["due_at"], unit=name[lang],
                                       plain=row["title"])[lang]
                   for lang in LANGUAGES}
        notes += [{"user_id": u, "kind": "issue_escalated", "message": message,
                   "dedupe_key": f"escalated:{level}:u{u}", "created_at": at,
                   "pushed_at": at,  # older notices have been read
                   "read_at": at + timedelta(hours=3) if now - at > timedelta(days=2) else None}
                  for u in people]
        row.update(escalation_level=level, escalated_at=at, escalated_to_unit_id=target)
        start, at = target, at + deadlines.ESCALATE_EVERY
    return events, notes


def _live(story: _Story, row: dict[str, Any], rng: random.Random, *, found: datetime,
          due: datetime, now: datetime, assignee: int, assigner: int | None,
          photos: list[str], fix: str, late: float = 0.2) -> None:
    """Take an assigned issue as far as its assignee and assigner got by ``now``: most fix
    theirs before the due date; some (``late``: the assignee's share) after it, and some
    never start (fewer of the older ones: they were taken up in the end)."""
    if rng.random() < (0.12 if now - found < timedelta(days=14) else 0.02):
        return  # not started: overdue once its due date passes
    started = found + timedelta(hours=rng.uniform(1, 20))
    if started > now:
        return
    story.add(started, assignee, "started", IN_PROGRESS)
    allowed = (due - found).total_seconds()
    is_late = rng.random() < late
    fixed = (due + timedelta(hours=rng.uniform(4, 60)) if is_late
             else found + timedelta(seconds=allowed * rng.uniform(0.25, 0.95)))
    fixed = max(fixed, started + timedelta(minutes=30))
    if fixed > now:
        return
    evidence = {"note": fix, "photos": [rng.choice(photos)] if photos else []}
    story.add(fixed, assignee, "rectified", RECTIFIED, data=evidence)
    row["assignee_signed_at"] = fixed
    # A fix in time is accepted and closed in time (the assigner sees the due date too);
    # a late one whenever the assigner gets to it.
    if is_late:
        checked = fixed + timedelta(hours=rng.uniform(2, 30))
    else:
        checked = fixed + max((due - fixed) * rng.uniform(0.1, 0.6), timedelta(minutes=20))
    if checked > now or assigner is None:
        return
    recent = now - found < timedelta(days=14)  # older ones sent back were fixed again since
    if rng.random() < (0.1 if recent else 0.02):  # 验收退回: sent back, signature cleared
        story.add(checked, assigner, "refused", IN_PROGRESS, reason=rng.choice(REFUSE_REASONS))
        row["assignee_signed_at"] = None
        return
    story.add(checked, assigner, "verified", VERIFIED)
    row["assigner_signed_at"] = checked
    closed = checked + (timedelta(hours=rng.uniform(0.5, 24)) if is_late else
                        max((due - checked) * rng.uniform(0.1, 0.9), timedelta(minutes=10)))
    if closed > now:
        return
    story.add(closed, assigner, "closed", CLOSED)
    row["closed_at"] = closed


def _notifications(issue_id: int, row: dict[str, Any], now: datetime, *, assignee_name: str
                   ) -> list[dict[str, Any]]:
    """What the people of an issue still waiting for them were told: the assignee of an
    assigned issue, the assigner of a rectified one (older ones read already)."""
    status = row["status"]
    if status in (ASSIGNED, IN_PROGRESS) and row["assignee_id"] is not None:
        kind, user, at = "issue_assigned", row["assignee_id"], row["created_at"]
        due_in: timedelta | None = row["due_at"] - row["created_at"]
    elif status == RECTIFIED and row["assigner_id"] is not None:
        kind, user, at = "issue_rectified", row["assigner_id"], row["assignee_signed_at"]
        due_in = None
    else:
        return []
    # The slice's own wording of the notice (stored in both languages).
    message = texts.message(kind, row["titles"], actor=assignee_name, due_in=due_in,
                            plain=row["title"])
    return [{"user_id": user, "kind": kind, "message": message, "link": f"/issues/{issue_id}",
             "issue_id": issue_id, "dedupe_key": f"demo:issue:{issue_id}:{kind}:u{user}",
             "created_at": at, "pushed_at": at,
             "read_at": at + timedelta(hours=3) if now - at > timedelta(days=2) else None}]
