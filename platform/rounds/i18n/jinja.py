"""The product's words in Jinja2 templates: ``{{ _("check_in_here") }}``,
``{{ _("stops_total", page=2, pages=8, total=153) }}``.

:func:`install` adds Jinja2's i18n extension to an environment (its ``_`` is an alias that
looks ``gettext`` up in the render context first, then in the environment's globals; and
``pybabel extract`` finds the calls) and installs a ``gettext`` that reads the page's
language from the render context (the ``lang`` variable every page is rendered with), so
one shared environment serves every request in its own language. The word comes from the
first of the environment's catalogue domains that has the key.

Not Jinja's "newstyle" gettext: that one fills a translation with ``%`` formatting, and
the catalogues hold ``str.format`` text (``{name}``: the scripts get the same text and fill
it the same way; a literal ``%`` as in ``合格线 {pass}%`` would break ``%``). For the same
reason templates use ``_()`` calls, not ``{% trans %}`` blocks. The result is plain text:
autoescaping escapes it with its fields, like any other value.

Imports only :mod:`rounds.i18n` and Jinja2 (foundation layer).
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from rounds.i18n import normalize, table, text


def lookup(domains: tuple[str, ...], lang: str, key: str, /, **fields: Any) -> str:
    """``key`` from the first of ``domains`` that has it, in ``lang``, fields filled."""
    for domain in domains:
        if key in table(domain, lang):
            return text(domain, lang, key, **fields)
    raise KeyError(f"no text {key!r} in the catalogues {', '.join(domains)}")


def install(env: Environment, *domains: str) -> Environment:
    """Give ``env``'s templates ``_(key, **fields)`` (and ``gettext``) reading ``domains``."""
    if not domains:
        raise ValueError("name at least one catalogue domain")
    env.add_extension("jinja2.ext.i18n")

    @pass_context
    def gettext(context: Context, key: str, /, **fields: Any) -> str:
        return lookup(domains, normalize(context.get("lang")), key, **fields)

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, n: int, /,
                 **fields: Any) -> str:
        return lookup(domains, normalize(context.get("lang")), singular if n == 1 else plural,
                      **{"n": n, **fields})

    env.install_gettext_callables(  # type: ignore[attr-defined]  # added by the extension
        gettext, ngettext, newstyle=False)
    return env
