"""A definition version compiled into a form: validate a submission body, every error at once.

``compile_form(definition)`` is cached by the definition's content hash (a bounded cache,
``rounds.cache``). ``CompiledForm.validate(body)`` takes the raw bytes a client sent:

1. The fast path (``forms.fast_path``) decodes them with msgspec into the form's Structs
   (``forms.decoder``). When that succeeds the body is well formed and only the conditional
   checks remain, run by the form's ``FastPlan``.
2. When msgspec rejects the body (it stops at the first error) the slow path
   (``forms.slow_path``) lists every structural error with the schema's generated check
   (``forms.shape``; jsonschema for a schema it does not cover), then runs the conditional
   checks on the parts that are well formed, decided by the fast plan's decisions
   (``slow_path.PlannedChecks``) or, for a form the plan does not follow,
   ``StandardRules.form``. ``validate_reference`` always takes the reference way
   (jsonschema and ``StandardRules.form``); the tests hold the two to the same result.

Either way the errors found are raw (where, what); ``forms.messages`` words them into
problems in the user's language and :class:`SubmissionInvalid` lists them all.

Decisions:

- **Hidden answers are dropped.** An item hidden by its ``visible_if`` (or inside a hidden
  group entry) is neither required nor checked: errors inside its answer, or in its evidence,
  are not reported (the client may have filled it before hiding it), and
  ``ValidSubmission.answers`` leaves it out, exactly as ``StandardRules`` does.
- "Answered" means present and not empty (``forms.conditions``).
- Calculated items are computed by the server; a value a client sends for one is ignored.
- The evaluation is computed on first use, once, from the decoded answers: a caller that
  only asks whether a body is valid should not pay for it. ``ValidSubmission.scored`` is what
  the write path stores (score with its lines, outcomes, failed items, alerts, kept answers;
  ``rules.generated``: one function generated per version); ``.evaluation`` is the whole
  :class:`~rounds.rules.results.Evaluation`, explanation included (visibility,
  required-ness, evidence asked for, per-entry results), for whoever asks for it.

May import: ``rounds.errors``, ``rounds.i18n``, ``rounds.cache``, ``rounds.pointer``,
``rounds.rules`` and the other ``rounds.forms`` modules.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

import msgspec

from rounds import i18n
from rounds import pointer as json_pointer
from rounds.cache import BoundedCache, content_key
from rounds.errors import Problem
from rounds.forms.conditions import shown_by
from rounds.forms.decoder import BodyTypes, body_types
from rounds.forms.fast_path import FastPlan
from rounds.forms.messages import (
    Messages,
    Raw,
    SubmissionInvalid,
    condition_inputs,
    without_follow_ups,
)
from rounds.forms.schema import answers_schema, entry_evidence_pattern, form_items
from rounds.forms.shape import Shape, compile_shape
from rounds.forms.slow_path import PlannedChecks, check_body, check_decoded, validator_for
from rounds.rules.evaluation import StandardRules
from rounds.rules.fast_evaluation import CompiledEvaluation
from rounds.rules.generated import Scored, Scorer
from rounds.rules.results import Evaluation
from rounds.rules.standards import compile_standard

__all__ = ["CompiledForm", "SubmissionInvalid", "ValidSubmission", "compile_form"]

UNSET = msgspec.UNSET
_LANGS = {lang: lang for lang in i18n.LANGUAGES}  # a supported language needs no normalizing


class ValidSubmission:
    """A body that passed ``validate``. ``evaluation`` (score, failed items, alerts) and the
    kept ``answers`` are computed once, on first use."""

    __slots__ = ("_answers", "_evaluation", "_evidence", "_scored", "_sent", "_sent_evidence",
                 "ctx", "form")

    def __init__(self, form: CompiledForm, answers: Any, evidence: Any,
                 ctx: Mapping[str, Any] | None) -> None:
        self.form = form
        self.ctx = ctx
        self._answers = answers  # a Struct (fast path) or a dict (slow path)
        self._sent_evidence = evidence
        self._evaluation: Evaluation | None = None
        self._scored: Scored | None = None
        self._sent: dict[str, Any] | None = None
        self._evidence: dict[str, Any] | None = None

    @property
    def definition_id(self) -> str:
        return self.form.definition_id

    @property
    def content_hash(self) -> str:
        return self.form.content_hash

    def sent_answers(self) -> dict[str, Any]:
        """The answers as sent (plain data), hidden items' answers included."""
        sent = self._sent
        if sent is None:
            a = self._answers
            sent = self._sent = a if isinstance(a, dict) else msgspec.to_builtins(a)
        return sent

    @property
    def scored(self) -> Scored:
        """What the write path stores of the evaluation (``rules.generated.Scored``)."""
        sc = self._scored
        if sc is None:  # two threads racing here compute the same value: no lock needed
            sc = self._scored = self.form.scorer(self.sent_answers(), self.ctx)
        return sc

    @property
    def evaluation(self) -> Evaluation:
        """The whole evaluation, its explanation included."""
        ev = self._evaluation
        if ev is None:
            sc = self._scored
            ev = self._evaluation = (sc.evaluation() if sc is not None else
                                     self.form.evaluator.evaluate(self.sent_answers(), self.ctx))
        return ev

    @property
    def answers(self) -> dict[str, Any]:
        """The answers kept: hidden items' dropped, calculated values left out (they are in
        ``evaluation.calculated``), an unanswered shown check as false."""
        return self.scored.answers

    @property
    def dropped(self) -> list[dict[str, str]]:
        """What was sent but not kept, each ``{"pointer", "reason"}``: ``hidden`` (the answer
        or evidence of an item its ``visible_if`` hides) or ``calculated`` (a value the
        server computes itself). A client tells from it that an answer was not stored."""
        sc = self.scored
        out: list[dict[str, str]] = []
        sent_answers = self.sent_answers()
        for fi in self.form.items:  # in the form's order, however the body was ordered
            name = fi.id
            if name not in sent_answers:
                continue
            value = sent_answers[name]
            if fi.calculated:
                out.append({"pointer": json_pointer.join("answers", name), "reason": "calculated"})
            elif sc.visible.get(name) is False:
                out.append({"pointer": json_pointer.join("answers", name), "reason": "hidden"})
            elif fi.type == "group" and isinstance(value, list):
                subs = {s.id: s for s in fi.entry_items()}
                for i, entry in enumerate(value):
                    e = sc.entry_visible(name, i)
                    for sub_id in entry if isinstance(entry, dict) else ():
                        sub = subs.get(sub_id)
                        reason = ("calculated" if sub is not None and sub.calculated else
                                  "hidden" if e is not None and e.get(sub_id) is False
                                  else None)
                        if reason:
                            out.append({"pointer": json_pointer.join("answers", name, i, sub_id),
                                        "reason": reason})
        sent = self._sent_evidence
        kept = self.evidence
        for key in sorted(sent if isinstance(sent, dict) else (
                () if sent is UNSET or sent is None else msgspec.to_builtins(sent))):
            if key not in kept:
                out.append({"pointer": json_pointer.join("evidence", key), "reason": "hidden"})
        return out

    @property
    def evidence(self) -> dict[str, Any]:
        """The evidence sent, for shown items only."""
        if self._evidence is None:
            sent = self._sent_evidence
            data: dict[str, Any] = ({} if sent is UNSET or sent is None else sent
                                    if isinstance(sent, dict) else msgspec.to_builtins(sent))
            sc = self.scored
            self._evidence = {k: v for k, v in data.items()
                              if shown_by(("evidence", k), sc.visible, sc.entry_visible)}
        return self._evidence


