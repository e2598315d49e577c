"""One-click unsubscribe (RFC 8058): a mail client POSTs to the List-Unsubscribe address of an
email. The signed token in the address names the person and the topic; no login, no page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from academy_app.db import session_scope
from academy_app.services import email_preferences
from academy_app.services.errors import NotFound


async def one_click_unsubscribe(request: Request) -> Response:
    try:
        with session_scope() as session:
            email_preferences.set_by_link(session, request.path_params["token"], enabled=False)
    except NotFound:
        return PlainTextResponse("This link is not valid", status_code=404)
    return PlainTextResponse("You will not get these emails any more.")
