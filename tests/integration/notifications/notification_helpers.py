"""Users and notifications made straight in a server's database, as a worker would."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from support.live import LiveServer, add_user, api_token, in_database, user_id


@dataclass
class Person:
    server: LiveServer
    username: str
    id: int = 0
    auth: dict[str, str] = field(default_factory=dict)


def new_person(server: LiveServer, role: str = "customer_manager") -> Person:
    """A new user of the server (a fresh one per test: servers are shared by a module)."""
    username = f"u{uuid.uuid4().hex[:10]}"
    add_user(server, username, role)
    return Person(server, username, user_id(server, username), api_token(server, username))


def notify(database_url: str, uid: int, count: int = 1, kind: str = "issue_assigned"
           ) -> list[int]:
    """``count`` notifications for a user, one transaction each, in order."""
    from rounds.runtime.notifications.service import notify as add

    ids: list[int] = []
    for i in range(count):
        key = uuid.uuid4().hex

        async def work(db: Any, i: int = i, key: str = key) -> list[int]:
            return await add(db, user_ids=[uid], kind=kind, dedupe_key=f"test:{key}",
                             message={"zh": f"通知 {i}", "en": f"Notice {i}"},
                             link=f"/issues/{i}")

        ids += in_database(database_url, work)
    return ids


def pushed_at(database_url: str, notification_id: int) -> Any:
    from sqlalchemy import select

    from rounds.runtime.notifications.models import Notification

    async def work(db: Any) -> Any:
        return (await db.execute(select(Notification.pushed_at).where(
            Notification.id == notification_id))).scalar_one()

    return in_database(database_url, work)
