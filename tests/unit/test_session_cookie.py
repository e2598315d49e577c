"""The login cookie is HttpOnly: set and cleared only by /auth/session, from a one-time ticket that
a log-in answers with; the WebSocket handshake Reflex records carries the token's hash, never the
token. And `next` after log-in never leaves the site, however a browser would read it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select, update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from academy_app.api.routes import routes
from academy_app.infra.session_cookie import (
    EVENT_PATH,
    LOGIN_HASH_COOKIE,
    SESSION_COOKIE,
    login_cookie_for_events,
    login_hash,
    token_hash,
)
from academy_app.models import LoginSession, utcnow
from academy_app.services import accounts
from academy_app.services.errors import NotFound
from academy_app.settings import Environment, get_settings
from academy_app.state.auth import safe_next_path

ORIGIN = get_settings().origins[0]
JSON = {"Content-Type": "application/json", "Origin": ORIGIN}


# -- next after log-in ----------------------------------------------------------------------------

@pytest.mark.parametrize("crafted", [
    "/\t/evil.example/x",  # /login?next=/%09/evil.example/x: a browser drops the tab
    "/\n/evil.example/x", "/\r/evil.example/x", "\t//evil.example", " //evil.example",
    "//evil.example", "/\\evil.example", "\\/evil.example", "/\\\\evil.example", "\\\\evil.example",
    "/\t\\evil.example", "https://evil.example/x", "javascript:alert(1)", "evil.example",
    "/.//evil.example", "\x00//evil.example", "", None, 42, ["/dashboard"], "/" + "a" * 600,
])
def test_next_paths_that_would_leave_the_site_go_to_the_default(crafted):
    assert safe_next_path(crafted) == "/dashboard"


@pytest.mark.parametrize(("asked", "served"), [
    ("/courses/python-foundations", "/courses/python-foundations"),
    ("/learn/sql/3?from=mail#notes", "/learn/sql/3?from=mail#notes"),
    ("/admin/courses", "/admin/courses"),
    ("/courses/../account", "/account"),  # what the browser would load anyway
])
def test_next_paths_on_the_site_are_kept(asked, served):
    assert safe_next_path(asked) == served


# -- the handoff ----------------------------------------------------------------------------------

def test_a_ticket_becomes_a_login_token_once(db, student):
    ticket = accounts.start_handoff(db, student)
    db.commit()
    token = accounts.complete_handoff(db, ticket)
    db.commit()
    assert accounts.user_for_token(db, token).id == student.id
    with pytest.raises(NotFound):
        accounts.complete_handoff(db, ticket)


def test_neither_a_ticket_nor_its_pending_login_is_a_token(db, student):
    ticket = accounts.start_handoff(db, student)
    db.commit()
    assert accounts.user_for_token(db, ticket) is None
    pending = db.exec(select(LoginSession)).one()
    assert accounts.user_for_login(db, pending.token_hash) is not None  # only a hash can reach it
    assert pending.token_hash != token_hash(ticket)


def test_an_expired_ticket_is_refused(db, student):
    ticket = accounts.start_handoff(db, student)
    db.exec(update(LoginSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    with pytest.raises(NotFound):
        accounts.complete_handoff(db, ticket)


def test_completing_a_ticket_ends_the_browsers_earlier_login(db, student):
    planted = accounts.start_session(db, student)
    ticket = accounts.start_handoff(db, student)
    db.commit()
    fresh = accounts.complete_handoff(db, ticket, replacing=planted)
    db.commit()
    assert accounts.user_for_token(db, planted) is None
    assert accounts.user_for_token(db, fresh).id == student.id


# -- /auth/session --------------------------------------------------------------------------------

@pytest.fixture
def client(db) -> TestClient:
    return TestClient(routes, base_url=ORIGIN)


def test_the_login_cookie_is_httponly_and_lax(db, student, client):
    ticket = accounts.start_handoff(db, student)
    db.commit()
    answer = client.post("/auth/session", json={"ticket": ticket}, headers={"Origin": ORIGIN})
    assert answer.status_code == 204
    cookie = answer.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # development serves plain http://localhost
    assert answer.headers["cache-control"] == "no-store"
    assert accounts.user_for_token(db, client.cookies[SESSION_COOKIE]).id == student.id
    db.commit()  # SQLite: one writer at a time, and this session began a transaction
    assert client.post("/auth/session", json={"ticket": ticket},
                       headers={"Origin": ORIGIN}).status_code == 410


def test_production_marks_the_login_cookie_secure(db, student, client, monkeypatch):
    monkeypatch.setattr(get_settings(), "env", Environment.PRODUCTION)
    ticket = accounts.start_handoff(db, student)
    db.commit()
    answer = client.post("/auth/session", json={"ticket": ticket}, headers={"Origin": ORIGIN})
    assert "Secure" in answer.headers["set-cookie"]


@pytest.mark.parametrize("headers", [
    {"Content-Type": "application/json", "Origin": "https://evil.example"},
    {"Content-Type": "application/json"},  # no Origin at all
    {"Content-Type": "text/plain", "Origin": ORIGIN},  # what a form on another site can send
])
def test_only_this_sites_pages_may_set_the_cookie(db, student, client, headers, caplog):
    ticket = accounts.start_handoff(db, student)
    db.commit()
    answer = client.post("/auth/session", content=f'{{"ticket": "{ticket}"}}', headers=headers)
    assert answer.status_code in (403, 415)
    assert "set-cookie" not in answer.headers
    # The ticket is still unused: another site cannot spend it either.
    assert accounts.complete_handoff(db, ticket)


@pytest.mark.parametrize("body", ["", "[]", '{"ticket": 5}', '{"ticket": ""}', "not json",
                                  '{"ticket": "' + "x" * 5000 + '"}'])
def test_hostile_bodies_get_a_clear_error_and_no_cookie(db, client, body):
    answer = client.post("/auth/session", content=body, headers=JSON)
    assert answer.status_code in (400, 410)
    assert "set-cookie" not in answer.headers


def test_logging_out_ends_the_login_and_clears_the_cookie(db, student, client):
    token = accounts.start_session(db, student)
    db.commit()
    client.cookies.set(SESSION_COOKIE, token)
    answer = client.request("DELETE", "/auth/session", json={}, headers={"Origin": ORIGIN})
    assert answer.status_code == 204
    assert f'{SESSION_COOKIE}=""' in answer.headers["set-cookie"]
    assert "Max-Age=0" in answer.headers["set-cookie"]
    assert accounts.user_for_token(db, token) is None


def test_another_site_cannot_log_a_visitor_out(db, student, client):
    token = accounts.start_session(db, student)
    db.commit()
    client.cookies.set(SESSION_COOKIE, token)
    answer = client.request("DELETE", "/auth/session", json={},
                            headers={"Origin": "https://evil.example"})
    assert answer.status_code == 403
    assert accounts.user_for_token(db, token).id == student.id


# -- the WebSocket handshake ----------------------------------------------------------------------

async def _echo_cookie(request: Request) -> JSONResponse:
    return JSONResponse({"cookie": request.headers.get("cookie", "")})


ECHO = TestClient(login_cookie_for_events(Starlette(routes=[
    Route(f"{EVENT_PATH}/", _echo_cookie), Route("/receipts/1", _echo_cookie)])))


def test_the_handshake_carries_the_tokens_hash_and_nothing_else():
    seen = ECHO.get(f"{EVENT_PATH}/", headers={
        "Cookie": f"theme=dark; {SESSION_COOKIE}=secret-token; other=1"}).json()["cookie"]
    assert seen == f"{LOGIN_HASH_COOKIE}={token_hash('secret-token')}"
    assert "secret-token" not in seen
    assert login_hash(seen) == token_hash("secret-token")


@pytest.mark.parametrize("cookie", ["", f"{LOGIN_HASH_COOKIE}={token_hash('x')}", "garbage;;=",
                                    f"{SESSION_COOKIE}={'x' * 500}"])
def test_a_handshake_without_a_usable_login_cookie_carries_none(cookie):
    """A client that sends a hash cookie of its own (one it read somewhere) gets nothing from it."""
    assert ECHO.get(f"{EVENT_PATH}/", headers={"Cookie": cookie}).json()["cookie"] == ""


def test_other_requests_keep_their_cookies():
    """The receipt and certificate downloads read the login cookie itself."""
    sent = f"{SESSION_COOKIE}=secret-token"
    assert ECHO.get("/receipts/1", headers={"Cookie": sent}).json()["cookie"] == sent
