"""Errors as problem documents (RFC 9457), mapped once for the whole API.

Services raise the domain errors of `services/errors.py`; FastAPI raises its own for input that
does not fit the declared parameters, and Starlette for unknown paths and methods. Each becomes an
`application/problem+json` body with the status the OpenAPI document declares for it.
"""

from __future__ import annotations

import math
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from academy_app.api.v1.schemas import Problem
from academy_app.services.errors import (
    AuthenticationFailed,
    Conflict,
    Invalid,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ServiceError,
    TooManyAttempts,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
STATUS_OF: list[tuple[type[ServiceError], int]] = [
    (NotAuthenticated, 401), (AuthenticationFailed, 401), (PermissionDenied, 403),
    (NotFound, 404), (Conflict, 409), (Invalid, 422), (TooManyAttempts, 429),
]
DESCRIPTIONS = {
    401: "No valid access token (or, at /auth, wrong credentials or an ended login)",
    403: "Not allowed for this user",
    404: "Not found (drafts are not found by anyone but their staff)",
    409: "In a state that does not allow it",
    413: "The request body is larger than the API accepts",
    422: "Invalid input: `errors` names each field",
    429: "Too many requests: wait the seconds `Retry-After` says",
}


def problem(status: int, detail: str, errors: dict[str, str] | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    body = Problem(title=HTTPStatus(status).phrase, status=status, detail=detail, errors=errors)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status,
                        media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def retry_after(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


async def _service_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    status = next((code for kind, code in STATUS_OF if isinstance(exc, kind)), 400)
    headers = (retry_after(exc.retry_after) if isinstance(exc, TooManyAttempts)
               else {"WWW-Authenticate": "Bearer"} if status == 401 else None)
    return problem(status, exc.message, exc.errors if isinstance(exc, Invalid) else None, headers)


async def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = {".".join(str(part) for part in error["loc"]): error["msg"] for error in exc.errors()}
    return problem(422, "The request is not valid: see errors", errors)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400:  # FastAPI's "error parsing the body" (not UTF-8, say): as bad JSON is
        return problem(422, "The request body could not be read: send JSON in UTF-8")
    return problem(exc.status_code, str(exc.detail), headers=exc.headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    default_openapi = app.openapi
    app.openapi = lambda: _problems_as_problem_json(default_openapi())  # type: ignore[method-assign]


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, each a Problem."""
    declared: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        declared[code] = {"model": Problem, "description": DESCRIPTIONS[code]}
        if code == 429:
            declared[code]["headers"] = {"Retry-After": {
                "description": "Seconds until a request will be accepted again",
                "schema": {"type": "integer", "minimum": 1}}}
    return declared


def _problems_as_problem_json(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI files every declared response under application/json; errors are problem+json.
    Idempotent: FastAPI keeps the document and this runs on each request for it."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[:1] in "45" and "application/json" in content:
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
    return document
