"""The slow path of a form's check: every error of a body, whatever is wrong with it.

msgspec stops at the first error, so a body it rejects comes here (``validate_reference``
always does):

1. the structure: a jsonschema validator of the form's ``answers_schema`` (compiled once per
   form, :func:`validator_for`) lists every structural error (:func:`schema_raws`); date
   bounds are the ``formatMinimum``/``formatMaximum`` keywords, checked here;
2. the values with structural errors are taken out (:func:`clean`), and no second error
   ("required") is reported for them;
3. the conditional checks run on the rest, with ``StandardRules.form`` deciding visibility,
   required-ness and evidence (:func:`conditional_raws`); errors inside hidden items are
   dropped. The definition's checks between fields that fail are errors too
   (``check_failed`` at ``/answers/<item>``, the check's message), except a check that reads
   an answer with a structural error (its value is not there to compare).

:func:`check_body` does all three. The first is faster with ``forms.shape`` (the same errors,
from code generated for the schema), the third with :class:`PlannedChecks` (the same raws,
decided by the form's fast plan, where it follows the form's rules).
:func:`check_decoded` is the same conditional checks for a body msgspec decoded, for forms
whose rules the fast plan does not follow.

May import: ``rounds.rules`` and ``rounds.forms`` modules below it (``schema``, ``messages``,
``conditions``, ``shape``, ``fast_path``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import msgspec
from jsonschema import Draft202012Validator, ValidationError, validators

from rounds.forms.conditions import UNSET, answered, entry_path, evidence_raws, shown
from rounds.forms.fast_path import FastPlan
from rounds.forms.messages import Path, Raw
from rounds.forms.schema import DATE_PATTERN, FormItem
from rounds.forms.shape import Shape
from rounds.rules.evaluation import StandardRules
from rounds.rules.fast_evaluation import CompiledEvaluation
from rounds.rules.results import EntryResult, FormState
from rounds.rules.structure import Check

# What decides visibility and required-ness: the generic rules or their compiled evaluation
# (the same FormState).
Rules = StandardRules | CompiledEvaluation


def _date_bound(keyword: str) -> Callable[..., Iterator[ValidationError]]:
    def check(_validator: Any, bound: Any, instance: Any, _schema: Any
              ) -> Iterator[ValidationError]:
        if not (isinstance(instance, str) and isinstance(bound, str)
                and re.fullmatch(DATE_PATTERN, instance)):
            return
        if (instance < bound) if keyword == "formatMinimum" else (instance > bound):
            yield ValidationError(f"{instance!r} is out of bounds ({keyword} {bound})")
    return check


_SlowValidator = validators.extend(Draft202012Validator, {  # type: ignore[no-untyped-call]
    "formatMinimum": _date_bound("formatMinimum"),
    "formatMaximum": _date_bound("formatMaximum"),
})


def schema_raws(error: ValidationError) -> Iterator[Raw]:
    return error_raws(tuple(error.absolute_path), str(error.validator), error.instance,
                      error.validator_value, error.schema)


def error_raws(path: Path, kw: str, inst: Any, value: Any, schema: Any) -> Iterator[Raw]:
    """The raw errors of one structural error (jsonschema's, or ``forms.shape``'s)."""
    if kw == "required":
        for name in value if isinstance(value, list) else []:
            if isinstance(inst, dict) and name not in inst:
                yield (*path, name), "required", {}
        return
    if kw == "additionalProperties":
        schema = schema if isinstance(schema, dict) else {}
        known = schema.get("properties") or {}
        patterns = list((schema.get("patternProperties") or {}).keys())
        key = "additionalProperties" if path in (("answers",), ("evidence",)) or (
            len(path) == 3 and path[0] == "answers") else "unknown_field"
        for name in inst if isinstance(inst, dict) else {}:
            if name not in known and not any(re.search(p, name) for p in patterns):
                yield (*path, name), key, {}
        return
    if kw == "const" and value is True:
        if isinstance(inst, bool):  # not a boolean at all: the type error says it
            yield path, "must_tick", {}
        return
    if kw == "enum" and isinstance(value, list) and any(isinstance(v, str) for v in value):
        # A choice that may be sent as its number is named once, by its value.
        yield path, kw, {"limit": [v for v in value if isinstance(v, str)]}
        return
    if kw in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength",
              "maxLength", "minItems", "maxItems", "formatMinimum", "formatMaximum", "type",
              "enum"):
        yield path, kw, {"limit": value}
        return
    if kw in ("pattern", "format", "uniqueItems", "anyOf"):
        yield path, kw, {}
        return
    yield path, "invalid", {"keyword": kw}


class Broken:
    """Where the body has structural errors: those values are taken out before the rules run,
    and no second error (e.g. "required") is reported for them."""

    def __init__(self) -> None:
        self.paths: set[Path] = set()
        # The first two steps of every path (``("answers", item)``): most lookups miss at once.
        self._heads: set[Path] = set()
        self._short = False  # a path of fewer than two steps was added

    def add(self, path: Path) -> None:
        self.paths.add(path)
        self._heads.add(path[:2])
        self._short = self._short or len(path) < 2

    def __contains__(self, path: Path) -> bool:
        paths = self.paths
        if not paths or (not self._short and path[:2] not in self._heads):
            return False
        return any(path[:k] in paths for k in range(1, len(path) + 1))


def clean(doc: dict[str, Any], raws: list[Raw], items: Mapping[str, FormItem], broken: Broken
           ) -> None:
    """Take the values with structural errors out of the body (in place)."""
    answers = doc.get("answers")
    evidence = doc.get("evidence")
    for path, key, _ in raws:
        if not path:
            continue
        if path[0] == "evidence" and len(path) >= 2:
            broken.add(path[:2])
            if len(path) == 2 and isinstance(evidence, dict):
                evidence.pop(str(path[1]), None)  # not an item of this form
            continue
        if path[0] != "answers" or len(path) < 2 or not isinstance(answers, dict):
            continue
        name = str(path[1])
        fi = items.get(name)
        if key == "required":
            continue  # reported by the conditional checks, which know what is shown
        if len(path) == 2:
            broken.add(path)
            if key in ("minItems", "maxItems", "uniqueItems") and fi is not None:
                continue  # the entries are still worth checking
            answers.pop(name, None)
            continue
        value = answers.get(name)
        if fi is not None and fi.type == "group" and isinstance(path[2], int) and isinstance(
                value, list) and path[2] < len(value):
            entry = value[path[2]]
            if len(path) == 3:
                broken.add(path)
                if not isinstance(entry, dict):
                    value[path[2]] = {}
            elif isinstance(entry, dict):
                broken.add(path[:4])
                entry.pop(str(path[3]), None)
            continue
        broken.add(path[:2])
        answers.pop(name, None)


def check_raws(state: FormState, checks: Iterable[Check], broken: Broken) -> list[Raw]:
    """The failed checks between fields, each at its item's answer (with its message)."""
    reads = {c.id: c.reads | {c.item} for c in checks}
    wrong = {str(p[1]) for p in broken.paths if len(p) >= 2 and p[0] == "answers"}
    return [(("answers", f.item), "check_failed", {"check": f.check, "message": f.message})
            for f in state.checks if not reads.get(f.check, frozenset()) & wrong]


