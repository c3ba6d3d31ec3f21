"""Validation of definitions: the meta-schema first, then the meaning, every error at once.

Like python-jsonschema, each check is one function that yields problems; ``validate`` runs
them all and never stops at the first. A problem names the file (``source``), the JSON
pointer inside the definition, a stable ``code`` and a plain message.

Codes: ``invalid_json``, ``schema``, ``not_a_rule`` (a string or list where a rule
belongs), ``unknown_kind``, ``duplicate_id``, ``bad_rule`` (and
the rule compiler's ``unknown_operation``, ``bad_arity``, ``bad_arguments``),
``unknown_field``, ``weight_not_scorable``, ``unknown_reference``, ``calculation_cycle``,
``bad_choice``; for message templates ``unused_param`` and ``bad_labels``; for scoring models
(docs/scoring.md) ``points_not_scorable``, ``weight_twice``, ``bad_scoring``,
``score_cycle``, and for outcomes ``overlapping_bands``, ``bad_band``,
``unreachable_level``; whatever else ``rules.standards.compile_standard`` refuses
(``visibility_cycle``), so that a definition that validates compiles; issue routing
(``definitions/routing.py``): ``cannot_rectify``, ``cannot_verify``, ``routing_ignored``; for
OKRs ``unknown_metric`` (not in ``definitions/metrics.py``), ``definition_required`` and
``definition_forbidden`` (what the metric says of a key result's ``definition``),
``parameter_required`` and ``parameter_forbidden`` (its ``item`` or ``level``) and
``unknown_grade`` (a grade rule's result that is no grade id nor a score 0..1).
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema import ValidationError

from rounds.definitions import capabilities
from rounds.definitions.items import ItemRef, items_by_id, items_of
from rounds.definitions.loader import DefinitionDocument
from rounds.definitions.metrics import CATALOGUE
from rounds.definitions.routing import check_issue_routing, check_issue_rules
from rounds.definitions.schemas import KINDS, validator
from rounds.errors import Problem, RuleError
from rounds.i18n import LANGUAGES
from rounds.pointer import join as pointer
from rounds.rules import compile_many
from rounds.rules.alerts import is_labels_param, item_labels, items_by_path, param_rule
from rounds.rules.analysis import reads
from rounds.rules.scoring import NUMERIC_VALUE, item_scoring
from rounds.rules.standards import compile_standard

# Types whose answer has a score by default; any item with a `score` rule scores too.
SCORABLE_BY_DEFAULT = frozenset({"check", "yes_no", "scale", "single_choice"})
ITEM_RULES = ("visible_if", "required_if", "evidence_if", "fail_if", "score", "calculate")
# Who may read what (docs/definitions.md, "What rules see"). A rule's reader is its field
# (an item's rule fields), or "problem" (an item's problem params), "outcome" (an outcome
# level's when and message), "check" (a check's when and message) or "alert".
SCORE_READERS = frozenset({"calculate", "fail_if", "problem", "outcome", "alert"})
FAILED_READERS = frozenset({"outcome", "alert"})
SCORE_FIELDS = ("value", "total", "points", "max", "percentage", "answered", "section_max",
                "section_min", "sections")
SECTION_SCORE_FIELDS = ("value", "points", "max", "percentage", "answered")
# Why a rule cannot read the score (score_cycle): the score is worked out after it.
_BEFORE_SCORE = {
    "visible_if": ("visible_if", "what is shown decides the score"),
    "required_if": ("required_if", "what is required decides the score"),
    "evidence_if": ("evidence_if", "evidence is checked with the answers, before scoring"),
    "score": ("a score rule", "the score is made of what score rules give"),
    "check": ("a check", "checks are checked with the answers, before scoring"),
}
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


def _absolute(item: dict[str, Any]) -> bool:
    """Whether the item scores absolute points (no weight): ``points: "value"`` or choices
    with ``points``."""
    return item.get("points") == "value" or any(
        isinstance(c, dict) and "points" in c for c in item.get("choices") or [])


def check_scoring_fields(doc: DefinitionDocument, items: list[ItemRef]) -> Iterator[Problem]:
    """Weights and scoring options on items that cannot use them (the meta-schema already
    refuses them by type), and an item scored two ways."""
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
        if ref.group is not None:
            yield from _entry_scoring(doc, ref)
        elif _absolute(item):
            yield from _scored_twice(doc, ref)
        elif item.get("reverse") is True and item.get("type") == "single_choice" and (
                "score" not in item and not any(
                    isinstance(c, dict) and "score" in c for c in item.get("choices") or [])):
            yield Problem(ref.pointer + "/reverse",
                          "this item does not score (no choice has a `score` or `points`, no "
                          "`points: \"value\"`, no score rule): there is nothing to reverse",
                          "points_not_scorable", doc.source)


def _entry_scoring(doc: DefinitionDocument, ref: ItemRef) -> Iterator[Problem]:
    # Items inside a group neither score nor fail by default, so these options do nothing.
    for key in ("good", "reverse", "points"):
        if key in ref.item:
            yield Problem(ref.pointer + "/" + key,
                          f"items inside a group do not score or fail by default; remove "
                          f"{key!r}", "points_not_scorable", doc.source)
    for ci, choice in enumerate(ref.item.get("choices") or []):
        if isinstance(choice, dict) and "points" in choice:
            yield Problem(ref.pointer + pointer("choices", ci, "points"),
                          "items inside a group do not score; remove the choice's points",
                          "points_not_scorable", doc.source)


def _scored_twice(doc: DefinitionDocument, ref: ItemRef) -> Iterator[Problem]:
    """An item with absolute points: no weight, no score rule, one way per choice."""
    item = ref.item
    how = ("`points: \"value\"`" if item.get("points") == "value"
           else "its choices' `points`")
    if "weight" in item:
        yield Problem(ref.pointer + "/weight",
                      f"this item scores absolute points ({how}), which are its maximum: "
                      "remove the weight", "weight_twice", doc.source)
    if item.get("score") is not None:
        yield Problem(ref.pointer + "/score",
                      f"this item scores absolute points ({how}): a score rule (a fraction "
                      "of a weight) would score it twice; remove one", "weight_twice",
                      doc.source)
    choices = [(ci, c) for ci, c in enumerate(item.get("choices") or []) if isinstance(c, dict)]
    if item.get("points") == "value":
        # A choice's number is its points; only `points: null` ("don't know") may say other.
        for ci, c in choices:
            for key in ("points", "score"):
                if key in c and not (key == "points" and c[key] is None):
                    yield Problem(ref.pointer + pointer("choices", ci, key),
                                  f"with `points: \"value\"` a choice's number is its points: "
                                  f"remove the choice's {key!r} (`\"points\": null` marks a "
                                  "choice that scores nothing)", "weight_twice", doc.source)
        return
    fraction = next((ci for ci, c in choices if "score" in c), None)
    if fraction is not None:
        ci = next(ci for ci, c in choices if "points" in c)
        yield Problem(ref.pointer + pointer("choices", ci, "points"),
                      f"choices of one item score either as a fraction of the weight "
                      f"(`score`, as /choices/{fraction}) or as absolute `points`, not both",
                      "weight_twice", doc.source)


def check_choices_and_bounds(doc: DefinitionDocument, items: list[ItemRef]) -> Iterator[Problem]:
    for ref in items:
        item = ref.item
        seen: dict[Any, int] = {}
        numbers: dict[float, int] = {}
        by_value = item.get("points") == "value" and item.get("type") == "single_choice"
        for ci, choice in enumerate(item.get("choices") or []):
            value = choice.get("value") if isinstance(choice, dict) else None
            if value in seen:
                yield Problem(ref.pointer + pointer("choices", ci, "value"),
                              f"choice value {value!r} is used twice", "bad_choice", doc.source)
            seen.setdefault(value, ci)
            if not by_value or seen[value] != ci:  # a duplicate is reported above
                continue
            if not isinstance(value, str) or not NUMERIC_VALUE.fullmatch(value):
                if isinstance(choice, dict) and "points" in choice and choice["points"] is None:
                    continue  # a choice that scores nothing ("don't know") needs no number
                yield Problem(ref.pointer + pointer("choices", ci, "value"),
                              f"with `points: \"value\"` every choice value is a number (\"0\", "
                              f"\"1.5\"): {value!r} is not; give it `\"points\": null` if it "
                              "scores nothing, or give every choice its `points` instead",
                              "bad_choice", doc.source)
            elif float(value) in numbers:
                yield Problem(ref.pointer + pointer("choices", ci, "value"),
                              f"choice value {value!r} is the same number as /choices/"
                              f"{numbers[float(value)]}: an answer {float(value):g} would be "
                              "either", "bad_choice", doc.source)
            else:
                numbers[float(value)] = ci
        for lo, hi in (("min", "max"), ("min_count", "max_count"), ("min_length", "max_length")):
            a, b = item.get(lo), item.get(hi)
            if a is not None and b is not None and type(a) is type(b) and a > b:
                yield Problem(ref.pointer + "/" + lo, f"{lo} ({a}) is above {hi} ({b})",
                              "bad_choice", doc.source)


def _model(scoring: Any) -> str:
    return str(scoring.get("model") or "percentage") if isinstance(scoring, dict) else "percentage"


def check_scoring(doc: DefinitionDocument) -> Iterator[Problem]:
    """The definition's scoring: pass_percentage only where there is a percentage, and no
    band on a total that is turned off."""
    content = doc.content
    scoring = content.get("scoring")
    model = _model(scoring)
    if "pass_percentage" in content and model != "percentage":
        yield Problem("/pass_percentage",
                      f"pass_percentage needs the percentage model; this definition scores "
                      f"by {model}: use an outcome whose levels say `passed`", "bad_scoring",
                      doc.source)
    if isinstance(scoring, dict) and scoring.get("total") is False:
        for oi, outcome in enumerate(content.get("outcomes") or []):
            if outcome.get("of", "total") != "total":
                continue
            for li, level in enumerate(outcome.get("levels") or []):
                if "min" in level or "max" in level:
                    yield Problem(pointer("outcomes", oi, "levels", li),
                                  "a band on the total, but the definition has no total "
                                  "(scoring.total is false): band a section (`of`) or use "
                                  "`when`", "bad_scoring", doc.source)


@dataclass(frozen=True)
class Names:
    """What the rules of one standard or survey may name."""

    top: dict[str, ItemRef]  # top-level items by id
    sections: tuple[str, ...]
    outcomes: dict[str, tuple[str, ...]]  # outcome id → its level ids
    score_calcs: dict[str, list[str]]  # item settled after scoring → how it reads the score


def names_of(content: dict[str, Any], items: list[ItemRef]) -> Names:
    top = {ref.id: ref for ref in items if ref.group is None}
    outcomes: dict[str, tuple[str, ...]] = {}
    for o in content.get("outcomes") or []:
        levels = tuple(str(lv.get("id")) for lv in o.get("levels") or [] if isinstance(lv, dict))
        outcomes.setdefault(str(o.get("id")), levels)  # a second one is a duplicate_id
    return Names(top=top, sections=tuple(str(s.get("id")) for s in content.get("sections") or []),
                 outcomes=outcomes, score_calcs=_score_chains(top))


def _score_chains(top: dict[str, ItemRef]) -> dict[str, list[str]]:
    """The top-level items settled after scoring: a calculated value that reads the score,
    directly or through other such items, or a group whose entries' calculated values do
    (as ``rules.standards`` orders them). Each with the reads that get there (``risk`` →
    ``["points_lost", "score.points"]``)."""
    read: dict[str, list[str]] = {}
    for cid, ref in top.items():
        subs = [s for s in ref.item.get("items") or [] if isinstance(s, dict)
                ] if ref.item.get("type") == "group" else []
        inner = {str(s.get("id")) for s in subs}  # an entry's own fields are not the outside
        paths: list[str] = []
        for rule in [ref.item.get("calculate"), *(s.get("calculate") for s in subs)]:
            if rule is None:
                continue
            try:
                found = reads(rule)
            except Exception:  # a rule that does not compile is reported by check_rules
                continue
            paths += [r.path for r in found if r.path and not r.dynamic and not r.unknown
                      and r.root not in inner]
        if paths:
            read[cid] = paths

    def chain(cid: str, trail: frozenset[str]) -> list[str] | None:
        for path in read[cid]:
            if path.split(".")[0] == "score":
                return [path]
        for path in read[cid]:
            root = path.split(".")[0]
            if root in read and root not in trail:  # a cycle is calculation_cycle's
                below = chain(root, trail | {root})
                if below is not None:
                    return [root, *below]
        return None

    out: dict[str, list[str]] = {}
    for cid in read:
        found_chain = chain(cid, frozenset({cid}))
        if found_chain is not None:
            out[cid] = found_chain
    return out


@dataclass(frozen=True)
class RuleRef:
    rule: Any
    pointer: str  # of the rule inside the definition
    scope: ItemRef | None  # the item the rule belongs to (None: an alert, outcome or check)
    reader: str  # what reads: an item's rule field, "problem", "outcome", "check" or "alert"

    @property
    def reads_score(self) -> bool:
        """Whether the rule runs after scoring (and so may read ``score``)."""
        return self.reader in SCORE_READERS


@dataclass(frozen=True)
class TemplateRef:
    template: dict[str, Any]
    pointer: str
    scope: ItemRef | None  # the item whose problem title it is (None: not an item's)
    reader: str  # "problem", "outcome", "check" or "alert"


def templates_of(definition: dict[str, Any], items: list[ItemRef]) -> list[TemplateRef]:
    out = [TemplateRef(ref.item["problem"], ref.pointer + "/problem", ref, "problem")
           for ref in items if isinstance(ref.item.get("problem"), dict)]
    for oi, outcome in enumerate(definition.get("outcomes") or []):
        for li, level in enumerate(outcome.get("levels") or []):
            if isinstance(level.get("message"), dict):
                out.append(TemplateRef(level["message"],
                                       pointer("outcomes", oi, "levels", li, "message"), None,
                                       "outcome"))
    for ci, check in enumerate(definition.get("checks") or []):
        if isinstance(check.get("message"), dict):
            out.append(TemplateRef(check["message"], pointer("checks", ci, "message"), None,
                                   "check"))
    for ai, alert in enumerate(definition.get("alerts") or []):
        if isinstance(alert.get("message"), dict):
            out.append(TemplateRef(alert["message"], pointer("alerts", ai, "message"), None,
                                   "alert"))
    return out


def _param_rules(t: TemplateRef) -> Iterator[RuleRef]:
    params = t.template.get("params")
    for name, spec in (params.items() if isinstance(params, dict) else ()):
        rule, _, below = param_rule(spec)
        # Other types are constants (or reported by the schema); a labels param without a
        # value reads its item, which check_templates checks.
        if isinstance(rule, dict) and below != "/labels":
            yield RuleRef(rule, t.pointer + pointer("params", name) + below, t.scope, t.reader)


def _when(rule: Any) -> bool:
    # null and true/false are no rule to compile or check (the schema checks the type)
    return rule is not None and not isinstance(rule, bool)


def rules_of(definition: dict[str, Any], items: list[ItemRef]) -> list[RuleRef]:
    out = [RuleRef(ref.item[name], f"{ref.pointer}/{name}", ref, name)
           for ref in items for name in ITEM_RULES
           if name in ref.item and not isinstance(ref.item[name], bool)]
    for oi, outcome in enumerate(definition.get("outcomes") or []):
        for li, level in enumerate(outcome.get("levels") or []):
            if _when(level.get("when")):
                out.append(RuleRef(level["when"], pointer("outcomes", oi, "levels", li, "when"),
                                   None, "outcome"))
    for ci, check in enumerate(definition.get("checks") or []):
        if _when(check.get("when")):
            out.append(RuleRef(check["when"], pointer("checks", ci, "when"), None, "check"))
    for ai, alert in enumerate(definition.get("alerts") or []):
        if "when" in alert:
            out.append(RuleRef(alert["when"], pointer("alerts", ai, "when"), None, "alert"))
    for t in templates_of(definition, items):
        out += _param_rules(t)
    return out


def check_rules(doc: DefinitionDocument, rules: list[RuleRef]) -> Iterator[Problem]:
    try:
        compile_many({r.pointer: r.rule for r in rules})
    except RuleError as exc:
        for p in exc.problems:
            yield Problem((p.source or "") + p.pointer, p.message, p.code, doc.source)


def _known_path(path: str, rule: RuleRef, names: Names) -> tuple[str, str] | None:
    """None when the path names something the rule may read; else (code, what is wrong)."""
    parts = path.split(".")
    head = parts[0]
    if head == "ctx":
        if len(parts) > 1 and parts[1] not in CONTEXT_KEYS:
            return "unknown_field", (f"ctx has no {parts[1]!r} (it has "
                                     f"{', '.join(sorted(CONTEXT_KEYS))})")
        if len(parts) > 2 and parts[1] == "visit" and parts[2] not in VISIT_KEYS:
            return "unknown_field", (f"ctx.visit has no {parts[2]!r} (it has "
                                     f"{', '.join(sorted(VISIT_KEYS))})")
        return None
    if head == "score":
        if not rule.reads_score:
            what, why = _BEFORE_SCORE.get(rule.reader, (rule.reader, "it runs before scoring"))
            return "score_cycle", (f"{what} cannot read the score: {why} (calculated values, "
                                   "fail_if, outcomes and alerts can)")
        return _score_field(parts[1:], rule, names)
    if head == "failed":
        if rule.reader not in FAILED_READERS:
            return "unknown_field", ("'failed' (the failed items) can only be read in outcomes "
                                     "and alerts")
        return None
    if head == "outcome":
        return _outcome_field(parts[1:], rule, names)
    group = rule.scope.group if rule.scope is not None else None
    if group is not None and head in {str(s.get("id")) for s in group.item.get("items") or []}:
        return None  # an entry field of the same group entry
    if head not in names.top:
        return "unknown_field", f"reads {path!r}, but there is no item {head!r}"
    chain = names.score_calcs.get(head)
    if chain is not None and not rule.reads_score:
        what, why = _BEFORE_SCORE.get(rule.reader, (rule.reader, "it runs before scoring"))
        return "score_cycle", (f"{what} reads {head!r}, which is worked out from the score "
                               f"({' → '.join([head, *chain])}): {why}")
    target = names.top[head].item
    if target.get("type") == "group" and len(parts) > 2 and parts[1] == "*":
        fields = {str(s.get("id")) for s in target.get("items") or []}
        if parts[2] not in fields:
            return "unknown_field", f"reads {path!r}, but group {head!r} has no item {parts[2]!r}"
    return None


def _score_field(parts: list[str], rule: RuleRef, names: Names) -> tuple[str, str] | None:
    """What is wrong with ``score.<parts>``, if anything."""
    if not parts or parts[0] == "*":
        return None
    field, path = parts[0], ".".join(["score", *parts])
    if field == "passed":
        if rule.reader == "alert" and len(parts) == 1:
            return None
        return "unknown_field", ("score.passed is decided by the outcomes, after this rule; "
                                 "only alerts can read it")
    if field not in SCORE_FIELDS:
        fields = [*SCORE_FIELDS, *(["passed"] if rule.reader == "alert" else [])]
        return "unknown_field", f"score has no {field!r} (it has {', '.join(fields)})"
    if field != "sections":
        return None if len(parts) == 1 else ("unknown_field", f"{path}: score.{field} is a number")
    if len(parts) == 1 or parts[1] == "*":
        return None
    if parts[1] not in names.sections:
        return "unknown_field", (f"reads {path!r}, but there is no section {parts[1]!r} "
                                 f"(sections: {', '.join(names.sections)})")
    if len(parts) == 2:
        return None
    if parts[2] not in SECTION_SCORE_FIELDS or len(parts) > 3:
        return "unknown_field", (f"reads {path!r}: a section's score has "
                                 f"{', '.join(SECTION_SCORE_FIELDS)}")
    return None


def _outcome_field(parts: list[str], rule: RuleRef, names: Names) -> tuple[str, str] | None:
    if rule.reader != "alert":
        return "unknown_field", ("'outcome' (the outcomes' levels) can only be read in alerts; "
                                 "an outcome's level can read score and failed")
    if not parts:
        return None
    if parts[0] not in names.outcomes:
        known = ", ".join(names.outcomes) or "none"
        return "unknown_field", f"there is no outcome {parts[0]!r} (outcomes: {known})"
    if len(parts) > 1:
        return "unknown_field", (f"outcome.{parts[0]} is the id of the level chosen (or null); "
                                 "it has no fields")
    return None


def check_reads(doc: DefinitionDocument, names: Names, rules: list[RuleRef]
                ) -> Iterator[Problem]:
    for rule in rules:
        try:
            found = reads(rule.rule)
        except Exception:  # a rule that does not compile is reported by check_rules
            continue
        said: set[tuple[str, str]] = set()
        for read in found:
            if read.dynamic or read.path.startswith("?") or not read.path:
                continue
            wrong = _known_path(read.path, rule, names)
            if wrong and wrong not in said:  # a group and its entries' fields: say it once
                said.add(wrong)
                yield Problem(rule.pointer + read.pointer, wrong[1], wrong[0], doc.source)
    for ai, alert in enumerate(doc.content.get("alerts") or []):
        for ii, item_id in enumerate(alert.get("items") or []):
            if item_id not in names.top:
                yield Problem(pointer("alerts", ai, "items", ii),
                              f"no item {item_id!r} in this definition", "unknown_reference",
                              doc.source)


def check_templates(doc: DefinitionDocument, items: list[ItemRef], names: Names
                    ) -> Iterator[Problem]:
    """Message templates: every placeholder names a param or a readable path, every param
    is used, and a labels param names an item whose answers have labels."""
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
                wrong = _known_path(name, RuleRef(None, "", t.scope, t.reader), names)
                if wrong:
                    yield Problem(t.pointer + "/" + lang,
                                  f"placeholder {{{name}}}: {wrong[1]}; name a param of this "
                                  "message or an item", wrong[0], doc.source)
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


def check_score_cycles(doc: DefinitionDocument, names: Names) -> Iterator[Problem]:
    """A calculated value that reads the score cannot score itself (``rules.standards`` says
    the same when compiling). A rule that runs before scoring and reads the score, or such a
    value, is reported by check_reads."""
    content = doc.content
    scored = content.get("kind") != "survey" or content.get("scored") is True
    for cid, chain in names.score_calcs.items():
        ref = names.top[cid]
        item = ref.item
        if item.get("calculate") is None:
            continue  # a group, late for its entries' values: groups do not score
        rules = {k: True for k in ITEM_RULES if item.get(k) is not None}
        if item_scoring(item, str(item.get("type", "")), rules, scored=scored, top=True).scores:
            how = ("its weight" if item.get("weight") else "its score rule" if "score" in rules
                   else "its points" if _absolute(item)
                   else f"items of type {item.get('type')!r} score by default; give it weight 0")
            yield Problem(ref.pointer + "/calculate",
                          f"calculated value {cid!r} reads the score "
                          f"({' → '.join([cid, *chain])}), so it cannot score ({how})",
                          "score_cycle", doc.source)


def _band(level: dict[str, Any]) -> tuple[float, float] | None:
    """The closed range of a level's min/max (None: no band, or min above max)."""
    lo, hi = level.get("min"), level.get("max")
    if not isinstance(lo, int | float) and not isinstance(hi, int | float):
        return None
    low = float(lo) if isinstance(lo, int | float) else -math.inf
    high = float(hi) if isinstance(hi, int | float) else math.inf
    return (low, high) if low <= high else None


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    # Bands may share an end (the earlier level takes that value), so that a continuous value
    # can be cut exactly: 0–15 then 15–20. Sharing more than that is an overlap.
    low, high = max(a[0], b[0]), min(a[1], b[1])
    return low < high or (low == high and a[0] != b[1] and b[0] != a[1])