class CompiledForm:
    """One definition version as a form. Immutable after construction; share it freely."""

    def __init__(self, definition: dict[str, Any], content_hash: str) -> None:
        self.definition = definition
        self.definition_id = str(definition.get("id"))
        self.content_hash = content_hash
        self.items = form_items(definition)
        self.rules: StandardRules = compile_standard(definition)
        # The evaluation of this version, planned once (the same result as rules.evaluate),
        # and what the write path stores of it, generated once.
        self.evaluator = CompiledEvaluation(self.rules)
        self.scorer = Scorer(self.evaluator)
        self.types: BodyTypes = body_types(definition)
        self._decode = self.types.decoder.decode
        self._plan = FastPlan.build(self.items, [
            (str(c.get("id")), str(c.get("item")), c["when"])
            for c in definition.get("checks") or []
            if isinstance(c, dict) and c.get("when") is not None])
        self._messages = Messages(self.items)
        self._by_id = {fi.id: fi for fi in self.items}
        self._inputs = condition_inputs(self.items)
        pattern = entry_evidence_pattern(self.items)
        self._entry_evidence = re.compile(pattern) if pattern else None
        self._schemas: dict[str, dict[str, Any]] = {}
        self._validator: Any = None
        self._shape: Any = None  # forms.shape's check, or False where it keeps jsonschema
        # The slow path's conditional checks on the fast plan, where it follows every rule
        # (made with the shape, on first use), or False
        self._planned: Any = None
        self._lock = threading.Lock()

    @property
    def fast(self) -> bool:
        """Whether the conditional checks run on the fast plan (else ``StandardRules.form``)."""
        return self._plan is not None

    def schema(self, lang: str = i18n.DEFAULT) -> dict[str, Any]:
        """The answers JSON Schema, titles in ``lang``."""
        lang = i18n.normalize(lang)
        s = self._schemas.get(lang)
        if s is None:
            s = self._schemas[lang] = answers_schema(self.definition, lang)
        return s

    @property
    def json_schema(self) -> dict[str, Any]:
        return self.schema(i18n.DEFAULT)

    def validator(self) -> Any:
        """The jsonschema validator of the slow path (compiled on first use)."""
        if self._validator is None:
            with self._lock:
                if self._validator is None:
                    self._validator = validator_for(self.json_schema)
        return self._validator

    def shape(self) -> Shape | None:
        """The structural check of the slow path compiled to a function (on first use);
        None when the schema has a keyword it does not cover (jsonschema then)."""
        if self._shape is None:
            with self._lock:
                if self._shape is None:
                    shape = compile_shape(self.json_schema)
                    self._planned = PlannedChecks.build(
                        self._plan, self.rules, self.items, shape) or False
                    self._shape = shape or False
        return self._shape or None

    def validate(self, body: bytes | str, ctx: Mapping[str, Any] | None = None,
                 lang: str = i18n.DEFAULT) -> ValidSubmission:
        """Check a submission body; raise :class:`SubmissionInvalid` listing every problem."""
        try:
            decoded = self._decode(body)
        except (msgspec.ValidationError, msgspec.DecodeError):
            decoded = None  # the slow path, outside the handler: its errors chain to nothing
        if decoded is None:
            return self._slow(body, ctx, lang)
        answers, evidence = decoded.answers, decoded.evidence
        plan = self._plan
        if plan is not None:
            raws = plan.check(answers, evidence, ctx)
            if raws:
                raise self._problems(self._check_messages(raws, answers, ctx), lang)
            return ValidSubmission(self, answers, evidence, ctx)
        if self._entry_evidence is not None and evidence is not UNSET and any(
                k not in self._by_id and not self._entry_evidence.match(k) for k in evidence):
            return self._slow(body, ctx, lang)  # keys that jsonschema will name
        plain = msgspec.to_builtins(answers)
        sent = {} if evidence is UNSET else msgspec.to_builtins(evidence)
        raws = check_decoded(plain, sent, self.evaluator, self.items, ctx)
        if raws:
            raise self._problems(raws, lang)
        return ValidSubmission(self, plain, sent, ctx)

    def validate_reference(self, body: bytes | str, ctx: Mapping[str, Any] | None = None,
                           lang: str = i18n.DEFAULT) -> ValidSubmission:
        """The slow path, always: jsonschema for the structure, ``StandardRules.form`` for the
        conditional checks. The same outcome as :meth:`validate` (the tests hold the two to
        it), a hundred times slower."""
        return self._reference(body, ctx, lang)

    def problems(self, body: bytes | str, ctx: Mapping[str, Any] | None = None,
                 lang: str = i18n.DEFAULT) -> list[Problem]:
        """Every problem of a body (empty when it is valid)."""
        try:
            self.validate(body, ctx, lang)
        except SubmissionInvalid as e:
            return e.problems
        return []

    def _check_messages(self, raws: list[Raw], answers: Any, ctx: Mapping[str, Any] | None
                        ) -> list[Raw]:
        """The fast plan says which checks failed; their messages (templates over the
        settled data) come from ``StandardRules.form``, only on this error path."""
        if not any(key == "check_failed" for _, key, _ in raws):
            return raws
        state = self.evaluator.form(msgspec.to_builtins(answers), ctx)
        said = {c.check: c.message for c in state.checks}
        return [(path, key, {**params, "message": said.get(str(params.get("check")), {})})
                if key == "check_failed" else (path, key, params)
                for path, key, params in raws]

    def _problems(self, raws: list[Raw], lang: str) -> SubmissionInvalid:
        lang = _LANGS.get(lang) or i18n.normalize(lang)
        raws = without_follow_ups(raws, self._inputs)
        return self._messages.invalid(raws, lang)

    def _slow(self, body: bytes | str, ctx: Mapping[str, Any] | None, lang: str
              ) -> ValidSubmission:
        shape = self.shape()
        raws, answers, evidence = check_body(
            body, None if shape else self.validator(), self.evaluator, self.items, ctx,
            shape=shape, planned=self._planned or None)
        if raws or answers is None:
            raise self._problems(raws, lang)
        return ValidSubmission(self, answers, evidence, ctx)

    def _reference(self, body: bytes | str, ctx: Mapping[str, Any] | None, lang: str
                   ) -> ValidSubmission:
        raws, answers, evidence = check_body(body, self.validator(), self.rules, self.items,
                                             ctx)
        if raws or answers is None:
            raise self._problems(raws, lang)
        return ValidSubmission(self, answers, evidence, ctx)


_compiled: BoundedCache[str, CompiledForm] = BoundedCache(128)


def compile_form(definition: dict[str, Any], content_hash: str | None = None) -> CompiledForm:
    """The form of a standard or survey definition, compiled once per content hash.

    Pass ``content_hash`` when it is known (a stored version has it) to skip hashing.
    Raises ``RuleError`` when the definition's rules do not compile.
    """
    key = content_hash or content_key(definition)  # the same as the version's content hash
    return _compiled.get_or_make(key, lambda: CompiledForm(definition, key))
