"""Sentry: with a DSN, an error reaches it tagged and scrubbed (here a local HTTP server plays
Sentry and keeps what it receives); without one, Sentry is not even initialised."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk
from reflex.app import default_backend_exception_handler
from reflex_base.event import Event
from reflex_base.utils.format import format_event_handler
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route
from starlette.testclient import TestClient

from academy_app.infra import logging as log_context
from academy_app.infra import queue, sentry
from academy_app.infra.metrics import EventObserver, http_metrics
from academy_app.infra.request_ids import request_ids
from academy_app.settings import PROJECT_ROOT, Environment, get_settings
from academy_app.state.course import CourseState

RESET_TOKEN = "rst-Zq81kLw0sQ-secret"
COOKIE = "academy_session=ck-4f1c9e2d-secret"
BEARER = "jwt-eyJhbGciOi-secret"
LEARNER_EMAIL = "ada.learner@example.com"


class SentrySink(ThreadingHTTPServer):
    """Answers like Sentry's ingestion endpoint and keeps every envelope's items."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Receive)
        self.items: list[tuple[dict, bytes]] = []
        self.received = threading.Condition()

    def events(self) -> list[dict]:
        return [json.loads(payload) for header, payload in self.items if header.get("type") == "event"]


class _Receive(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        with self.server.received:
            self.server.items.extend(_envelope_items(body))
            self.server.received.notify_all()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_args: object) -> None:
        pass


def _envelope_items(body: bytes) -> list[tuple[dict, bytes]]:
    """An envelope: a header line, then items, each a header line and a payload (of `length` bytes
    when the header says so, else up to the next newline)."""
    items, pos = [], body.index(b"\n") + 1
    while pos < len(body):
        end = body.find(b"\n", pos)
        end = len(body) if end == -1 else end
        if not body[pos:end].strip():
            pos = end + 1
            continue
        header, pos = json.loads(body[pos:end]), end + 1
        if "length" in header:
            payload, pos = body[pos:pos + header["length"]], pos + header["length"] + 1
        else:
            end = body.find(b"\n", pos)
            end = len(body) if end == -1 else end
            payload, pos = body[pos:end], end + 1
        items.append((header, payload))
    return items


@pytest.fixture
def sink() -> Iterator[SentrySink]:
    server = SentrySink()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def reporting(sink: SentrySink, monkeypatch: pytest.MonkeyPatch) -> Iterator[SentrySink]:
    settings = get_settings().model_copy(update={
        "env": Environment.PRODUCTION, "sentry_release": "academy@test-release",
        "sentry_dsn": f"http://publickey@127.0.0.1:{sink.server_address[1]}/1"})
    monkeypatch.setattr(sentry, "_initialised", False)
    assert sentry.init_sentry(settings) is True
    yield sink
    sentry_sdk.get_client().close(timeout=2)
    sentry_sdk.get_global_scope().set_client(None)  # back to not reporting


def wait_for_event(sink: SentrySink) -> dict:
    sentry_sdk.flush(timeout=5)
    with sink.received:
        sink.received.wait_for(sink.events, timeout=5)
    [event] = sink.events()
    return event


async def _reset_password(request: Request):
    logging.getLogger("academy.accounts").warning("reset asked for %s", LEARNER_EMAIL)
    raise RuntimeError(f"no login session for {LEARNER_EMAIL}")