def conditional_raws(answers: dict[str, Any], evidence: Mapping[str, Any], state: FormState,
                    items: list[FormItem], broken: Broken, *, checks: Iterable[Check] = ()
                    ) -> list[Raw]:
    """The conditional checks decided by ``StandardRules.form`` (any form; the slow path)."""
    out: list[Raw] = check_raws(state, checks, broken)
    for fi in items:
        path: Path = ("answers", fi.id)
        if state.required.get(fi.id) and path not in broken:
            tick = fi.type == "check"
            if not answered(answers.get(fi.id), tick):
                out.append((path, "must_tick" if tick else "required", {}))
    for name, demand in state.evidence.items():
        if ("evidence", name) not in broken:
            out.extend(evidence_raws(name, evidence.get(name), demand.photo_min, demand.note))
    groups = {fi.id: {sub.id: sub for sub in fi.entry_items()}
              for fi in items if fi.type == "group"} if state.entries else {}
    for e in state.entries:
        where = entry_path(e.pointer)
        entry: Any = answers
        for step in where:
            if isinstance(entry, dict):
                entry = entry.get(str(step))
            elif isinstance(entry, list) and isinstance(step, int) and step < len(entry):
                entry = entry[step]
            else:
                entry = None
        entry = entry if isinstance(entry, dict) else {}
        base: Path = ("answers", *where)
        subs = groups.get(e.group, {})
        for name, needed in e.required.items():
            if needed and (*base, name) not in broken:
                tick = subs[name].type == "check" if name in subs else False
                if not answered(entry.get(name), tick):
                    out.append(((*base, name), "must_tick" if tick else "required", {}))
        for name, demand in e.evidence.items():
            key = "/".join(str(p) for p in (*where, name))
            if ("evidence", key) not in broken:
                out.extend(evidence_raws(key, evidence.get(key), demand.photo_min, demand.note))
    return out


