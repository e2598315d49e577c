"""The REST API's FastAPI app, and the api_transformer that serves it under /api/v1.

Routes call the same services as the pages, with the user a token names, so the rules are the
site's. The OpenAPI document is at /api/v1/openapi.json; there is no docs UI (its scripts come from
a CDN, which the Content-Security-Policy refuses). CORS is Reflex's, around the whole backend, from
the same `origins` setting as the WebSocket's origin check.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from academy_app.api.v1 import errors
from academy_app.api.v1.errors import problems
from academy_app.api.v1.limits import BodyLimit, RequestLimit
from academy_app.api.v1.routers import auth, certificates, courses, me, quizzes

PREFIX = "/api/v1"

api = FastAPI(
    title="Academy API",
    version="1.0",
    summary="Courses, your enrollments, progress and quizzes, notifications and certificate checks.",
    description="Log in at `POST /api/v1/auth/token` for an access token (15 minutes) and a "
                "refresh token (single use; `POST /api/v1/auth/refresh` swaps it for a new pair). "
                "Send the access token as `Authorization: Bearer <token>`. Errors are "
                "`application/problem+json`. Requests are limited per hour: per user with a token, "
                "per address without (429 with `Retry-After`).",
    openapi_url=f"{PREFIX}/openapi.json",
    docs_url=None,
    redoc_url=None,
)
for router in (auth.router, courses.router, me.router, quizzes.router, certificates.router):
    # Any route may be refused for too many requests, or for input that does not fit.
    api.include_router(router, prefix=PREFIX, responses=problems(413, 422, 429))
errors.install(api)
api.add_middleware(BodyLimit)
api.add_middleware(RequestLimit)


def rest_api(app: ASGIApp) -> ASGIApp:
    """Reflex `api_transformer`: /api/v1 and below go to the API, everything else to `app`."""

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path == PREFIX or path.startswith(PREFIX + "/"):
            await api(scope, receive, send)
        else:
            await app(scope, receive, send)

    return route
