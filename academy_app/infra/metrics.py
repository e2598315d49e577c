"""Prometheus metrics this process records: HTTP responses, event handlers, WebSocket clients and
read-cache use. `api/metrics.py` serves them at `/metrics` with the deployment-wide ones (queue
length, email and certificate backlogs).

- HTTP (`http_metrics`, a Reflex `api_transformer`): responses by route template and status class,
  and their duration. The route is the template that matched (`/receipts/{payment_id:int}`,
  `/api/v1/courses/{slug}`, a page as `/courses/[slug]`), `static` for files and `unmatched` for
  the rest, so label values stay few.
- Event handlers (`EventObserver`, a Reflex middleware): runs as each WebSocket event starts, with
  the tab's state in hand; it binds the event's id (Reflex's txid) for the log, and times the
  event's task until it ends (handler, delta sent, state saved; waiting behind the tab's earlier
  events is not included), labelled with the handler's name (`CourseState.enroll`): only
  registered handlers get this far, so the label values are the app's own handlers.
- WebSocket clients: a gauge set from Reflex's token manager (`api/metrics.py`).
- Read cache: `cache().hits`, `.misses` and `.bypassed` (Counters per kind), copied into a
  Prometheus counter as increments whenever metrics are refreshed.

Several backend workers share one port, and each has its own memory: with
`PROMETHEUS_MULTIPROC_DIR` set (an empty directory, per host, wiped at start), prometheus_client
keeps every worker's samples in files there and a scrape of any worker answers for all of them
(docs/operations.md). Without it a scrape answers for the worker that served it.
"""

from __future__ import annotations

import asyncio
import functools
import glob
import logging
import os
import re
import threading
import time
from collections.abc import Callable

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from reflex.app import App
from reflex.middleware import Middleware
from reflex.state import BaseState, StateUpdate
from reflex_base.event import Event
from reflex_base.event.context import EventContext
from reflex_base.registry import RegistrationContext
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from academy_app.infra import logging as log_context
from academy_app.infra import sentry
from academy_app.infra.cache import cache
from academy_app.infra.outages import log_throttled, outage_of

log = logging.getLogger("academy.events")

MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
MAX_LABEL_VALUES = 300  # per label; beyond it new values are counted as "other"
SAME_ERROR_LOGGED_EVERY_SECONDS = 60.0
_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

EVENT_SECONDS = Histogram(
    "academy_event_handler_duration_seconds",
    "WebSocket event handling time, from holding the tab's state to the state saved, by handler.",
    ["handler"], buckets=_SECONDS)
EVENT_ERRORS = Counter("academy_event_handler_errors", "Events whose handler raised, by handler.",
                       ["handler"])
HTTP_RESPONSES = Counter("academy_http_responses",
                         "HTTP responses by route template and status class (2xx, 4xx…).",
                         ["route", "status"])
HTTP_SECONDS = Histogram("academy_http_request_duration_seconds",
                         "HTTP request time until the response ended, by route template.",
                         ["route"], buckets=_SECONDS)
WEBSOCKET_CLIENTS = Gauge("academy_websocket_clients",
                          "Browser tabs connected over the WebSocket (summed over live workers).",
                          multiprocess_mode="livesum")
CACHE_READS = Counter("academy_cache_reads",
                      "Read-cache lookups by kind (learner, course, slug, catalog…) and result: "
                      "hit, miss, or bypassed (cache off, not answering, or the session's own writes).",
                      ["kind", "result"])


class _Bounded:
    """Label values as they come, until there are MAX_LABEL_VALUES of them; then 'other'."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def __call__(self, value: str) -> str:
        if value in self._seen:
            return value
        if len(self._seen) >= MAX_LABEL_VALUES:
            return "other"
        self._seen.add(value)
        return value


_handlers = _Bounded()
_routes = _Bounded()


# --- WebSocket events ---------------------------------------------------------------------------

class EventObserver(Middleware):
    """Reflex middleware (add it first): each event gets a request id and a latency sample."""

    async def preprocess(self, app: App, state: BaseState, event: Event) -> StateUpdate | None:
        try:
            request_id = EventContext.get().txid or log_context.new_request_id()
        except LookupError:
            request_id = log_context.new_request_id()
        # Each event runs in its own asyncio task, with its own copy of the context: what is bound
        # here is the event's and ends with its task.
        log_context.bind_request(request_id)
        task = asyncio.current_task()
        if task is not None:
            task.add_done_callback(functools.partial(
                _event_done, handler_label(event.name), time.perf_counter()))
        return None


@functools.lru_cache(maxsize=1024)
def _handler_name(event_name: str) -> str:
    try:
        return RegistrationContext.get().event_handlers[event_name].handler.fn.__qualname__
    except (LookupError, AttributeError):
        return event_name.rsplit(".", 1)[-1]


def handler_label(event_name: str) -> str:
    """`CourseState.enroll` for Reflex's `reflex___state____state.…____course_state.enroll`."""
    return _handlers(_handler_name(event_name))


