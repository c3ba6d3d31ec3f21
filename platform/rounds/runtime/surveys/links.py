"""Signed links to public surveys: the token in ``/s/{token}`` that a consumer's phone opens.

A token is a compact payload and its HMAC-SHA256 (the first 16 bytes), base64url without
padding. The payload: a version tag, the kind (a *shared* link, one response per device,
or a *single-use* token carrying a random nonce), the campaign's id and, for a shop's own
link, the site's id. Nothing else: the campaign's state and the shop are read from the
database, so a token says *which* survey, never *whether* it is open.

Verifying recomputes the MAC with :func:`hmac.compare_digest` and insists the text is the
one canonical encoding of the bytes (so no two spellings of one token exist); a token that
fails in any way is :class:`LinkInvalid`, which never says which part failed.

The key is ``ROUNDS_SURVEYS_LINK_KEY`` when set (at least :data:`MIN_KEY_LENGTH`
characters, checked when the app is made: :func:`check_settings`), else a random key made
once in the database (the ``survey_link_keys`` row 1, inserted or left: two processes racing
to make it agree on the one that won) and cached per engine, so printed QR codes keep
working across restarts and processes.

Imports: the slice's models; the shared ``rounds.runtime.sql``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import table_of
from rounds.errors import NotFound
from rounds.runtime.sql import insert_or_nothing
from rounds.runtime.surveys.models import SurveyLinkKey
from rounds.settings import Settings, SettingsError

MIN_KEY_LENGTH = 32
VERSION = 1
SHARED, SINGLE_USE = 0, 1
_HEAD = struct.Struct(">BBII")  # version, kind, campaign id, site id (0: none)
_NONCE_BYTES = 16
_MAC_BYTES = 16
_DOMAIN = b"rounds/survey-link\x00"  # the MAC signs nothing else with this key
MAX_TOKENS = 5000  # single-use tokens made at once


class LinkInvalid(NotFound, code="survey_link_invalid", title="This survey link is not valid"):
    """A token that is garbled, forged or signed with another key (which, it does not say)."""


@dataclass(frozen=True)
class Link:
    """What a valid token names: the campaign, the shop (or None) and, for a single-use
    token, its nonce (hex; None for a shared link)."""

    campaign_id: int
    site_id: int | None
    nonce: str | None


def check_settings(settings: Settings) -> None:
    """Refuse a configured link key too short to be a secret (when the app is made)."""
    key = settings.surveys.link_key
    if key and len(key) < MIN_KEY_LENGTH:
        raise SettingsError(f"ROUNDS_SURVEYS_LINK_KEY: expected at least {MIN_KEY_LENGTH} "
                            f"characters (a random secret), got {len(key)}; or leave it "
                            "empty for a key kept in the database")


# -- the key ----------------------------------------------------------------------------------

_keys: weakref.WeakKeyDictionary[Any, bytes] = weakref.WeakKeyDictionary()
_KEYS = table_of(SurveyLinkKey)


async def link_key(db: AsyncSession, settings: Settings) -> bytes:
    """The key that signs links: the configured one, else the database's (made once)."""
    if settings.surveys.link_key:
        return settings.surveys.link_key.encode()
    engine = db.get_bind()
    found = _keys.get(engine)
    if found is not None:
        return found
    # Made once: a racing process's insert wins or ours does; both then read the same row.
    await db.execute(insert_or_nothing(db, _KEYS, ["id"]).values(
        id=1, key=secrets.token_urlsafe(48)))
    stored = (await db.execute(select(SurveyLinkKey.key).where(SurveyLinkKey.id == 1))
              ).scalar_one()
    key = str(stored).encode()
    _keys[engine] = key
    return key


# -- making and reading tokens ----------------------------------------------------------------

def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, _DOMAIN + payload, hashlib.sha256).digest()[:_MAC_BYTES]


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _sign(key: bytes, kind: int, campaign_id: int, site_id: int | None,
          nonce: bytes = b"") -> str:
    payload = _HEAD.pack(VERSION, kind, campaign_id, site_id or 0) + nonce
    return _encode(payload + _mac(key, payload))


def campaign_link(key: bytes, campaign_id: int) -> str:
    """The campaign's shared link token (one response per device)."""
    return _sign(key, SHARED, campaign_id, None)


def shop_link(key: bytes, campaign_id: int, site_id: int) -> str:
    """A shop's own shared link token: its responses are about that shop."""
    return _sign(key, SHARED, campaign_id, site_id)


def single_use_tokens(key: bytes, campaign_id: int, n: int,
                      site_id: int | None = None) -> list[str]:
    """``n`` single-use tokens (each a random nonce; one response each)."""
    if not 0 < n <= MAX_TOKENS:
        raise ValueError(f"between 1 and {MAX_TOKENS} tokens at once, not {n}")
    return [_sign(key, SINGLE_USE, campaign_id, site_id, secrets.token_bytes(_NONCE_BYTES))
            for _ in range(n)]


def verify(key: bytes, token: str) -> Link:
    """What ``token`` names, or :class:`LinkInvalid` (never saying what was wrong)."""
    refused = LinkInvalid("this survey link is not valid")
    if not 0 < len(token) <= 128:
        raise refused
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise refused from None
    if _encode(raw) != token or len(raw) not in (_HEAD.size + _MAC_BYTES,
                                                 _HEAD.size + _NONCE_BYTES + _MAC_BYTES):
        raise refused
    payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(key, payload)):
        raise refused
    version, kind, campaign_id, site_id = _HEAD.unpack_from(payload)
    nonce = payload[_HEAD.size:]
    if version != VERSION or kind not in (SHARED, SINGLE_USE) or campaign_id == 0 \
            or (kind == SINGLE_USE) != bool(nonce):
        raise refused
    return Link(campaign_id, site_id or None, nonce.hex() if nonce else None)
