"""Who rectifies an issue (the assignee, 整改责任人) and who accepts the fix (the assigner, 交办人).

A rule (:class:`Party`) names candidates: users of a role among the site's staff, in the
site's org unit or the nearest unit above with one, or the submitter. The rule in force is
the failed item's own ``assign_to`` / ``verify_by`` if it has one, else the standard's
``issues`` one, else the defaults below. Of the candidates, only those whose role may act
count: ``issue.rectify`` for the assignee, ``issue.verify`` for the assigner (who also may
not be the assignee: the one who fixes does not accept their own fix). Several take turns
(:func:`pick`).

When the rule leaves nobody, the fallback (:func:`route`):

1. the head of the nearest org unit, from the issue's unit up: an active user of that unit
   whose role may hand out issues (``issue.assign``) and may act (as above), administrators
   aside;
2. then the administrators: active users whose role may publish definitions
   (``definition.publish``: they can put the roles right) and may act;
3. else nobody: an issue with no assignee waits, ``open``, for its assigner to 交办 it.

Each fallback is written into the issue's history (a ``routed`` event whose data says which
rule found whom, who was passed over and why, in every language: the words are in
``texts``). See docs/definitions.md.

Imports the issue model and ``texts`` of the slice (and the definitions, orgs, people and
sites below it); the slice's services use it, it uses none of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.definitions.capabilities import of_role
from rounds.i18n import LANGUAGES
from rounds.runtime.definitions.service import current_contents
from rounds.runtime.issues import texts
from rounds.runtime.issues.models import Issue
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.people.models import User
from rounds.runtime.sites.models import SiteAssignment

ASSIGNEE, ASSIGNER = "assignee", "assigner"
# What a party's role must be able to do.
NEEDS = {ASSIGNEE: "issue.rectify", ASSIGNER: "issue.verify"}
HEAD = "issue.assign"  # an org unit's head hands issues out
ADMINISTRATOR = "definition.publish"  # the administrators maintain the roles


# -- roles ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Role:
    capabilities: frozenset[str]
    title: dict[str, str]


async def roles(db: AsyncSession) -> dict[str, Role]:
    """Each role's capabilities and title, from its current version."""
    out: dict[str, Role] = {}
    for role_id, content in (await current_contents(db, "role")).items():
        out[role_id] = Role(of_role(role_id, content.get("capabilities")),
                            dict(content.get("title") or {}))
    return out


async def role_capabilities(db: AsyncSession) -> dict[str, frozenset[str]]:
    """Each role's capabilities, from its current definition."""
    return {r: role.capabilities for r, role in (await roles(db)).items()}


async def roles_with(db: AsyncSession, *capabilities: str) -> list[str]:
    """The roles that have any of these capabilities, sorted."""
    return sorted(r for r, caps in (await role_capabilities(db)).items()
                  if caps & set(capabilities))


# -- rules ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Party:
    """A standard's (or an item's) ``assign_to`` / ``verify_by``: users with ``role`` among
    the site's staff (``site``), in the site's org unit or the nearest unit above with one
    (``org_unit``), or the submitter."""

    of: str
    role: str | None = None

    @classmethod
    def of_json(cls, doc: Any) -> Party | None:
        if not isinstance(doc, dict) or doc.get("of") not in ("site", "org_unit", "submitter"):
            return None
        return cls(of=str(doc["of"]), role=str(doc["role"]) if doc.get("role") else None)

    def as_json(self) -> dict[str, str]:
        return {"of": self.of, **({"role": self.role} if self.role else {})}


# No assign_to: the site's staff of the submitter's role, else the submitter. No verify_by:
# nobody by rule, so the fallback (the nearest head who may accept fixes): the submitter
# accepts only where the standard says so (``{"of": "submitter"}``).
DEFAULT_ASSIGN_TO = (Party("site"), Party("submitter"))
DEFAULT_VERIFY_BY: tuple[Party, ...] = ()
# A retailer's suggestion or complaint: the shop's customer manager rectifies, the station
# head of the shop's org unit (or the nearest above) verifies.
FEEDBACK_ASSIGN_TO = Party("site", "customer_manager")
FEEDBACK_VERIFY_BY = Party("org_unit", "station_head")


def unit_chain(unit: OrgUnit) -> list[int]:
    """The unit and its ancestors, nearest first (from the materialised path)."""
    ids = [int(p) for p in unit.path.strip("/").split("/") if p] if unit.path else []
    return list(reversed(ids)) or [unit.id]


async def users_by_unit(db: AsyncSession, role_ids: Sequence[str], unit_ids: Sequence[int]
                        ) -> dict[int, list[int]]:
    """Active users of these roles in these units, by unit, sorted by id."""
    if not role_ids or not unit_ids:
        return {}
    rows = await db.execute(select(User.id, User.org_unit_id).where(
        User.role_id.in_(role_ids), User.org_unit_id.in_(unit_ids), User.active.is_(True))
        .order_by(User.id))
    out: dict[int, list[int]] = {}
    for uid, unit_id in rows:
        out.setdefault(int(unit_id), []).append(int(uid))
    return out


