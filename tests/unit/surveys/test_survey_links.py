"""Signed survey links: what a token names comes back, and any change to it is refused."""

from __future__ import annotations

import string

import pytest

from rounds.runtime.surveys import links
from rounds.runtime.surveys.links import LinkInvalid
from rounds.settings import SettingsError, load_settings

KEY = b"k" * 40
OTHER = b"o" * 40
ALPHABET = string.ascii_letters + string.digits + "-_"


def test_a_campaign_link_a_shop_link_and_single_use_tokens_round_trip() -> None:
    assert links.verify(KEY, links.campaign_link(KEY, 7)) == links.Link(7, None, None)
    assert links.verify(KEY, links.shop_link(KEY, 7, 42)) == links.Link(7, 42, None)
    tokens = links.single_use_tokens(KEY, 7, 50)
    read = [links.verify(KEY, t) for t in tokens]
    assert {r.campaign_id for r in read} == {7} and all(r.site_id is None for r in read)
    nonces = {r.nonce for r in read}
    assert len(nonces) == 50 and all(n and len(n) == 32 for n in nonces)


@pytest.mark.parametrize("token", [links.campaign_link(KEY, 3), links.shop_link(KEY, 3, 9),
                                   links.single_use_tokens(KEY, 3, 1)[0]])
def test_every_single_character_change_is_refused(token: str) -> None:
    links.verify(KEY, token)
    changed = 0
    for i in range(len(token)):
        for c in ALPHABET:
            if c == token[i]:
                continue
            with pytest.raises(LinkInvalid):
                links.verify(KEY, token[:i] + c + token[i + 1:])
            changed += 1
    for cut in (token[:-1], token[1:], token + "A", ""):
        with pytest.raises(LinkInvalid):
            links.verify(KEY, cut)
    assert changed == len(token) * (len(ALPHABET) - 1)


def test_a_token_of_another_key_is_refused_without_saying_why() -> None:
    token = links.shop_link(OTHER, 3, 9)
    with pytest.raises(LinkInvalid) as forged:
        links.verify(KEY, token)
    with pytest.raises(LinkInvalid) as garbled:
        links.verify(KEY, "not a token!")
    assert str(forged.value) == str(garbled.value)


def test_a_short_configured_key_is_refused_when_the_app_is_made() -> None:
    from rounds.app import create_app

    short = load_settings({"ROUNDS_SURVEYS_LINK_KEY": "too-short"})
    with pytest.raises(SettingsError, match="ROUNDS_SURVEYS_LINK_KEY"):
        create_app(short)
    links.check_settings(load_settings({"ROUNDS_SURVEYS_LINK_KEY": "x" * 32}))
    links.check_settings(load_settings({}))