def test_an_error_is_reported_tagged_and_without_secrets_or_addresses(reporting):
    app = request_ids(http_metrics(Starlette(routes=[
        Route("/password/reset/{token}", _reset_password)])))
    client = TestClient(app, raise_server_exceptions=False)
    response = client.get(f"/password/reset/{RESET_TOKEN}?token={RESET_TOKEN}&step=2",
                          headers={"Cookie": COOKIE, "Authorization": f"Bearer {BEARER}",
                                   "X-Forwarded-For": "198.51.100.77", "X-Request-ID": "req-sentry-1"})
    assert response.status_code == 500

    event = wait_for_event(reporting)
    [error] = event["exception"]["values"]
    assert error["type"] == "RuntimeError"
    assert error["value"] == "no login session for [email]"
    assert (event["environment"], event["release"]) == ("production", "academy@test-release")
    assert event["tags"]["request_id"] == "req-sentry-1"
    assert event["request"]["url"].endswith("/password/reset/[Filtered]")
    assert event["request"]["headers"]["cookie"] == sentry.FILTERED
    assert "step=2" in event["request"]["query_string"]
    crumbs = [crumb["message"] for crumb in event["breadcrumbs"]["values"]]
    assert "reset asked for [email]" in crumbs
    sent = json.dumps(event)
    for secret in (RESET_TOKEN, "ck-4f1c9e2d", BEARER, LEARNER_EMAIL, "ada.learner", "198.51.100.77"):
        assert secret not in sent, secret


@queue.app.task(name="tests.draw_a_broken_certificate")
def draw_a_broken_certificate() -> None:
    raise ValueError("the font is missing")


def test_a_failing_celery_task_is_reported_with_its_task_id(reporting):
    draw_a_broken_certificate.apply(task_id="task-sentry-7")
    event = wait_for_event(reporting)
    assert event["exception"]["values"][-1]["value"] == "the font is missing"
    assert event["tags"]["task_id"] == "task-sentry-7"
    assert event["tags"]["task"] == "tests.draw_a_broken_certificate"


def test_the_release_is_the_git_commit_unless_set():
    settings = get_settings().model_copy(update={"sentry_release": None})
    sha = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=PROJECT_ROOT,
                         capture_output=True, text=True, check=True).stdout.strip()
    assert sentry.release(settings) == f"academy@{sha}"
    assert sentry.release(settings.model_copy(update={"sentry_release": "v7"})) == "v7"


def test_without_a_dsn_nothing_is_initialised():
    """In a fresh interpreter, as the web app and the worker start: no client, no integration
    patched in, no background thread, so nothing is ever sent."""
    probe = (
        "import threading, sentry_sdk, sentry_sdk.integrations as integrations\n"
        "import tasks.celery_app\n"
        "from academy_app.infra.sentry import init_sentry\n"
        "print(init_sentry(), sentry_sdk.get_client().is_active(),\n"
        "      sorted(integrations._installed_integrations),\n"
        "      [t.name for t in threading.enumerate() if 'sentry' in t.name.lower()])\n")
    env = {key: value for key, value in os.environ.items() if "SENTRY" not in key}
    out = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_ROOT, env=env,
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out.splitlines()[-1] == "False False [] []"


def test_a_failing_event_handler_is_reported_once_with_the_event_id(reporting):
    """The event observer reports the exception itself; Reflex's default handler, which runs next
    and logs the same traceback as text, does not make a second report."""
    enroll = Event(name=format_event_handler(CourseState.event_handlers["enroll"]), payload={})

    async def failing_handler() -> None:
        await EventObserver().preprocess(app=None, state=None, event=enroll)
        log_context.bind_user(7)  # what AuthState._actor does
        json.loads(f"{{not json from {LEARNER_EMAIL}")

    async def one_event() -> BaseException:
        task = asyncio.create_task(failing_handler())
        with contextlib.suppress(json.JSONDecodeError):
            await task
        await asyncio.sleep(0)  # the observer's done callback
        return task.exception()

    error = asyncio.run(one_event())
    default_backend_exception_handler(error)  # what Reflex runs after the observer

    event = wait_for_event(reporting)
    assert event["exception"]["values"][-1]["type"] == "JSONDecodeError"
    assert re.fullmatch(r"[0-9a-f]{12,16}", event["tags"]["request_id"])
    assert event["user"] == {"id": "7"}
    assert LEARNER_EMAIL not in json.dumps(event)
