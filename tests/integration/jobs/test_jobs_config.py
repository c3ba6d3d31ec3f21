"""How the Celery app and the live channels follow the settings (no processes needed)."""

from __future__ import annotations

from datetime import timedelta

from rounds.jobs import maintenance
from rounds.jobs.celery_app import TASK_MODULES, create_celery
from rounds.runtime.notifications.push import user_channel
from rounds.settings import load_settings, redis_prefix


def test_the_reconcile_interval_and_the_redis_visibility_timeout_are_settings() -> None:
    settings = load_settings(env={"ROUNDS_JOBS_BROKER_URL": "redis://127.0.0.1:6379/9",
                                  "ROUNDS_JOBS_RECONCILE_SECONDS": "5",
                                  "ROUNDS_JOBS_VISIBILITY_TIMEOUT": "120"})
    conf = create_celery(settings).conf
    assert conf.beat_schedule["reconcile"]["task"] == "rounds.reconcile"
    assert conf.beat_schedule["reconcile"]["schedule"] == timedelta(seconds=5)
    assert conf.broker_transport_options == {"visibility_timeout": 120,
                                             "unacked_restore_interval": 12,
                                             "unacked_restore_throttle": 1}
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1


def test_the_defaults_reconcile_every_minute_on_the_sqlite_broker() -> None:
    settings = load_settings(env={})
    conf = create_celery(settings).conf
    assert conf.broker_url.startswith("sqla+sqlite:///")
    assert conf.beat_schedule["reconcile"]["schedule"] == timedelta(minutes=1)
    assert conf.broker_transport_options == {}  # no visibility timeout on this transport


def test_the_worker_loads_the_reconcilers_publisher_last() -> None:
    app = create_celery(load_settings(env={}))
    app.loader.import_default_modules()
    assert "rounds.runtime.issues.jobs" in TASK_MODULES
    names = [fn.__name__ for fn in maintenance.RECONCILERS]
    assert names[-1] == "publish_pending_notifications"
    assert {"create_missing_issues", "remind_due_soon", "escalate_overdue"} <= set(names)
    for task in ("rounds.reconcile", "rounds.issues.for_submission", "rounds.notifications.push"):
        assert task in app.tasks
    retrying = app.tasks["rounds.issues.for_submission"]
    assert retrying.acks_late and retrying.autoretry_for and retrying.retry_backoff


def test_channels_name_the_redis_database() -> None:
    # Redis pub/sub ignores database numbers: the channel carries it instead.
    assert user_channel(7) == "user:7"
    assert user_channel(7, redis_prefix("")) == "user:7"
    assert user_channel(7, redis_prefix("redis://127.0.0.1:6379/3")) == "rounds.db3.user:7"
    assert redis_prefix("redis://127.0.0.1:6379") == "rounds.db0."
    assert redis_prefix("redis://127.0.0.1:6379?db=5") == "rounds.db5."
