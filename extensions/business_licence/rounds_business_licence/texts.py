"""The extension's words: the ``business_licence`` catalogue (``locale/``), read through the
core's gettext catalogues once the extension is active (its folder is added then)."""

from __future__ import annotations

import contextlib
from datetime import date
from typing import Any

from rounds import i18n

DOMAIN = "business_licence"


def say(lang: str, key: str, /, **fields: Any) -> str:
    return i18n.text(DOMAIN, lang, key, **fields)


def day(value: date, lang: str) -> str:
    """A date as the locale writes it (2026年12月3日)."""
    return say(lang, "date", y=value.year, m=value.month, d=value.day)


def detail(d: Any, lang: str) -> str:
    """A check's stored detail (a key and parameters) in the reader's words; a ``date``
    parameter (ISO) is written as the locale writes dates."""
    if not isinstance(d, dict) or not isinstance(d.get("key"), str):
        return ""
    params = dict(d.get("params") or {})
    if isinstance(params.get("date"), str):
        with contextlib.suppress(ValueError):
            params["date"] = day(date.fromisoformat(params["date"]), lang)
    try:
        return say(lang, "detail_" + d["key"], **params)
    except (KeyError, IndexError):  # a key or field of a later version: say nothing wrong
        return ""


def expiry_titles(expires_on: date, today: date, site_name: str) -> dict[str, str]:
    """An expiry issue's title in every language."""
    key = "issue_expired" if expires_on < today else "issue_expires"
    return {lang: say(lang, key, date=day(expires_on, lang), site=site_name)[:300]
            for lang in i18n.LANGUAGES}
