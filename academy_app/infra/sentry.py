"""Error reports to Sentry when `SENTRY_DSN` is set; without it Sentry is never initialised (no
integration installed, no thread started, nothing sent).

What gets reported: every log record at ERROR with a traceback (the logging integration), so an
unhandled error in an HTTP route (`infra.request_ids`), an event handler
(`infra.metrics.EventObserver`) or a Celery task (the Celery integration) arrives once, tagged with
the environment (`ACADEMY_ENV`), the release (`SENTRY_RELEASE`, else the git commit, else the
version), the request id or task id, and the user id (a number, never an address).

What never leaves: `send_default_pii` is off (the SDK's default) and local variables are not sent;
`scrub_event` then removes cookies and Authorization headers and secret query parameters, and
replaces email addresses and the secret segments of paths (reset and unsubscribe tokens) in every
string of the event and of its breadcrumbs.
"""

from __future__ import annotations

import contextlib
import logging
import re
import subprocess
import time
import tomllib
import traceback
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.types import Scope

from academy_app.infra.logging import current, current_task, redact_path
from academy_app.settings import PROJECT_ROOT, Settings, get_settings

log = logging.getLogger(__name__)

FILTERED = "[Filtered]"
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Credentials, and the client's address (personal data: the user id identifies whom it was).
_SECRET_HEADERS = {"cookie", "set-cookie", "authorization", "proxy-authorization", "x-api-key",
                   "x-csrftoken", "x-forwarded-for", "x-real-ip", "forwarded"}
_SECRET_PARAMS = {"token", "code", "key", "secret", "password", "access_token", "refresh_token",
                  "session", "signature", "sig"}
# Keys whose values are always replaced (Sentry's own list has password, token, cookie, session…).
_DENYLIST_EXTRA = ["session_token", "token_hash", "reset_token", "access_token", "refresh_token",
                   "secret_key", "smtp_password", "email", "to_address", "jwt"]
# Reflex's default backend exception handler logs the traceback as text after the event observer
# has logged (and so reported) the exception itself: that text copy is dropped for a while.
_REFLEX_COPY = "[Reflex Backend Exception]"
_REPORTED_SECONDS = 60.0
_reported: dict[str, float] = {}
_initialised = False


def init_sentry(settings: Settings | None = None) -> bool:
    """Initialise Sentry once per process if a DSN is configured; returns whether it is on."""
    global _initialised
    settings = settings or get_settings()
    if not settings.sentry_dsn:
        return False
    if _initialised:
        return True
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.env.value,
        release=release(settings),
        # send_default_pii stays unset, i.e. off: the SDK deprecates the option in favour of
        # data_collection, and setting that would switch off the event_scrubber below.
        include_local_variables=False,
        max_request_body_size="never",
        event_scrubber=EventScrubber(denylist=DEFAULT_DENYLIST + _DENYLIST_EXTRA, recursive=True),
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        # Only what is named here (plus Sentry's defaults: logging, dedupe, threads…): no
        # auto-patching of Starlette, Redis or SQLAlchemy behind Reflex's back.
        auto_enabling_integrations=False,
        integrations=[LoggingIntegration(level=logging.INFO, event_level=logging.ERROR),
                      CeleryIntegration()],
    )
    _initialised = True
    log.info("Sentry: reporting errors (environment %s, release %s)", settings.env.value,
             release(settings))
    return True


def release(settings: Settings) -> str:
    if settings.sentry_release:
        return settings.sentry_release
    try:
        sha = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=PROJECT_ROOT,
                             capture_output=True, text=True, timeout=2, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    if sha:
        return f"academy@{sha}"
    with (PROJECT_ROOT / "pyproject.toml").open("rb") as pyproject:
        return f"academy@{tomllib.load(pyproject)['project']['version']}"


def reported(exc: BaseException) -> None:
    """Note that `exc` went to Sentry with its traceback, so Reflex's text copy can be dropped."""
    now = time.monotonic()
    for key, when in list(_reported.items()):
        if now - when > _REPORTED_SECONDS:
            del _reported[key]
    _reported[_last_line(exc)] = now


def _last_line(exc: BaseException) -> str:
    """The last line of the exception's traceback, as Reflex's text copy ends."""
    return "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1].strip()


def _is_reflex_copy(event: dict[str, Any]) -> bool:
    message = (event.get("logentry") or {}).get("message") or event.get("message") or ""
    if not isinstance(message, str) or not message.lstrip().startswith(_REFLEX_COPY):
        return False
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    return bool(lines) and lines[-1] in _reported


@contextlib.contextmanager
def request_scope(scope: Scope) -> Iterator[None]:
    """While inside, events carry the HTTP request (method, path, headers) that raised."""
    import sentry_sdk

    if not sentry_sdk.get_client().is_active():
        yield
        return
    headers = {name.decode("latin-1"): value.decode("latin-1")
               for name, value in scope.get("headers", [])}
    host = headers.get("host", "")
    request = {"method": scope.get("method"), "headers": headers,
               "url": f"{scope.get('scheme', 'http')}://{host}{scope.get('path', '')}",
               "query_string": scope.get("query_string", b"").decode("latin-1")}
    with sentry_sdk.new_scope() as sentry_scope:
        sentry_scope.add_event_processor(lambda event, _hint: {**event, "request": request})
        yield


def scrub_event(event: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any] | None:
    """`before_send`: tag what the event belongs to, then take out what must not leave."""
    if _is_reflex_copy(event):
        return None
    context = current()
    tags = event.setdefault("tags", {})
    if context is not None and context.request_id:
        tags.setdefault("request_id", context.request_id)
    if context is not None and context.user_id:
        event["user"] = {"id": str(context.user_id)}
    else:
        event.pop("user", None)
    task_id, task = current_task()
    if task_id:
        tags.setdefault("task_id", task_id)
        tags.setdefault("task", task)
    request = event.get("request")
    if isinstance(request, dict):
        _scrub_request(request)
    return _scrub(event)


def scrub_breadcrumb(crumb: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any]:
    return _scrub(crumb)


def _scrub_request(request: dict[str, Any]) -> None:
    request.pop("cookies", None)
    request.pop("data", None)
    request.pop("env", None)
    headers = request.get("headers")
    if isinstance(headers, dict):
        request["headers"] = {name: FILTERED if name.lower() in _SECRET_HEADERS else value
                              for name, value in headers.items()}
    query = request.get("query_string")
    if isinstance(query, str) and query:
        request["query_string"] = urlencode(
            [(name, FILTERED if name.lower() in _SECRET_PARAMS else value)
             for name, value in parse_qsl(query, keep_blank_values=True)], safe="[]")


def _scrub(value: Any) -> Any:
    """Every string in `value`, however deep: no email address, no secret path segment."""
    if isinstance(value, str):
        return redact_path(_EMAIL.sub("[email]", value))
    if isinstance(value, dict):
        return {key: _scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value