def post_structural(answers: dict[str, Any], state: FormState, items: list[FormItem],
                     entries: Mapping[str, EntryResult]) -> list[Raw]:
    """Unique choices and date bounds of shown items, on plain data (no plan, fast decode)."""
    out: list[Raw] = []

    def one(fi: FormItem, value: Any, path: Path) -> None:
        if fi.type == "multiple_choice" and isinstance(value, list) and len(
                set(value)) != len(value):
            out.append((path, "uniqueItems", {}))
        if fi.type == "date" and isinstance(value, str):
            lo, hi = fi.item.get("min"), fi.item.get("max")
            if lo is not None and value < lo:
                out.append((path, "formatMinimum", {"limit": lo}))
            if hi is not None and value > hi:
                out.append((path, "formatMaximum", {"limit": hi}))

    for fi in items:
        path: Path = ("answers", fi.id)
        if not shown(path, state.visible, entries) or fi.id not in answers:
            continue
        value = answers[fi.id]
        one(fi, value, path)
        if fi.type == "group" and isinstance(value, list):
            for i, entry in enumerate(value):
                for sub in fi.entry_items():
                    p: Path = (*path, i, sub.id)
                    if isinstance(entry, dict) and sub.id in entry and shown(
                            p, state.visible, entries):
                        one(sub, entry[sub.id], p)
    return out


# -- the conditional checks on the fast plan ------------------------------------------------------

_NO_FIELDS: dict[str, bool] = {}


class _Sent:
    """Plain answers read the way the fast plan reads a decoded Struct: an answer not sent is
    ``UNSET``. The answers dict itself is the object's ``__dict__`` (read, never written):
    an answer sent is read at the speed of an attribute. (Item ids start with a letter: none
    is one of the object's own attributes.)"""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.__dict__ = answers

    def __getattr__(self, name: str) -> Any:  # only for what is not in the dict
        return UNSET


