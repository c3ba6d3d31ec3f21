"""Validation of definitions: the meta-schema first, then the meaning, every error at once.

Like python-jsonschema, each check is one function that yields problems; ``validate`` runs
them all and never stops at the first. A problem names the file (``source``), the JSON
pointer inside the definition, a stable ``code`` and a plain message.

Codes: ``invalid_json``, ``schema``, ``unknown_kind``, ``duplicate_id``, ``bad_rule`` (and
the rule compiler's ``unknown_operation``, ``bad_arity``, ``bad_arguments``),
``unknown_field``, ``weight_not_scorable``, ``unknown_reference``, ``calculation_cycle``,
``bad_choice``; issue routing (``definitions/routing.py``): ``cannot_rectify``,
``cannot_verify``, ``routing_ignored``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema import ValidationError

from rounds.definitions.loader import DefinitionDocument
from rounds.definitions.schemas import KINDS, validator
from rounds.errors import Problem, RuleError
from rounds.rules import compile_many
from rounds.rules.analysis import reads

# Types whose answer has a score by default; any item with a `score` rule scores too.
SCORABLE_BY_DEFAULT = frozenset({"check", "yes_no", "scale", "single_choice"})
ITEM_RULES = ("visible_if", "required_if", "evidence_if", "fail_if", "score", "calculate")
CONTEXT_KEYS = frozenset({"now", "today", "site", "user", "visit"})
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def pointer(*parts: str | int) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


# -- schema ---------------------------------------------------------------------------------

def _schema_message(error: ValidationError, document: Any) -> str:
    if error.validator == "not" and error.validator_value == {}:
        # An option that belongs to another item type: name it and the item's type.
        key = error.absolute_path[-1] if error.absolute_path else "?"
        parent = document
        for part in list(error.absolute_path)[:-1]:
            parent = parent[part]
        item_type = parent.get("type") if isinstance(parent, dict) else None
        return f"{key!r} is not an option of items of type {item_type!r}"
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"{missing!r} is required here"
    if error.validator == "additionalProperties":
        return str(error.message).replace("Additional properties are not allowed",
                                          "unknown field").replace(" was unexpected", "")
    return str(error.message)


def _leaf_errors(error: ValidationError) -> Iterator[ValidationError]:
    """allOf/if-then wrap the real errors; report those, each at its own place."""
    if error.context and error.validator in ("allOf", "anyOf", "oneOf", "$ref"):
        for sub in error.context:
            yield from _leaf_errors(sub)
    else:
        yield error


def check_schema(doc: DefinitionDocument) -> Iterator[Problem]:
    content = doc.content
    if not isinstance(content, dict):
        yield Problem("", "a definition is a JSON object", "schema", doc.source)
        return
    kind = content.get("kind")
    if kind not in KINDS:
        yield Problem("/kind", f"kind must be one of {', '.join(KINDS)}; got {kind!r}",
                      "unknown_kind", doc.source)
        return
    seen: set[tuple[str, str]] = set()
    for error in validator(kind).iter_errors(content):
        for leaf in _leaf_errors(error):
            where = pointer(*leaf.absolute_path)
            message = _schema_message(leaf, content)
            if (where, message) not in seen:  # the same fault can come by two paths
                seen.add((where, message))
                yield Problem(where, message, "schema", doc.source)


# -- standards and surveys -------------------------------------------------------------------

@dataclass(frozen=True)
class ItemRef:
    item: dict[str, Any]
    pointer: str
    section: str
    group: ItemRef | None = None  # the group item this item is an entry field of

    @property
    def id(self) -> str:
        return str(self.item.get("id"))


def items_of(definition: dict[str, Any]) -> list[ItemRef]:
    """Every item of a standard or survey, group entry fields included, with its pointer."""
    out: list[ItemRef] = []
    for si, section in enumerate(definition.get("sections") or []):
        sid = str(section.get("id"))
        for ii, item in enumerate(section.get("items") or []):
            ref = ItemRef(item, pointer("sections", si, "items", ii), sid)
            out.append(ref)
            entries = item.get("items") or [] if item.get("type") == "group" else []
            for gi, sub in enumerate(entries):
                out.append(ItemRef(sub, ref.pointer + pointer("items", gi), sid, ref))
    return out


def check_form_ids(doc: DefinitionDocument, items: list[ItemRef]) -> Iterator[Problem]:
    sections: dict[str, int] = {}
    for si, section in enumerate(doc.content.get("sections") or []):
        sid = section.get("id")
        if sid in sections:
            yield Problem(pointer("sections", si, "id"),
                          f"section id {sid!r} is used twice (first at /sections/{sections[sid]})",
                          "duplicate_id", doc.source)
        sections.setdefault(sid, si)
    first: dict[tuple[str | None, str], str] = {}
    for ref in items:
        key = (ref.group.id if ref.group else None, ref.id)
        if key in first:
            yield Problem(ref.pointer + "/id",
                          f"item id {ref.id!r} is used twice (first at {first[key]})",
                          "duplicate_id", doc.source)
        else:
            first[key] = ref.pointer


def check_scoring_fields(doc: DefinitionDocument, items: list[ItemRef]) -> Iterator[Problem]:
    for ref in items:
        item = ref.item
        weight = item.get("weight")
        if weight:
            scorable = item.get("type") in SCORABLE_BY_DEFAULT or "score" in item
            if ref.group is not None:
                yield Problem(ref.pointer + "/weight",
                              "items inside a group do not score; remove the weight",
                              "weight_not_scorable", doc.source)
            elif not scorable:
                yield Problem(ref.pointer + "/weight",
                              f"an item of type {item.get('type')!r} cannot score without a "
                              "`score` rule; remove the weight or add a score rule",
                              "weight_not_scorable", doc.source)


def check_choices_and_bounds(doc: DefinitionDocument, items: list[ItemRef]) -> Iterator[Problem]:
    for ref in items:
        item = ref.item
        seen: dict[Any, int] = {}
        for ci, choice in enumerate(item.get("choices") or []):
            value = choice.get("value") if isinstance(choice, dict) else None
            if value in seen:
                yield Problem(ref.pointer + pointer("choices", ci, "value"),
                              f"choice value {value!r} is used twice", "bad_choice", doc.source)
            seen.setdefault(value, ci)
        for lo, hi in (("min", "max"), ("min_count", "max_count"), ("min_length", "max_length")):
            a, b = item.get(lo), item.get(hi)
            if a is not None and b is not None and type(a) is type(b) and a > b:
                yield Problem(ref.pointer + "/" + lo, f"{lo} ({a}) is above {hi} ({b})",
                              "bad_choice", doc.source)


@dataclass(frozen=True)
class RuleRef:
    rule: Any
    pointer: str  # of the rule inside the definition
    scope: ItemRef | None  # the item the rule belongs to (None: an alert)
    in_alert: bool = False


def rules_of(definition: dict[str, Any], items: list[ItemRef]) -> list[RuleRef]:
    out = [RuleRef(ref.item[name], f"{ref.pointer}/{name}", ref)
           for ref in items for name in ITEM_RULES
           if name in ref.item and not isinstance(ref.item[name], bool)]
    for ai, alert in enumerate(definition.get("alerts") or []):
        if "when" in alert:
            out.append(RuleRef(alert["when"], pointer("alerts", ai, "when"), None, True))
    return out


def check_rules(doc: DefinitionDocument, rules: list[RuleRef]) -> Iterator[Problem]:
    try:
        compile_many({r.pointer: r.rule for r in rules})
    except RuleError as exc:
        for p in exc.problems:
            yield Problem((p.source or "") + p.pointer, p.message, p.code, doc.source)


def _known_path(path: str, rule: RuleRef, top: dict[str, ItemRef]) -> str | None:
    """None when the path names something a rule may read; else what is wrong with it."""
    parts = path.split(".")
    head = parts[0]
    if head == "ctx":
        if len(parts) > 1 and parts[1] not in CONTEXT_KEYS:
            return f"ctx has no {parts[1]!r} (it has {', '.join(sorted(CONTEXT_KEYS))})"
        return None
    if head in ("score", "failed"):
        return None if rule.in_alert else f"{head!r} can only be read in alerts"
    group = rule.scope.group if rule.scope is not None else None
    if group is not None and head in {str(s.get("id")) for s in group.item.get("items") or []}:
        return None  # an entry field of the same group entry
    if head not in top:
        return f"reads {path!r}, but there is no item {head!r}"
    target = top[head].item
    if target.get("type") == "group" and len(parts) > 2 and parts[1] == "*":
        fields = {str(s.get("id")) for s in target.get("items") or []}
        if parts[2] not in fields:
            return f"reads {path!r}, but group {head!r} has no item {parts[2]!r}"
    return None


def check_reads(doc: DefinitionDocument, items: list[ItemRef], rules: list[RuleRef]
                ) -> Iterator[Problem]:
    top = {ref.id: ref for ref in items if ref.group is None}
    for rule in rules:
        try:
            found = reads(rule.rule)
        except Exception:  # a rule that does not compile is reported by check_rules
            continue
        for read in found:
            if read.dynamic or read.path.startswith("?") or not read.path:
                continue
            wrong = _known_path(read.path, rule, top)
            if wrong:
                yield Problem(rule.pointer + read.pointer, wrong, "unknown_field", doc.source)
    for ai, alert in enumerate(doc.content.get("alerts") or []):
        for ii, item_id in enumerate(alert.get("items") or []):
            if item_id not in top:
                yield Problem(pointer("alerts", ai, "items", ii),
                              f"no item {item_id!r} in this definition", "unknown_reference",
                              doc.source)
        for lang, text in (alert.get("message") or {}).items():
            for m in _PLACEHOLDER.finditer(str(text)):
                placeholder = RuleRef(None, "", None, True)
                wrong = _known_path(m.group(1), placeholder, top)
                if wrong:
                    yield Problem(pointer("alerts", ai, "message", lang),
                                  f"placeholder {{{m.group(1)}}}: {wrong}", "unknown_field",
                                  doc.source)


def check_calculation_cycles(doc: DefinitionDocument, items: list[ItemRef]) -> Iterator[Problem]:
    calculated = {ref.id: ref for ref in items if "calculate" in ref.item and ref.group is None}
    graph: dict[str, set[str]] = {}
    for cid, ref in calculated.items():
        try:
            paths = reads(ref.item["calculate"])
        except Exception:
            continue
        graph[cid] = {r.path.split(".")[0] for r in paths if not r.dynamic} & set(calculated)
    reported: set[frozenset[str]] = set()
    for start in graph:
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        while stack:
            node, trail = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    cycle = frozenset(trail)
                    if cycle not in reported:
                        reported.add(cycle)
                        loop = " → ".join([*trail, start])
                        yield Problem(calculated[start].pointer + "/calculate",
                                      f"calculated values depend on each other in a cycle: {loop}",
                                      "calculation_cycle", doc.source)
                elif nxt not in trail:
                    stack.append((nxt, [*trail, nxt]))


def check_form(doc: DefinitionDocument) -> Iterator[Problem]:
    items = items_of(doc.content)
    rules = rules_of(doc.content, items)
    yield from check_form_ids(doc, items)
    yield from check_scoring_fields(doc, items)
    yield from check_choices_and_bounds(doc, items)
    yield from check_rules(doc, rules)
    yield from check_reads(doc, items, rules)
    yield from check_calculation_cycles(doc, items)


def check_okr(doc: DefinitionDocument) -> Iterator[Problem]:
    seen: set[str] = set()
    for oi, objective in enumerate(doc.content.get("objectives") or []):
        for ki, kr in enumerate(objective.get("key_results") or []):
            at = pointer("objectives", oi, "key_results", ki)
            if kr.get("id") in seen:
                yield Problem(at + "/id", f"key result id {kr.get('id')!r} is used twice",
                              "duplicate_id", doc.source)
            seen.add(kr.get("id"))
            if "grade" not in kr:
                continue
            try:
                compile_many({at + "/grade": kr["grade"]})
            except RuleError as exc:
                for p in exc.problems:
                    yield Problem((p.source or "") + p.pointer, p.message, p.code, doc.source)
                continue
            for read in reads(kr["grade"]):
                head = read.path.split(".")[0]
                if not read.dynamic and head not in ("value", "target", "ctx", ""):
                    yield Problem(at + "/grade" + read.pointer,
                                  f"a grade reads value, target or ctx, not {read.path!r}",
                                  "unknown_field", doc.source)


# -- across definitions ----------------------------------------------------------------------

_REFERENCES: dict[str, list[tuple[str, str]]] = {
    # kind: [(field holding a list of ids, kind they must name)]
    "role": [("standards", "standard"), ("surveys", "survey"), ("site_kinds", "site_kind")],
    "standard": [("site_kinds", "site_kind")],
    "okr": [("applies_to", "role")],
}


def check_references(docs: list[DefinitionDocument]) -> Iterator[Problem]:
    kinds: dict[str, str] = {}
    first: dict[str, str] = {}
    for doc in docs:
        if doc.id is None or doc.kind is None:
            continue
        if doc.id in first:
            yield Problem("/id", f"id {doc.id!r} is already used by {first[doc.id]}",
                          "duplicate_id", doc.source)
            continue
        first[doc.id] = doc.source
        kinds[doc.id] = doc.kind
    for doc in docs:
        for field_name, target in _REFERENCES.get(doc.kind or "", []):
            for i, ref in enumerate(doc.content.get(field_name) or []):
                if kinds.get(ref) != target:
                    what = f"a {kinds[ref]}" if ref in kinds else "not defined"
                    yield Problem(pointer(field_name, i),
                                  f"{ref!r} should name a {target}; it is {what}",
                                  "unknown_reference", doc.source)
        if doc.kind == "role":
            for i, vt in enumerate(doc.content.get("visit_targets") or []):
                ref = vt.get("site_kind")
                if kinds.get(ref) != "site_kind":
                    yield Problem(pointer("visit_targets", i, "site_kind"),
                                  f"{ref!r} should name a site_kind; it is not defined",
                                  "unknown_reference", doc.source)


def _guarded(found: Iterator[Problem]) -> list[Problem]:
    out: list[Problem] = []
    try:
        for p in found:
            out.append(p)
    except (AttributeError, TypeError, KeyError, IndexError, ValueError):
        pass  # malformed beyond this point; the meta-schema's errors say where
    return out


def validate(docs: Iterable[DefinitionDocument], *, references: bool = True) -> list[Problem]:
    """Every problem in the documents: schema, meaning, and references between them.

    Meaning is checked even where the schema failed, so that one run shows everything; a
    check that trips over a malformed part stops there quietly (the schema error already
    names it). References are checked across all documents given, so validate a whole
    folder to check them (``references=False`` for a single document).
    """
    # routing.py builds on this module's items_of: imported here, not at the top.
    from rounds.definitions.routing import check_issue_routing, check_issue_rules

    docs = list(docs)
    problems: list[Problem] = []
    for doc in docs:
        problems += check_schema(doc)
        if not isinstance(doc.content, dict):
            continue
        check = {"standard": check_form, "survey": check_form, "okr": check_okr}.get(
            doc.kind or "")
        if check is not None:
            problems += _guarded(check(doc))
        if doc.kind in ("standard", "survey"):
            problems += _guarded(check_issue_rules(doc))
    if references:
        problems += check_references(docs)
        problems += _guarded(check_issue_routing(docs))
    return problems
