"""The REST API's request limits: per user with a valid access token, else per client address;
and the size of a request body.

Sliding windows of an hour in the shared limiter (`infra/ratelimit.py`: Redis when configured, so
every process counts in one window; in this process otherwise). Every request counts, whatever its
answer; a refused one gets 429 with `Retry-After` and reaches no route.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from academy_app.api.v1.deps import client_ip
from academy_app.api.v1.errors import problem, retry_after
from academy_app.api.v1.tokens import access_subject
from academy_app.infra.ratelimit import limiter
from academy_app.settings import get_settings

log = logging.getLogger(__name__)
WINDOW_SECONDS = 3600
# Every body the API takes is a small JSON document (a login, a quiz answer): a larger one is
# refused before it is read into memory, whatever Content-Length says or leaves out.
MAX_BODY_BYTES = 64 * 1024


class RequestLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        key, limit = self._bucket(scope)
        decision = await run_in_threadpool(limiter().hit, key, limit, WINDOW_SECONDS)
        if decision.allowed:
            await self.app(scope, receive, send)
            return
        log.warning("api: request refused by rate limit for %s", key)
        refusal = problem(429, f"Too many requests: at most {limit} an hour",
                          headers=retry_after(decision.retry_after))
        await refusal(scope, receive, send)

    @staticmethod
    def _bucket(scope: Scope) -> tuple[str, int]:
        settings = get_settings()
        scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
        user_id = access_subject(token.strip()) if scheme.lower() == "bearer" else None
        if user_id is not None:
            return f"api:user:{user_id}", settings.api_authenticated_per_hour
        return f"api:ip:{client_ip(scope)}", settings.api_anonymous_per_hour


class BodyLimit:
    """Reads the body first (it is small, or refused): a chunked body declares no length, and an
    error raised while the route reads it would reach FastAPI as a body it could not parse."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
            await self._refuse(scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > MAX_BODY_BYTES:
                await self._refuse(scope, receive, send)
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
        log.warning("api: request body over %d bytes refused", MAX_BODY_BYTES)
        refusal = problem(413, "The request body is too large: send at most "
                               f"{MAX_BODY_BYTES // 1024} KB")
        await refusal(scope, receive, send)