class PlannedChecks:
    """The conditional checks of the slow path decided by the form's :class:`FastPlan`
    rather than ``StandardRules.form``: the same raws as :func:`check_body` gives with the
    rules (the tests hold the two to it), working out only what they need: visibility only
    of items with errors, required-ness only of items not answered, the decisions remembered
    as the fast path remembers them. The form state is computed only when a check between
    fields fails (its message is a template over the settled data).

    For forms whose fast plan follows all their rules and none of which reads the score
    (:meth:`build` returns None otherwise): entries' fields then have no rules, so they are
    all shown and required as written."""

    def __init__(self, plan: FastPlan, items: list[FormItem], checks: Iterable[Check],
                 shape: Shape | None = None) -> None:
        self.plan = plan
        self.by_id = {fi.id: fi for fi in items}

        def emptiable(where: Path, tick: bool) -> bool:
            """Whether an answer can be sent and yet not be answered ("", [], not ticked)
            with no structural error. Only such answers are read here; one that cannot is
            unanswered only when missing, and the structure's "required" error says so."""
            if tick or shape is None:
                return True
            empties: tuple[Any, ...] = (None, "", [])
            for empty in empties:
                doc: Any = empty  # a body with that answer alone where ``where`` points
                for step in reversed(where):
                    doc = [doc] if isinstance(step, int) else {step: doc}
                if not any(r[0][:len(where)] == where for r in shape(doc)):
                    return True
            return False

        by_plan = {r.id: r.needed for r in plan.required}
        # Required as shown by the rules: (id, is a check, the decision), in form order.
        self.decided = tuple((fi.id, fi.type == "check", by_plan[fi.id])
                             for fi in items if fi.id in by_plan)
        # Always required: id → is a check; and those that can be sent empty.
        self.always = {fi.id: fi.type == "check" for fi in items
                       if fi.id not in by_plan and fi.unconditionally_required}
        self.always_empty = tuple(
            (name, tick) for name, tick in self.always.items()
            if emptiable(("answers", name), tick))
        # Groups: id → (shown, required field → is a check), and the fields sent empty.
        self.fields: dict[str, tuple[Any, dict[str, bool]]] = {}
        self.groups: list[tuple[str, Any, tuple[tuple[str, bool], ...]]] = []
        for fi in items:
            if fi.type != "group":
                continue
            required = {sub.id: sub.type == "check" for sub in fi.entry_items()
                        if sub.item.get("required") is True}
            self.fields[fi.id] = (plan.shown.get(fi.id), required)
            empty = tuple((name, tick) for name, tick in required.items()
                          if emptiable(("answers", fi.id, 0, name), tick))
            if empty:
                self.groups.append((fi.id, plan.shown.get(fi.id), empty))
        self.group_ids = frozenset(self.fields)
        self.checks = tuple(checks)
        self.reads = {c.id: c.reads | {c.item} for c in self.checks}

    @classmethod
    def build(cls, plan: FastPlan | None, rules: StandardRules, items: list[FormItem],
              shape: Shape | None = None) -> PlannedChecks | None:
        if plan is None or rules.reads_score:
            return None
        return cls(plan, items, rules.checks, shape)

    def raws(self, raws: list[Raw], answers: dict[str, Any], evidence: Mapping[str, Any],
             broken: Broken, ctx: Mapping[str, Any] | None, *,
             state: Callable[[], FormState]) -> list[Raw]:
        """The structural ``raws`` of shown items (but "required" of answers, which the
        conditional checks decide), then the conditional checks' raws."""
        sent = _Sent(answers)
        shown = self.plan.shown
        hidden: dict[str, bool] = {}  # top-level name → hidden, as asked

        def visible(path: Path) -> bool:
            if len(path) < 2 or path[0] not in ("answers", "evidence"):
                return True
            name = str(path[1] if path[0] == "answers" else entry_path(str(path[1]))[0])
            if name not in hidden:
                decide = shown.get(name)
                hidden[name] = decide is not None and not decide(sent, ctx)
            return not hidden[name]

        out: list[Raw] = []
        missing: list[Path] = []  # answers the structure says are missing
        for r in raws:
            if r[1] == "required" and self._answer(r[0]):
                missing.append(r[0])
            elif visible(r[0]):
                out.append(r)
        if self.checks:
            wrong = {str(p[1]) for p in broken.paths if len(p) >= 2 and p[0] == "answers"}
            if any(not self.reads.get(check, frozenset()) & wrong and fails(sent, ctx)
                   for check, _item, fails in self.plan.checks):
                out += check_raws(state(), self.checks, broken)
        for path in missing:
            if len(path) == 2:
                tick = self.always.get(str(path[1]))
            else:
                group_shown, fields = self.fields.get(str(path[1]), (None, _NO_FIELDS))
                tick = fields.get(str(path[3]))
                if tick is not None and group_shown is not None and not group_shown(sent, ctx):
                    continue
            if tick is not None and path not in broken:
                out.append((path, "must_tick" if tick else "required", {}))
        for name, tick, needed in self.decided:
            v = answers.get(name)
            # not answered (conditions.answered, in line: it runs for every field)
            if (v is None or (v is not True if tick else (
                    not v and (v.__class__ is str or v.__class__ is list)))) and (
                    "answers", name) not in broken and needed(sent, ctx):
                out.append((("answers", name), "must_tick" if tick else "required", {}))
        for name, tick in self.always_empty:  # sent, but empty
            v = answers.get(name)
            if v is not None and (v is not True if tick else (
                    not v and (v.__class__ is str or v.__class__ is list))) and (
                    "answers", name) not in broken:
                out.append((("answers", name), "must_tick" if tick else "required", {}))
        for ev in self.plan.evidence:  # the decision first: it is mostly remembered
            if ev.wanted(sent, ctx) and ("evidence", ev.id) not in broken:
                out.extend(evidence_raws(ev.id, evidence.get(ev.id), ev.photo_min, ev.note))
        for group, group_shown, empty in self.groups:  # entries' fields sent, but empty
            entries = answers.get(group)
            if not isinstance(entries, list) or not entries or (
                    group_shown is not None and not group_shown(sent, ctx)):
                continue
            for n, entry in enumerate(entries):
                if entry.__class__ is not dict:
                    continue  # replaced by {} (clean): nothing was sent in it
                for name, tick in empty:
                    v = entry.get(name)
                    if v is not None and (v is not True if tick else (
                            not v and (v.__class__ is str or v.__class__ is list))) and (
                            "answers", group, n, name) not in broken:
                        out.append((("answers", group, n, name),
                                    "must_tick" if tick else "required", {}))
        return out

    def _answer(self, path: Path) -> bool:
        """As :func:`_answer_path`."""
        n = len(path)
        return (n == 2 or (n == 4 and isinstance(path[2], int) and path[1] in self.group_ids)
                ) and path[0] == "answers"


