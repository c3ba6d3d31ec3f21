"""What evaluating a standard or survey gives: the result types, plain data.

:class:`Evaluation` (from ``StandardRules.evaluate``) holds everything: kept answers,
calculated values, visibility, required-ness, evidence asked for, the failed checks between
fields, the failed items, the :class:`Score` with its explanation line per item, the
:class:`OutcomeResult` of each outcome, the raised alerts and the rules that raised.
:class:`FormState` (from ``StandardRules.form``) is the part the forms engine enforces on
submit (its failed ``checks`` are submission errors); an :class:`Evaluation` is a form state
with the rest. All are frozen msgspec Structs: they are stored as JSON and sent to clients
as they are. Fields added since scores were first stored have defaults, so a stored score
still reads (as the percentage model, higher better, its ``value`` null).

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

    ``counted`` items add ``points`` out of ``weight`` (the most the item can give: its
    weight, or for an item with absolute points the highest it can give); the others (N/A,
    hidden, an optional item left unanswered) add nothing to either. ``fraction`` is
    ``points / weight`` (None when not counted or the weight is 0). ``decided_by``:
    ``default:check``, ``default:yes_no``, ``default:scale``, ``choice:<value>``, ``value``
    (a scale whose value is its points), ``rule:<pointer of the score rule>``, ``na``,
    ``hidden`` or ``missing``. ``reversed``: a reverse-scored item, turned over.
    """

    item: str
    section: str
    title: dict[str, str]
    weight: float
    fraction: float | None
    points: float | None
    counted: bool
    decided_by: str
    reversed: bool = False


class SectionScore(msgspec.Struct, frozen=True, kw_only=True):
    """A section's score in its model (``percentage``, ``sum`` or ``mean``).

    ``points`` out of ``max`` over its ``answered`` (counted) items; ``value`` is what the
    model makes of them (100 × points / max, points, or points / answered), null when the
    section has no value (nothing to divide by, fewer counted items than ``min_answered``,
    no scoring item at all). ``percentage`` is the value in the percentage model, else null.
    ``digits``: how many decimals to show; the numbers themselves are never rounded.
    """

    section: str
    title: dict[str, str]
    model: str = "percentage"
    direction: str = "higher_better"
    digits: int = 1
    points: float
    max: float
    answered: int = 0
    value: float | None = None
    percentage: float | None


class Score(msgspec.Struct, frozen=True, kw_only=True):
    """The total over every counted item of every section, in the definition's model.

    ``points`` out of ``max`` over ``answered`` items; ``value`` as for a section (null when
    ``has_total`` is false: an instrument of sub-scales only), ``percentage`` only in the
    percentage model. ``section_max``/``section_min``: the highest and lowest section value.
    ``passed``: from the first outcome whose level says, else ``percentage >=
    pass_percentage`` (unrounded). ``items`` is the explanation: the counted items' points
    add up to ``points``. Full precision throughout; ``digits`` is for display.
    """

    scored: bool
    model: str = "percentage"
    direction: str = "higher_better"
    digits: int = 1
    has_total: bool = True
    points: float
    max: float
    answered: int = 0
    value: float | None = None
    percentage: float | None
    pass_percentage: float | None
    passed: bool | None
    section_max: float | None = None
    section_min: float | None = None
    sections: list[SectionScore]
    items: list[ItemScore]


class OutcomeResult(msgspec.Struct, frozen=True, kw_only=True):
    """The level an outcome came to (``level`` null when none matched).

    ``value`` is what its bands read (the total's value or a section's). ``decided_by``:
    ``forced:<item id>`` (a failed item forces it), ``band:<level pointer>`` (the value is in
    the level's min–max), ``rule:<pointer of its when>``, ``fallback:<level pointer>`` or
    ``none``. ``label`` and ``message`` are in every language ({} when there is none).
    """

    outcome: str
    title: dict[str, str]
    level: str | None
    label: dict[str, str]
    passed: bool | None
    value: float | None
    decided_by: str
    message: dict[str, str] = {}


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


class CheckFailure(msgspec.Struct, frozen=True, kw_only=True):
    """A check between fields that failed: a submission error at ``pointer``
    (``/answers/<item>``), ``message`` filled in every language."""

    check: str
    item: str
    pointer: str
    code: str = "check_failed"
    message: dict[str, str]


class FormState(msgspec.Struct, frozen=True, kw_only=True):
    """What the forms engine enforces on submit.

    ``answers`` are the answers to keep: hidden items' dropped, unknown ids ignored, calculated
    values left out (they are in ``calculated``), an unanswered visible ``check`` as false.
    ``checks`` are the definition's checks that failed (each a submission error).
    """

    answers: dict[str, Any]
    calculated: dict[str, Any]
    visible: dict[str, bool]
    required: dict[str, bool]
    evidence: dict[str, Evidence]
    entries: list[EntryResult]
    errors: list[RuleFailure]
    checks: list[CheckFailure] = []


class Evaluation(FormState, frozen=True, kw_only=True):
    """The form state and what the definition makes of it: the failed items, the score, the
    outcomes and the raised alerts."""

    definition: str
    failed: list[Failure]
    score: Score
    alerts: list[Alert]
    outcomes: list[OutcomeResult] = []
