"""Validation of definitions: the meta-schema first, then the meaning, every error at once.

Like python-jsonschema, each check is one function that yields problems; ``validate`` runs
them all and never stops at the first. A problem names the file (``source``), the JSON
pointer inside the definition, a stable ``code`` and a plain message.

Codes: ``invalid_json``, ``schema``, ``not_a_rule`` (a string or list where a rule
belongs), ``unknown_kind``, ``duplicate_id``, ``bad_rule`` (and
the rule compiler's ``unknown_operation``, ``bad_arity``, ``bad_arguments``),
``unknown_field``, ``weight_not_scorable``, ``unknown_reference``, ``calculation_cycle``,
``bad_choice``; for message templates ``unused_param`` and ``bad_labels``; issue routing
(``definitions/routing.py``): ``cannot_rectify``, ``cannot_verify``, ``routing_ignored``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema import ValidationError

from rounds.definitions.items import ItemRef, items_of
from rounds.definitions.loader import DefinitionDocument
from rounds.definitions.routing import check_issue_routing, check_issue_rules
from rounds.definitions.schemas import KINDS, validator
from rounds.errors import Problem, RuleError
from rounds.i18n import LANGUAGES
from rounds.pointer import join as pointer
from rounds.rules import compile_many
from rounds.rules.alerts import is_labels_param, item_labels, items_by_path, param_rule
from rounds.rules.analysis import reads

# Types whose answer has a score by default; any item with a `score` rule scores too.
SCORABLE_BY_DEFAULT = frozenset({"check", "yes_no", "scale", "single_choice"})
ITEM_RULES = ("visible_if", "required_if", "evidence_if", "fail_if", "score", "calculate")
CONTEXT_KEYS = frozenset({"now", "today", "site", "user", "visit"})
# ctx.visit: the check-in the form is filled at (runtime.visits.service.visit_context).
VISIT_KEYS = frozenset({"id", "method", "distance_m", "flagged", "checked_in_at", "date",
                        "time"})
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


# -- schema ---------------------------------------------------------------------------------

RULE_EXAMPLE = '{">": [{"var": "stock_days"}, 0]}'


def rule_message(value: Any, *, numbers: bool = False) -> str:
    """What is wrong with a value where a rule belongs, and what a rule looks like."""
    shown = json.dumps(value, ensure_ascii=False)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    what = "true / false, or a number" if numbers else "or true / false"
    why = " (a string is a constant, always true)" if isinstance(value, str) else ""
    return f"a rule is a JsonLogic object such as {RULE_EXAMPLE}, {what}; got {shown}{why}"


def _schema_message(error: ValidationError, document: Any) -> str:
    kind = error.schema.get("x-rounds-rule") if isinstance(error.schema, dict) else None
    if error.validator == "type" and kind is not None:
        return rule_message(error.instance, numbers=kind == "value")
    custom = error.schema.get("x-rounds-message") if isinstance(error.schema, dict) else None
    if custom and error.validator in ("pattern", "type", "maxLength"):
        return f"{custom}; got {json.dumps(error.instance, ensure_ascii=False)}"
    if error.validator == "not" and error.validator_value == {}:
        # An option that belongs to another item type: name it and the item's type.
        # (A choice's option names the type of the item whose choices it is.)
        key = error.absolute_path[-1] if error.absolute_path else "?"
        parents = [document]
        for part in list(error.absolute_path)[:-1]:
            parents.append(parents[-1][part])
        owner = next((p for p in reversed(parents) if isinstance(p, dict) and "type" in p), {})
        where = "items" if owner is parents[-1] else "the choices of items"
        return f"{key!r} is not an option of {where} of type {owner.get('type')!r}"
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
            schema = leaf.schema if isinstance(leaf.schema, dict) else {}
            code = ("not_a_rule" if "x-rounds-rule" in schema and leaf.validator == "type"
                    else str(schema.get("x-rounds-code") or "schema"))
            if (where, message) not in seen:  # the same fault can come by two paths
                seen.add((where, message))
                yield Problem(where, message, code, doc.source)


# -- standards and surveys -------------------------------------------------------------------

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


@dataclass(frozen=True)
class TemplateRef:
    template: dict[str, Any]
    pointer: str
    scope: ItemRef | None  # the item whose problem title it is (None: an alert's message)


def templates_of(definition: dict[str, Any], items: list[ItemRef]) -> list[TemplateRef]:
    out = [TemplateRef(ref.item["problem"], ref.pointer + "/problem", ref)
           for ref in items if isinstance(ref.item.get("problem"), dict)]
    for ai, alert in enumerate(definition.get("alerts") or []):
        if isinstance(alert.get("message"), dict):
            out.append(TemplateRef(alert["message"], pointer("alerts", ai, "message"), None))
    return out


def _param_rules(t: TemplateRef) -> Iterator[RuleRef]:
    params = t.template.get("params")
    for name, spec in (params.items() if isinstance(params, dict) else ()):
        rule, _, below = param_rule(spec)
        # Other types are constants (or reported by the schema); a labels param without a
        # value reads its item, which check_templates checks.
        if isinstance(rule, dict) and below != "/labels":
            yield RuleRef(rule, t.pointer + pointer("params", name) + below, t.scope,
                          t.scope is None)


def rules_of(definition: dict[str, Any], items: list[ItemRef]) -> list[RuleRef]:
    out = [RuleRef(ref.item[name], f"{ref.pointer}/{name}", ref)
           for ref in items for name in ITEM_RULES
           if name in ref.item and not isinstance(ref.item[name], bool)]
    for ai, alert in enumerate(definition.get("alerts") or []):
        if "when" in alert:
            out.append(RuleRef(alert["when"], pointer("alerts", ai, "when"), None, True))
    for t in templates_of(definition, items):
        out += _param_rules(t)
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
        if len(parts) > 2 and parts[1] == "visit" and parts[2] not in VISIT_KEYS:
            return (f"ctx.visit has no {parts[2]!r} (it has "
                    f"{', '.join(sorted(VISIT_KEYS))})")
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



def check_templates(doc: DefinitionDocument, items: list[ItemRef]) -> Iterator[Problem]:
    """Message templates: every placeholder names a param or a readable path, every param
    is used, and a labels param names an item whose answers have labels."""
    top = {ref.id: ref for ref in items if ref.group is None}
    paths = items_by_path(doc.content)
    for t in templates_of(doc.content, items):
        params = t.template.get("params")
        params = params if isinstance(params, dict) else {}
        used: set[str] = set()
        for lang in LANGUAGES:
            for m in _PLACEHOLDER.finditer(str(t.template.get(lang) or "")):
                name = m.group(1)
                used.add(name)
                if name in params:
                    continue
                wrong = _known_path(name, RuleRef(None, "", t.scope, t.scope is None), top)
                if wrong:
                    yield Problem(t.pointer + "/" + lang,
                                  f"placeholder {{{name}}}: {wrong}; name a param of this "
                                  "message or an item", "unknown_field", doc.source)
        for name, spec in params.items():
            at = t.pointer + pointer("params", name)
            if name not in used:
                yield Problem(at, f"param {name!r} is not used: put {{{name}}} in the zh and "
                              "en texts, or remove it", "unused_param", doc.source)
            if not is_labels_param(spec):
                continue
            if "value" in spec and not isinstance(spec["value"], dict | bool | int | float):
                yield Problem(at + "/value", rule_message(spec["value"], numbers=True),
                              "not_a_rule", doc.source)
            path = spec.get("labels")
            if not isinstance(path, str) or path not in paths:
                known = ", ".join(k for k, v in paths.items() if item_labels(v) is not None)
                yield Problem(at + "/labels", f"labels of {path!r}: there is no such item "
                              f"(items with labels: {known or 'none'})", "unknown_reference",
                              doc.source)
            elif item_labels(paths[path]) is None:
                yield Problem(at + "/labels",
                              f"item {path!r} is of type {paths[path].get('type')!r}, whose "
                              "answers have no labels (choices, yes_no, scale with labels do)",
                              "bad_labels", doc.source)


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
    yield from check_templates(doc, items)
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