def _show(x: float) -> str:
    return "−∞" if x == -math.inf else "∞" if x == math.inf else f"{x:g}"


def check_outcomes(doc: DefinitionDocument, items: list[ItemRef], names: Names
                   ) -> Iterator[Problem]:
    """Outcomes: ids once, `of` a section, bands that make sense, the fallback last."""
    forced = {(str(o), str(lv)) for ref in items if isinstance(ref.item.get("forces"), dict)
              for o, lv in ref.item["forces"].items()}
    seen: dict[str, int] = {}
    for oi, outcome in enumerate(doc.content.get("outcomes") or []):
        at = pointer("outcomes", oi)
        oid = str(outcome.get("id"))
        if oid in seen:
            yield Problem(at + "/id", f"outcome id {oid!r} is used twice (first at "
                          f"/outcomes/{seen[oid]})", "duplicate_id", doc.source)
        seen.setdefault(oid, oi)
        of = outcome.get("of", "total")
        if of != "total" and of not in names.sections:
            yield Problem(at + "/of", f"{of!r} is not a section: an outcome is of \"total\" or "
                          f"a section ({', '.join(names.sections)})", "unknown_reference",
                          doc.source)
        levels = [lv for lv in outcome.get("levels") or [] if isinstance(lv, dict)]
        level_ids: dict[str, int] = {}
        bands: list[tuple[int, tuple[float, float]]] = []
        fallbacks: list[int] = []
        for li, level in enumerate(levels):
            lat = at + pointer("levels", li)
            lid = str(level.get("id"))
            if lid in level_ids:
                yield Problem(lat + "/id", f"level id {lid!r} is used twice in this outcome "
                              f"(first at {at}/levels/{level_ids[lid]})", "duplicate_id",
                              doc.source)
            level_ids.setdefault(lid, li)
            lo, hi = level.get("min"), level.get("max")
            if isinstance(lo, int | float) and isinstance(hi, int | float) and lo > hi:
                yield Problem(lat + "/min", f"min ({lo:g}) is above max ({hi:g}): no value is "
                              "in this band", "bad_band", doc.source)
            band = _band(level)
            if band is not None and level.get("when") is None:
                for lj, other in bands:
                    if _overlap(other, band):
                        yield Problem(lat, f"its band {_show(band[0])}–{_show(band[1])} overlaps "
                                      f"that of {at}/levels/{lj} ({_show(other[0])}–"
                                      f"{_show(other[1])}): a value in both takes the earlier "
                                      "level; bands may only share an end", "overlapping_bands",
                                      doc.source)
                        break
                bands.append((li, band))
            criteria = any(k in level for k in ("min", "max")) or level.get("when") is not None
            if not criteria and (oid, lid) not in forced:
                fallbacks.append(li)
        for li in fallbacks:
            if li != len(levels) - 1:
                also = [f"{at}/levels/{lj}" for lj in fallbacks if lj != li]
                two = f" (as does {', '.join(also)})" if also else ""
                yield Problem(at + pointer("levels", li),
                              f"this level has no min, max or when and no item forces it, so it "
                              f"matches always{two}: the levels after it are never chosen. Only "
                              "the last level may be the fallback", "unreachable_level",
                              doc.source)


