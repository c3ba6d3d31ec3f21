"""A check campaign (双随机抽查) as data: what to check, where, how many, by whom, when.

The spec is plain JSON, decoded into the frozen msgspec Structs below by :func:`check_spec`,
which reports every mistake at once, each with its JSON pointer (as definitions do), and
refuses unknown fields. docs/draws.md describes each field.
"""

from __future__ import annotations

import datetime
import difflib
import re
import typing
from typing import Any, Literal

import msgspec

from rounds.errors import InvalidInput, Problem
from rounds.pointer import child

SOURCE = "campaign"
StratifyBy = Literal["org_unit", "grade"]
FormKind = Literal["standard", "survey"]
FORM_FIELDS: tuple[FormKind, ...] = ("standard", "survey")



class Population(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Which sites may be drawn: every condition given must hold (an empty list: any).

    ``org_units`` takes in each unit's descendants; ``site_ids`` is a saved filter, a
    fixed list of sites."""

    site_kinds: list[str] = []
    org_units: list[int] = []
    grades: list[str] = []
    site_ids: list[int] | None = None


class Sample(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How many sites: ``count`` or ``share`` (of the eligible sites), exactly one of them."""

    count: int | None = None
    share: float | None = None
    stratify_by: StratifyBy | None = None
    min_per_stratum: int | None = None


class Pool(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Who may inspect: inspectors holding one of ``roles`` in one of ``org_units`` (or in
    a descendant; an empty list: anywhere)."""

    roles: list[str]
    org_units: list[int] = []


class Exclusions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An inspector never draws a site they serve or served within ``served_within_days``
    before the period starts; a site drawn within ``redraw_within_days`` before it is not
    drawn again unless ``allow_repeat``."""

    served_within_days: int = 365
    redraw_within_days: int = 365
    allow_repeat: bool = False


class Period(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    start: datetime.date
    end: datetime.date


class Publication(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the public record of the closed campaign shows: the inspectors' names
    (``"names"``) or nothing of them (``"hidden"``; never more than names, whatever the
    choice), and each outcome's score or only 合格/不合格 (``scores``)."""

    inspectors: Literal["hidden", "names"] = "hidden"
    scores: bool = True


class DrawSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The part of a campaign the draw reads: what the draw's published inputs hold.

    ``standard`` or ``survey`` names the form the checks fill (exactly one of them). The one
    left out is UNSET, so it is not in the spec's JSON at all: a standard campaign's spec
    (and so its draw inputs and their digest) is the same JSON it was before surveys could
    be named."""

    standard: str | msgspec.UnsetType = msgspec.UNSET
    survey: str | msgspec.UnsetType = msgspec.UNSET
    population: Population
    sample: Sample
    pool: Pool
    period: Period
    team_size: int = 1
    exclusions: Exclusions = Exclusions()

    @property
    def form_kind(self) -> FormKind:
        """Which kind of form the campaign names: ``"survey"`` or ``"standard"``."""
        return "survey" if isinstance(self.survey, str) else "standard"

    @property
    def form(self) -> str:
        """The id of the form the checks fill (the standard's or the survey's)."""
        named = self.survey if isinstance(self.survey, str) else self.standard
        return named if isinstance(named, str) else ""


class CampaignSpec(DrawSpec, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A campaign: the draw's part and what the public record shows. ``publication`` is
    not a draw input (:func:`draw_part` leaves it out), so choosing it changes no draw and
    the inputs and digests of draws made before it existed stay what they were."""

    publication: Publication = Publication()


def draw_part(spec: DrawSpec) -> DrawSpec:
    """The spec as the draw's inputs hold it: exactly the fields of :class:`DrawSpec`."""
    if type(spec) is DrawSpec:
        return spec
    return DrawSpec(**{f.name: getattr(spec, f.name) for f in msgspec.structs.fields(DrawSpec)})


class CampaignError(InvalidInput, code="campaign_invalid", title="Invalid check campaign"):
    """A campaign spec (or draw inputs) with mistakes; ``problems`` holds every one."""

    @classmethod
    def of(cls, problems: list[Problem]) -> CampaignError:
        head = "; ".join(str(p) for p in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        return cls(head + more, problems)


# -- structure: msgspec checks each field on its own, so that every mistake is found -----------

_AT = re.compile(r" - at `\$(.*)`$")
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def _where(base: str, error: msgspec.ValidationError) -> tuple[str, str]:
    """The pointer and message of a msgspec error found converting the value at ``base``."""
    text = str(error)
    match = _AT.search(text)
    if match is None:
        return base, text
    tokens: list[str | int] = []
    for name, index in _STEP.findall(match.group(1)):
        tokens.append(name if name else int(index))
    return child(base, *tokens), text[:match.start()]


def structure_problems(tp: type[msgspec.Struct], raw: Any, at: str = "",
                       source: str = SOURCE) -> list[Problem]:
    """Every structural mistake of ``raw`` as a ``tp``: not an object, unknown or missing
    fields, a value of the wrong type (nested Structs are walked field by field)."""
    if not isinstance(raw, dict):
        return [Problem(at, "must be a JSON object", "schema", source)]
    fields = msgspec.structs.fields(tp)
    names = [f.encode_name for f in fields]
    problems: list[Problem] = []
    for key in raw:
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(Problem(child(at, str(key)), f"unknown field {key!r}{hint}",
                                    "unknown_field", source))
    for f in fields:
        where = child(at, f.encode_name)
        if f.encode_name not in raw:
            if f.required:
                problems.append(Problem(where, f"{f.encode_name!r} is required", "required",
                                        source))
            continue
        value = raw[f.encode_name]
        if isinstance(f.type, type) and issubclass(f.type, msgspec.Struct):
            problems.extend(structure_problems(f.type, value, where, source))
            continue
        try:
            msgspec.convert(value, f.type)
        except msgspec.ValidationError as exc:
            pointer, message = _where(where, exc)
            named = _NAMED.match(message)
            if named:  # a field of an object inside a list: point at the field itself
                unknown = named.group(1) == "contains unknown"
                problems.append(Problem(
                    child(pointer, named.group(2)),
                    f"unknown field {named.group(2)!r}" if unknown
                    else f"{named.group(2)!r} is required",
                    "unknown_field" if unknown else "required", source))
            else:
                problems.append(Problem(pointer, _plain(message, f.type), "schema", source))
    return problems


_NAMED = re.compile(r"^Object (contains unknown|missing required) field `([^`]+)`$")


_EXPECTED = re.compile(r"^Expected `([^`]+)`, got `([^`]+)`$")
_TYPE_NAMES = {"str": "a string", "int": "an integer", "float": "a number",
               "bool": "true or false", "array": "a list", "object": "an object",
               "date": "a date (YYYY-MM-DD)", "null": "null"}


def _choices(tp: Any) -> list[str]:
    if typing.get_origin(tp) is Literal:
        return [str(a) for a in typing.get_args(tp)]
    return [c for arg in typing.get_args(tp) for c in _choices(arg)]


def _plain(message: str, tp: Any) -> str:
    """msgspec's message in the words of the rest of Rounds."""
    choices = _choices(tp)
    if message.startswith("Invalid enum value") and choices:
        return f"must be one of {', '.join(map(repr, choices))}; got {message.split(' ', 3)[3]}"
    match = _EXPECTED.match(message)
    if match:
        want = " or ".join(_TYPE_NAMES.get(t, t) for t in match.group(1).split(" | "))
        got = "a boolean" if match.group(2) == "bool" else _TYPE_NAMES.get(match.group(2),
                                                                           match.group(2))
        return f"must be {want}; got {got}"
    if message.startswith("Invalid RFC3339 encoded date"):
        return "must be a date (YYYY-MM-DD)"
    return message


# -- meaning -------------------------------------------------------------------------------------

def meaning_problems(spec: DrawSpec) -> list[Problem]:
    """What the types cannot say: ranges, one of count/share, end after start..."""
    out: list[Problem] = []

    def bad(where: str, message: str) -> None:
        out.append(Problem(where, message, "invalid", SOURCE))

    sample = spec.sample
    if (sample.count is None) == (sample.share is None):
        bad("/sample", "give exactly one of count (a number of sites) and share (a fraction "
                       "of the eligible sites)")
    if sample.count is not None and sample.count <= 0:
        bad("/sample/count", f"count is a number of sites, at least 1; got {sample.count}")
    if sample.share is not None and not 0 < sample.share <= 1:
        bad("/sample/share", "share is a fraction of the eligible sites, more than 0 and at "
                             f"most 1 (0.1 is 10%); got {sample.share}")
    if sample.min_per_stratum is not None:
        if sample.stratify_by is None:
            bad("/sample/min_per_stratum",
                "min_per_stratum needs stratify_by (\"org_unit\" or \"grade\")")
        if sample.min_per_stratum < 1:
            bad("/sample/min_per_stratum",
                f"min_per_stratum is a number of sites, at least 1; got "
                f"{sample.min_per_stratum}")
    if spec.team_size not in (1, 2):
        bad("/team_size", f"team_size is 1 (one inspector) or 2 (a team of two); got "
                          f"{spec.team_size}")
    if not spec.pool.roles:
        bad("/pool/roles", "name at least one role whose holders may inspect")
    for key in ("served_within_days", "redraw_within_days"):
        days = getattr(spec.exclusions, key)
        if days < 0:
            bad(f"/exclusions/{key}", f"{key} is a number of days, 0 or more; got {days}")
    if spec.period.end <= spec.period.start:
        bad("/period/end", f"the period must end after it starts; it starts "
                           f"{spec.period.start} and ends {spec.period.end}")
    out.extend(form_problems({k: getattr(spec, k) for k in FORM_FIELDS
                              if getattr(spec, k) is not msgspec.UNSET}))
    if spec.population.site_ids is not None and not spec.population.site_ids:
        bad("/population/site_ids", "a saved filter of no sites draws nothing; leave "
                                    "site_ids out to draw from every site")
    return out


def form_problems(named: dict[str, Any]) -> list[Problem]:
    """Exactly one of ``standard`` and ``survey`` (``named``: those given, by field), not
    blank: both or neither is a problem at both pointers, so either fix is pointed at."""
    if len(named) == 1:
        [(key, value)] = named.items()
        if isinstance(value, str) and not value.strip():
            return [Problem(f"/{key}", f"name the {key} the checks use", "invalid", SOURCE)]
        return []
    if named:
        message = ("give either standard (a standard's id) or survey (a survey's id), "
                   "not both: a campaign fills one form")
        code = "invalid"
    else:
        message = ("name the form the checks fill: standard (a standard's id) or survey "
                   "(a survey's id)")
        code = "required"
    return [Problem(f"/{key}", message, code, SOURCE) for key in FORM_FIELDS]


def check_spec(raw: Any) -> CampaignSpec:
    """The campaign spec of ``raw`` (decoded JSON), or :class:`CampaignError` with every
    mistake, each at its JSON pointer."""
    problems = structure_problems(CampaignSpec, raw)
    if problems:
        if isinstance(raw, dict):
            problems.extend(_sound_parts_meaning(raw, {p.pointer for p in problems}))
        raise CampaignError.of(problems)
    spec = msgspec.convert(raw, CampaignSpec)
    problems = meaning_problems(spec)
    if problems:
        raise CampaignError.of(problems)
    return spec


# Sound stand-ins for the top-level parts of a spec that have structural mistakes.
_STAND_IN: dict[str, Any] = {
    "population": {}, "sample": {"count": 1}, "pool": {"roles": ["x"]},
    "period": {"start": "2000-01-01", "end": "2000-01-02"}}


def _sound_parts_meaning(raw: dict[str, Any], broken: set[str]) -> list[Problem]:
    """The meaning problems of the parts of ``raw`` that are sound, so that one report holds
    every mistake: the broken parts are replaced by sound stand-ins, whose problems (none)
    would not be the user's anyway."""
    def is_sound(key: str) -> bool:
        return not any(b == f"/{key}" or b.startswith(f"/{key}/") for b in broken)

    fields = {f.encode_name for f in msgspec.structs.fields(CampaignSpec)}
    sound = {k: v for k, v in raw.items() if k in fields and is_sound(k)}
    spec = msgspec.convert({**_STAND_IN, **sound}, CampaignSpec)
    out = [p for p in meaning_problems(spec) if p.pointer.split("/")[1] in sound]
    if not any(key in raw for key in FORM_FIELDS):  # no form named: the stand-in has none
        out.extend(form_problems({}))
    return out
