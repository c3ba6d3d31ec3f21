"""The rules of the closed loop: which action leads from which state, and who may take it.

    open ─assign─▶ assigned ─start─▶ in_progress ─rectify─▶ rectified ─verify─▶ verified
                                        ▲  ▲                  │refuse              │close
                                        │  └──────────────────┘                    ▼
                                        └────────────────reopen───────────────── closed
    cancel: from any active state (open, assigned, in_progress, rectified)

The shop as a sign-off party: an issue a retailer raised (a complaint or a suggestion, the
retailer its reporter) closes only once the shop confirmed the fix. The order is: the
assignee rectifies, the assigner verifies (验收), then the shop **confirms** (确认整改: the
state stays ``verified``, ``reporter_signed_at`` is set) or **sends it back** with a reason
(back to ``in_progress`` like a refusal, every signature withdrawn); only then may it be
closed. Closing before the shop confirmed is refused (409 ``issue_needs_shop_confirmation``);
reopening withdraws the shop's confirmation too.

Being a party is not enough: the party's role must have the capability for the step too
(``issue.rectify``, ``issue.verify``, ``issue.cancel``, ``issue.assign``). With no assigner, a
supervisor (``issue.verify``) over the issue's site signs in their place.

:data:`ACTIONS` is the table; :func:`allowed_actions` is what the pages offer. The two
conflicts of the loop are here too: :class:`WrongState` (not possible in this state: says
what is) and :class:`StaleVersion` (someone changed the issue since it was read).

Imports the issue model and the shared access module only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rounds.errors import Conflict
from rounds.runtime.access import Principal
from rounds.runtime.issues.models import (
    ACTIVE,
    ASSIGNED,
    CANCELLED,
    CLOSED,
    IN_PROGRESS,
    OPEN,
    RECTIFIED,
    STATES,
    VERIFIED,
    Issue,
)


@dataclass(frozen=True)
class Who:
    """What the principal is to an issue."""

    user_id: int
    assignee: bool
    assigner: bool
    reporter: bool
    in_scope: bool  # the issue's site is in the principal's scope
    principal: Principal

    def supervises(self, capability: str) -> bool:
        return self.in_scope and self.principal.can(capability)


def who(issue: Issue, principal: Principal, in_scope: bool) -> Who:
    uid = principal.user_id
    return Who(uid, issue.assignee_id == uid, issue.assigner_id == uid,
               issue.reporter_id == uid, bool(in_scope), principal)


# Being a party is not enough: the party's role must have the capability for the step (a
# submitter made the assigner, whose role may not cancel, cannot cancel).

def _assignee(_: Issue, w: Who) -> bool:
    return w.assignee and w.principal.can("issue.rectify")


def _signer(i: Issue, w: Who) -> bool:
    # The assigner signs; with no assigner (none was found by the rules) a supervisor does.
    return ((w.assigner and w.principal.can("issue.verify"))
            or (i.assigner_id is None and w.supervises("issue.verify")))


def _closer(_: Issue, w: Who) -> bool:
    return (w.assigner and w.principal.can("issue.verify")) or w.supervises("issue.verify")


def _canceller(_: Issue, w: Who) -> bool:
    return (w.assigner or w.in_scope) and w.principal.can("issue.cancel")


def _reassigner(_: Issue, w: Who) -> bool:
    return (w.assigner and w.principal.can("issue.assign")) or w.supervises("issue.assign")


def needs_shop(issue: Issue) -> bool:
    """Whether the issue closes only with the shop's confirmation: a retailer's complaint
    or suggestion (it is their reporter)."""
    return issue.source in SHOP_SOURCES and issue.reporter_id is not None


def _shop(i: Issue, w: Who) -> bool:
    # The retailer who raised it (its reporter), for a complaint or suggestion of theirs.
    return w.reporter and needs_shop(i) and w.principal.can("shop.view_own")


def _anyone(_: Issue, __: Who) -> bool:
    return True


@dataclass(frozen=True)
class Action:
    name: str
    from_states: tuple[str, ...]
    to_status: str | None  # None: the state stays (a comment)
    may: Callable[[Issue, Who], bool]
    who: str  # for the 403 message
    capability: str | None = None  # the role needs it too


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("start", (ASSIGNED,), IN_PROGRESS, _assignee, "the assignee", "issue.rectify"),
    Action("rectify", (IN_PROGRESS,), RECTIFIED, _assignee, "the assignee", "issue.rectify"),
    Action("verify", (RECTIFIED,), VERIFIED, _signer, "the assigner", "issue.verify"),
    Action("refuse", (RECTIFIED,), IN_PROGRESS, _signer, "the assigner", "issue.verify"),
    Action("close", (VERIFIED,), CLOSED, _closer, "the assigner or a supervisor of its site",
           "issue.verify"),
    Action("reopen", (CLOSED,), IN_PROGRESS, _closer,
           "the assigner or a supervisor of its site", "issue.verify"),
    Action("cancel", ACTIVE, CANCELLED, _canceller,
           "the assigner or a supervisor of its site", "issue.cancel"),
    Action("reassign", (OPEN, ASSIGNED, IN_PROGRESS), ASSIGNED, _reassigner,
           "the assigner or a supervisor of its site", "issue.assign"),
    Action("confirm", (VERIFIED,), VERIFIED, _shop, "the shop that raised it",
           "shop.view_own"),
    Action("send_back", (VERIFIED,), IN_PROGRESS, _shop, "the shop that raised it",
           "shop.view_own"),
    Action("comment", STATES, None, _anyone, "anyone who can see it"),
)}

# The event each action writes into the history.
PAST = {"start": "started", "rectify": "rectified", "verify": "verified",
        "refuse": "refused", "close": "closed", "reopen": "reopened",
        "cancel": "cancelled", "reassign": "reassigned", "comment": "commented",
        "confirm": "confirmed", "send_back": "sent_back"}

# The sources of the issues a retailer raised (``issues.sources``: complaint, suggestion).
SHOP_SOURCES = ("complaint", "suggestion")


def allowed_actions(issue: Issue, principal: Principal, in_scope: bool) -> list[str]:
    """The actions the principal may take on the issue now (what the pages offer)."""
    w = who(issue, principal, in_scope)
    return [a.name for a in ACTIONS.values()
            if issue.status in a.from_states and a.may(issue, w) and _ripe(issue, a.name)]


def _ripe(issue: Issue, action: str) -> bool:
    """What the shop's confirmation decides: the shop confirms (or sends back) once; an
    issue it raised is closed only after it confirmed."""
    if action in ("confirm", "send_back"):
        return issue.reporter_signed_at is None
    if action == "close":
        return not needs_shop(issue) or issue.reporter_signed_at is not None
    return True


# -- the conflicts of the loop --------------------------------------------------------------

class WrongState(Conflict, code="issue_wrong_state",
                 title="Not possible in the issue's current state"):
    """The action is not possible in the issue's current state: says which state it is in
    and what the caller may do now."""

    def __init__(self, issue_id: int, action: str, status: str, allowed: list[str]) -> None:
        needs = ", ".join(ACTIONS[action].from_states) if action in ACTIONS else "?"
        now = ", ".join(allowed) or "nothing"
        super().__init__(f"cannot {action} issue {issue_id}: it is {status} ({action} needs "
                         f"{needs}); you may now: {now}")
        self.issue_status = status
        self.allowed_actions = allowed


class StaleVersion(Conflict, code="stale_version", title="The issue changed since you read it"):
    """Someone changed the issue since the caller read it (optimistic locking)."""

    def __init__(self, issue_id: int, sent: int, current: int) -> None:
        super().__init__(f"issue {issue_id} is at version {current}, you sent version {sent}: "
                         "someone changed it meanwhile; reload it and try again")
        self.current_version = current


class NeedsShopConfirmation(Conflict, code="issue_needs_shop_confirmation",
                            title="The shop has not confirmed the fix"):
    """An issue a retailer raised closes only once the shop confirmed the fix."""

    def __init__(self, issue_id: int) -> None:
        super().__init__(f"issue {issue_id} was raised by the shop: it closes only once the "
                         "shop confirmed the fix (confirm), after the assigner verified it")


class AlreadyConfirmed(Conflict, code="issue_already_confirmed",
                       title="The shop has confirmed the fix already"):
    """The shop confirms (or sends back) a verified fix once."""

    def __init__(self, issue_id: int) -> None:
        super().__init__(f"the shop has confirmed the fix of issue {issue_id} already")