def can_fail(item: dict[str, Any], *, top: bool) -> bool:
    """Whether an item can ever fail (evaluation._fails, _entries): by its ``fail_if``
    (``false`` turns failing off), else by its type's default — a top-level yes/no, or a
    check that says what is ``good`` — and a group through its entries' items' ``fail_if``."""
    rule = item.get("fail_if")
    if rule is False:
        return False
    if item.get("type") == "group":
        subs = item.get("items")
        return rule is not None or any(can_fail(s, top=False) for s in subs or []
                                       if isinstance(s, dict))
    if rule is not None:
        return True
    return top and (item.get("type") == "yes_no"
                    or (item.get("type") == "check" and "good" in item))


def check_forces(doc: DefinitionDocument, items: list[ItemRef], names: Names
                 ) -> Iterator[Problem]:
    for ref in items:
        forces = ref.item.get("forces")
        if isinstance(forces, dict) and forces and not can_fail(ref.item, top=ref.group is None):
            yield Problem(ref.pointer + "/forces",
                          f"item {ref.id!r} never fails (no fail_if, and a "
                          f"{ref.item.get('type')} {'inside a group ' if ref.group else ''}"
                          "has no failing default), so what it forces never happens; add a "
                          "fail_if", "forces_never_apply", doc.source)
        for oid, lid in (forces.items() if isinstance(forces, dict) else ()):
            at = ref.pointer + pointer("forces", oid)
            if oid not in names.outcomes:
                known = ", ".join(names.outcomes) or "none"
                yield Problem(at, f"there is no outcome {oid!r} (outcomes: {known})",
                              "unknown_reference", doc.source)
            elif lid not in names.outcomes[oid]:
                yield Problem(at, f"outcome {oid!r} has no level {lid!r} (levels: "
                              f"{', '.join(names.outcomes[oid])})", "unknown_reference",
                              doc.source)


