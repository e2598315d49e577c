"""Logs: one JSON object per line in production, readable lines in development.

Every line says what it belongs to: `request_id` (an HTTP request, or a WebSocket event — Reflex's
event transaction id, which its own error lines print as `txid`), `user_id` once the caller is known
(`AuthState._actor` binds it), and in a Celery task `task_id` and `task`. The format is JSON when
`ACADEMY_LOG_FORMAT=json`, or when it is `auto` (the default) and `ACADEMY_ENV=production`.

`configure_logging()` runs once per process: in the web app at start (`academy_app.py`) and in
Celery's worker and beat (`tasks/celery_app.py`, through Celery's `setup_logging` signal). It puts
one handler on the root logger. Reflex's own records (the `reflex` logger) keep Reflex's sink; set
`REFLEX_LOG_JSON=true` as well in production so they are JSON lines too (docs/operations.md).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import UTC, datetime

from academy_app.settings import Settings, get_settings

# Path segments that are secrets: a reset link's token, an email confirmation link's, a signed
# unsubscribe link.
_SECRET_PATHS = re.compile(
    r"(/(?:password/reset|account/email|email/unsubscribe|unsubscribe)/)[^/?#\s\"'<>]+")


@dataclass
class LogContext:
    """What a log line belongs to. One object per request or event, so `bind_user` inside a handler
    also reaches callbacks that copied the context before the user was known."""

    request_id: str | None = None
    user_id: int | None = None


_context: ContextVar[LogContext | None] = ContextVar("academy_log_context", default=None)


def current() -> LogContext | None:
    return _context.get()


def bind_request(request_id: str) -> Token:
    """Start the context of one request or event; `unbind(token)` ends it."""
    return _context.set(LogContext(request_id=request_id))


def unbind(token: Token) -> None:
    _context.reset(token)


def bind_user(user_id: int | None) -> None:
    """The caller of the current request or event, once known (None: nobody is logged in)."""
    context = _context.get()
    if context is None:
        _context.set(LogContext(user_id=user_id))
    else:
        context.user_id = user_id


def new_request_id() -> str:
    return secrets.token_hex(8)


def redact_path(path: str) -> str:
    """A path with its secret segments (reset and unsubscribe tokens) replaced: for logs and Sentry."""
    return _SECRET_PATHS.sub(r"\1[Filtered]", path)


def current_task() -> tuple[str | None, str | None]:
    """The Celery task running on this thread, if any (without importing Celery where it is unused)."""
    state = sys.modules.get("celery._state")
    task = state.get_current_task() if state is not None else None
    if task is None or task.request is None or task.request.id is None:
        return None, None
    return task.request.id, task.name


class ContextFilter(logging.Filter):
    """Adds request_id, user_id, task_id and task to every record its handler emits."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        record.request_id = context.request_id if context else None
        record.user_id = context.user_id if context else None
        record.task_id, record.task = current_task()
        return True


MAX_MESSAGE_CHARS = 2000


def bounded_message(record: logging.LogRecord) -> str:
    """The record's message, cut at MAX_MESSAGE_CHARS: a log line may quote what a client sent
    (Reflex's own warning about a payload that does not fit quotes all of it), and one crafted
    event must not write megabytes of log. Tracebacks are not messages and are kept whole."""
    message = record.getMessage()
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    return f"{message[:MAX_MESSAGE_CHARS]}… ({len(message) - MAX_MESSAGE_CHARS} more characters)"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, user_id (always there,
    null when unknown), task_id and task in a Celery task, exception when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": bounded_message(record),
            "request_id": getattr(record, "request_id", None),
            "user_id": getattr(record, "user_id", None),
        }
        if getattr(record, "task_id", None):
            line["task_id"] = record.task_id
            line["task"] = record.task
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            line["exception"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`time level logger [request user task] message` for a person reading a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s%(where)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        where = [f"{name}={value}" for name, value in (
            ("req", getattr(record, "request_id", None)), ("user", getattr(record, "user_id", None)),
            ("task", getattr(record, "task_id", None))) if value is not None]
        record.where = f" [{' '.join(where)}]" if where else ""
        return super().format(record)

    def formatMessage(self, record: logging.LogRecord) -> str:  # logging.Formatter's name
        record.message = bounded_message(record)
        return super().formatMessage(record)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (test runners swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def wants_json(settings: Settings) -> bool:
    if settings.log_format == "auto":
        return settings.is_production
    return settings.log_format == "json"


def configure_logging(settings: Settings | None = None, level: str | int | None = None) -> None:
    """Put Academy's handler on the root logger (replacing one an earlier call put there)."""
    settings = settings or get_settings()
    handler = _StderrHandler()
    handler.academy = True
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if wants_json(settings) else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "academy", False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    level = settings.log_level if level is None else level
    root.setLevel(level.upper() if isinstance(level, str) else level)
    # Reflex checks the migrations at every start; `make migrate` (alembic's own CLI) still says more.
    logging.getLogger("alembic").setLevel(logging.WARNING)