async def candidates(db: AsyncSession, party: Party, *, site_id: int | None, unit_id: int,
                     submitter_id: int | None, submitter_role: str | None = None
                     ) -> list[int]:
    """The users a rule names, sorted by id (a role left out means the submitter's)."""
    if party.of == "submitter":
        return [submitter_id] if submitter_id is not None else []
    role = party.role or submitter_role
    if role is None:
        return []
    if party.of == "site":
        if site_id is None:
            return []
        rows = await db.execute(
            select(SiteAssignment.user_id).join(User, User.id == SiteAssignment.user_id)
            .where(SiteAssignment.site_id == site_id, SiteAssignment.role_id == role,
                   User.active.is_(True)).order_by(SiteAssignment.user_id))
        return [int(u) for u in rows.scalars()]
    unit = await db.get(OrgUnit, unit_id)
    if unit is None:
        return []
    chain = unit_chain(unit)
    found = await users_by_unit(db, [role], chain)
    for uid in chain:  # the nearest unit that has anyone with the role
        if found.get(uid):
            return found[uid]
    return []


async def pick(db: AsyncSession, users: list[int], column: Any) -> int | None:
    """Round robin among several candidates, deterministic and stateless: the k-th issue
    naming any of them (in ``column``: assignee or assigner) goes to ``users[k mod n]``,
    ``users`` sorted by id. Counting issues already in the database (this transaction's
    included) makes it survive restarts and staff changes with no counter to keep."""
    if len(users) <= 1:
        return users[0] if users else None
    k = (await db.execute(select(func.count()).select_from(Issue).where(
        column.in_(users)))).scalar_one()
    return users[int(k) % len(users)]


# -- routing with the fallback --------------------------------------------------------------

@dataclass(frozen=True)
class Where:
    """Where an issue arises: its site (if any), org unit and the person who raised it."""

    site_id: int | None
    unit_id: int
    submitter_id: int | None
    submitter_role: str | None


@dataclass
class Routed:
    """Who a party is and how they were found (for the issue's history)."""

    party: str  # assignee | assigner
    user_id: int | None
    rules: list[Party]  # the rule (or the defaults, in order) that was tried
    rule_from: str  # item | standard | default | feedback
    fallback: str | None = None  # None (the rule found them) | head | administrators | nobody
    unit_id: int | None = None  # the unit whose head was chosen
    why: str = ""  # no_candidate | cannot_act | is_assignee (when the fallback was used)
    passed_over: list[dict[str, Any]] = field(default_factory=list)
    text: dict[str, str] = field(default_factory=dict)  # the reason, in both languages
    # Whom ``pick`` chose among (sorted): taking turns again needs only these (``bulk``).
    among: list[int] = field(default_factory=list)

    def event_data(self) -> dict[str, Any]:
        return {"party": self.party, "user_id": self.user_id,
                **({"assignee_id": self.user_id} if self.party == ASSIGNEE
                   and self.user_id is not None else {}),
                "rules": [r.as_json() for r in self.rules], "rule_from": self.rule_from,
                "fallback": self.fallback, "unit_id": self.unit_id, "why": self.why,
                "passed_over": self.passed_over, "why_text": self.text}


