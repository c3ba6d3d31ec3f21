"""What evaluating a standard or survey gives: the result types, plain data.

:class:`Evaluation` (from ``StandardRules.evaluate``) holds everything: kept answers,
calculated values, visibility, required-ness, evidence asked for, the failed items, the
:class:`Score` with its explanation line per item, the raised alerts and the rules that
raised. :class:`FormState` (from ``StandardRules.form``) is the part the forms engine
enforces on submit; an :class:`Evaluation` is a form state with the rest. All are frozen
msgspec Structs: they are stored as JSON and sent to clients as they are.

May import: ``msgspec`` and ``rounds.rules.alerts`` (the :class:`Alert` type).
"""

from __future__ import annotations

from typing import Any

import msgspec

from rounds.rules.alerts import Alert


class Evidence(msgspec.Struct, frozen=True, kw_only=True):
    """What must come with an answer when its ``evidence_if`` holds."""

    photo_min: int = 1
    note: bool = False


class ItemScore(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the explanation: how an item contributed to its section and the total.

    ``counted`` items add ``points`` out of ``weight``; the others (N/A, hidden, an optional
    item left unanswered) add nothing to either. ``decided_by``: ``default:check``,
    ``default:yes_no``, ``default:scale``, ``choice:<value>``, ``rule:<pointer of the score
    rule>``, ``na``, ``hidden`` or ``missing``.
    """

    item: str
    section: str
    title: dict[str, str]
    weight: float
    fraction: float | None
    points: float | None
    counted: bool
    decided_by: str


class SectionScore(msgspec.Struct, frozen=True, kw_only=True):
    section: str
    title: dict[str, str]
    points: float
    max: float
    percentage: float | None


class Score(msgspec.Struct, frozen=True, kw_only=True):
    """Points over max (the counted weights); ``percentage`` is null when max is 0.

    ``items`` is the explanation: the counted items' points add up to ``points``.
    """

    scored: bool
    points: float
    max: float
    percentage: float | None
    pass_percentage: float | None
    passed: bool | None
    sections: list[SectionScore]
    items: list[ItemScore]


class Failure(msgspec.Struct, frozen=True, kw_only=True):
    """A failed item (it becomes an issue). For a group, ``entries`` are the failing entries.

    ``problem`` is the item's problem title filled in both languages (empty when the item
    has none: its title is then the name of the problem)."""

    item: str
    section: str
    severity: str
    decided_by: str
    entries: list[int] = []
    problem: dict[str, str] = {}


class EntryResult(msgspec.Struct, frozen=True, kw_only=True):
    """The rules of a group's items, evaluated for one entry (``pointer`` is into the answers)."""

    group: str
    index: int
    pointer: str
    calculated: dict[str, Any]
    visible: dict[str, bool]
    required: dict[str, bool]
    evidence: dict[str, Evidence]
    failed: list[str]


class RuleFailure(msgspec.Struct, frozen=True, kw_only=True):
    """A rule that raised while evaluating; it counted as null (a score rule: as 0)."""

    pointer: str
    error: dict[str, Any]
    entry: str | None = None


class FormState(msgspec.Struct, frozen=True, kw_only=True):
    """What the forms engine enforces on submit.

    ``answers`` are the answers to keep: hidden items' dropped, unknown ids ignored, calculated
    values left out (they are in ``calculated``), an unanswered visible ``check`` as false.
    """

    answers: dict[str, Any]
    calculated: dict[str, Any]
    visible: dict[str, bool]
    required: dict[str, bool]
    evidence: dict[str, Evidence]
    entries: list[EntryResult]
    errors: list[RuleFailure]


class Evaluation(FormState, frozen=True, kw_only=True):
    """The form state and what the definition makes of it: the failed items, the score and
    the raised alerts."""

    definition: str
    failed: list[Failure]
    score: Score
    alerts: list[Alert]
