"""The REST API's request limits: per user with a valid access token, else per client address.

Sliding windows of an hour in the shared limiter (`infra/ratelimit.py`: Redis when configured, so
every process counts in one window; in this process otherwise). Every request counts, whatever its
answer; a refused one gets 429 with `Retry-After` and reaches no route.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from academy_app.api.v1.deps import client_ip
from academy_app.api.v1.errors import problem, retry_after
from academy_app.api.v1.tokens import access_subject
from academy_app.infra.ratelimit import limiter
from academy_app.settings import get_settings

log = logging.getLogger(__name__)
WINDOW_SECONDS = 3600


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
