"""Log lines: one format for every process (API, worker, beat), with the request id.

structlog renders the standard library's records, so uvicorn's, Celery's and our own
``logging`` loggers all come out alike: ROUNDS_LOG_FORMAT ``json`` gives one JSON object per
line (for a log collector), ``text`` readable lines (``auto``: text on a terminal, else
JSON). Each line has its time (ISO, UTC), level, logger, event, the process (``api``,
``worker``, ``beat``) and its pid, and ``request_id`` while a request (or a job it caused)
is being handled (docs/logs.md).

Nothing secret is written: values of keys such as ``password`` or ``token`` and the
passwords in URLs are masked in every line, whoever logged it.

Configured when the app, the worker or the schedule is created (never at import), and
again harmlessly: the handler installed last time is replaced, other handlers are left
alone (a test runner's, say).
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from rounds.settings import Settings

REQUEST_ID = "request_id"
MASK = "***"

# Keys whose values are never written (matched anywhere in the key, any case).
SECRET_KEY = re.compile(r"passw(or)?d|passphrase|token|secret|authori[sz]ation|cookie|csrf|"
                        r"api[_-]?key|credential|session[_-]?id", re.IGNORECASE)
# scheme://user:password@host: the password goes, the rest stays useful.
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@", re.IGNORECASE)
# An Authorization header's credentials, and key=value / "key": "value" in free text.
_SCHEME_CREDENTIAL = re.compile(r"\b(?P<head>(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]+",
                                re.IGNORECASE)
_KEY_VALUE = re.compile(
    r"(?P<head>\b[\w-]*(?:password|passwd|token|secret|authorization|cookie|csrf)[\w-]*"
    r"[\"']?\s*[=:]\s*)(?P<value>\"(?:[^\"\\]|\\.)*\"|'[^']*'|[^\s\"',;&}]+)",
    re.IGNORECASE)

_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def mask_text(text: str) -> str:
    """``text`` with passwords in URLs, bearer tokens and ``password=...`` values masked."""
    text = _URL_PASSWORD.sub(lambda m: m["head"] + MASK + "@", text)
    text = _SCHEME_CREDENTIAL.sub(lambda m: m["head"] + MASK, text)
    return _KEY_VALUE.sub(_mask_value, text)


def _mask_value(m: re.Match[str]) -> str:
    quote = m["value"][0] if m["value"][0] in "\"'" else ""
    return m["head"] + quote + MASK + quote


def _masked(key: str, value: Any) -> Any:
    if isinstance(key, str) and SECRET_KEY.search(key) and value not in (None, "", False):
        return MASK
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: _masked(k, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked("", v) for v in value]
    return value


def mask_secrets(logger: WrappedLogger, method: str, event_dict: EventDict) -> EventDict:
    """The processor: every key and every string value, the message included."""
    return {k: (v if k == REQUEST_ID else _masked(k, v)) for k, v in event_dict.items()}


def sane_request_id(value: str | None) -> str | None:
    """A client's ``X-Request-ID`` if it is safe to log and repeat (≤ 64 of A-Z a-z 0-9 . _ -)."""
    return value if value and _SANE_REQUEST_ID.fullmatch(value) else None


def current_request_id() -> str | None:
    """The request id bound to this request (or job), if any."""
    value = structlog.contextvars.get_contextvars().get(REQUEST_ID)
    return str(value) if value else None


