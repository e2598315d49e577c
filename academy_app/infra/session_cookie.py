"""The login cookie: HttpOnly, so no script in the page (an injected one included) can read it.

The browser sends it with every HTTP request and with the WebSocket's opening handshake; nothing
else ever holds the raw token. The app's HTTP endpoints (api/session.py) set and clear it. For the
WebSocket, `login_cookie_for_events` rewrites the handshake before Reflex sees it: the token is
replaced by its SHA-256, the same value the database keeps, so Reflex's per-tab state (in Redis or
`.states/`), which records the handshake's headers, holds nothing a thief could log in with.
"""

from __future__ import annotations

import hashlib
from http.cookies import CookieError, SimpleCookie

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from academy_app.settings import get_settings

SESSION_COOKIE = "academy_session"
# What the rewritten handshake carries instead: the token's hash, under a name of its own.
LOGIN_HASH_COOKIE = "academy_login"
EVENT_PATH = "/_event"  # Reflex's Socket.IO endpoint
MAX_TOKEN_LENGTH = 128


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def read_cookie(header: str, name: str) -> str:
    """One cookie's value from a Cookie header ('' when absent or the header is malformed)."""
    try:
        morsel = SimpleCookie(header).get(name)
    except CookieError:
        return ""
    return morsel.value if morsel is not None else ""


def login_hash(cookie_header: str) -> str:
    """The login hash a rewritten handshake carries ('' for a visitor)."""
    return read_cookie(cookie_header, LOGIN_HASH_COOKIE)


def set_session_cookie(response: Response, token: str) -> None:
    settings = get_settings()
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.session_days * 24 * 3600, path="/",
                        httponly=True, samesite="lax", secure=settings.is_production)


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=get_settings().is_production)


def login_cookie_for_events(app: ASGIApp) -> ASGIApp:
    """Reflex `api_transformer`: the handshake of Reflex's WebSocket keeps one cookie, the login's
    hash (and only when the browser sent a login cookie: one a client sends under that name itself
    is dropped). Every other request passes untouched."""

    async def rewrite(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope["path"].startswith(EVENT_PATH):
            cookie = b"; ".join(value for name, value in scope["headers"] if name == b"cookie")
            token = read_cookie(cookie.decode("latin-1"), SESSION_COOKIE)
            headers = [(name, value) for name, value in scope["headers"] if name != b"cookie"]
            if token and len(token) <= MAX_TOKEN_LENGTH:
                headers.append((b"cookie", f"{LOGIN_HASH_COOKIE}={token_hash(token)}".encode()))
            scope = {**scope, "headers": headers}
        await app(scope, receive, send)

    return rewrite
