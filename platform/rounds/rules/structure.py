"""The shape a standard or survey is compiled into, and one evaluation's running state.

``rules.standards`` builds these from a definition once; ``rules.evaluation`` and
``rules.scoring`` read them for every submission. An :class:`Item` carries everything an
evaluation needs about one item (its compiled rules by name, its weight or points, choices'
scores, polarity, evidence demand, its group's :class:`Level`), a :class:`Section` its
:class:`ScoreModel`, an :class:`Outcome` its levels, a :class:`Check` its rule and message,
so evaluating never looks at the definition's JSON again. A :class:`Run` is one evaluation:
it calls the rules and collects those that raise (each counts as null); :class:`Settled` is
a level after visibility and calculation.

May import: ``rounds.errors``, ``rounds.rules.semantics``, ``rounds.rules.compiler`` (the
type of a compiled rule) and ``rounds.rules.results``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rounds.errors import RuleEvaluationError
from rounds.rules import semantics as js
from rounds.rules.compiler import CompiledRule
from rounds.rules.results import Evidence, RuleFailure


@dataclass(frozen=True, slots=True)
class PlacedRule:
    """A compiled rule and where it is in the definition (its JSON pointer)."""

    fn: CompiledRule
    pointer: str


@dataclass(frozen=True, slots=True)
class Param:
    """A template's param: its rule, and the labels its values show as (a labels param)."""

    name: str
    rule: PlacedRule | None
    labels: dict[str, dict[str, str]] | None


@dataclass(frozen=True, slots=True)
class Template:
    """A message template: texts by language and the params its placeholders name."""

    texts: dict[str, str]
    params: tuple[Param, ...] = ()


@dataclass(frozen=True, slots=True)
class ScoreModel:
    """How a section or the total counts (``scoring`` of the definition or of a section)."""

    model: str = "percentage"  # percentage | sum | mean
    direction: str = "higher_better"  # higher_better | lower_better
    min_answered: int = 0
    digits: int = 1


@dataclass(frozen=True, slots=True)
class Item:
    """One item, compiled: its rules by name, and what scoring and failing need.

    ``weight`` is the most the item can give: its weight, or for an item with ``absolute``
    points the highest it can give (``least`` the lowest, for ``reverse``). ``choices`` maps
    each choice's value to its fraction of the weight (``score``), or for an absolute item to
    its points; None scores nothing. ``numbers`` maps the numbers of a single_choice with
    ``points: "value"`` to their choice values (an answer sent as a number is kept as one).
    ``good`` is the polarity as written (None: not given); ``forces`` the outcome levels the
    item forces when it fails.
    """

    id: str
    type: str
    section: str
    pointer: str
    title: dict[str, str]
    required: bool
    weight: float
    scores: bool  # listed in the explanation
    choices: dict[str, float | None]
    scale: tuple[float, float] | None
    evidence: Evidence
    severity: str
    rules: dict[str, PlacedRule]
    sub: Level | None
    problem: Template | None = None
    absolute: bool = False
    least: float = 0.0
    reverse: bool = False
    good: str | bool | None = None
    numbers: dict[float, str] | None = None
    forces: dict[str, str] = field(default_factory=dict)

    def rule(self, name: str) -> PlacedRule | None:
        return self.rules.get(name)


@dataclass(frozen=True, slots=True)
class Level:
    """The items of the definition's top level, or of one group entry."""

    items: tuple[Item, ...]  # document order
    order: tuple[Item, ...]  # settle order: each item after what it depends on
    ids: frozenset[str]
    late: tuple[Item, ...] = ()  # settled after scoring (they read the score), in order


@dataclass(frozen=True, slots=True)
class AlertRule:
    """An alert of the definition: raised when ``when`` holds, with ``message`` filled."""

    code: str
    severity: str
    when: PlacedRule | None
    message: Template
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Section:
    """A section's top-level items, in document order, and how its score counts."""

    id: str
    title: dict[str, str]
    items: tuple[Item, ...]
    model: ScoreModel = ScoreModel()


@dataclass(frozen=True, slots=True)
class OutcomeLevel:
    """One level of an outcome: its criteria (``low``/``high`` inclusive on the outcome's
    value, ``when``), what it says (``label``, ``passed``, ``message``). A level with no
    criteria is the fallback, unless ``forced_only`` (some item forces it)."""

    id: str
    pointer: str
    label: dict[str, str]
    low: float | None
    high: float | None
    when: PlacedRule | None
    passed: bool | None
    message: Template | None
    forced_only: bool


@dataclass(frozen=True, slots=True)
class Outcome:
    """An outcome of the definition; ``of`` is None for the total, else a section id."""

    id: str
    title: dict[str, str]
    of: str | None
    levels: tuple[OutcomeLevel, ...]


@dataclass(frozen=True, slots=True)
class Check:
    """A check between fields: fails when ``when`` holds, reported at ``item``. ``reads``:
    the top-level items (and ``ctx``) its rule reads."""

    id: str
    item: str
    when: PlacedRule | None
    message: Template
    reads: frozenset[str] = frozenset()


RAISED = object()  # what a raising rule gives where null would be wrong


class Run:
    """One evaluation: collects the rules that raised. ``digits``: the decimals a score shows
    in a message (``"score"``, ``"score.sections.<id>"``; see ``alerts.fill``)."""

    __slots__ = ("digits", "errors")

    def __init__(self, digits: Mapping[str, int] | None = None) -> None:
        self.errors: list[RuleFailure] = []
        self.digits = digits

    def call(self, rule: PlacedRule, data: dict[str, Any], entry: str, failed: Any = None) -> Any:
        try:
            return rule.fn(data)
        except RuleEvaluationError as e:
            self.errors.append(RuleFailure(pointer=rule.pointer, error=dict(e.error),
                                           entry=entry or None))
            return failed

    def test(self, rule: PlacedRule | None, data: dict[str, Any], entry: str) -> bool:
        return rule is not None and js.truthy(self.call(rule, data, entry))


@dataclass(slots=True)
class Settled:
    """A level after visibility and calculation: the data its later rules see."""

    data: dict[str, Any]
    answers: dict[str, Any] = field(default_factory=dict)
    calculated: dict[str, Any] = field(default_factory=dict)
    visible: dict[str, bool] = field(default_factory=dict)
    entries: dict[str, list[Settled]] = field(default_factory=dict)

def as_number(v: Any) -> float | None:
    """A JSON number as a float; None for anything else (booleans included)."""
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None
