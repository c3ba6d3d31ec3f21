"""A survey campaign as data: which survey, asked of whom, where, how many, when.

The spec is plain JSON decoded into the frozen msgspec Structs below by :func:`check_spec`,
which reports every mistake at once, each at its JSON pointer, and refuses unknown fields
(the structure is walked as the check campaigns' spec is, ``rounds.draws.spec``). What the
database knows (the surveys and their audience, the roles, the org units) comes in as
:class:`Known`, so the check itself reads nothing.

Org units are named by **id**, not code: the campaign keeps them as ids (the model's
``targeting``), the pages' checkboxes send ids (as the check campaigns' do), and an id
stays right when a unit is renamed or recoded. docs/surveys.md, "Campaigns", describes
each field.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec

from rounds.db import DB_INT_MAX
from rounds.draws.spec import structure_problems
from rounds.errors import InvalidInput, Problem
from rounds.pointer import child

SOURCE = "survey_campaign"
Audience = Literal["retailer", "consumer", "industry"]
OnePer = Literal["token", "device"]
MAX_FOLLOW_DAYS = 30


class Targeting(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Which shops a retailer campaign asks: in one of ``org_units`` (or a unit below one)
    and of one of ``grades`` (site attribute ``grade``); an empty list: any."""

    org_units: list[int] = []
    grades: list[str] = []


