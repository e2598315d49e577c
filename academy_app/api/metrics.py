"""`/metrics` in Prometheus text format: this process's metrics (`infra/metrics.py`) and the
deployment's background work, read when scraped (and reused for a few seconds).

Who may read it: with `ACADEMY_METRICS_TOKEN` set, whoever sends `Authorization: Bearer <token>`
(401 otherwise); without it, only a client on a loopback address that did not come through a proxy
(no X-Forwarded-For or Forwarded header), 403 otherwise. Not any private address: a load balancer
or reverse proxy that adds no forwarding header connects from one, and would carry the public in.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import threading
import time

import reflex as rx
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector
from sqlmodel import func, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from academy_app.db import session_scope
from academy_app.infra import broker, metrics
from academy_app.models import EmailLog, EmailStatus
from academy_app.services import certificates
from academy_app.settings import get_settings
from academy_app.state.live import connected_clients

log = logging.getLogger(__name__)

REFRESH_SECONDS = 5  # a worker's share of the process metrics, in multiprocess mode
READ_AGAIN_SECONDS = 10  # database counts are reused this long between scrapes


class BackgroundWorkCollector(Collector):
    """Emails by status, certificates still undrawn, the task queue's length: one reading shared
    by scrapes for READ_AGAIN_SECONDS (the broker helper keeps its own 5 s)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._read_at = float("-inf")
        self._families: list[Metric] = []

    def describe(self) -> list[Metric]:
        return []  # nothing is read when the collector is registered

    def collect(self) -> list[Metric]:
        with self._lock:
            if time.monotonic() - self._read_at >= READ_AGAIN_SECONDS:
                self._families = [*_database_counts(), *_task_queue()]
                self._read_at = time.monotonic()
            return self._families


def _up(source: str, up: bool) -> GaugeMetricFamily:
    family = GaugeMetricFamily("academy_metrics_source_up",
                               "Whether a source of these metrics answered the last reading.",
                               labels=["source"])
    family.add_metric([source], 1 if up else 0)
    return family


def _database_counts() -> list[Metric]:
    try:
        with session_scope() as session:
            by_status = dict(session.exec(
                select(EmailLog.status, func.count()).group_by(EmailLog.status)).all())
            undrawn = certificates.drawing_count(session)
    except Exception as exc:  # a database that does not answer must not break the scrape
        log.warning("metrics: the database did not answer: %s: %s", type(exc).__name__, exc)
        return [_up("database", False)]
    emails = GaugeMetricFamily(
        "academy_emails", "Emails in the email log by status; failed = every attempt failed (an "
        "admin can retry it at /admin/jobs).", labels=["status"])
    for status in EmailStatus:
        emails.add_metric([status.value], by_status.get(status, 0))
    drawing = GaugeMetricFamily("academy_certificates_undrawn",
                                "Certificates issued whose PDF is not drawn yet.", value=undrawn)
    return [emails, drawing, _up("database", True)]


def _task_queue() -> list[Metric]:
    try:
        waiting = broker.queue_length()
    except broker.BrokerUnavailable:
        return [_up("broker", False)]
    if waiting is None:  # no broker: tasks run in the web process, nothing waits
        return []
    return [GaugeMetricFamily("academy_task_queue_length",
                              "Celery messages waiting in the broker's queue.", value=waiting),
            _up("broker", True)]


_shared = CollectorRegistry(auto_describe=False)
_shared.register(BackgroundWorkCollector())
_app: list[rx.App] = []  # this worker's app, once its lifespan started


async def refresh_metrics(app: rx.App) -> None:
    """Lifespan task: keeps this worker's WebSocket and cache figures fresh, which in
    multiprocess mode is how a scrape served by another worker sees them."""
    _app[:] = [app]
    try:
        while True:
            _count_clients()
            await run_in_threadpool(metrics.copy_cache_counters)
            await asyncio.sleep(REFRESH_SECONDS)
    finally:
        metrics.forget_this_process()


def _count_clients() -> None:
    if _app:  # on the event loop: Reflex changes its socket maps there
        metrics.WEBSOCKET_CLIENTS.set(connected_clients(_app[0]))


async def metrics_endpoint(request: Request) -> Response:
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    _count_clients()
    body = await run_in_threadpool(metrics.render, _shared)
    return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4, headers={"Cache-Control": "no-store"})


def _refusal(request: Request) -> Response | None:
    token = get_settings().metrics_token
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return None
        return PlainTextResponse("A bearer token is required.", status_code=401,
                                 headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    if _from_this_host(request):
        return None
    return PlainTextResponse("Metrics are served to this host only, or with a bearer token.",
                             status_code=403)


def _from_this_host(request: Request) -> bool:
    if "x-forwarded-for" in request.headers or "forwarded" in request.headers:
        return False
    try:
        address = ipaddress.ip_address(request.client.host if request.client else "")
    except ValueError:
        return False
    return address.is_loopback
