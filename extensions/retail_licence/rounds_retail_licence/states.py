"""The states of a licence application, the steps between them and who may take each.

    submitted ─check_documents─▶ documents_checked ─schedule_inspection─▶ inspection_scheduled
        ─record_inspection─▶ inspected ─decide─▶ decided ─issue─▶ issued
                                                         └─refuse─▶ refused
    withdraw (the applicant): from submitted, documents_checked, inspection_scheduled or
    inspected, that is before the decision.

Who: the applicant (``retail_licence.apply``, their own application) submits and
withdraws; a reviewer (``retail_licence.review``: a clerk or the station head, the
application's unit in their scope) checks the documents, schedules the inspection, decides
and issues or refuses; a market inspector (``retail_licence.inspect``; the one scheduled,
when one is) records the inspection.

A step the person may not take is :class:`NotYourStep` (403); one the state does not allow
is :class:`WrongState` (409, saying what the state is). The person is judged first: someone
who may never take the step learns nothing about the state.

Pure: no database, no clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rounds.errors import Conflict, Forbidden
from rounds.runtime.access import Principal

SUBMITTED = "submitted"
DOCUMENTS_CHECKED = "documents_checked"
INSPECTION_SCHEDULED = "inspection_scheduled"
INSPECTED = "inspected"
DECIDED = "decided"
ISSUED = "issued"
REFUSED = "refused"
WITHDRAWN = "withdrawn"

STATES = (SUBMITTED, DOCUMENTS_CHECKED, INSPECTION_SCHEDULED, INSPECTED, DECIDED, ISSUED,
          REFUSED, WITHDRAWN)
FINAL = (ISSUED, REFUSED, WITHDRAWN)
# Waiting on the company: the statutory deadline runs (reminders, escalation).
OPEN = (SUBMITTED, DOCUMENTS_CHECKED, INSPECTION_SCHEDULED, INSPECTED, DECIDED)

APPLY = "retail_licence.apply"
REVIEW = "retail_licence.review"
INSPECT = "retail_licence.inspect"
CAPABILITIES = (APPLY, REVIEW, INSPECT)

GRANT, REFUSE = "grant", "refuse"


class WrongState(Conflict, code="licence_wrong_state",
                 title="Not possible in the application's state"):
    """The step does not lead from the application's current state."""


class NotYourStep(Forbidden, code="licence_not_your_step",
                  title="You may not take this step"):
    """The person may not take this step on this application."""


@dataclass(frozen=True)
class Who:
    """What the principal is to an application."""

    principal: Principal
    applicant: bool  # they made it
    in_scope: bool  # the application's unit is in their scope (a reviewer's)
    inspector: bool  # the inspection is scheduled with them (or with nobody in particular)


@dataclass(frozen=True)
class Facts:
    """What of the application a step's rule reads."""

    state: str
    decision: str | None = None


def _applicant(_: Facts, w: Who) -> bool:
    return w.applicant and w.principal.can(APPLY)


def _reviewer(_: Facts, w: Who) -> bool:
    return w.in_scope and w.principal.can(REVIEW)


def _inspector(_: Facts, w: Who) -> bool:
    return w.inspector and w.principal.can(INSPECT)


@dataclass(frozen=True)
class Step:
    name: str
    from_states: tuple[str, ...]
    to_state: str
    may: Callable[[Facts, Who], bool]
    # A further condition on the application (the decision a step follows), else None.
    requires: Callable[[Facts], bool] | None = None


STEPS: dict[str, Step] = {s.name: s for s in (
    Step("check_documents", (SUBMITTED,), DOCUMENTS_CHECKED, _reviewer),
    Step("schedule_inspection", (DOCUMENTS_CHECKED,), INSPECTION_SCHEDULED, _reviewer),
    Step("record_inspection", (INSPECTION_SCHEDULED,), INSPECTED, _inspector),
    Step("decide", (INSPECTED,), DECIDED, _reviewer),
    Step("issue", (DECIDED,), ISSUED, _reviewer, lambda f: f.decision == GRANT),
    Step("refuse", (DECIDED,), REFUSED, _reviewer, lambda f: f.decision == REFUSE),
    Step("withdraw", (SUBMITTED, DOCUMENTS_CHECKED, INSPECTION_SCHEDULED, INSPECTED),
         WITHDRAWN, _applicant),
)}


def check(step_name: str, facts: Facts, who: Who) -> Step:
    """The step, if this person may take it in this state; else the problem why not."""
    step = STEPS.get(step_name)
    if step is None:
        raise KeyError(step_name)
    if not step.may(facts, who):
        raise NotYourStep(f"your role ({who.principal.role_id}) may not {step_name} on this "
                          "application", [])
    if facts.state not in step.from_states or (
            step.requires is not None and not step.requires(facts)):
        raise WrongState(f"cannot {step_name}: the application is {facts.state}"
                         + (f" (decision: {facts.decision})" if facts.decision else ""))
    return step


def allowed(facts: Facts, who: Who) -> list[str]:
    """The steps this person may take now, in the table's order (what a page offers)."""
    out = []
    for step in STEPS.values():
        try:
            check(step.name, facts, who)
        except (NotYourStep, WrongState):
            continue
        out.append(step.name)
    return out


def may_submit(principal: Principal) -> None:
    """Applying is the applicant's (403 otherwise)."""
    if not principal.can(APPLY):
        raise NotYourStep(f"your role ({principal.role_id}) may not apply for a licence")