def check_checks(doc: DefinitionDocument, names: Names) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for ci, check in enumerate(doc.content.get("checks") or []):
        cid = str(check.get("id"))
        if cid in seen:
            yield Problem(pointer("checks", ci, "id"), f"check id {cid!r} is used twice (first "
                          f"at /checks/{seen[cid]})", "duplicate_id", doc.source)
        seen.setdefault(cid, ci)
        item_id = check.get("item")
        if isinstance(item_id, str) and item_id not in names.top:
            yield Problem(pointer("checks", ci, "item"),
                          f"no item {item_id!r} in this definition (a check points at a "
                          "top-level item)", "unknown_reference", doc.source)


# Codes the checks above report themselves: the engine's word on them adds nothing new
# unless it finds a kind of problem they did not (its pointers may differ).
_OWN_CODES = frozenset({"calculation_cycle", "score_cycle", "bad_rule", "unknown_operation",
                        "bad_arity", "bad_arguments"})


def check_compiles(doc: DefinitionDocument, found: list[Problem]) -> Iterator[Problem]:
    """What ``compile_standard`` refuses and the checks above did not say (a visibility
    cycle, say), so that a definition that validates always compiles."""
    try:
        compile_standard(doc.content)
    except RuleError as exc:
        said = {(p.code, p.pointer) for p in found}
        codes = {p.code for p in found}
        for p in exc.problems:
            if (p.code, p.pointer) not in said and not (p.code in _OWN_CODES and p.code in codes):
                yield Problem(p.pointer, p.message, p.code, doc.source)
    except Exception:  # malformed beyond this point: the schema's errors say where
        return


