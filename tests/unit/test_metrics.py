"""/metrics: HTTP responses by route and status class, event handler latency, cache reads,
background work from the database and the broker; served to this host (loopback) or a token."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import subprocess
import sys
import uuid

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from reflex_base.event import Event
from reflex_base.utils.format import format_event_handler
from starlette.testclient import TestClient

from academy_app.api import metrics as metrics_route
from academy_app.api.routes import routes
from academy_app.api.v1.app import rest_api
from academy_app.infra import broker
from academy_app.infra import logging as log_context
from academy_app.infra.cache import Entry, cache
from academy_app.infra.metrics import EventObserver, http_metrics
from academy_app.infra.request_ids import request_ids
from academy_app.settings import PROJECT_ROOT, get_settings
from academy_app.state.account import AccountFormState
from tests.unit.test_health import DEAD_REDIS, LIVE_REDIS
from tests.unit.test_jobs import failed_email

Samples = dict[tuple[str, tuple], float]


@pytest.fixture
def serve(db, monkeypatch):
    """The app's routes behind the same middleware as in the app, seen from a chosen address."""
    monkeypatch.setattr(broker, "_last", [])
    monkeypatch.setattr(get_settings(), "metrics_token", None)
    monkeypatch.setattr(get_settings(), "redis_url", None)
    monkeypatch.setattr(get_settings(), "broker_url", None)
    shared = CollectorRegistry(auto_describe=False)
    shared.register(metrics_route.BackgroundWorkCollector())  # no reading kept from another test
    monkeypatch.setattr(metrics_route, "_shared", shared)
    app = request_ids(http_metrics(rest_api(routes)))  # as in academy_app.py's api_transformer

    def client(address: str = "127.0.0.1") -> TestClient:
        return TestClient(app, client=(address, 40000))

    return client


