"""`/auth/session`: where a browser's HttpOnly login cookie is set and cleared.

Log-in and sign-up are forms answered over the WebSocket (state/account.py), which cannot set an
HttpOnly cookie. They answer with a one-time ticket that the page posts here at once (POST), and
log-outs end the cookie here too (DELETE). Only this site's own pages may call it: the Origin must be
one of the app's, and the body JSON, which a form on another site cannot send (without it, another
site could log a visitor into an account of its choosing).
"""

from __future__ import annotations

import json
import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from academy_app.db import session_scope
from academy_app.infra.session_cookie import (
    SESSION_COOKIE,
    clear_session_cookie,
    set_session_cookie,
)
from academy_app.services import accounts
from academy_app.services.errors import NotFound
from academy_app.settings import get_settings

log = logging.getLogger(__name__)
MAX_BODY = 1024


def _refusal(request: Request) -> Response | None:
    if request.headers.get("origin") not in get_settings().origins:
        log.warning("refused %s /auth/session from origin %r", request.method,
                    request.headers.get("origin", "")[:200])
        return PlainTextResponse("Not allowed from this origin", status_code=403)
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return PlainTextResponse("Send JSON", status_code=415)
    return None


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


async def start_browser_session(request: Request) -> Response:
    if (refused := _refusal(request)) is not None:
        return refused
    try:
        ticket = json.loads((await request.body())[:MAX_BODY]).get("ticket")
    except (ValueError, AttributeError):
        return PlainTextResponse("Send {\"ticket\": …}", status_code=400)
    try:
        with session_scope() as session:
            token = accounts.complete_handoff(session, ticket,
                                              replacing=request.cookies.get(SESSION_COOKIE))
    except NotFound:
        return PlainTextResponse("This log-in has expired: log in again", status_code=410)
    response = _no_store(Response(status_code=204))
    set_session_cookie(response, token)
    return response


async def end_browser_session(request: Request) -> Response:
    if (refused := _refusal(request)) is not None:
        return refused
    with session_scope() as session:
        accounts.end_session(session, request.cookies.get(SESSION_COOKIE))
    response = _no_store(Response(status_code=204))
    clear_session_cookie(response)
    return response
