"""Stopping `rounds up` stops everything it started: no worker is left behind, whichever
signal stopped the server (a service manager's SIGTERM, or Ctrl-C's SIGINT), and a page's
open live stream (SSE) does not hold the stop up until the drain time is over: the stream
ends at once (the browser reconnects), the server stops, the worker after it, exit code 0.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from support.live import LiveServer, add_user, api_token, event_stream, run_async, wait_until
from support.processes import alive, workers_of

DRAIN = 60  # ROUNDS_SERVER_DRAIN_SECONDS: far longer than any wait below


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopping_up_stops_its_worker_and_live_streams(tmp_path: Path,
                                                       sig: signal.Signals) -> None:
    up = LiveServer(tmp_path / "var", worker=True,
                    env={"ROUNDS_REDIS_URL": "", "ROUNDS_JOBS_BROKER_URL": "",
                         "ROUNDS_SERVER_DRAIN_SECONDS": str(DRAIN)})
    workers: set[int] = set()
    try:
        # The worker is up with its pool (it says "ready." once it takes tasks).
        wait_until(lambda: "ready." in up.log.read_text(errors="replace"), timeout=90,
                   what="the worker")
        workers = wait_until(lambda: workers_of(up.process.pid), what="the worker processes")
        assert len(workers) >= 2  # the worker and its pool process at least
        add_user(up, "ann", "customer_manager")
        auth = api_token(up, "ann")

        async def stop_while_streaming() -> None:
            async with event_stream(up.url + "/api/notifications/stream", auth) as stream:
                up.process.send_signal(sig)
                with pytest.raises(StopAsyncIteration):  # the server ended the stream
                    await stream.next(timeout=DRAIN / 3, comments=True)

        run_async(stop_while_streaming())
        assert up.process.wait(DRAIN / 2) == 0  # well before the drain time is over
        wait_until(lambda: not any(alive(p) for p in workers), timeout=10,
                   what="the worker processes to end")
        log = up.log.read_text(errors="replace")
        assert "Shutting down" in log  # a graceful stop
        assert "graceful shutdown exceeded" not in log  # nothing was cut off at the bound
    finally:
        if up.process.poll() is None:
            up.process.kill()
        up.stop()
        for pid in workers:  # never leave them to the next test, even when this one fails
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_up_without_its_worker_stops_with_exit_code_0(tmp_path: Path) -> None:
    up = LiveServer(tmp_path / "var", env={"ROUNDS_SERVER_DRAIN_SECONDS": str(DRAIN)})
    try:
        up.process.send_signal(signal.SIGTERM)
        assert up.process.wait(DRAIN / 2) == 0  # a stop asked for is no failure
    finally:
        up.stop()


def test_serve_stops_with_exit_code_0(tmp_path: Path) -> None:
    """`rounds serve`, as systemd runs it: SIGTERM is a clean stop (exit 0), not 143."""
    import subprocess
    import sys

    import httpx

    from support.live import DEFINITIONS, REPO, free_port

    port = free_port()
    env = {**os.environ, "ROUNDS_DATA_DIR": str(tmp_path / "var"),
           "ROUNDS_DEFINITIONS_DIR": str(DEFINITIONS), "ROUNDS_SERVER_PORT": str(port),
           "ROUNDS_SERVER_DRAIN_SECONDS": str(DRAIN), "ROUNDS_REDIS_URL": ""}
    subprocess.run([sys.executable, "-m", "rounds.cli", "db", "upgrade"], env=env, cwd=REPO,
                   check=True, capture_output=True)
    serve = subprocess.Popen([sys.executable, "-m", "rounds.cli", "serve"], env=env, cwd=REPO,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def serving() -> bool:
            assert serve.poll() is None
            try:
                return httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).is_success
            except httpx.HTTPError:
                return False

        wait_until(serving, timeout=60, what="rounds serve")
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(DRAIN / 2) == 0
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait(10)