def check_form(doc: DefinitionDocument) -> Iterator[Problem]:
    items = items_of(doc.content)
    rules = rules_of(doc.content, items)
    names = names_of(doc.content, items)
    found: list[Problem] = []
    for check in (
        check_form_ids(doc, items), check_scoring_fields(doc, items),
        check_choices_and_bounds(doc, items), check_scoring(doc), check_rules(doc, rules),
        check_reads(doc, names, rules), check_templates(doc, items, names),
        check_calculation_cycles(doc, items), check_score_cycles(doc, names),
        check_outcomes(doc, items, names), check_forces(doc, items, names),
        check_checks(doc, names),
    ):
        for p in check:
            found.append(p)
            yield p
    yield from check_compiles(doc, found)


DEFAULT_GRADE_IDS = ("A", "B", "C", "D")  # rounds.definitions.okr.DEFAULT_GRADES


def _results(rule: Any, at: str) -> Iterator[tuple[str, Any]]:
    """The literal results a grade rule can give, with their pointers: the rule itself if it
    is a constant, else the branches of its ``if`` (``?:``), recursively. What another
    operation computes is known only when it runs (the grading says so then)."""
    if isinstance(rule, dict) and len(rule) == 1:
        op, args = next(iter(rule.items()))
        if op in ("if", "?:") and isinstance(args, list):
            for i, arg in enumerate(args):
                if i % 2 == 1 or i == len(args) - 1:
                    yield from _results(arg, f"{at}/{op}/{i}")
        return
    if isinstance(rule, str | int | float) and not isinstance(rule, bool):
        yield at, rule


