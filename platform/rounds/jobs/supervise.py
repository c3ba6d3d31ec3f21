"""The job worker that ``rounds up`` runs beside its server, watched.

A worker that exits while nobody asked it to (killed, crashed, out of memory) is noticed:
one log line says so, and another one is started after a pause that doubles with each exit
(1, 2, 4 ... 30 s). Should it keep exiting (``CRASH_LIMIT`` exits within ``CRASH_WINDOW``
seconds) the supervisor gives up and ``rounds up`` stops as a whole, with a message and a
non-zero exit: a server without its worker would look alive while no job runs.

Each worker runs in a process group of its own (its pool and beat with it), so that what is
left of it can be killed: after a crash before the next one starts, and when stopping, if it
has not finished its task within the bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from types import FrameType

log = logging.getLogger("rounds.jobs.supervise")

BACKOFF_SECONDS = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
CRASH_LIMIT = 5
CRASH_WINDOW = 300.0


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


class WorkerSupervisor:
    """Starts ``command``, restarts it when it exits unasked, stops it on request.

    ``give_up(message)`` is called (from the watching thread) when it exits too often; the
    caller then stops everything. ``stop()`` may be called from any thread, more than once;
    ``stopping()`` and ``kill()`` from a signal handler too (they take no lock: the handler
    may have interrupted the main thread inside one).
    """

    def __init__(self, command: Sequence[str], *, give_up: Callable[[str], None],
                 stop_seconds: float = 20, backoff: Sequence[float] = BACKOFF_SECONDS,
                 crash_limit: int = CRASH_LIMIT, crash_window: float = CRASH_WINDOW) -> None:
        self.command = list(command)
        self.give_up = give_up
        self.stop_seconds = stop_seconds
        self.backoff = tuple(backoff)
        self.crash_limit = crash_limit
        self.crash_window = crash_window
        self.gave_up: str | None = None  # the message, once it has
        self.process: subprocess.Popen[bytes] | None = None
        self._stop_asked = False
        # Written to once a stop is asked for: wakes the threads (a pipe, because writing
        # to it is safe in a signal handler, where an Event's lock is not).
        self._wake_read, self._wake_write = os.pipe()
        self._lock = threading.Lock()  # the current process vs. a stop in another thread
        self._exits: deque[float] = deque()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._spawn()
        for target, name in ((self._watch, "worker-watcher"),
                             (self._stop_when_asked, "worker-stopper")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _spawn(self) -> bool:
        with self._lock:
            if self._stop_asked:
                return False
            self.process = subprocess.Popen(self.command, start_new_session=True)
            return True

    def _asked(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` (None: for ever) for a stop to be asked for."""
        ready, _, _ = select.select([self._wake_read], [], [], timeout)
        return bool(ready) or self._stop_asked

    def _watch(self) -> None:
        while True:
            process = self.process
            assert process is not None
            returncode = process.wait()
            if self._stop_asked:
                return
            _kill_group(process.pid)  # pool children left behind by a killed worker
            now = time.monotonic()
            self._exits.append(now)
            while self._exits and self._exits[0] < now - self.crash_window:
                self._exits.popleft()
            exits = len(self._exits)
            what = f"the job worker (pid {process.pid}) {describe_exit(returncode)}"
            if exits >= self.crash_limit:
                self.gave_up = (f"{what}: {exits} times in {self.crash_window:.0f} s, so "
                                "`rounds up` stops; see the worker's lines above for why")
                log.error("%s", self.gave_up)
                self.give_up(self.gave_up)
                return
            delay = self.backoff[min(exits, len(self.backoff)) - 1]
            log.warning("%s; starting another in %.0f s (%d exit%s in %.0f s; `rounds up` "
                        "stops at %d)", what, delay, exits, "s" if exits > 1 else "",
                        self.crash_window, self.crash_limit)
            if self._asked(delay) or not self._spawn():
                return

    def _stop_when_asked(self) -> None:
        # The worker stops while the server drains, not after: the whole is done sooner.
        self._asked()
        self.stop()

    def _ask(self) -> None:
        self._stop_asked = True
        with contextlib.suppress(OSError):
            os.write(self._wake_write, b"x")

    def stopping(self) -> None:
        """The whole is stopping: stop the worker (in a thread of ours) and do not replace
        it. Signal-safe."""
        self._ask()

    def kill(self) -> None:
        """Stop at once: SIGKILL to the worker's whole group (its task goes back to the
        broker, being unacknowledged, or the reconciliation redoes it). Signal-safe."""
        self._ask()
        process = self.process
        if process is not None:
            _kill_group(process.pid)

    def stop(self) -> None:
        """Warm shutdown (SIGTERM: it finishes its task, stops its pool and beat); whatever
        of its group is left after ``stop_seconds`` is killed. Returns when it is gone."""
        self._ask()
        with self._lock:  # no new worker from here on (see _spawn)
            process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(self.stop_seconds)
        _kill_group(process.pid)
        process.wait()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(5)

    async def on_shutdown(self) -> None:
        """The server's shutdown hook (after it has drained)."""
        await asyncio.to_thread(self.stop)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


class StopRequested(BaseException):
    """SIGTERM or SIGINT arrived where nothing else handles them (like KeyboardInterrupt:
    not an ``Exception``, so that no ``except Exception`` swallows it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def stop_signals_raise(on_signal: Callable[[], None] = lambda: None,
                       on_again: Callable[[], None] = lambda: None) -> Iterator[None]:
    """For the duration, SIGTERM and SIGINT call ``on_signal()`` and raise ``StopRequested``
    in the main thread, unless someone else handles them meanwhile; any further one only
    calls ``on_again()`` (hurry: the stop is under way and must not be interrupted).

    Uvicorn handles them while it serves, and re-raises the signal once it has stopped
    gracefully: with the default SIGTERM handler that would end the process at once, before
    anything after ``uvicorn.run`` (a ``finally``) could stop the worker or set the exit
    code; with this one, the caller's code runs.
    """
    raised = False

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal raised
        if raised:
            on_again()
            return
        raised = True
        on_signal()
        raise StopRequested(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def stop_this_process() -> None:
    """Ask this process to stop as SIGTERM would (the server drains, then everything stops);
    from any thread."""
    os.kill(os.getpid(), signal.SIGTERM)
