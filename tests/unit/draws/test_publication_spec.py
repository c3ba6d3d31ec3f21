"""What the public record shows (the spec's ``publication``) is checked like the rest of the
spec, and is no draw input: the inputs' bytes and digest, and so every published draw, are
the same whatever it says and whether or not it existed when the draw was made."""

from __future__ import annotations

import hashlib

import msgspec
import pytest

from rounds.draws import (
    CampaignError,
    CampaignSpec,
    DrawInputs,
    DrawResult,
    DrawSpec,
    Publication,
    check_spec,
    decode_inputs,
    draw,
    verify,
)
from rounds.draws.draw import Inspector, OrgUnit, Site

SEED = hashlib.sha256(b"rounds publication").digest()


def raw(**changes: object) -> dict[str, object]:
    return {"standard": "food-safety", "population": {"site_kinds": ["shop"]},
            "sample": {"count": 2}, "pool": {"roles": ["inspector"]},
            "period": {"start": "2026-03-01", "end": "2026-05-31"}} | changes


def inputs(spec: DrawSpec) -> DrawInputs:
    return DrawInputs(spec=spec, org_units=[OrgUnit(id=1)],
                      sites=[Site(id=i, code=f"S{i}", org_unit=1, kind="shop")
                             for i in range(1, 6)],
                      inspectors=[Inspector(id=100 + j, org_unit=1, roles=["inspector"])
                                  for j in range(3)])


def test_by_default_inspectors_are_hidden_and_scores_shown() -> None:
    spec = check_spec(raw())
    assert spec.publication == Publication(inspectors="hidden", scores=True)
    named = check_spec(raw(publication={"inspectors": "names", "scores": False}))
    assert named.publication == Publication(inspectors="names", scores=False)


def test_every_mistake_at_its_pointer() -> None:
    with pytest.raises(CampaignError) as caught:
        check_spec(raw(publication={"inspectors": "phones", "scores": "yes", "photo": 1},
                       sample={"count": 0}))
    assert {p.pointer: p.message for p in caught.value.problems} == {
        "/publication/inspectors": "must be one of 'hidden', 'names'; got 'phones'",
        "/publication/scores": "must be true or false; got a string",
        "/publication/photo": "unknown field 'photo'",
        "/sample/count": "count is a number of sites, at least 1; got 0"}


def test_the_choice_is_no_draw_input() -> None:
    hidden = inputs(check_spec(raw()))
    named = inputs(check_spec(raw(publication={"inspectors": "names", "scores": False})))
    # What the storage publishes: the same bytes, without the choice.
    assert msgspec.json.encode(hidden) == msgspec.json.encode(named)
    assert b"publication" not in msgspec.json.encode(named)
    assert type(named.spec) is DrawSpec
    assert draw(hidden, SEED) == draw(named, SEED)


def test_inputs_published_before_the_choice_existed_still_verify() -> None:
    """Inputs encoded from a spec of the draw's fields only, as every draw before
    publication existed was, decode to the same digest and verify."""
    spec = check_spec(raw())
    old_spec = {k: v for k, v in msgspec.to_builtins(spec).items() if k != "publication"}
    old_bytes = msgspec.json.encode({**msgspec.to_builtins(inputs(spec)), "spec": old_spec})
    result = draw(decode_inputs(msgspec.json.decode(old_bytes)), SEED)
    again = decode_inputs(msgspec.json.decode(old_bytes))
    assert verify(again, SEED, msgspec.convert(msgspec.to_builtins(result), DrawResult))
    assert result.inputs_digest == draw(inputs(spec), SEED).inputs_digest
    # A CampaignSpec decodes from a stored spec without it, the default applied.
    assert msgspec.convert(old_spec, CampaignSpec).publication == Publication()