class FollowVisit(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Offer the survey to the shop after each visit by a holder of one of ``roles``, for
    ``within_days`` days after its check-in; the response is about that visit."""

    within_days: int
    roles: list[str]


class Period(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    start: datetime.date
    end: datetime.date


class CampaignSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A survey campaign. ``one_per`` is for consumers only (default ``"device"``);
    ``follow_visit`` for retailers only."""

    title: str
    survey: str
    audience: Audience
    targeting: Targeting = Targeting()
    follow_visit: FollowVisit | None = None
    one_per: OnePer | None = None
    target_responses: int
    period: Period


class SurveyCampaignError(InvalidInput, code="survey_campaign_invalid",
                          title="Invalid survey campaign"):
    """A survey campaign spec with mistakes; ``problems`` holds every one."""

    @classmethod
    def of(cls, problems: list[Problem]) -> SurveyCampaignError:
        head = "; ".join(str(p) for p in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        return cls(head + more, problems)


@dataclass(frozen=True)
class Known:
    """What the database holds that a spec may name: each survey with a published version
    and its ``audience`` (from its definition), the role ids, the org unit ids."""

    surveys: dict[str, str | None] = field(default_factory=dict)
    roles: frozenset[str] = frozenset()
    org_units: frozenset[int] = frozenset()


def _problem(out: list[Problem], where: str, message: str, code: str = "invalid") -> None:
    out.append(Problem(where, message, code, SOURCE))


def _structure(raw: Any) -> list[Problem]:
    """Structural mistakes: ``follow_visit`` (an object or null) is walked on its own, so
    that each of its fields is named rather than the first one msgspec meets."""
    if not isinstance(raw, dict):
        return structure_problems(CampaignSpec, raw, "", SOURCE)
    rest = {k: v for k, v in raw.items() if k != "follow_visit"}
    problems = structure_problems(CampaignSpec, rest, "", SOURCE)
    follow = raw.get("follow_visit")
    if follow is not None:
        problems += structure_problems(FollowVisit, follow, "/follow_visit", SOURCE)
    return problems


def meaning_problems(spec: CampaignSpec, known: Known) -> list[Problem]:
    """What the types cannot say: names that exist, ranges, what fits which audience."""
    out: list[Problem] = []
    if not spec.title.strip():
        _problem(out, "/title", "a title is required", "required")
    elif len(spec.title.strip()) > 200:
        _problem(out, "/title", "a title has at most 200 characters")
    if not spec.survey.strip():
        _problem(out, "/survey", "name the survey the campaign asks", "required")
    elif spec.survey not in known.surveys:
        _problem(out, "/survey", f"no published survey {spec.survey!r}", "unknown_reference")
    else:
        fits = known.surveys[spec.survey]
        if fits is not None and fits != spec.audience:
            _problem(out, "/survey", f"the survey {spec.survey!r} is written for "
                     f"{fits} respondents, not for {spec.audience} respondents",
                     "audience_mismatch")
    retail = spec.audience == "retailer"
    t = spec.targeting
    if not retail and (t.org_units or t.grades):
        _problem(out, "/targeting", "only a retailer campaign is narrowed to units or grades; "
                 f"a {spec.audience} campaign asks everyone it reaches", "not_for_audience")
    for n, unit in enumerate(t.org_units):
        if not 0 < unit <= DB_INT_MAX or unit not in known.org_units:
            _problem(out, child("/targeting/org_units", n), f"no org unit {unit}",
                     "unknown_reference")
    for n, grade in enumerate(t.grades):
        if not grade.strip():
            _problem(out, child("/targeting/grades", n), "a grade cannot be blank")
    if spec.follow_visit is not None:
        fv = spec.follow_visit
        if not retail:
            _problem(out, "/follow_visit", "only a retailer campaign follows visits (the "
                     "shop answers about the visit it had)", "not_for_audience")
        if not 1 <= fv.within_days <= MAX_FOLLOW_DAYS:
            _problem(out, "/follow_visit/within_days", f"within_days is a number of days "
                     f"from 1 to {MAX_FOLLOW_DAYS}; got {fv.within_days}")
        if not fv.roles:
            _problem(out, "/follow_visit/roles", "name at least one role whose visits the "
                     "survey follows", "required")
        for n, role in enumerate(fv.roles):
            if role not in known.roles:
                _problem(out, child("/follow_visit/roles", n), f"no role {role!r}",
                         "unknown_reference")
    if spec.one_per is not None and spec.audience != "consumer":
        _problem(out, "/one_per", "one_per (one response per token or per device) is for "
                 "consumer campaigns, whose respondents have no account", "not_for_audience")
    if spec.target_responses < 1:
        _problem(out, "/target_responses", f"target_responses is a number of responses, at "
                 f"least 1; got {spec.target_responses}")
    if spec.period.end < spec.period.start:
        _problem(out, "/period/end", f"the period must not end before it starts; it starts "
                 f"{spec.period.start} and ends {spec.period.end}")
    return out


# Sound stand-ins for the parts with structural mistakes, so one report holds every mistake.
_STAND_IN: dict[str, Any] = {"title": "x", "survey": "", "audience": "retailer",
                             "target_responses": 1,
                             "period": {"start": "2000-01-01", "end": "2000-01-01"}}


def check_spec(raw: Any, known: Known) -> CampaignSpec:
    """The campaign spec of ``raw`` (decoded JSON), normalised (a consumer campaign's
    ``one_per`` defaults to ``"device"``), or :class:`SurveyCampaignError` with every mistake,
    each at its JSON pointer."""
    problems = _structure(raw)
    if problems:
        if isinstance(raw, dict):
            problems += _sound_parts(raw, {p.pointer for p in problems}, known)
        raise SurveyCampaignError.of(problems)
    spec = msgspec.convert(raw, CampaignSpec)
    problems = meaning_problems(spec, known)
    if problems:
        raise SurveyCampaignError.of(problems)
    if spec.audience == "consumer" and spec.one_per is None:
        spec = msgspec.structs.replace(spec, one_per="device")
    return spec


def _sound_parts(raw: dict[str, Any], broken: set[str], known: Known) -> list[Problem]:
    def sound(key: str) -> bool:
        return not any(b == f"/{key}" or b.startswith(f"/{key}/") for b in broken)

    names = {f.encode_name for f in msgspec.structs.fields(CampaignSpec)}
    kept = {k: v for k, v in raw.items() if k in names and sound(k)}
    try:
        spec = msgspec.convert({**_STAND_IN, **kept}, CampaignSpec)
    except msgspec.ValidationError:
        return []
    # What depends on the audience is not judged against a stand-in audience.
    relative = ("audience_mismatch", "not_for_audience")
    return [p for p in meaning_problems(spec, known) if p.pointer.split("/")[1] in kept
            and ("audience" in kept or p.code not in relative)]


def spec_json(spec: CampaignSpec) -> dict[str, Any]:
    """The spec as JSON values (what the API answers and the edit form reads)."""
    out: dict[str, Any] = msgspec.to_builtins(spec)
    return out
