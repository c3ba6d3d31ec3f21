"""The language a request is answered in: one order for every page and every API.

1. ``?lang=``: what the person asked for (the pages' language switch; any API call);
2. the signed-in user's own language (their account);
3. the browser's ``Accept-Language``, by quality (in practice: before signing in);
4. the site's default (``ROUNDS_DEFAULT_LANGUAGE``), else Chinese.

A step counts only when it names a language there are words for (``en-GB`` is ``en``; ``fr``
passes to the next step). The order is :func:`rounds.i18n.negotiate`'s; this module only
reads its inputs from a request. Pages, JSON bodies' error messages, notifications and the
forms' schemas all ask :func:`request_language`.

Imports: :mod:`rounds.i18n`, Litestar. It knows no slice: the principal the authentication
middleware keeps in the request state is read for its ``language`` only.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

from rounds import i18n


def choose(asked: str | None, account: str | None, default: str = i18n.DEFAULT,
           accept_language: str | None = None) -> str:
    """The language from its four sources, in the order above."""
    return i18n.negotiate(asked, account, accept_language=accept_language, default=default)


def request_language(request: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The language to answer ``request`` in (see the module's docstring)."""
    principal = request.scope.get("state", {}).get("principal")
    settings = getattr(request.app.state, "settings", None)
    return choose(request.query_params.get("lang"), getattr(principal, "language", None),
                  getattr(settings, "default_language", i18n.DEFAULT),
                  request.headers.get("accept-language"))
