"""The REST API as Reflex serves it: under /api/v1 of two backend workers sharing Redis and
PostgreSQL, whose request limits count in one window, with the security headers and CORS of every
other response."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from academy_app.demo import DEMO_PASSWORD
from tests.appserver import RunningApp, two_backends

REDIS_URL = "redis://127.0.0.1:6379/14"
ANONYMOUS, AUTHENTICATED = 4, 3  # an hour; the other server tests raise both


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory,
                postgres) -> Iterator[tuple[RunningApp, RunningApp]]:
    limits = {"ACADEMY_API_ANONYMOUS_PER_HOUR": str(ANONYMOUS),
              "ACADEMY_API_AUTHENTICATED_PER_HOUR": str(AUTHENTICATED)}
    with two_backends(tmp_path_factory, postgres.create_database(), REDIS_URL, limits) as workers:
        yield workers


def test_requests_on_two_workers_share_one_window(two_workers):
    a, b = two_workers
    either = [a, b] * 4
    token = httpx.post(f"{a.url}/api/v1/auth/token",
                       json={"email": "student@academy.test", "password": DEMO_PASSWORD})
    assert token.status_code == 200, token.text
    mine = {"Authorization": f"Bearer {token.json()['access_token']}"}

    # Anonymous: the log-in above was the first request of this address's window.
    anonymous = [httpx.get(f"{app.url}/api/v1/courses") for app in either[:ANONYMOUS + 1]]
    assert [r.status_code for r in anonymous] == [200] * (ANONYMOUS - 1) + [429, 429]
    assert all(1 <= int(r.headers["retry-after"]) <= 3600 for r in anonymous[-2:])
    assert anonymous[-1].headers["content-type"] == "application/problem+json"

    # With the token: the user's own window, shared by both workers too.
    answers = [httpx.get(f"{app.url}/api/v1/me/enrollments", headers=mine).status_code
               for app in either[:AUTHENTICATED + 2]]
    assert answers == [200] * AUTHENTICATED + [429, 429]
    log = a.log_text() + b.log_text()
    assert "api: request refused by rate limit for api:ip:" in log
    assert "api: request refused by rate limit for api:user:" in log


def test_the_api_gets_the_security_headers_and_cors_of_every_response(two_workers):
    a, _ = two_workers
    # A refused request is enough: the headers are the same on every answer.
    answer = httpx.get(f"{a.url}/api/v1/openapi.json")
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    preflight = {"Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "authorization"}
    allowed = httpx.options(f"{a.url}/api/v1/courses", headers={**preflight, "Origin": a.url})
    assert allowed.headers.get("access-control-allow-origin") == a.url
    foreign = httpx.options(f"{a.url}/api/v1/courses",
                            headers={**preflight, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in foreign.headers