def _process(name: str) -> Processor:
    def add_process(logger: WrappedLogger, method: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("process", name)
        event_dict.setdefault("pid", os.getpid())
        return event_dict

    return add_process


def _drop_extras(logger: WrappedLogger, method: str, event_dict: EventDict) -> EventDict:
    # uvicorn passes a second, colored copy of some messages as an ``extra``; Celery what its
    # message says already, plus the task's arguments (people's data, at times) and the
    # traceback of an expected error (which it means not to print).
    event_dict.pop("color_message", None)
    if str(event_dict.get("logger", "")).startswith("celery"):
        event_dict.pop("data", None)
    return event_dict


def use_json(settings: Settings, stream: TextIO | None = None) -> bool:
    fmt = settings.log.format.lower()
    if fmt == "auto":
        stream = stream or sys.stderr
        return not (hasattr(stream, "isatty") and stream.isatty())
    return fmt == "json"


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """Ours, so that configuring again replaces it and nothing else."""


def configure_logging(settings: Settings, process: str, *, level: str | None = None) -> None:
    """Every log record of this process, in ROUNDS_LOG_FORMAT at ROUNDS_LOG_LEVEL (or
    ``level``), on stderr, tagged with ``process`` (api, worker, beat...)."""
    # The interpreter's own stderr: a replaced sys.stderr (a test's capture, Celery's
    # redirection into the logger itself) may be closed or loop back.
    stream = sys.__stderr__ or sys.stderr
    as_json = use_json(settings, stream)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # Chinese names stay readable in JSON (not \u escapes).
    renderer: Processor = (structlog.processors.JSONRenderer(ensure_ascii=False) if as_json
                           else structlog.dev.ConsoleRenderer(
                               colors=False, pad_event_to=0,
                               exception_formatter=structlog.dev.plain_traceback))
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    _drop_extras,
                    # Here, not in structlog's chain: loggers made before are cached with it.
                    _process(process),
                    # A traceback as text, so that it is masked too (and, in JSON, one line).
                    structlog.processors.format_exc_info,
                    mask_secrets, renderer])
    structlog.configure(
        processors=[*shared, structlog.stdlib.PositionalArgumentsFormatter(),
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True)

    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    handler = _Handler(stream)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel((level or settings.log.level).upper())
    # Their own handlers would print each line twice, in another format: they propagate.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "celery"):
        logger = logging.getLogger(name)
        logger.handlers = [h for h in logger.handlers if isinstance(h, _Handler)]
        logger.propagate = True


# -- the request id in jobs ----------------------------------------------------------------

def put_request_id_in_headers(headers: MutableMapping[str, Any] | None = None,
                              **_: Any) -> None:
    """Celery ``before_task_publish``: a task sent while a request is handled carries its id."""
    request_id = current_request_id()
    if request_id and headers is not None:
        headers.setdefault(REQUEST_ID, request_id)


def bind_task_request_id(task: Any = None, task_id: str | None = None, **_: Any) -> None:
    """Celery ``task_prerun`` (in the worker): the task's lines carry its request id and id."""
    structlog.contextvars.clear_contextvars()
    request = getattr(task, "request", None)
    request_id = sane_request_id(getattr(request, REQUEST_ID, None))
    structlog.contextvars.bind_contextvars(task_id=task_id, task=getattr(task, "name", None),
                                           **({REQUEST_ID: request_id} if request_id else {}))


def unbind_task_request_id(**_: Any) -> None:
    """Celery ``task_postrun``: the next task starts with nothing bound."""
    structlog.contextvars.clear_contextvars()


def connect_celery_signals() -> None:
    """The request id across Celery (both in the processes that send and in the worker)."""
    from celery import signals

    signals.before_task_publish.connect(put_request_id_in_headers, weak=False,
                                        dispatch_uid="rounds.logs.publish")
    signals.task_prerun.connect(bind_task_request_id, weak=False,
                                dispatch_uid="rounds.logs.prerun")
    signals.task_postrun.connect(unbind_task_request_id, weak=False,
                                 dispatch_uid="rounds.logs.postrun")


def celery_logging(settings: Settings, process: str) -> None:
    """Our format in a Celery worker or beat: configure now, and answer Celery's
    ``setup_logging`` so that it leaves the root logger alone (it would otherwise
    put its own handler and format there)."""
    from celery import signals

    configure_logging(settings, process)

    def keep_ours(loglevel: Any = None, **_: Any) -> None:
        if isinstance(loglevel, int | str) and loglevel:  # --loglevel, when given
            logging.getLogger().setLevel(loglevel if isinstance(loglevel, int)
                                         else str(loglevel).upper())

    signals.setup_logging.connect(keep_ours, weak=False, dispatch_uid="rounds.logs.celery")