def _okr_grades(doc: DefinitionDocument) -> Iterator[Problem | str]:
    """The grade ids (yielded as strings) and the problems of the grades table."""
    grades = doc.content.get("grades")
    if not isinstance(grades, list):
        yield from DEFAULT_GRADE_IDS
        return
    seen: dict[str, int] = {}
    for gi, grade in enumerate(grades):
        gid = grade.get("id") if isinstance(grade, dict) else None
        if not isinstance(gid, str):
            continue
        if gid in seen:
            yield Problem(pointer("grades", gi, "id"), f"grade id {gid!r} is used twice "
                          f"(first at /grades/{seen[gid]})", "duplicate_id", doc.source)
        else:
            seen[gid] = gi
            yield gid


def _check_metric(doc: DefinitionDocument, kr: dict[str, Any], at: str) -> Iterator[Problem]:
    metric_id = kr.get("metric")
    if not isinstance(metric_id, str):
        return
    metric = CATALOGUE.get(metric_id)
    if metric is None:
        close = difflib.get_close_matches(metric_id, list(CATALOGUE), n=3, cutoff=0.5)
        hint = (f"; did you mean {', '.join(close)}?" if close
                else "; the metrics are listed in docs/metrics.md")
        yield Problem(at + "/metric", f"{at}/metric: {metric_id!r} is not a metric of the "
                      f"catalogue{hint}", "unknown_metric", doc.source)
        return
    named = kr.get("definition")
    if metric.definition == "required" and named is None:
        rows = f"a {metric.rows}" if metric.rows else "a standard or survey"
        yield Problem(at, f"metric {metric_id!r} reads one definition: name {rows} in "
                      "`definition`", "definition_required", doc.source)
    elif metric.definition == "none" and named is not None:
        yield Problem(at + "/definition", f"metric {metric_id!r} reads no definition's "
                      "rows (visits and check-ins are not filled against one): remove "
                      "`definition`", "definition_forbidden", doc.source)
    for parameter in ("item", "level"):
        if metric.parameter == parameter and not isinstance(kr.get(parameter), str):
            what = ("a scale item of the survey" if parameter == "item"
                    else "an outcome level of the survey (the share at it or above)")
            yield Problem(at, f"metric {metric_id!r} needs `{parameter}`: {what}",
                          "parameter_required", doc.source)
        elif metric.parameter != parameter and parameter in kr:
            yield Problem(at + "/" + parameter, f"metric {metric_id!r} takes no "
                          f"`{parameter}`: remove it", "parameter_forbidden", doc.source)