async def _roles_of(db: AsyncSession, user_ids: Sequence[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = await db.execute(select(User.id, User.role_id).where(User.id.in_(user_ids)))
    return {int(u): str(r) for u, r in rows}


async def _heads(db: AsyncSession, known: Mapping[str, Role], need: str, unit_id: int,
                 exclude: int | None) -> tuple[int | None, list[int]]:
    """The nearest unit (from ``unit_id`` up) with a head who may ``need``, and its heads."""
    unit = await db.get(OrgUnit, unit_id)
    if unit is None:
        return None, []
    able = [r for r, role in known.items() if {HEAD, need} <= role.capabilities
            and ADMINISTRATOR not in role.capabilities]
    chain = unit_chain(unit)
    found = await users_by_unit(db, able, chain)
    for uid in chain:
        heads = [u for u in found.get(uid, []) if u != exclude]
        if heads:
            return uid, heads
    return None, []


async def _administrators(db: AsyncSession, known: Mapping[str, Role], need: str,
                          exclude: int | None) -> list[int]:
    able = [r for r, role in known.items() if {ADMINISTRATOR, need} <= role.capabilities]
    if not able:
        return []
    rows = await db.execute(select(User.id).where(User.role_id.in_(able),
                                                  User.active.is_(True)).order_by(User.id))
    return [int(u) for u in rows.scalars() if int(u) != exclude]


async def route(db: AsyncSession, party: str, rule: Party | None, where: Where, *,
                rule_from: str, default: Sequence[Party] = (), exclude: int | None = None,
                known: Mapping[str, Role] | None = None) -> Routed:
    """The one user who is ``party`` (assignee or assigner) of an issue at ``where``: by
    ``rule`` (else ``default``, in order) among those whose role may act and who are not
    ``exclude``; else by the fallback (see the module). ``known``: the roles, when the
    caller has them already (creating many issues)."""
    known = known if known is not None else await roles(db)
    need = NEEDS[party]
    column = Issue.assignee_id if party == ASSIGNEE else Issue.assigner_id
    rules = [rule] if rule is not None else list(default)
    passed: list[dict[str, Any]] = []
    for p in rules:
        users = await candidates(db, p, site_id=where.site_id, unit_id=where.unit_id,
                                 submitter_id=where.submitter_id,
                                 submitter_role=where.submitter_role)
        role_of = await _roles_of(db, users)
        able = []
        for u in users:
            role = known.get(role_of.get(u, ""))
            if u == exclude:
                passed.append({"user_id": u, "role": role_of.get(u), "why": "is_assignee"})
            elif role is None or need not in role.capabilities:
                passed.append({"user_id": u, "role": role_of.get(u), "why": "cannot_act",
                               "lacks": need})
            else:
                able.append(u)
        chosen = await pick(db, able, column)
        if chosen is not None:
            return Routed(party, chosen, rules, rule_from, passed_over=passed, among=able)
    why = ("is_assignee" if passed and all(p["why"] == "is_assignee" for p in passed)
           else "cannot_act" if passed else "no_candidate")
    out = Routed(party, None, rules, rule_from, why=why, passed_over=passed)
    unit_id, heads = await _heads(db, known, need, where.unit_id, exclude)
    if heads:
        out.user_id, out.fallback, out.unit_id = await pick(db, heads, column), "head", unit_id
        out.among = heads
    else:
        admins = await _administrators(db, known, need, exclude)
        out.fallback = "administrators" if admins else "nobody"
        out.user_id, out.among = await pick(db, admins, column), admins
    out.text = await _reason_text(db, out, known)
    return out


# -- the rule in force for an item ---------------------------------------------------------

def item_rules(content: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Item id → the item's own ``assign_to``, ``verify_by`` and ``due`` (those it sets), in
    a definition's content (through sections and groups)."""
    out: dict[str, dict[str, Any]] = {}

    def walk(items: Any) -> None:
        for it in items or ():
            if isinstance(it, dict) and "id" in it:
                own = {k: it[k] for k in ("assign_to", "verify_by", "due") if k in it}
                if own:
                    out[str(it["id"])] = own
                walk(it.get("items"))

    for section in content.get("sections") or ():
        walk(section.get("items"))
    return out


async def parties(db: AsyncSession, where: Where, *, own: Mapping[str, Any],
                  standard: Mapping[str, Party | None], known: Mapping[str, Role]
                  ) -> tuple[Routed, Routed, dict[str, Any]]:
    """The assignee and the assigner of an issue by the item's ``own`` rules, else the
    ``standard``'s (``assign_to``, ``verify_by``), else the defaults; and the rules used,
    for the issue's ``created`` event."""
    used: dict[str, Any] = {}
    found: dict[str, tuple[Party | None, str]] = {}
    for key in ("assign_to", "verify_by"):
        rule = Party.of_json(own.get(key))
        found[key] = (rule, "item") if rule is not None else \
            (standard[key], "standard" if standard[key] else "default")
        chosen = found[key][0]
        used[key] = chosen.as_json() if chosen is not None else None
    assignee = await route(db, ASSIGNEE, found["assign_to"][0], where,
                           rule_from=found["assign_to"][1], default=DEFAULT_ASSIGN_TO,
                           known=known)
    assigner = await route(db, ASSIGNER, found["verify_by"][0], where,
                           rule_from=found["verify_by"][1], default=DEFAULT_VERIFY_BY,
                           exclude=assignee.user_id, known=known)
    used["from"] = {"assign_to": found["assign_to"][1], "verify_by": found["verify_by"][1]}
    return assignee, assigner, used


# -- the reason, as people say it -----------------------------------------------------------

async def _reason_text(db: AsyncSession, routed: Routed, known: Mapping[str, Role]
                       ) -> dict[str, str]:
    """Why the fallback was used, in every language (the words are in ``texts``)."""
    role_ids = sorted({str(p["role"]) for p in routed.passed_over
                       if p["why"] == "cannot_act"})
    roles_passed = [(r, known[r].title if r in known else {}) for r in role_ids]
    unit = await db.get(OrgUnit, routed.unit_id) if routed.unit_id is not None else None
    name = {"zh": unit.name_zh, "en": unit.name_en} if unit is not None else ""
    return {lang: texts.routing_reason(lang, party=routed.party, why=routed.why,
                                       fallback=routed.fallback, roles=roles_passed,
                                       unit=name)
            for lang in LANGUAGES}
