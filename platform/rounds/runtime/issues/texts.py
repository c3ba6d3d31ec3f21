"""The issues slice's words: notifications, the titles it makes, and why a party was routed.

The words themselves are in the gettext catalogue ``issues``
(``rounds/i18n/locale/<lang>/LC_MESSAGES/issues.po``, read with :func:`rounds.i18n.text`);
this module fills them in. A notification is stored in every language (a reader reads it
in theirs), so :func:`message` gives a ``{lang: text}`` map. An issue made from a
definition keeps its title in every language (``Issue.titles``); :func:`title_in` picks the
reader's with :func:`rounds.i18n.pick`, the product's one fallback order.

Imports only :mod:`rounds.i18n` and the issue model: every other module of the slice may
use it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from rounds import i18n
from rounds.runtime.issues.models import Issue

DOMAIN = "issues"

Title = str | Mapping[str, Any] | None  # one text, or {"zh": …, "en": …, …}


def words(lang: str, key: str, /, **fields: Any) -> str:
    """One text of the ``issues`` catalogue in ``lang``, its ``{fields}`` filled."""
    return i18n.text(DOMAIN, lang, key, **fields)


def span(delta: timedelta | None, lang: str) -> str:
    """A duration as people say it: hours under two days, days beyond."""
    hours = max(0, round((delta or timedelta()).total_seconds() / 3600))
    if hours < 48:
        return words(lang, "span_hours", n=hours)
    return words(lang, "span_days", n=round(hours / 24))


def titles(issue: Issue) -> dict[str, Any]:
    """An issue's title in every language (an issue typed by a person has just the one),
    with what else was stored beside it (``standard``, ``items``)."""
    return dict(issue.titles) if isinstance(issue.titles, dict) else {}


def title_in(title: Title, lang: str, fallback: str = "") -> str:
    """A title in ``lang`` (the :func:`rounds.i18n.pick` order), else ``fallback``. Of a
    stored ``titles`` map only the texts count (not its ``standard`` or ``items``)."""
    if isinstance(title, Mapping):
        return i18n.pick({k: v for k, v in title.items() if isinstance(v, str)}, lang,
                         fallback)
    return i18n.pick(title, lang, fallback)


def description(issue: Issue, lang: str) -> str:
    """The stored description (language-free: the site, the submitter's note) with the
    failed items of a per-submission issue listed in the reader's language."""
    items = titles(issue).get("items")
    lines = [f"- {title_in(t, lang)}" for t in items if isinstance(t, dict)] if isinstance(
        items, list) else []
    return "\n".join([issue.description, *lines]).strip() if lines else issue.description


# -- notifications --------------------------------------------------------------------------

def message(kind: str, title: Title, *, actor: str = "", reason: str = "",
            due_in: timedelta | None = None, unit: Title = "", plain: str = ""
            ) -> dict[str, str]:
    """A notification of ``kind`` in every language; the issue's title (and the ``unit``'s
    name) in each reader's language when it has several (``plain``: the one-language title
    to fall back on)."""
    return {lang: message_in(lang, kind, title_in(title, lang, plain), actor=actor,
                             reason=reason, due_in=due_in, unit=title_in(unit, lang))
            for lang in i18n.LANGUAGES}


def message_in(lang: str, kind: str, title: str, *, actor: str = "", reason: str = "",
               due_in: timedelta | None = None, unit: str = "") -> str:
    """A notification of ``kind`` in one language."""
    return words(lang, kind, title=title, actor=actor, unit=unit, span=span(due_in, lang),
                 reason=words(lang, "reason_suffix", reason=reason) if reason else "",
                 due=words(lang, "due_suffix", span=span(due_in, lang))
                 if due_in is not None else "")


# -- titles the slice makes -----------------------------------------------------------------

def failed_items_title(standard: Title, count: int, fallback: str) -> dict[str, str]:
    """The title of a submission's one issue for all its failed items, in every language:
    the standard's name (else ``fallback``) and how many failed."""
    key = "submission_failed_one" if count == 1 else "submission_failed_many"
    return {lang: words(lang, key, standard=title_in(standard, lang, fallback), count=count)
            for lang in i18n.LANGUAGES}


def feedback_title(kind: str, lang: str, text: str) -> str:
    """The title of a retailer's feedback sent without one: the kind, then ``text``."""
    return words(lang, f"feedback_{kind}", text=text)


# -- why a party was routed -----------------------------------------------------------------

def routing_reason(lang: str, *, party: str, why: str, fallback: str | None,
                   roles: Sequence[tuple[str, Title]] = (), unit: Title = "") -> str:
    """Why the rule did not find the ``party`` (assignee or assigner) and whom the fallback
    gave the issue to, in one language. ``roles``: the roles passed over (id, title);
    ``unit``: the unit whose head was chosen."""
    if why == "is_assignee":
        text = words(lang, "routed_is_assignee")
    elif why == "cannot_act":
        names = words(lang, "list_separator").join(title_in(t, lang, r) for r, t in roles)
        text = words(lang, "routed_cannot_act", roles=names, verb=words(lang, f"verb_{party}"))
    else:
        text = words(lang, "routed_no_candidate", party=words(lang, f"party_{party}"))
    if fallback == "head":
        return text + words(lang, "routed_to_head", unit=title_in(unit, lang))
    if fallback == "administrators":
        return text + words(lang, "routed_to_administrators")
    return text + words(lang, f"routed_nobody_{party}")
