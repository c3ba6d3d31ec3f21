"""What the structured editor does on the server: the working copy it starts from, the
dry run of sample answers over a draft's content, the standard's test cases and the
publish that runs them first.

The dry run is the submission's own evaluation (the compiled form's ``validate``: the
same engines, the same ``ctx``) without storing anything; the issues it would raise are
told from the failed items and the standard's ``issues`` settings the way the issue
maker reads them (problem title, severity, due time, who rectifies and who accepts).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds import i18n
from rounds.cache import content_key
from rounds.errors import Conflict, InvalidInput, NotFound, Problem
from rounds.forms.compiled import compile_form
from rounds.forms.schema import FORM_KINDS
from rounds.rules.explain import explain_text
from rounds.rules.operations import default_registry
from rounds.runtime import audit
from rounds.runtime.access import Principal
from rounds.runtime.admin.models import DefinitionTestCase
from rounds.runtime.definitions import service as definitions
from rounds.runtime.definitions.models import DRAFT, Definition, DefinitionVersion
from rounds.runtime.forms import results
from rounds.runtime.issues.bulk import problem_titles
from rounds.runtime.issues.deadlines import due_in, due_json
from rounds.runtime.issues.routing import (
    ASSIGNEE,
    ASSIGNER,
    DEFAULT_ASSIGN_TO,
    DEFAULT_VERIFY_BY,
    Party,
    Where,
    roles,
    route,
)
from rounds.runtime.people.models import User
from rounds.runtime.sites.models import Site
from rounds.runtime.visits import service as visits

KINDS = ("standard", "survey", "site_kind", "role", "okr")


def bench_context(principal: Principal, tz: datetime.tzinfo) -> dict[str, Any]:
    """What the bench and the test cases evaluate rules in: the author's context, now."""
    return visits.rule_context(principal, now=datetime.datetime.now(datetime.UTC), tz=tz)


class PublishRefused(Conflict, code="publish_refused", title="Publish refused"):
    """The draft still has problems, or a test case no longer gives its expected result."""


# -- the working copy --------------------------------------------------------------------

