"""An id for every HTTP request: in each log line the request writes, in its Sentry report, and in
the response (`X-Request-ID`). Its own module because it uses both `infra.logging` and
`infra.sentry`, and Sentry reads the log context: so each of those imports only what is below it."""

from __future__ import annotations

import logging
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from academy_app.infra import sentry
from academy_app.infra.logging import bind_request, new_request_id, redact_path, unbind

log = logging.getLogger("academy.http")

REQUEST_ID_HEADER = b"x-request-id"
# An incoming id is kept only if it is short and plain: it lands in every log line of the request.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def request_id_from(header: bytes | None) -> str:
    """The client's (or load balancer's) X-Request-ID if it looks sane, else a new one."""
    if header:
        candidate = header.decode("latin-1").strip()
        if _SANE_REQUEST_ID.fullmatch(candidate):
            return candidate
    return new_request_id()


def request_ids(app: ASGIApp) -> ASGIApp:
    """Reflex `api_transformer`, outside all but the security headers: gives every HTTP request an
    id, binds it for the log lines the request writes, echoes it in the response, and logs an
    unhandled error once, with its traceback (which Sentry, when configured, reports)."""

    async def with_request_id(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        request_id = request_id_from(dict(scope.get("headers", [])).get(REQUEST_ID_HEADER))
        echoed = (REQUEST_ID_HEADER, request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*[(name, value) for name, value in message.get("headers", [])
                                        if name.lower() != REQUEST_ID_HEADER], echoed]
            await send(message)

        token = bind_request(request_id)
        try:
            await app(scope, receive, send_with_id)
        except Exception:
            with sentry.request_scope(scope):
                log.exception("unhandled error serving %s %s", scope.get("method"),
                              redact_path(scope.get("path", "")))
            raise
        finally:
            unbind(token)

    return with_request_id