def check_okr(doc: DefinitionDocument) -> Iterator[Problem]:
    """Key result ids once, metrics of the catalogue with the definition they need, grade
    rules that compile, read only value, target and ctx, and give grades that exist."""
    grade_ids: set[str] = set()
    for found in _okr_grades(doc):
        if isinstance(found, Problem):
            yield found
        else:
            grade_ids.add(found)
    seen: set[str] = set()
    objectives: dict[Any, int] = {}
    for oi, objective in enumerate(doc.content.get("objectives") or []):
        oid = objective.get("id")
        if oid in objectives:
            yield Problem(pointer("objectives", oi, "id"), f"objective id {oid!r} is used "
                          f"twice (first at /objectives/{objectives[oid]})", "duplicate_id",
                          doc.source)
        objectives.setdefault(oid, oi)
        for ki, kr in enumerate(objective.get("key_results") or []):
            at = pointer("objectives", oi, "key_results", ki)
            if kr.get("id") in seen:
                yield Problem(at + "/id", f"key result id {kr.get('id')!r} is used twice",
                              "duplicate_id", doc.source)
            seen.add(kr.get("id"))
            yield from _check_metric(doc, kr, at)
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
            # (a constant where the rule belongs is not_a_rule already)
            branches = _results(kr["grade"], at + "/grade") if isinstance(
                kr["grade"], dict) else iter(())
            for where, result in branches:
                if isinstance(result, str) and result not in grade_ids:
                    yield Problem(where, f"{result!r} is not a grade of this OKR (grades: "
                                  f"{', '.join(sorted(grade_ids))})", "unknown_grade",
                                  doc.source)
                elif not isinstance(result, str) and not 0 <= result <= 1:
                    yield Problem(where, f"a grade rule gives a grade id or a score from 0 "
                                  f"to 1, not {result!r}", "unknown_grade", doc.source)


