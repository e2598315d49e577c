"""Logs: JSON lines in production, readable ones in development, and every line says which request,
WebSocket event or Celery task it belongs to, and whose."""

from __future__ import annotations

import json
import logging
import re

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from academy_app.infra import logging as log_context
from academy_app.infra import queue
from academy_app.infra.logging import configure_logging, wants_json
from academy_app.infra.request_ids import request_ids
from academy_app.settings import Environment, get_settings

log = logging.getLogger("academy.test")


@pytest.fixture
def root_logging():
    """Whatever a test configures, the root logger is given back as it was."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def configured(fmt: str = "auto", env: Environment = Environment.DEVELOPMENT):
    settings = get_settings().model_copy(update={"log_format": fmt, "env": env})
    configure_logging(settings)
    return settings


def json_lines(stderr: str) -> list[dict]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def test_production_logs_one_json_object_per_line_with_request_and_user(root_logging, capsys):
    configured(env=Environment.PRODUCTION)
    token = log_context.bind_request("req-123")
    log_context.bind_user(42)
    try:
        log.info("enrolled in %s", "Python Foundations")
        try:
            raise ValueError("no such course")
        except ValueError:
            log.exception("could not enroll")
    finally:
        log_context.unbind(token)
    log.warning("outside any request")

    first, second, third = json_lines(capsys.readouterr().err)[-3:]
    assert set(first) == {"time", "level", "logger", "message", "request_id", "user_id"}
    assert (first["level"], first["logger"], first["message"]) == (
        "info", "academy.test", "enrolled in Python Foundations")
    assert (first["request_id"], first["user_id"]) == ("req-123", 42)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", first["time"])
    assert second["level"] == "error" and "ValueError: no such course" in second["exception"]
    assert (third["request_id"], third["user_id"]) == (None, None)


def test_development_logs_are_lines_for_a_person(root_logging, capsys):
    configured()
    token = log_context.bind_request("req-9")
    log_context.bind_user(7)
    log.warning("slow page")
    log_context.unbind(token)
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert re.fullmatch(r"\S+ \S+ WARNING academy.test \[req=req-9 user=7\] slow page", line)


@pytest.mark.parametrize("env", [Environment.PRODUCTION, Environment.DEVELOPMENT])
def test_a_huge_message_is_cut_but_its_traceback_kept(root_logging, capsys, env):
    """A log line that quotes a client's payload (Reflex warns with the whole value) stays short."""
    configured(env=env)
    try:
        raise ValueError("kept whole " + "y" * 3000)
    except ValueError:
        log.exception("payload %s", "x" * 100_000)
    err = capsys.readouterr().err
    assert "payload " + "x" * 1992 + "… (98008 more characters)" in err
    assert "x" * 1993 not in err
    assert "kept whole " + "y" * 3000 in err


def test_the_format_follows_the_environment_unless_chosen():
    settings = get_settings()
    assert wants_json(settings.model_copy(update={"env": Environment.PRODUCTION}))
    assert not wants_json(settings.model_copy(update={"env": Environment.DEVELOPMENT}))
    assert wants_json(settings.model_copy(update={"log_format": "json"}))
    assert not wants_json(settings.model_copy(update={"log_format": "text",
                                                      "env": Environment.PRODUCTION}))


def test_configuring_twice_keeps_one_handler(root_logging):
    configured()
    configured("json")
    assert sum(getattr(h, "academy", False) for h in logging.getLogger().handlers) == 1


async def _logs_and_answers(request):
    log.info("serving the page")
    return PlainTextResponse("ok")


async def _fails(request):
    raise RuntimeError("the database went away")


@pytest.fixture
def client(root_logging) -> TestClient:
    configured("json")
    app = Starlette(routes=[Route("/page", _logs_and_answers),
                            Route("/password/reset/{token}", _fails)])
    return TestClient(request_ids(app), raise_server_exceptions=False)


def test_every_http_request_gets_an_id_echoed_and_on_its_log_lines(client, capsys):
    response = client.get("/page")
    request_id = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{16}", request_id)
    served = [line for line in json_lines(capsys.readouterr().err)
              if line["message"] == "serving the page"]
    assert [line["request_id"] for line in served] == [request_id]
    assert client.get("/page").headers["x-request-id"] != request_id


def test_a_sane_incoming_request_id_is_kept_and_a_strange_one_replaced(client):
    assert client.get("/page", headers={"X-Request-ID": "lb-7f3a.42"}).headers["x-request-id"] == (
        "lb-7f3a.42")
    for strange in ("a" * 129, "two words", "<script>", "-starts-with-a-dash"):
        echoed = client.get("/page", headers={"X-Request-ID": strange}).headers["x-request-id"]
        assert echoed != strange and re.fullmatch(r"[0-9a-f]{16}", echoed)


def test_an_unhandled_error_is_logged_once_with_its_request_and_no_secret_path(client, capsys):
    response = client.get("/password/reset/the-secret-token", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    errors = [line for line in json_lines(capsys.readouterr().err) if line["level"] == "error"]
    assert len(errors) == 1
    assert errors[0]["message"] == "unhandled error serving GET /password/reset/[Filtered]"
    assert errors[0]["request_id"] == "req-500"
    assert "RuntimeError: the database went away" in errors[0]["exception"]


@queue.app.task(name="tests.log_a_line")
def log_a_line() -> None:
    logging.getLogger("academy.tasks.test").info("drawing a certificate")


def test_celery_tasks_log_with_their_task_id(root_logging, capsys):
    configured("json")
    result = log_a_line.apply(task_id="task-0042")
    assert result.successful()
    line = next(line for line in json_lines(capsys.readouterr().err)
                if line["message"] == "drawing a certificate")
    assert (line["task_id"], line["task"]) == ("task-0042", "tests.log_a_line")