def scrape(client: TestClient, **headers: str) -> Samples:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_http_responses_are_counted_by_route_template_and_status_class(serve):
    client = serve()
    before = scrape(client)
    assert client.get("/healthz").status_code == 200
    assert client.get("/receipts/7").status_code in (401, 403, 404)
    assert client.get("/receipts/8").status_code in (401, 403, 404)
    assert client.get("/no/such/page").status_code == 404
    assert client.get("/api/v1/courses/no-such-course").status_code == 404
    assert client.get("/api/v1/openapi.json").status_code == 200
    after = scrape(client)

    def added(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert added("academy_http_responses_total", route="/healthz", status="2xx") == 1
    assert added("academy_http_responses_total", route="/receipts/{payment_id:int}",
                 status="4xx") == 2
    assert added("academy_http_responses_total", route="unmatched", status="4xx") == 1
    # FastAPI's routes know their path without the router's prefix; the label has it.
    assert added("academy_http_responses_total", route="/api/v1/courses/{slug}", status="4xx") == 1
    assert added("academy_http_responses_total", route="/api/v1/openapi.json", status="2xx") == 1
    assert added("academy_http_request_duration_seconds_count", route="/healthz") == 1


def test_without_a_token_metrics_are_served_to_loopback_addresses_only(serve):
    for inside in ("127.0.0.1", "127.0.0.53", "::1"):
        assert serve(inside).get("/metrics").status_code == 200, inside
    # A private address may be a proxy that adds no X-Forwarded-For, with the public behind it.
    for outside in ("10.1.2.3", "192.168.0.20", "172.16.5.4", "fd00::7", "8.8.8.8",
                    "2a00:1450:4001::1", "testclient"):
        assert serve(outside).get("/metrics").status_code == 403, outside
    # Through a proxy, even one on this host, the public may be the client: refused.
    proxied = serve().get("/metrics", headers={"X-Forwarded-For": "198.51.100.4"})
    assert proxied.status_code == 403


def test_with_a_token_set_everyone_must_send_it(serve, monkeypatch):
    monkeypatch.setattr(get_settings(), "metrics_token", "s3cret-scrape-token")
    local = serve()
    assert local.get("/metrics").status_code == 401
    assert local.get("/metrics").headers["www-authenticate"].startswith("Bearer")
    assert local.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert scrape(serve("8.8.8.8"), Authorization="Bearer s3cret-scrape-token")


def test_cache_reads_are_counted_by_kind_and_result(serve, db):
    client = serve()
    before = scrape(client)
    for _ in range(3):
        cache().get(db, Entry("course:91"), lambda: {"title": "Python Foundations"})
    after = scrape(client)
    for result, reads in (("miss", 1), ("hit", 2)):
        assert (value(after, "academy_cache_reads_total", kind="course", result=result)
                - value(before, "academy_cache_reads_total", kind="course", result=result)) == reads


def test_emails_and_certificates_are_read_from_the_database(serve, db, student):
    failed_email(db, student)
    samples = scrape(serve())
    assert value(samples, "academy_emails", status="failed") == 1
    assert value(samples, "academy_emails", status="queued") == 0
    assert value(samples, "academy_certificates_undrawn") == 0
    assert value(samples, "academy_metrics_source_up", source="database") == 1
    # No broker (embedded mode): tasks run in the web process and nothing waits.
    assert ("academy_task_queue_length", ()) not in samples


def test_the_task_queue_length_is_read_from_the_broker(serve, monkeypatch):
    monkeypatch.setattr(get_settings(), "broker_url", LIVE_REDIS)
    samples = scrape(serve())
    assert value(samples, "academy_metrics_source_up", source="broker") == 1
    assert ("academy_task_queue_length", ()) in samples


def test_a_broker_that_does_not_answer_is_reported_not_fatal(serve, monkeypatch):
    monkeypatch.setattr(get_settings(), "broker_url", DEAD_REDIS)
    samples = scrape(serve())
    assert value(samples, "academy_metrics_source_up", source="broker") == 0
    assert value(samples, "academy_metrics_source_up", source="database") == 1


def test_each_event_is_timed_by_handler_and_a_failure_counted_and_logged_once(serve, caplog):
    login = Event(name=format_event_handler(AccountFormState.event_handlers["login"]), payload={})
    seen: list[str | None] = []
    broke = f"the handler broke ({uuid.uuid4().hex[:8]})"

    async def handle(fail: bool) -> None:
        await EventObserver().preprocess(app=None, state=None, event=login)
        seen.append(log_context.current().request_id)  # what the event's log lines carry
        if fail:
            raise RuntimeError(broke)

    async def two_events() -> None:
        await asyncio.create_task(handle(False))
        for _ in range(2):  # the same failure twice: logged (and reported) once a minute
            with contextlib.suppress(RuntimeError):
                await asyncio.create_task(handle(True))
        await asyncio.sleep(0)  # the done callbacks

    client = serve()
    before = scrape(client)
    with caplog.at_level(logging.INFO):
        asyncio.run(two_events())
    after = scrape(client)
    count = "academy_event_handler_duration_seconds_count"
    assert value(after, count, handler="AccountFormState.login") - value(
        before, count, handler="AccountFormState.login") == 3
    assert value(after, "academy_event_handler_errors_total", handler="AccountFormState.login") - value(
        before, "academy_event_handler_errors_total", handler="AccountFormState.login") == 2
    [failure] = [r for r in caplog.records if r.name == "academy.events"]
    assert failure.getMessage() == f"event handler AccountFormState.login failed: RuntimeError: {broke}"
    assert failure.exc_info is not None
    assert len(set(seen)) == 3 and all(re.fullmatch(r"[0-9a-f]{12,16}", rid) for rid in seen)
    assert log_context.current() is None  # each event's id ended with its task


WORKER = """
import sys
from academy_app.infra import metrics
metrics.WEBSOCKET_CLIENTS.set(int(sys.argv[1]))
metrics.EVENT_SECONDS.labels("CourseState.enroll").observe(0.02)
metrics.HTTP_RESPONSES.labels("/healthz", "2xx").inc()
print("ready", flush=True)
sys.stdin.read()  # live until the test closes stdin
"""
SCRAPE = """
from prometheus_client import CollectorRegistry
from academy_app.infra import metrics
print(metrics.render(CollectorRegistry()).decode())
"""


def test_several_workers_add_up_in_multiprocess_mode(tmp_path):
    """With PROMETHEUS_MULTIPROC_DIR, a scrape served by any worker counts every worker; a worker
    that died leaves the connected-clients sum but not the counters."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}

    def start(clients: int) -> subprocess.Popen:
        worker = subprocess.Popen([sys.executable, "-c", WORKER, str(clients)], cwd=PROJECT_ROOT,
                                  env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert worker.stdout.readline().strip() == "ready"
        return worker

    def scrape_all() -> Samples:
        text = subprocess.run([sys.executable, "-c", SCRAPE], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True, check=True).stdout
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(text) for s in family.samples}

    workers = [start(3), start(4)]
    try:
        samples = scrape_all()
        assert value(samples, "academy_websocket_clients") == 7
        assert value(samples, "academy_event_handler_duration_seconds_count",
                     handler="CourseState.enroll") == 2
        assert value(samples, "academy_http_responses_total", route="/healthz", status="2xx") == 2
        workers[1].kill()
        workers[1].wait()
        samples = scrape_all()
        assert value(samples, "academy_websocket_clients") == 3
        assert value(samples, "academy_http_responses_total", route="/healthz", status="2xx") == 2
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
