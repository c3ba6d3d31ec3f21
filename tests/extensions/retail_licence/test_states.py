"""The state machine, table-driven: every step from every state by every kind of person;
what is allowed goes, everything else is refused with 403 (wrong person) or 409 (wrong
state), and pure (no database)."""

from __future__ import annotations

import itertools

import pytest
from rounds_retail_licence import states
from rounds_retail_licence.states import Facts, NotYourStep, Who, WrongState

from rounds.runtime.access import Principal


def person(*capabilities: str) -> Principal:
    return Principal(user_id=1, username="u", display_name="u", role_id="r",
                     role_title={}, capabilities=frozenset(capabilities),
                     org_scope="org_subtree", org_unit_id=1, org_path="/1/", site_id=None,
                     language="zh", check_in_radius_m=100, check_in_max_accuracy_m=50)


# Who each kind of person is to the application.
PEOPLE = {
    "applicant": Who(person(states.APPLY), applicant=True, in_scope=False, inspector=False),
    "other_applicant": Who(person(states.APPLY), applicant=False, in_scope=False,
                           inspector=False),
    "reviewer": Who(person(states.REVIEW), applicant=False, in_scope=True, inspector=False),
    "reviewer_elsewhere": Who(person(states.REVIEW), applicant=False, in_scope=False,
                              inspector=False),
    "inspector": Who(person(states.INSPECT), applicant=False, in_scope=False, inspector=True),
    "other_inspector": Who(person(states.INSPECT), applicant=False, in_scope=False,
                           inspector=False),
    # a party without the capability: the applicant's account whose role lost "apply"
    "applicant_without_capability": Who(person(), applicant=True, in_scope=True,
                                        inspector=True),
}

# (step, state, decision) → who may take it; every other combination is refused.
ALLOWED = {
    ("check_documents", "submitted", None): "reviewer",
    ("schedule_inspection", "documents_checked", None): "reviewer",
    ("record_inspection", "inspection_scheduled", None): "inspector",
    ("decide", "inspected", None): "reviewer",
    ("issue", "decided", "grant"): "reviewer",
    ("refuse", "decided", "refuse"): "reviewer",
    **{("withdraw", s, None): "applicant" for s in (
        "submitted", "documents_checked", "inspection_scheduled", "inspected")},
}
DOERS = {"check_documents": "reviewer", "schedule_inspection": "reviewer",
         "record_inspection": "inspector", "decide": "reviewer", "issue": "reviewer",
         "refuse": "reviewer", "withdraw": "applicant"}
FACTS = [Facts(s) for s in states.STATES if s != "decided"] + [
    Facts("decided", "grant"), Facts("decided", "refuse")]
CASES = list(itertools.product(states.STEPS, FACTS, PEOPLE))


@pytest.mark.parametrize(("step", "facts", "who"), CASES,
                         ids=[f"{s}-{f.state}{'-' + f.decision if f.decision else ''}-{w}"
                              for s, f, w in CASES])
def test_every_step_from_every_state_by_everyone(step: str, facts: Facts, who: str) -> None:
    allowed = ALLOWED.get((step, facts.state, facts.decision if step in ("issue", "refuse")
                           else None))
    if allowed == who:
        result = states.check(step, facts, PEOPLE[who])
        assert result.to_state == {"issue": "issued", "refuse": "refused",
                                   "withdraw": "withdrawn"}.get(
            step, result.to_state)
        assert step in states.allowed(facts, PEOPLE[who])
        return
    expected: type[Exception] = WrongState if DOERS[step] == who else NotYourStep
    with pytest.raises(expected) as caught:
        states.check(step, facts, PEOPLE[who])
    assert step not in states.allowed(facts, PEOPLE[who])
    err = caught.value
    if expected is WrongState:
        assert (err.status, err.code) == (409, "licence_wrong_state")  # type: ignore[attr-defined]
        assert facts.state in str(err)
    else:
        assert (err.status, err.code) == (403, "licence_not_your_step")  # type: ignore[attr-defined]


def test_the_allowed_steps_lead_where_the_diagram_says() -> None:
    to = {name: s.to_state for name, s in states.STEPS.items()}
    assert to == {"check_documents": "documents_checked",
                  "schedule_inspection": "inspection_scheduled",
                  "record_inspection": "inspected", "decide": "decided", "issue": "issued",
                  "refuse": "refused", "withdraw": "withdrawn"}
    for final in states.FINAL:  # nothing leads out of a final state
        assert not [s for s in states.STEPS.values() if final in s.from_states]


def test_applying_needs_the_capability() -> None:
    states.may_submit(person(states.APPLY))
    with pytest.raises(NotYourStep):
        states.may_submit(person(states.REVIEW))
