"""Prometheus metrics, summed over the processes of one machine.

API processes and job workers write their counters to ``ROUNDS_METRICS_DIR``
(prometheus-client's multiprocess mode); one scrape of any API process (``/metrics``,
``rounds.ops.web``) adds them up and reads what is only known at scrape time: the jobs
waiting on the broker, the age of the last reconcile and of the last query-store refresh.

Multiprocess mode must be on before a metric's values exist, so nothing here is made at
import: ``enable`` (at app and worker start) turns it on, then ``metrics()`` makes the
metrics on first use. docs/health-and-metrics.md says what each one means.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import time
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector, CollectorRegistry

RECONCILE_TASK = "rounds.reconcile"
_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_JOB_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
_LENT = "rounds.metrics.lent"
_LIVE_FILE = re.compile(r"^gauge_live\w+_(\d+)\.db$")


def enable(directory: Path) -> None:
    """This process keeps its metrics in ``directory`` (shared with the machine's other
    API processes and workers); files of processes that died without saying so (SIGKILL)
    are cleared, so that their open streams or pool connections are not counted."""
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    # prometheus-client picks the kind of value at its import; pick again now.
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    for path in directory.glob("gauge_live*.db"):
        found = _LIVE_FILE.match(path.name)
        if found and not _alive(int(found.group(1))):
            mark_process_dead(int(found.group(1)), str(directory))  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_ended(directory: Path) -> None:
    """This process stops: its live gauges (streams, pool) stop counting."""
    with contextlib.suppress(OSError):
        mark_process_dead(os.getpid(), str(directory))  # type: ignore[no-untyped-call]


def directory() -> Path | None:
    found = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(found) if found else None


class Metrics:
    """The metrics processes write (those read at scrape time are in ``scrape``)."""

    def __init__(self) -> None:
        self.requests = Counter(
            "rounds_http_requests_total", "HTTP requests answered, by method, route "
            "template and status", ["method", "route", "status"])
        self.request_seconds = Histogram(
            "rounds_http_request_duration_seconds", "Seconds from a request to the start "
            "of its response (a live stream: to its headers), by method and route template",
            ["method", "route"], buckets=_DURATION_BUCKETS)
        self.submissions = Counter(
            "rounds_submissions_total", "Submissions by outcome: accepted (stored, or a "
            "retry of a stored one) or rejected (answered with a 4xx problem)", ["outcome"])
        self.jobs_run = Counter("rounds_jobs_run_total", "Jobs a worker started, by task",
                                ["task"])
        self.jobs_failed = Counter("rounds_jobs_failed_total",
                                   "Jobs that ended in an error, by task", ["task"])
        self.jobs_retried = Counter("rounds_jobs_retried_total",
                                    "Jobs put back to be tried again later, by task", ["task"])
        self.job_seconds = Histogram("rounds_job_duration_seconds",
                                     "Seconds a job ran, whatever its end, by task", ["task"],
                                     buckets=_JOB_BUCKETS)
        self.pool_in_use = Gauge(
            "rounds_db_pool_connections_in_use", "Database connections the API processes "
            "have taken from their pools now", multiprocess_mode="livesum")
        self.streams_open = Gauge("rounds_live_streams_open",
                                  "Live notification streams (SSE) open now",
                                  multiprocess_mode="livesum")
        self.reconcile_succeeded = Gauge(
            "rounds_reconcile_last_success_timestamp_seconds", "When a reconcile last "
            "succeeded (Unix time), on any worker of this machine", multiprocess_mode="max")


@cache
def metrics() -> Metrics:
    return Metrics()


# -- what the API processes count -----------------------------------------------------------

@contextlib.contextmanager
def submission_outcome() -> Iterator[None]:
    """Count the submission done in the block: accepted, or rejected by a 4xx error."""
    from rounds.errors import RoundsError

    try:
        yield
    except RoundsError as exc:
        if 400 <= exc.status < 500:
            metrics().submissions.labels("rejected").inc()
        raise
    metrics().submissions.labels("accepted").inc()


def stream_opened() -> None:
    metrics().streams_open.inc()


def stream_closed() -> None:
    metrics().streams_open.dec()


def watch_pool(engine: Any) -> None:
    """Move the pool gauge as ``engine`` (an AsyncEngine) lends and takes back connections."""
    from sqlalchemy import event

    gauge = metrics().pool_in_use

    # Each lending marked on its connection's record (which outlives an invalidated
    # connection): a connection lent before this was called is not taken back twice.
    def checkout(_dbapi: Any, record: Any, _proxy: Any) -> None:
        record.record_info[_LENT] = True
        gauge.inc()

    def checkin(_dbapi: Any, record: Any) -> None:
        if record is not None and record.record_info.pop(_LENT, False):
            gauge.dec()

    event.listen(engine.sync_engine, "checkout", checkout)
    event.listen(engine.sync_engine, "checkin", checkin)


# -- what the workers count (Celery signals) -------------------------------------------------

_started: dict[str, float] = {}


def watch_jobs(metrics_dir: Path) -> None:
    """Count jobs in the workers of this installation: started, failed, retried, how long
    they ran, and when a reconcile last succeeded. Connected once per process; the
    handlers only run in a worker (where Celery sends these signals)."""
    from celery import signals

    def worker_init(**_: Any) -> None:
        enable(metrics_dir)

    def prerun(task_id: str = "", task: Any = None, **_: Any) -> None:
        _started[task_id] = time.monotonic()
        metrics().jobs_run.labels(_name(task)).inc()

    def postrun(task_id: str = "", task: Any = None, state: str | None = None,
                **_: Any) -> None:
        started = _started.pop(task_id, None)
        if started is not None:
            metrics().job_seconds.labels(_name(task)).observe(time.monotonic() - started)
        if state == "SUCCESS" and _name(task) == RECONCILE_TASK:
            metrics().reconcile_succeeded.set(time.time())

    def failure(sender: Any = None, **_: Any) -> None:
        metrics().jobs_failed.labels(_name(sender)).inc()

    def retry(sender: Any = None, **_: Any) -> None:
        metrics().jobs_retried.labels(_name(sender)).inc()

    def process_shutdown(**_: Any) -> None:
        process_ended(metrics_dir)

    for signal, handler in ((signals.worker_init, worker_init),
                            (signals.task_prerun, prerun), (signals.task_postrun, postrun),
                            (signals.task_failure, failure), (signals.task_retry, retry),
                            (signals.worker_process_shutdown, process_shutdown),
                            (signals.worker_shutdown, process_shutdown)):
        # One handler per signal and process, whichever Celery app was made last.
        signal.connect(handler, weak=False, dispatch_uid=f"rounds.ops.metrics.{handler.__name__}")


def _name(task: Any) -> str:
    return str(getattr(task, "name", None) or "unknown")


# -- the scrape ------------------------------------------------------------------------------

def gauge(name: str, documentation: str, value: float | None,
          labels: dict[str, str] | None = None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=list(labels or {}))
    family.add_metric(list((labels or {}).values()), math.inf if value is None else value)
    return family


class _Scrape(Collector):
    def __init__(self, path: Path, extra: Iterable[Metric]) -> None:
        self.path, self.extra = path, list(extra)

    def collect(self) -> Iterable[Metric]:
        files = MultiProcessCollector(None, path=str(self.path))  # type: ignore[no-untyped-call]
        written: list[Metric] = list(files.collect())  # type: ignore[no-untyped-call]
        yield from written
        last = [s.value for m in written
                if m.name == "rounds_reconcile_last_success_timestamp_seconds"
                for s in m.samples if s.value > 0]
        yield gauge("rounds_reconcile_age_seconds", "Seconds since a reconcile last "
                    "succeeded on a worker of this machine (+Inf: none yet)",
                    time.time() - max(last) if last else None)
        yield from self.extra


def exposition(extra: Iterable[Metric] = ()) -> bytes:
    """The Prometheus text of this machine's processes, with ``extra`` (read now)."""
    path = directory()
    if path is None:  # multiprocess mode off (not started through create_app)
        raise RuntimeError("metrics: enable() was not called in this process")
    registry = CollectorRegistry()
    registry.register(_Scrape(path, extra))
    return generate_latest(registry)