# -- the whole path ------------------------------------------------------------------------------

def validator_for(schema: dict[str, Any]) -> Any:
    """The jsonschema validator of a form's answers schema (with date bounds and formats)."""
    return _SlowValidator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _answer_path(path: Path, by_id: Mapping[str, FormItem]) -> bool:
    """Whether the path is an answer or an entry field: the conditional checks say whether
    it is required there (they know what is shown)."""
    if len(path) == 2 and path[0] == "answers":
        return True
    if len(path) == 4 and path[0] == "answers" and isinstance(path[2], int):
        fi = by_id.get(str(path[1]))
        return fi is not None and fi.type == "group"
    return False


def check_body(body: bytes | str, validator: Any, rules: Rules, items: list[FormItem],
               ctx: Mapping[str, Any] | None, *,
               shape: Shape | None = None, planned: PlannedChecks | None = None
               ) -> tuple[list[Raw], dict[str, Any] | None, dict[str, Any]]:
    """Every error of a raw body: ``(raws, answers, evidence)``. With no raws the body is
    valid and ``answers``/``evidence`` are its plain data; ``answers`` is None when the body
    is not even an object with answers. ``shape`` (``forms.shape``, the same errors as the
    jsonschema ``validator``, faster) finds the structural errors when given; ``planned``
    (the same conditional checks as ``rules``, faster) decides the conditional ones."""
    try:
        doc = msgspec.json.decode(body)
    except msgspec.DecodeError as e:
        return [((), "invalid_json", {"detail": str(e)})], None, {}
    if shape is not None:
        raws = shape(doc)
    else:
        raws = [r for err in validator.iter_errors(doc) for r in schema_raws(err)]
    if not isinstance(doc, dict) or not isinstance(doc.get("answers"), dict):
        return raws, None, {}
    by_id = planned.by_id if planned is not None else {fi.id: fi for fi in items}
    broken = Broken()
    clean(doc, raws, by_id, broken)
    answers: dict[str, Any] = doc["answers"]
    sent = doc.get("evidence")
    evidence: dict[str, Any] = sent if isinstance(sent, dict) else {}
    if planned is not None:
        return planned.raws(raws, answers, evidence, broken, ctx,
                            state=lambda: rules.form(answers, ctx)), answers, evidence
    state = rules.form(answers, ctx)
    entries = {e.pointer: e for e in state.entries}
    kept = [r for r in raws
            if not (r[1] == "required" and _answer_path(r[0], by_id))
            and shown(r[0], state.visible, entries)]
    kept += conditional_raws(answers, evidence, state, items, broken, checks=rules.checks)
    return kept, answers, evidence


def check_decoded(answers: dict[str, Any], evidence: Mapping[str, Any], rules: Rules,
                  items: list[FormItem], ctx: Mapping[str, Any] | None) -> list[Raw]:
    """The conditional checks of a well-formed body (decoded by msgspec, as plain data)."""
    state = rules.form(answers, ctx)
    entries = {e.pointer: e for e in state.entries}
    raws = conditional_raws(answers, evidence, state, items, Broken(), checks=rules.checks)
    raws += post_structural(answers, state, items, entries)
    return raws
