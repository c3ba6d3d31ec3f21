"""HTTP of the inbox, and its live stream (Server-Sent Events) for open pages.

Live pushes go through Litestar's channels, one channel per user (``user:{id}``):
in process memory by default (one API process), through Redis when ``ROUNDS_REDIS_URL``
is set (any number of API processes and workers). See ``push`` for who publishes what.
An item's ``text`` is its message in the request's language (``rounds.web.language``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import msgspec
from litestar import Controller, Litestar, Request, get, post
from litestar.channels import ChannelsPlugin, Subscriber
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.config.app import AppConfig
from litestar.plugins import InitPlugin
from litestar.response import ServerSentEvent, ServerSentEventMessage
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.ops.metrics import stream_closed, stream_opened
from rounds.runtime.access import Principal
from rounds.runtime.notifications import service
from rounds.runtime.notifications.push import (
    Pusher,
    notification_event,
    user_channel,
)
from rounds.runtime.sql import writer_lock
from rounds.settings import Settings, redis_prefix
from rounds.web.language import request_language
from rounds.web.paging import Page, Paging, paged
from rounds.web.params import Id, OptionalId, id_or_none
from rounds.web.stopping import when_asked_to_stop

KEEP_ALIVE_SECONDS = 15.0  # a comment this often keeps proxies from closing an idle stream
RETRY_MS = 3000  # how soon a browser reconnects after the stream drops


class NotificationItem(msgspec.Struct):
    id: int
    kind: str
    message: dict[str, str]
    text: str
    link: str
    issue_id: int | None
    created_at: str
    read_at: str | None
    unread: bool


class NotificationPage(Page[NotificationItem]):
    """A page of the inbox, and how many of all my notifications are unread."""

    items: list[NotificationItem]  # restated: the OpenAPI document reads it from here
    unread: int


class UnreadCount(msgspec.Struct):
    unread: int


class ReadAll(msgspec.Struct):
    marked: int
    unread: int


def _item(n: service.NotificationView, lang: str) -> NotificationItem:
    return NotificationItem(id=n.id, kind=n.kind, message=n.message, text=n.text(lang),
                            link=n.link, issue_id=n.issue_id,
                            created_at=n.created_at.isoformat(),
                            read_at=n.read_at.isoformat() if n.read_at else None,
                            unread=n.unread)


@asynccontextmanager
async def _writing(request: Request[Any, Any, Any]) -> AsyncIterator[AsyncSession]:
    """A transaction of its own, one writer at a time on SQLite (see ``writer_lock``)."""
    state = request.app.state
    async with writer_lock(state.engine), state.sessions() as db, db.begin():
        yield db


def _pusher(request: Request[Any, Any, Any]) -> Pusher:
    pusher: Pusher = request.app.state.notifications_pusher
    return pusher


class NotificationController(Controller):
    path = "/api/notifications"
    tags = ("notifications",)

    @get("/", summary="My inbox: unread first, then newest first", dependencies=paged(200))
    async def inbox(self, request: Request[Any, Any, Any], db: AsyncSession,
                    principal: Principal, paging: Paging, *,
                    unread_only: bool = False) -> NotificationPage:
        items, total = await service.inbox(db, principal.user_id, limit=paging.limit,
                                           offset=paging.offset, unread_only=unread_only)
        unread = await service.unread_count(db, principal.user_id)
        lang = request_language(request)
        return NotificationPage(items=[_item(n, lang) for n in items],
                                total=total, unread=unread, page=paging.page,
                                per_page=paging.per_page)

    @get("/unread-count", summary="How many of my notifications are unread")
    async def unread_count(self, db: AsyncSession, principal: Principal) -> UnreadCount:
        return UnreadCount(unread=await service.unread_count(db, principal.user_id))

    @post("/{notification_id:int}/read", status_code=200,
          summary="Mark one of my notifications read (someone else's: 404)")
    async def read(self, request: Request[Any, Any, Any], principal: Principal,
                   notification_id: Id) -> NotificationItem:
        # Own transaction, so that other open pages hear the new count after the commit.
        async with _writing(request) as db:
            n = await service.mark_read(db, principal.user_id, notification_id)
            unread = await service.unread_count(db, principal.user_id)
        _pusher(request).publish_unread(principal.user_id, unread)
        return _item(n, request_language(request))

    @post("/read-all", status_code=200, summary="Mark all my notifications read")
    async def read_all(self, request: Request[Any, Any, Any], principal: Principal
                       ) -> ReadAll:
        async with _writing(request) as db:
            marked = await service.mark_all_read(db, principal.user_id)
            unread = await service.unread_count(db, principal.user_id)  # 0 unless one came
        _pusher(request).publish_unread(principal.user_id, unread)
        return ReadAll(marked=marked, unread=unread)

    @get("/stream", summary="My notifications, live (Server-Sent Events)",
         description="Events: `unread` first ({unread}), then `notification` for each new "
         "one (event id = notification id; data {id, kind, message, link, issue_id, "
         "created_at, unread}) and `unread` when the count changes elsewhere; a comment "
         "every ~15 s keeps the connection open. A browser that reconnects sends "
         "Last-Event-ID and first gets what it missed (`?last_event_id=` does the same).")
    async def stream(self, request: Request[Any, Any, Any], principal: Principal,
                     channels: ChannelsPlugin,
                     last_event_id: OptionalId = None) -> ServerSentEvent:
        header = id_or_none(request.headers.get("last-event-id", ""))
        if header is not None:
            last_event_id = header
        return ServerSentEvent(event_stream(
            request.app.state.sessions, channels, principal.user_id,
            prefix=_pusher(request).prefix, last_event_id=last_event_id,
            stopping=request.app.state.notifications_stopping))


class _Recent:
    """Ids already sent on one stream (replayed, or pushed twice): sent once each."""

    def __init__(self, size: int = 1000) -> None:
        self._order: deque[int] = deque()
        self._ids: set[int] = set()
        self._size = size

    def add(self, n: int) -> bool:
        """Remember ``n``; False if it was already there."""
        if n in self._ids:
            return False
        self._ids.add(n)
        self._order.append(n)
        if len(self._order) > self._size:
            self._ids.discard(self._order.popleft())
        return True


async def _pump(subscriber: Subscriber, queue: asyncio.Queue[bytes]) -> None:
    async for data in subscriber.iter_events():
        await queue.put(data)


async def event_stream(sessions: async_sessionmaker[AsyncSession], channels: ChannelsPlugin,
                       user_id: int, *, prefix: str = "", last_event_id: int | None = None,
                       keep_alive: float = KEEP_ALIVE_SECONDS,
                       stopping: asyncio.Event | None = None
                       ) -> AsyncIterator[ServerSentEventMessage]:
    """The live events of one user's page, for as long as it stays connected, or until
    ``stopping`` is set (the server is shutting down: the stream ends at once, so the
    shutdown does not wait for it, and the browser reconnects, to another process or to
    this one restarted, and gets what it missed by Last-Event-ID)."""
    channel = user_channel(user_id, prefix)
    # Subscribe before reading the database: whatever is published from here on is queued,
    # so nothing falls between the replay and the live events (duplicates are dropped).
    subscriber = await channels.subscribe([channel])
    # Our own queue, so that waiting for the next event can time out (for the keep-alive)
    # without cancelling the subscriber's iterator.
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    pump = asyncio.create_task(_pump(subscriber, queue))
    stop = asyncio.ensure_future((stopping or asyncio.Event()).wait())
    sent = _Recent()
    if last_event_id is not None:
        sent.add(last_event_id)  # the page has it: not again, should it come live now
    stream_opened()
    try:
        async with sessions() as db:
            unread = await service.unread_count(db, user_id)
            missed = (await service.since(db, user_id, last_event_id)
                      if last_event_id is not None else [])
        yield ServerSentEventMessage(event="unread", data=_json({"unread": unread}),
                                     retry=RETRY_MS)
        for n in missed:
            sent.add(n.id)
            yield ServerSentEventMessage(id=n.id, event="notification",
                                         data=notification_event(n, unread))
        while True:
            taking = asyncio.ensure_future(queue.get())
            await asyncio.wait({taking, stop}, timeout=keep_alive,
                               return_when=asyncio.FIRST_COMPLETED)
            if not taking.done():
                taking.cancel()  # nothing is lost: a cancelled get leaves the queue as it was
                if stop.done():
                    return
                yield ServerSentEventMessage(comment="keep-alive", data=None)
                continue
            data = taking.result()
            message = msgspec.json.decode(data)
            if message.get("type") == "notification":
                if sent.add(int(message["id"])):
                    yield ServerSentEventMessage(id=message["id"], event="notification",
                                                 data=data)
            elif message.get("type") == "unread":
                yield ServerSentEventMessage(event="unread",
                                             data=_json({"unread": message["unread"]}))
    finally:
        # The page went away (the response was cancelled): leave the channel even so.
        with anyio.CancelScope(shield=True):
            stream_closed()
            stop.cancel()
            await channels.unsubscribe(subscriber, [channel])
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump


def _json(value: Any) -> bytes:
    return msgspec.json.encode(value)


# -- assembly --------------------------------------------------------------------------------------

def channels_backend(settings: Settings) -> ChannelsBackend:
    """Redis pub/sub when configured (any number of processes), else process memory."""
    if settings.redis.url:
        from litestar.channels.backends.redis import RedisChannelsPubSubBackend
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialWithJitterBackoff

        # Retry for ever (every 5 s at most): the channels' reader task ends for good on
        # an error, so it must outlast a Redis restart; redis-py then resubscribes. Our
        # publishes are bounded by the pusher's own timeout instead.
        client = Redis.from_url(settings.redis.url, socket_connect_timeout=5,
                                retry=Retry(ExponentialWithJitterBackoff(base=0.2, cap=5), -1))
        return RedisChannelsPubSubBackend(redis=client)
    return MemoryChannelsBackend()


class NotificationsPlugin(InitPlugin):
    """Channels (for the live stream) and the pusher, started with the app.

    Its lifespan runs after the app's own, which has opened the database by then.
    """

    def __init__(self, settings: Settings, *, poll_seconds: float = 1.0) -> None:
        self.settings = settings
        self.poll_seconds = poll_seconds
        # A slow page loses its oldest queued events, not the process its memory; it gets
        # them back from the inbox (or on reconnect, by Last-Event-ID).
        self.channels = ChannelsPlugin(backend=channels_backend(settings),
                                       arbitrary_channels_allowed=True,
                                       subscriber_max_backlog=1000,
                                       subscriber_backlog_strategy="dropleft")

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        self.channels.on_app_init(app_config)  # the `channels` dependency, its lifespan
        app_config.lifespan.append(self._lifespan)
        return app_config

    @asynccontextmanager
    async def _lifespan(self, app: Litestar) -> AsyncIterator[None]:
        pusher = Pusher(app.state.sessions, app.state.engine, self.channels,
                        prefix=redis_prefix(self.settings.redis.url),
                        interval=self.poll_seconds)
        app.state.notifications_pusher = pusher
        # Set when the process is asked to stop: open streams end (see event_stream).
        stopping = app.state.notifications_stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        forget = when_asked_to_stop(lambda: loop.call_soon_threadsafe(stopping.set))
        task = await pusher.start()
        try:
            yield
        finally:
            forget()
            await pusher.stop(task)


def handlers() -> list[Any]:
    return [NotificationController]