def check_capabilities(doc: DefinitionDocument) -> Iterator[Problem]:
    """A role grants only capabilities there are: the core's and the enabled extensions'
    (:mod:`rounds.definitions.capabilities`)."""
    known = capabilities.known()
    for i, name in enumerate(doc.content.get("capabilities") or []):
        if isinstance(name, str) and capabilities.well_formed(name) and name not in known:
            yield Problem(pointer("capabilities", i),
                          f"no capability {name!r} (there are: {', '.join(known)}; an "
                          "extension's are there when it is enabled)", "unknown_capability",
                          doc.source)


# -- across definitions ----------------------------------------------------------------------

_REFERENCES: dict[str, list[tuple[str, str]]] = {
    # kind: [(field holding a list of ids, kind they must name)]
    "role": [("standards", "standard"), ("surveys", "survey"), ("site_kinds", "site_kind")],
    "standard": [("site_kinds", "site_kind")],
    "okr": [("applies_to", "role")],
}


def check_references(docs: list[DefinitionDocument]) -> Iterator[Problem]:
    kinds: dict[str, str] = {}
    contents: dict[str, dict[str, Any]] = {}
    first: dict[str, str] = {}
    for doc in docs:
        if doc.id is None or doc.kind is None:
            continue
        contents.setdefault(doc.id, doc.content)
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
        if doc.kind == "okr":
            yield from _okr_references(doc, kinds)
            yield from _okr_parameters(doc, contents)
        if doc.kind == "role":
            for i, vt in enumerate(doc.content.get("visit_targets") or []):
                ref = vt.get("site_kind")
                if kinds.get(ref) != "site_kind":
                    yield Problem(pointer("visit_targets", i, "site_kind"),
                                  f"{ref!r} should name a site_kind; it is not defined",
                                  "unknown_reference", doc.source)


def _okr_references(doc: DefinitionDocument, kinds: dict[str, str]) -> Iterator[Problem]:
    """A key result's ``definition`` names a standard or survey (the one its metric's rows
    are of, when the metric says)."""
    for oi, objective in enumerate(doc.content.get("objectives") or []):
        for ki, kr in enumerate(objective.get("key_results") or []):
            ref = kr.get("definition")
            if not isinstance(ref, str):
                continue
            metric = CATALOGUE.get(str(kr.get("metric")))
            wanted = (metric.rows,) if metric is not None and metric.rows else (
                "standard", "survey")
            if kinds.get(ref) not in wanted:
                what = f"a {kinds[ref]}" if ref in kinds else "not defined"
                yield Problem(pointer("objectives", oi, "key_results", ki, "definition"),
                              f"{ref!r} should name a {' or a '.join(wanted)}; it is {what}",
                              "unknown_reference", doc.source)


def outcome_levels(content: dict[str, Any]) -> list[str]:
    """The level ids of a survey's first outcome (the one a response stores), in order."""
    outcomes = content.get("outcomes") or []
    return [str(level.get("id")) for level in (outcomes[0].get("levels") or [])
            ] if outcomes else []


def _okr_parameters(doc: DefinitionDocument, contents: dict[str, dict[str, Any]]
                    ) -> Iterator[Problem]:
    """A key result's ``item`` is a scale item of its survey, its ``level`` a level of that
    survey's first outcome."""
    for oi, objective in enumerate(doc.content.get("objectives") or []):
        for ki, kr in enumerate(objective.get("key_results") or []):
            survey = contents.get(str(kr.get("definition")))
            if survey is None:
                continue  # an unknown definition is said by _okr_references
            at = pointer("objectives", oi, "key_results", ki)
            item = kr.get("item")
            if isinstance(item, str):
                scales = sorted(i for i, c in items_by_id(survey).items()
                                if c.get("type") == "scale")
                if item not in scales:
                    yield Problem(at + "/item", f"{item!r} is not a scale item of "
                                  f"{kr.get('definition')!r} (its scale items: "
                                  f"{', '.join(scales) or 'none'})", "unknown_reference",
                                  doc.source)
            level = kr.get("level")
            if isinstance(level, str):
                levels = outcome_levels(survey)
                if level not in levels:
                    yield Problem(at + "/level", f"{level!r} is not a level of the outcome "
                                  f"of {kr.get('definition')!r} (its levels: "
                                  f"{', '.join(levels) or 'none: it has no outcome'})",
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
        if doc.kind == "role":
            problems += _guarded(check_capabilities(doc))
    if references:
        problems += check_references(docs)
        problems += _guarded(check_issue_routing(docs))
    return problems
