"""HTTP handlers of the definition store: thin, each one calls the service."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, get, post, put
from litestar.exceptions import NotFoundException
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.definitions.schemas import KINDS, common_schema, meta_schema
from rounds.runtime.access import Principal
from rounds.runtime.definitions import service
from rounds.runtime.definitions.models import DefinitionVersion
from rounds.web.paging import Page, Paging, paged
from rounds.web.params import Id


class VersionOut(msgspec.Struct):
    definition_id: str
    kind: str
    number: int
    content_hash: str
    status: str
    content: dict[str, Any]
    published_at: str | None


class CurrentSinceOut(msgspec.Struct):
    number: int
    content_hash: str
    at: str
    reason: str  # published | restored
    source: str | None


def version_out(v: DefinitionVersion) -> VersionOut:
    return VersionOut(
        definition_id=v.definition_id, kind=str(v.content.get("kind")), number=v.number,
        content_hash=v.content_hash, status=v.status, content=v.content,
        published_at=v.published_at.isoformat() if v.published_at else None)


class SchemaController(Controller):
    path = "/api/schemas"
    tags = ("definitions",)
    opt = {"public": True}  # noqa: RUF012 - Litestar reads it as a plain dict

    @get("/", summary="The definition kinds and their meta-schemas")
    async def index(self) -> dict[str, str]:
        return {kind: f"/api/schemas/{kind}.json" for kind in (*KINDS, "common")}

    @get("/{name:str}", summary="A kind's JSON Schema (2020-12)")
    async def schema(self, name: str) -> dict[str, Any]:
        kind = name.removesuffix(".json")
        if kind == "common":
            return common_schema()
        if kind not in KINDS:
            raise NotFoundException(f"no definition kind {kind!r}; kinds: {', '.join(KINDS)}")
        return meta_schema(kind)


class DefinitionController(Controller):
    path = "/api/definitions"
    tags = ("definitions",)

    @get("/", summary="Definitions, a page at a time (drafts: administrators only)",
         opt={"public": True}, dependencies=paged(500))
    async def index(self, db: AsyncSession, maybe_principal: Principal | None,
                    paging: Paging, kind: str | None = None) -> Page[service.DefinitionSummary]:
        items, total = await service.list_definitions(
            db, kind=kind, limit=paging.limit, offset=paging.offset,
            drafts=service.may_see_drafts(maybe_principal))
        return paging.of(items, total)

    @get("/{definition_id:str}", summary="The current version (the one in force)",
         opt={"public": True})
    async def current(self, db: AsyncSession, definition_id: str) -> VersionOut:
        return version_out(await service.get_version(db, definition_id))

    @get("/{definition_id:str}/history",
         summary="Which version was current from when (a rollback shows as restored)",
         opt={"public": True})
    async def history(self, db: AsyncSession, definition_id: str) -> list[CurrentSinceOut]:
        await service.get_version(db, definition_id)  # 404 for an unknown definition
        return [CurrentSinceOut(**vars(h)) for h in await service.current_history(
            db, definition_id)]

    @get("/{definition_id:str}/versions/{ref:str}",
         summary="A version by number or content hash (a draft: administrators only)",
         opt={"public": True})
    async def version(self, db: AsyncSession, maybe_principal: Principal | None,
                      definition_id: str, ref: str) -> VersionOut:
        return version_out(await service.readable_version(db, maybe_principal, definition_id,
                                                          ref))

    @put("/{definition_id:str}/draft", summary="Create or change the draft")
    async def save_draft(self, db: AsyncSession, principal: Principal, definition_id: str,
                         data: dict[str, Any]) -> VersionOut:
        principal.require("definition.author")
        if data.get("id") != definition_id:
            data = {**data, "id": data.get("id", definition_id)}
        return version_out(await service.save_draft(db, data, actor_id=principal.user_id))

    @post("/{definition_id:str}/versions/{number:int}/publish", status_code=200,
          summary="Publish a draft version (it never changes afterwards) and make it "
                  "current; an earlier published version becomes current again")
    async def publish(self, db: AsyncSession, principal: Principal, definition_id: str,
                      number: Id) -> VersionOut:
        principal.require("definition.publish")
        return version_out(await service.publish(db, definition_id, number,
                                                 actor_id=principal.user_id))


class ValidateController(Controller):
    path = "/api/definitions-validate"
    tags = ("definitions",)

    @post("/", status_code=200, summary="Check a definition; every problem at once",
          opt={"public": True})
    async def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        return service.check(data)
