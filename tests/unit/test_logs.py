"""What a log line looks like in each format, and what never appears in one."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from rounds.logs import configure_logging, mask_text, sane_request_id, use_json
from rounds.settings import load_settings


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def _log_something() -> None:
    with structlog.contextvars.bound_contextvars(request_id="req-42"):
        logging.getLogger("rounds.test").info(
            "connected to %s", "postgresql+asyncpg://rounds:pg-Secret@db:5432/rounds",
            extra={"token": "tok-Secret", "site": "北站"})


def test_json_lines_have_the_fields_and_no_secret(restore_logging: None,
                                                  capfd: pytest.CaptureFixture[str]) -> None:
    configure_logging(load_settings({"ROUNDS_LOG_FORMAT": "json"}), "worker")
    _log_something()
    logging.getLogger("rounds.test").debug("not at info")
    err = capfd.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert len(lines) == 1
    line = lines[0]
    assert line["event"] == "connected to postgresql+asyncpg://rounds:***@db:5432/rounds"
    assert line["level"] == "info" and line["logger"] == "rounds.test"
    assert line["request_id"] == "req-42" and line["process"] == "worker"
    assert line["token"] == "***" and line["site"] == "北站"  # readable, not \u escapes
    assert line["timestamp"].endswith("Z")
    assert "Secret" not in err


def test_text_lines_for_a_person(restore_logging: None,
                                 capfd: pytest.CaptureFixture[str]) -> None:
    configure_logging(load_settings({"ROUNDS_LOG_FORMAT": "text", "ROUNDS_LOG_LEVEL": "debug"}),
                      "api")
    _log_something()
    try:
        raise ValueError("redis://:redis-Secret@cache:6379/0 is away")
    except ValueError:
        logging.getLogger("rounds.test").exception("it failed")
    err = capfd.readouterr().err
    assert not err.lstrip().startswith("{")
    assert "connected to postgresql+asyncpg://rounds:***@db:5432/rounds" in err
    assert "request_id=req-42" in err and "[rounds.test]" in err
    assert "Traceback" in err and "redis://:***@cache" in err  # the traceback is masked too
    assert "Secret" not in err


def test_configuring_again_replaces_our_handler_only(restore_logging: None) -> None:
    root = logging.getLogger()
    theirs = logging.NullHandler()
    root.addHandler(theirs)
    settings = load_settings({"ROUNDS_LOG_FORMAT": "json"})
    configure_logging(settings, "api")
    count = len(root.handlers)
    configure_logging(settings, "api")
    assert len(root.handlers) == count and theirs in root.handlers


def test_auto_is_text_on_a_terminal_else_json() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    auto = load_settings({"ROUNDS_LOG_FORMAT": "auto"})
    assert not use_json(auto, Terminal())
    assert use_json(auto, io.StringIO())


@pytest.mark.parametrize("text, masked", [
    ("postgresql://rounds:pw@db/rounds", "postgresql://rounds:***@db/rounds"),
    ("broker redis://:pw@cache:6379/0 down", "broker redis://:***@cache:6379/0 down"),
    ("amqp://guest:guest@mq:5672/rounds", "amqp://guest:***@mq:5672/rounds"),
    ("Authorization: Bearer abc.DEF-123", "Authorization: *** ***"),
    ("sent Bearer abc.DEF-123 twice", "sent Bearer *** twice"),
    ('{"username": "zhang", "password": "pw 1"}', '{"username": "zhang", "password": "***"}'),
    ("password=pw&next=/", "password=***&next=/"),
    ("token='a b' csrf_token=x", "token='***' csrf_token=***"),
    ("http://example.com/path", "http://example.com/path"),
    ("sqlite+aiosqlite:////var/rounds.sqlite3", "sqlite+aiosqlite:////var/rounds.sqlite3"),
])
def test_secrets_in_text_are_masked(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def test_a_request_id_is_taken_only_when_sane() -> None:
    assert sane_request_id("9b2d3f04-9f93.4633_a27a") == "9b2d3f04-9f93.4633_a27a"
    for bad in (None, "", "a b", "x" * 65, "id\n{}", "<script>", "ä"):
        assert sane_request_id(bad) is None


def test_secret_keys_are_masked_whoever_logs_them() -> None:
    from rounds.logs import mask_secrets

    line = mask_secrets(None, "info", {
        "event": "signed in", "password": "pw", "new_password": "pw2", "csrf_token": "c",
        "headers": {"Authorization": "Bearer t", "Cookie": "s=1", "accept": "*/*"},
        "passed": 3, "request_id": "r-1", "url": "redis://:pw@cache:6379/0"})
    assert line == {"event": "signed in", "password": "***", "new_password": "***",
                    "csrf_token": "***",
                    "headers": {"Authorization": "***", "Cookie": "***", "accept": "*/*"},
                    "passed": 3, "request_id": "r-1", "url": "redis://:***@cache:6379/0"}
