"""API handlers of forms: a form's JSON Schema, and checking a body without storing it.

Thin: each handler reads a definition version from the store and hands the raw body bytes
to the compiled form (cached by content hash), so the msgspec fast path decodes bytes.
An invalid body raises ``SubmissionInvalid``, which the app maps to a 422 problem listing
every error. Both routes are public, like the definitions they are made from.
"""

from __future__ import annotations

import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from rounds import i18n
from rounds.errors import NotFound
from rounds.forms.compiled import CompiledForm, compile_form
from rounds.forms.schema import FORM_KINDS
from rounds.rules.explain import explain_text
from rounds.runtime.access import Principal
from rounds.runtime.definitions import service
from rounds.runtime.definitions.models import DefinitionVersion
from rounds.runtime.forms import results
from rounds.runtime.visits import service as visits
from rounds.settings import Settings
from rounds.web.params import OptionalId


async def _form(db: AsyncSession, principal: Principal | None, definition_id: str,
                version: str | None) -> tuple[DefinitionVersion, CompiledForm]:
    v = await service.readable_version(db, principal, definition_id, version)
    kind = v.content.get("kind")
    if kind not in FORM_KINDS:
        raise NotFound(f"{definition_id!r} is a {kind}, not a standard or survey")
    return v, compile_form(v.content, v.content_hash)


def _version(v: DefinitionVersion) -> dict[str, Any]:
    return {"number": v.number, "content_hash": v.content_hash}


class FormsController(Controller):
    path = "/api/forms"
    tags = ("forms",)
    opt = {"public": True}  # noqa: RUF012 - Litestar reads it as a plain dict

    @get("/{definition_id:str}/schema",
         summary="The JSON Schema (2020-12) of a submission body for a standard or survey",
         description="`version`: a number or content hash (default: the current version). "
         "`lang`: zh or en, for titles. Conditional rules are in `x-rounds-rules`.")
    async def schema(self, db: AsyncSession, maybe_principal: Principal | None,
                     definition_id: str, version: str | None = None, lang: str = "zh"
                     ) -> dict[str, Any]:
        v, form = await _form(db, maybe_principal, definition_id, version)
        return {**form.schema(lang), "x-rounds-version": _version(v)}

    @post("/{definition_id:str}/check", status_code=200,
          summary="Validate and score a submission body without storing it",
          description="Body: {answers, evidence}. 200 with the score (in the definition's "
          "model), the outcomes, both in words in `lang` (`shown`), its explanation, failed "
          "items, alerts and what was dropped (hidden answers, calculated values sent); 422 "
          "listing every error with its JSON pointer, in `lang`. Rules see the same `ctx` "
          "as on submit: `today` in the company's time zone, and with `visit_id` (your own "
          "visit) `ctx.visit` and `ctx.site`.")
    async def check(self, *, request: Request[Any, Any, Any], db: AsyncSession,
                    settings: Settings, maybe_principal: Principal | None,
                    definition_id: str, version: str | None = None, lang: str = "zh",
                    visit_id: OptionalId = None) -> dict[str, Any]:
        body = await request.body()
        v, form = await _form(db, maybe_principal, definition_id, version)
        # The same ctx as a submission's: "today" in the company's time zone, and with
        # visit_id (a signed-in user's own visit) that visit and its site's attributes.
        ctx = await visits.check_context(db, maybe_principal, visit_id,
                                         now=datetime.datetime.now(datetime.UTC),
                                         tz=settings.tz)
        lang = i18n.normalize(lang)
        valid = form.validate(body, ctx, lang)
        ev = valid.evaluation
        score = msgspec.to_builtins(ev.score)
        outcomes = msgspec.to_builtins(ev.outcomes)
        failed = msgspec.to_builtins(ev.failed)
        return {
            "valid": True, "definition_id": v.definition_id, "version": _version(v),
            "score": score, "outcomes": outcomes,
            # The score and outcomes in words, as the result page says them (in lang).
            "shown": results.result_view(score, outcomes, failed, v.content,
                                         lang).as_builtins(),
            "explanation": explain_text(ev, lang),
            "failed": failed,
            "alerts": msgspec.to_builtins(ev.alerts),
            "answers": ev.answers, "calculated": ev.calculated, "dropped": valid.dropped,
        }


def api_handlers() -> list[Any]:
    return [FormsController]
