"""HTTP handlers for people: thin, each one calls the service (org units: ``orgs.web``).

A user outside the manager's scope answers 404 like one that does not exist; managing
people needs ``user.manage`` (403 otherwise).

Imports: the people slice, the slices before it, the shared runtime modules, the web toolkit.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, get, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import IdField
from rounds.i18n import DEFAULT
from rounds.runtime.access import Principal
from rounds.runtime.imports import import_handler
from rounds.runtime.people import service
from rounds.runtime.people.imports import import_users
from rounds.runtime.people.service import UserRow
from rounds.web.paging import Page, Paging, paged
from rounds.web.params import Id, OptionalId


class NewUser(msgspec.Struct):
    username: str
    role_id: str
    org_unit: str
    display_name: str = ""
    password: str | None = None  # none: one is generated and returned once
    phone: str | None = None
    site_id: IdField | None = None
    language: str = DEFAULT


class CreatedUser(msgspec.Struct):
    user: UserRow
    password: str | None  # the generated password, shown this once


class NewPassword(msgspec.Struct):
    password: str


class UserController(Controller):
    path = "/api/users"
    tags = ("people",)

    @get("/", summary="Users in my scope, a page at a time (user.manage)",
         dependencies=paged(500))
    async def index(self, db: AsyncSession, principal: Principal, paging: Paging, *,
                    role: str | None = None, org_unit_id: OptionalId = None,
                    q: str | None = Parameter(default=None, description="username or name"),
                    active: bool | None = None) -> Page[UserRow]:
        items, total = await service.list_users(
            db, principal, role_id=role, org_unit_id=org_unit_id, search=q, active=active,
            limit=paging.limit, offset=paging.offset)
        return paging.of(items, total)

    @post("/", summary="Create a user (user.manage); a password is generated if none is given")
    async def create(self, db: AsyncSession, principal: Principal, data: NewUser
                     ) -> CreatedUser:
        user, generated = await service.add_user(
            db, principal, username=data.username, display_name=data.display_name
            or data.username, role_id=data.role_id, org_unit_code=data.org_unit,
            password=data.password, site_id=data.site_id, phone=data.phone,
            language=data.language)
        return CreatedUser(user=await service.get_user(db, principal, user.id),
                           password=generated)

    @get("/{user_id:int}", summary="A user (user.manage)")
    async def details(self, db: AsyncSession, principal: Principal, user_id: Id) -> UserRow:
        return await service.get_user(db, principal, user_id)

    @post("/{user_id:int}/password", status_code=200,
          summary="Set a user's password; their sessions and tokens end (user.manage)")
    async def password(self, db: AsyncSession, principal: Principal, user_id: Id,
                       data: NewPassword) -> dict[str, str]:
        await service.set_password(db, principal, user_id, data.password)
        return {"status": "password set"}

    @post("/{user_id:int}/deactivate", status_code=200,
          summary="Stop an account; its records stay (user.manage)")
    async def deactivate(self, db: AsyncSession, principal: Principal, user_id: Id
                         ) -> UserRow:
        return await service.deactivate(db, principal, user_id)


def handlers() -> list[Any]:
    return [UserController,
            import_handler("users", import_users, what="users", capability="user.manage")]
