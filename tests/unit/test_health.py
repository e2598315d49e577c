"""/healthz says the process is up; /readyz asks each configured dependency and names the one
that does not answer."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from academy_app.api.routes import routes
from academy_app.infra import broker
from academy_app.settings import get_settings

LIVE_REDIS = "redis://127.0.0.1:6379/5"
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def client(db, monkeypatch) -> TestClient:
    monkeypatch.setattr(broker, "_last", [])  # no queue length remembered from another test
    return TestClient(routes)


def test_healthz_answers_without_asking_anything(client):
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert response.headers["cache-control"] == "no-store"


def test_readyz_in_embedded_mode_asks_only_the_database(client, monkeypatch):
    monkeypatch.setattr(get_settings(), "redis_url", None)
    monkeypatch.setattr(get_settings(), "broker_url", None)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert list(response.json()["checks"]) == ["database"]
    assert response.json()["checks"]["database"]["ok"] is True


def test_readyz_asks_redis_and_the_broker_when_configured(client, monkeypatch):
    monkeypatch.setattr(get_settings(), "redis_url", LIVE_REDIS)
    monkeypatch.setattr(get_settings(), "broker_url", None)  # the broker defaults to Redis
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert {name: check["ok"] for name, check in response.json()["checks"].items()} == {
        "database": True, "redis": True, "broker": True}


def test_readyz_names_the_dependency_that_does_not_answer(client, monkeypatch):
    monkeypatch.setattr(get_settings(), "redis_url", DEAD_REDIS)
    monkeypatch.setattr(get_settings(), "broker_url", LIVE_REDIS)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]
    assert body["checks"]["redis"] == {"ok": False}  # the reason is logged, not shown
