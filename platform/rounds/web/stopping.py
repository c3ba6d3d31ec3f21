"""Knowing, inside a server process, that it has been asked to stop (SIGTERM or SIGINT).

Uvicorn catches both signals and then waits for open connections before the application's
shutdown hooks run: a live stream (SSE) never ends on its own, so the app would only hear of
the stop after ROUNDS_SERVER_DRAIN_SECONDS. While the app runs, the handlers uvicorn put in
place are wrapped so that whoever asked (``when_asked_to_stop``) hears of it first, and
uvicorn's own handling follows unchanged. This works however uvicorn was started (one
process or ``--workers N``), because the wrapping happens in the app's lifespan, after
uvicorn installed its handlers.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

_listeners: list[Callable[[], object]] = []
_asked = [False]  # not an Event: its lock is not safe to take in a signal handler


def when_asked_to_stop(listener: Callable[[], object]) -> Callable[[], None]:
    """Call ``listener()`` when this process is asked to stop; returns what removes it
    again. It runs in the signal handler: it must be short and take no lock (the handler
    may have interrupted the main thread holding it); ``loop.call_soon_threadsafe`` is fine.
    """
    _listeners.append(listener)
    if _asked[0]:
        listener()

    def remove() -> None:
        with contextlib.suppress(ValueError):
            _listeners.remove(listener)

    return remove


def notify() -> None:
    """Tell every listener the process is stopping (once)."""
    if _asked[0]:
        return
    _asked[0] = True
    for listener in list(_listeners):
        listener()


def _wrap(previous: Any) -> Callable[[int, FrameType | None], Any]:
    def handler(signum: int, frame: FrameType | None) -> Any:
        notify()
        if callable(previous):
            return previous(signum, frame)
        if previous == signal.SIG_DFL:  # what would have happened without us
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)
        return None

    return handler


@contextlib.contextmanager
def watching_stop_signals() -> Iterator[None]:
    """For the duration, SIGTERM and SIGINT also notify the listeners. Signals can only be
    handled in the main thread: elsewhere (an app run by a test client) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _asked[0] = False  # an app that starts is not stopping (several apps in one test run)
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    ours = {sig: _wrap(previous[sig]) for sig in STOP_SIGNALS}
    for sig, handler in ours.items():
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, handler in ours.items():
            if signal.getsignal(sig) is handler:  # unless someone wrapped it in turn
                signal.signal(sig, previous[sig])


@contextlib.asynccontextmanager
async def watch_stop_signals(_app: Any) -> AsyncIterator[None]:
    """The app's lifespan part: stop signals are watched while the app runs."""
    with watching_stop_signals():
        yield