def _t(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


def skeleton(kind: str, definition_id: str, site_kind: str | None = None,
             role: str | None = None) -> dict[str, Any]:
    """The smallest valid definition of ``kind`` (what "new" starts from)."""
    title = _t("新定义", "New definition")
    if kind in FORM_KINDS:
        out: dict[str, Any] = {
            "kind": kind, "id": definition_id,
            "title": _t("新标准", "New standard") if kind == "standard"
            else _t("新问卷", "New survey"),
            "sections": [{"id": "section_1", "title": _t("第一部分", "Part one"),
                          "items": [{"id": "item_1", "type": "yes_no",
                                     "title": _t("第一项", "First item"), "weight": 1}]}]}
        if kind == "standard":
            out["site_kinds"] = [site_kind or "retailer"]
        else:
            out["audience"] = "retailer"
        return out
    if kind == "site_kind":
        return {"kind": kind, "id": definition_id, "title": title, "attributes": [
            {"id": "name", "type": "text", "required": True, "title": _t("名称", "Name")}]}
    if kind == "role":
        return {"kind": kind, "id": definition_id, "title": title, "audience": "field_staff",
                "capabilities": ["visit.check_in", "submission.create"],
                "org_scope": "own_sites"}
    if kind == "okr":
        return {"kind": kind, "id": definition_id, "title": title, "period": "month",
                "applies_to": [role or "customer_manager"], "objectives": [{
                    "id": "objective_1", "title": _t("目标一", "Objective one"),
                    "key_results": [{"id": "kr_1", "title": _t("关键结果一", "Key result one"),
                                     "metric": "visits.done_ratio", "target": 1,
                                     "grade": {">=": [{"var": "value"}, {"var": "target"}]}}]}]}
    raise InvalidInput(f"no definition kind {kind!r}; kinds: {', '.join(KINDS)}",
                       [Problem("/kind", f"one of {', '.join(KINDS)}")])


async def first_id(db: AsyncSession, kind: str) -> str | None:
    """Some definition of ``kind`` (a new standard names a site kind that exists)."""
    found = await db.scalar(select(Definition.id).where(Definition.kind == kind)
                            .order_by(Definition.id).limit(1))
    return str(found) if found else None


@dataclass(frozen=True)
class Working:
    """What the editor opens: the latest version's content and what it is."""

    definition_id: str
    kind: str
    content: dict[str, Any]
    number: int
    status: str  # draft | published
    current: int | None  # the number of the version in force


async def working_copy(db: AsyncSession, definition_id: str) -> Working:
    """The latest version of a definition (its draft if it has one): what is edited."""
    definition = await db.get(Definition, definition_id)
    if definition is None:
        raise NotFound(f"no definition {definition_id!r}")
    latest = await db.scalar(select(DefinitionVersion)
                             .where(DefinitionVersion.definition_id == definition_id)
                             .order_by(DefinitionVersion.number.desc()).limit(1))
    if latest is None:
        raise NotFound(f"definition {definition_id!r} has no version")
    current = None
    if definition.current_version_id is not None:
        cv = await db.get(DefinitionVersion, definition.current_version_id)
        current = cv.number if cv else None
    return Working(definition_id=definition_id, kind=definition.kind,
                   content=dict(latest.content), number=latest.number, status=latest.status,
                   current=current)


def problems_of(content: Any) -> list[dict[str, Any]]:
    """The validator's problems of a working copy (schema and semantic, every one)."""
    return list(definitions.check(content).get("errors") or [])


# -- the dry run -------------------------------------------------------------------------

def _items(content: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}

    def walk(items: Any) -> None:
        for it in items or ():
            if isinstance(it, dict) and "id" in it:
                out[str(it["id"])] = it
                walk(it.get("items"))

    for section in content.get("sections") or ():
        if isinstance(section, dict):
            walk(section.get("items"))
    return out


def _party(party: Any) -> dict[str, Any] | None:
    if not isinstance(party, dict):
        return None
    return {"role": party.get("role"), "of": party.get("of")}


def party_text(party: Mapping[str, Any] | None, lang: str, *, verify: bool) -> str:
    """Who an issue would go to, in words ("the site's customer managers")."""
    say = i18n.text
    if party is None:
        return say("admin", lang, "editor_party_default_verify" if verify
                   else "editor_party_default_assign")
    of = str(party.get("of") or "site")
    role = party.get("role")
    return say("admin", lang, f"editor_party_{of}", role=role or "—")


def would_raise(content: Mapping[str, Any], evaluation: dict[str, Any], lang: str
                ) -> list[dict[str, Any]]:
    """The issues the failed items would become: title, severity, due, who rectifies and
    who accepts (as the standard and its items say; the persons are found per site)."""
    if content.get("kind") != "standard":
        return []
    settings = content.get("issues") if isinstance(content.get("issues"), dict) else {}
    assert isinstance(settings, dict)
    items = _items(content)
    titles = problem_titles(dict(content), evaluation)
    failed = [f for f in evaluation.get("failed") or [] if isinstance(f, dict)]
    if settings.get("per") == "submission":
        failed = failed[:1] if failed else []
    out: list[dict[str, Any]] = []
    for f in failed:
        item = items.get(str(f.get("item")), {})
        severity = str(f.get("severity") or settings.get("default_severity") or "medium")
        due, _why = due_in(settings.get("due_days"), severity, item.get("due"))
        assign = _party(item.get("assign_to") or settings.get("assign_to"))
        verify = _party(item.get("verify_by") or settings.get("verify_by"))
        title = titles.get(str(f.get("item")), {})
        if settings.get("per") == "submission":
            title = dict(content.get("title") or {})
        out.append({"item": f.get("item"), "title": i18n.pick(title, lang, str(f.get("item"))),
                    "severity": severity, "due": due_json(due),
                    "assign_to": assign, "assign_text": party_text(assign, lang, verify=False),
                    "verify_by": verify, "verify_text": party_text(verify, lang, verify=True)})
    return out


async def name_the_parties(db: AsyncSession, issues: list[dict[str, Any]], *, site: Site,
                           author: Principal) -> None:
    """At a sample ``site``: who each would-be issue goes to, by name, routed as a real
    submission's issues are (the author standing for the submitter; no issue is counted,
    so where several take turns the first is named). Adds ``assignee`` and ``assigner``
    (``{"user_id", "name"}``, or null when nobody would be found)."""
    where = Where(site_id=site.id, unit_id=site.org_unit_id, submitter_id=author.user_id,
                  submitter_role=author.role_id)
    known = await roles(db)
    routed = []
    for issue in issues:
        rule = Party.of_json(issue.get("assign_to"))
        assignee = await route(db, ASSIGNEE, rule, where, known=known,
                               rule_from="standard" if rule else "default",
                               default=DEFAULT_ASSIGN_TO)
        rule = Party.of_json(issue.get("verify_by"))
        assigner = await route(db, ASSIGNER, rule, where, known=known,
                               rule_from="standard" if rule else "default",
                               default=DEFAULT_VERIFY_BY, exclude=assignee.user_id)
        routed.append((issue, assignee.user_id, assigner.user_id))
    ids = {u for _, a, b in routed for u in (a, b) if u is not None}
    names = dict((await db.execute(select(User.id, User.display_name).where(
        User.id.in_(ids)))).all()) if ids else {}
    for issue, a, b in routed:
        issue["assignee"] = {"user_id": a, "name": names.get(a, "")} if a else None
        issue["assigner"] = {"user_id": b, "name": names.get(b, "")} if b else None


def dry_run(content: dict[str, Any], body: Mapping[str, Any], ctx: Mapping[str, Any],
            lang: str) -> dict[str, Any]:
    """Sample answers scored by the submission's evaluation over ``content`` (not stored).
    Invalid answers raise ``SubmissionInvalid`` (every problem, with its pointer)."""
    if content.get("kind") not in FORM_KINDS:
        raise InvalidInput("only a standard or a survey has answers to test",
                           [Problem("/content/kind", "standard or survey")])
    problems = definitions.check(content).get("errors") or []
    if problems:
        raise InvalidInput("the definition has problems; fix them to test answers",
                           [Problem("/content" + str(p.get("pointer", "")),
                                    str(p.get("message", ""))) for p in problems])
    form = compile_form(content, content_key(content))
    raw = json.dumps({"answers": body.get("answers") or {},
                      "evidence": body.get("evidence") or {}}, ensure_ascii=False)
    valid = form.validate(raw.encode(), ctx, lang)
    ev = valid.evaluation
    score = msgspec.to_builtins(ev.score)
    outcomes = msgspec.to_builtins(ev.outcomes)
    failed = msgspec.to_builtins(ev.failed)
    return {
        "valid": True, "definition_id": content.get("id"), "version": None,
        "score": score, "outcomes": outcomes,
        "shown": results.result_view(score, outcomes, failed, content, lang).as_builtins(),
        "explanation": explain_text(ev, lang), "failed": failed,
        "alerts": msgspec.to_builtins(ev.alerts),
        "issues": would_raise(content, {"failed": failed}, lang),
        "answers": ev.answers, "calculated": ev.calculated, "dropped": valid.dropped,
    }


# -- test cases ----------------------------------------------------------------------------

def expected_of(result: Mapping[str, Any]) -> dict[str, Any]:
    """What a test case keeps of a dry run: the total's value and the failed items."""
    score = result.get("score") or {}
    value = score.get("value") if isinstance(score, dict) else None
    failed = sorted({str(f.get("item")) for f in result.get("failed") or []
                     if isinstance(f, dict)})
    return {"score": value, "failed": failed}


def same(expected: Mapping[str, Any], got: Mapping[str, Any]) -> bool:
    a, b = expected.get("score"), got.get("score")
    if isinstance(a, int | float) and isinstance(b, int | float):
        equal = abs(float(a) - float(b)) < 1e-9
    else:
        equal = a == b
    return equal and sorted(expected.get("failed") or []) == sorted(got.get("failed") or [])


class CaseIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    body: dict[str, Any]
    expected: dict[str, Any]


async def cases(db: AsyncSession, definition_id: str) -> list[DefinitionTestCase]:
    return list(await db.scalars(select(DefinitionTestCase).where(
        DefinitionTestCase.definition_id == definition_id).order_by(DefinitionTestCase.name)))


def case_out(c: DefinitionTestCase) -> dict[str, Any]:
    return {"name": c.name, "body": c.body, "expected": c.expected,
            "updated_at": c.updated_at.isoformat() if c.updated_at else None}


def check_cases(given: Sequence[CaseIn]) -> None:
    """Every mistake of a list of test cases at once."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for n, c in enumerate(given):
        name = c.name.strip()
        if not name or len(name) > 120:
            problems.append(Problem(f"/{n}/name", "a name of 1 to 120 characters"))
        elif name in seen:
            problems.append(Problem(f"/{n}/name", f"a second test case named {name!r}"))
        seen.add(name)
        if not isinstance(c.body.get("answers", {}), dict):
            problems.append(Problem(f"/{n}/body/answers", "an object of answers"))
        if not isinstance(c.expected.get("failed", []), list):
            problems.append(Problem(f"/{n}/expected/failed", "a list of item ids"))
    if problems:
        raise InvalidInput("the test cases have mistakes", problems)


async def replace_cases(db: AsyncSession, definition_id: str, given: Sequence[CaseIn],
                        actor_id: int | None) -> list[DefinitionTestCase]:
    """The definition's test cases become ``given`` (recorded in the audit trail)."""
    if await db.get(Definition, definition_id) is None:
        raise NotFound(f"no definition {definition_id!r}; save its draft first")
    check_cases(given)
    before = {c.name: c for c in await cases(db, definition_id)}
    now = datetime.datetime.now(datetime.UTC)
    names = set()
    for c in given:
        name = c.name.strip()
        names.add(name)
        row = before.get(name)
        expected = {"score": c.expected.get("score"),
                    "failed": sorted(str(i) for i in c.expected.get("failed") or [])}
        if row is None:
            db.add(DefinitionTestCase(definition_id=definition_id, name=name, body=c.body,
                                      expected=expected, updated_by=actor_id, updated_at=now))
        elif row.body != c.body or row.expected != expected:
            row.body, row.expected, row.updated_by, row.updated_at = (
                c.body, expected, actor_id, now)
    for name, row in before.items():
        if name not in names:
            await db.delete(row)
    audit.record(db, actor_id=actor_id, action="definition.test_cases", target_kind="definition",
                 target_id=definition_id, changes={"test_cases": {
                     "from": sorted(before), "to": sorted(names)}})
    await db.flush()
    return await cases(db, definition_id)


def run_cases(content: dict[str, Any], found: Sequence[DefinitionTestCase],
              ctx: Mapping[str, Any], lang: str) -> list[dict[str, Any]]:
    """Each test case run over ``content``: passed, or what it gave instead."""
    out: list[dict[str, Any]] = []
    for c in found:
        try:
            got: dict[str, Any] = expected_of(dry_run(content, c.body, ctx, lang))
            error = None
        except InvalidInput as e:
            got, error = {}, "; ".join(f"{p.pointer}: {p.message}" for p in e.problems) or str(e)
        out.append({"name": c.name, "expected": c.expected, "got": got, "error": error,
                    "passed": error is None and same(c.expected, got)})
    return out


async def publish(db: AsyncSession, definition_id: str, number: int, *, ctx: Mapping[str, Any],
                  lang: str, actor_id: int | None
                  ) -> tuple[DefinitionVersion, list[dict[str, Any]]]:
    """Publish version ``number`` as every admin page does: refused (with every reason) when
    it has a problem of its own or against the definitions in force, or when a test case no
    longer gives its expected result; recorded in the audit trail by the definitions
    service, with the actor."""
    version = await definitions.get_version(db, definition_id, number)
    if version.status == DRAFT:
        problems = await definitions.publish_problems(db, version)
        if problems:
            raise PublishRefused(f"{definition_id} version {number} still has problems",
                                 problems)
    ran = run_cases(dict(version.content), await cases(db, definition_id), ctx, lang) \
        if version.content.get("kind") in FORM_KINDS and version.status == DRAFT else []
    failing = [r for r in ran if not r["passed"]]
    if failing:
        raise PublishRefused(
            "test cases no longer give their expected result: "
            + ", ".join(r["name"] for r in failing),
            [Problem(f"/test_cases/{r['name']}",
                     r["error"] or f"expected {r['expected']}, got {r['got']}",
                     "test_case_failed") for r in failing])
    published = await definitions.publish(db, definition_id, number, actor_id=actor_id)
    await db.flush()
    return published, ran


def operations() -> list[dict[str, Any]]:
    """The rule operations the rule builder offers: JsonLogic's comparisons, then the
    registered domain operations (name, arguments, the kind of value, words)."""
    say = i18n.text
    compare = [("==", 2, 2, "bool", "any"), ("!=", 2, 2, "bool", "any"),
               ("<", 2, 2, "bool", "num"), ("<=", 2, 2, "bool", "num"),
               (">", 2, 2, "bool", "num"), (">=", 2, 2, "bool", "num"),
               ("in", 2, 2, "bool", "list"), ("!", 1, 1, "bool", "any"),
               ("!!", 1, 1, "bool", "any")]
    words = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge",
             "in": "in", "!": "not", "!!": "truthy"}
    out = [{"name": n, "min_args": lo, "max_args": hi, "kind": kind, "args": args,
            "source": "jsonlogic",
            "label": {lang: say("admin", lang, f"editor_op_{words[n]}")
                      for lang in i18n.LANGUAGES}} for n, lo, hi, kind, args in compare]
    for name in sorted(default_registry.names()):
        op = default_registry.get(name)
        assert op is not None
        key = f"editor_op_{name}"
        out.append({"name": name, "min_args": op.min_args, "max_args": op.max_args,
                    "kind": op.kind, "args": "any", "source": "domain",
                    "description": op.description,
                    "label": {lang: say("admin", lang, key) if key in i18n.table("admin", lang)
                              else op.description for lang in i18n.LANGUAGES}})
    return out