def _event_done(handler: str, started: float, task: asyncio.Task) -> None:
    EVENT_SECONDS.labels(handler).observe(time.perf_counter() - started)
    if task.cancelled() or (exc := task.exception()) is None:
        return
    EVENT_ERRORS.labels(handler).inc()
    if outage_of(exc) is not None:
        return  # Redis or the database down: infra/outages.py logs one line a minute, no traceback
    # One traceback per handler and error a minute: a repeating failure must not write (or report)
    # one per click. The counter above still counts every one.
    sentry.reported(exc)  # our line (when it is logged) is the report: Sentry drops Reflex's copy
    log_throttled(f"event:{handler}:{type(exc).__name__}: {exc}"[:250],
                  "event handler %s failed: %s: %s", handler, type(exc).__name__, exc,
                  level=logging.ERROR, every=SAME_ERROR_LOGGED_EVERY_SECONDS, logger=log,
                  exc_info=exc)


# --- HTTP ---------------------------------------------------------------------------------------

def http_metrics(app: ASGIApp) -> ASGIApp:
    """Reflex `api_transformer`: counts every HTTP response by route template and status class."""

    async def observed(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        path, started = scope.get("path", ""), time.perf_counter()
        status: int | None = None

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_observed)
        except Exception:
            status = status or 500  # Reflex's outer error middleware answers 500
            raise
        finally:
            if status is not None:  # None: the client went away before an answer
                route = _routes(route_template(scope, path))
                HTTP_RESPONSES.labels(route, f"{status // 100}xx").inc()
                HTTP_SECONDS.labels(route).observe(time.perf_counter() - started)

    return observed


def route_template(scope: Scope, path: str) -> str:
    """The route that answered, as a template (read from the scope once the routers have run)."""
    route = scope.get("route")
    if route is None:  # a route without parameters that does not say so (FastAPI's openapi.json)
        matched = scope.get("endpoint") is not None and not scope.get("path_params")
        return path if matched else "unmatched"
    if isinstance(route, Mount):
        return page_template(path) if route.name == "frontend" else (route.path or "unmatched")
    template = getattr(route, "path", None)
    return _with_prefix(template, path) if isinstance(template, str) else "unmatched"


def _with_prefix(template: str, path: str) -> str:
    """A route's template under the prefix it was included or mounted at, which the route itself
    may not know (FastAPI's `include_router(prefix=…)`): `/courses/{slug}` answering
    `/api/v1/courses/x` is `/api/v1/courses/{slug}`."""
    parts, actual = template.strip("/").split("/"), path.strip("/").split("/")
    prefix = actual[:len(actual) - len(parts)]
    tail = actual[len(prefix):]
    if len(parts) > len(actual) or any(
            want != got for want, got in zip(parts, tail, strict=True) if "{" not in want):
        return template  # a route matching several segments ({name:path}): its own template
    return "/" + "/".join(part for part in [*prefix, *parts] if part)


_FILE = re.compile(r"\.[A-Za-z0-9]+$")


def page_template(path: str) -> str:
    """A Reflex page's route (`/courses/[slug]`), `static` for a file, else `unmatched`."""
    router = _pages()
    page = router(path) if router is not None else None
    if page == "index":
        return "/"
    if page and page != "404":
        return "/" + page
    return "static" if _FILE.search(path) else "unmatched"


@functools.cache
def _pages() -> Callable[[str], str | None] | None:
    from reflex.utils.exec import get_routes_manifest_router  # the matcher the frontend mount uses

    return get_routes_manifest_router()


# --- the read cache and the exposition ----------------------------------------------------------

_copied: dict[tuple[int, str, str], int] = {}
_copy_lock = threading.Lock()


def copy_cache_counters() -> None:
    """Add to CACHE_READS what this process's cache counted since the last copy."""
    current = cache()
    with _copy_lock:
        for result, counts in (("hit", current.hits), ("miss", current.misses),
                               ("bypassed", current.bypassed)):
            try:
                snapshot = dict(counts)
            except RuntimeError:  # a reader added a kind meanwhile: the next copy takes it
                continue
            for kind, value in snapshot.items():
                key = (id(current), kind, result)
                added = value - _copied.get(key, 0)
                if added < 0:  # the counters were reset (tests, benchmarks)
                    added = value
                if added:
                    CACHE_READS.labels(kind, result).inc(added)
                _copied[key] = value


def render(shared: CollectorRegistry) -> bytes:
    """The text exposition: this process's metrics (every worker's, in multiprocess mode), then
    the deployment-wide ones in `shared`."""
    copy_cache_counters()
    if not MULTIPROCESS_DIR:
        return generate_latest(REGISTRY) + generate_latest(shared)
    _forget_dead_workers()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry) + generate_latest(shared)


def forget_this_process() -> None:
    """A worker stopping: its live gauges leave the sums (multiprocess mode)."""
    if MULTIPROCESS_DIR:
        multiprocess.mark_process_dead(os.getpid())


def _forget_dead_workers() -> None:
    """Live gauges of workers that died without stopping (killed, crashed) leave the sums too."""
    for name in glob.glob(os.path.join(MULTIPROCESS_DIR or "", "gauge_live*_*.db")):
        pid = int(name.rsplit("_", 1)[-1].removesuffix(".db"))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid)
        except PermissionError:
            pass
