"""The rules engine: JsonLogic compiled to Python, scoring, alerts and static analysis.

Pure: no database, no web. Everything in Rounds that decides (visibility, required-ness,
evidence, item scores, failed items, alerts, calculated values) is a rule evaluated here;
an OKR definition's grade rules are compiled and checked here too when definitions are
validated (nothing grades OKRs at run time yet).

Imports: the foundation only (rounds.errors); the lowest of the engines, under
rounds.forms and rounds.definitions.
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
