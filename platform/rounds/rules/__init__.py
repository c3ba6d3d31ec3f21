"""The rules engine: JsonLogic compiled to Python, scoring, alerts and static analysis.

Pure: no database, no web. Everything in Rounds that decides (visibility, required-ness,
evidence, checks between fields, item scores, failed items, outcomes, alerts, calculated
values) is a rule evaluated here;
an OKR definition's grade rules are compiled and checked here too when definitions are
validated (nothing grades OKRs at run time yet).

Its modules, lowest first (each imports only those above it in this list):

- ``semantics``: JavaScript's truthiness, comparisons and arithmetic, as JsonLogic means them;
- ``operations``: the operations a rule may use (the registry), and their implementations;
- ``compiler``: a JsonLogic rule → a Python function (``compile``, ``compile_many``);
- ``analysis``: what a rule reads (static analysis, for dependency order and checks);
- ``alerts``: message templates filled with values, in every language;
- ``results``: what an evaluation gives (``Evaluation``, ``FormState``, ``Score`` ...);
- ``structure``: the parts a standard is compiled into, and one evaluation's running state;
- ``scoring``: the scoring models (percentage, sum, mean; direction; each item's points;
  sections and the total, in full precision);
- ``evaluation``: ``StandardRules``, a standard's compiled rules run against answers;
- ``standards``: ``compile_standard``, a definition → ``StandardRules`` (cached);
- ``explain``: a score and its outcomes explained in words.

May import: ``rounds.errors``, ``rounds.i18n``, ``rounds.cache``, ``rounds.pointer``.
"""

from rounds.errors import RuleError, RuleEvaluationError
from rounds.rules.compiler import CompiledRule, apply, compile_many, compile_rule, source
from rounds.rules.operations import Operation, OperationRegistry, default_registry

# The engine's verb, as the rest of Rounds says it: rounds.rules.compile(rule).
compile = compile_rule

__all__ = [
    "CompiledRule",
    "Operation",
    "OperationRegistry",
    "RuleError",
    "RuleEvaluationError",
    "apply",
    "compile",
    "compile_many",
    "compile_rule",
    "default_registry",
    "source",
]
