"""The one exception hierarchy of Rounds.

Every error a user can meet has a stable ``code`` (part of the API contract), an HTTP
``status`` and a short ``title``; the web layer maps them once to RFC 7807 problem details.
Errors that concern several places at once (a definition with many mistakes, a submission
with many bad answers) carry a list of :class:`Problem`, each naming where it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong, at one place.

    ``pointer`` is an RFC 6901 JSON pointer into the document named by ``source``
    (a file path, a definition id, ``"rule"``, ``"body"``...).
    """

    pointer: str
    message: str
    code: str = "invalid"
    source: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def where(self) -> str:
        loc = self.pointer or "/"
        return f"{self.source}:{loc}" if self.source else loc

    def __str__(self) -> str:
        return f"{self.where()}: {self.message}"


class RoundsError(Exception):
    """The root of every error a user can meet.

    A subclass is a declaration: its ``code``, ``status`` and ``title`` are given as class
    keywords (``class NotFound(RoundsError, code="not_found", status=404, title="Not
    found")``); what it does not give, it inherits. They stay plain class attributes, read
    by the web layer's problem details.
    """

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"

    def __init_subclass__(cls, *, code: str | None = None, status: int | None = None,
                          title: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code
        if status is not None:
            cls.status = status
        if title is not None:
            cls.title = title

    def __init__(self, detail: str, problems: list[Problem] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems: list[Problem] = list(problems or [])


class InvalidInput(RoundsError, code="invalid_input", status=422, title="Invalid input"):
    """The request's content is wrong; ``problems`` says where, when there is more than one."""


class RuleError(InvalidInput, code="rule_invalid", title="Invalid rule"):
    """A rule that cannot be compiled; ``problems`` holds every mistake found, with its pointer."""

    @classmethod
    def of(cls, problems: list[Problem]) -> RuleError:
        head = "; ".join(str(p) for p in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        return cls(head + more, problems)


class RuleEvaluationError(RoundsError, code="rule_evaluation", status=422,
                          title="Rule evaluation failed"):
    """A rule raised while running: JsonLogic's ``throw``, ``NaN`` or ``Invalid Arguments``.

    ``error`` is the JsonLogic error object (``{"type": ...}``) that ``try`` hands to its fallback.
    """

    def __init__(self, error: Any) -> None:
        if not isinstance(error, dict):
            error = {"type": error}
        self.error: dict[str, Any] = error
        super().__init__(str(error.get("type")))


class NotAuthenticated(RoundsError, code="not_authenticated", status=401,
                       title="Sign in needed"):
    """No valid session or token came with a request that needs one."""


class Forbidden(RoundsError, code="forbidden", status=403, title="Not allowed"):
    """The caller is known but may not do this."""


class NotFound(RoundsError, code="not_found", status=404, title="Not found"):
    """No such thing, or none the caller may see."""


class Conflict(RoundsError, code="conflict", status=409, title="Conflict"):
    """The request clashes with the current state of what it changes."""


class TryLater(RoundsError, status=429):
    """Refused for now, not for good: ``retry_after_s`` (at least 1) says when to come back;
    the web layer sends it as ``Retry-After``."""

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = max(1, retry_after_s)
