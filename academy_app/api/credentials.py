"""Open Badges credentials at stable public URLs: anyone (a verifier, a wallet, a script on another
site) may fetch them, so they answer any origin's GET and carry nothing private."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from academy_app.db import session_scope
from academy_app.services import credentials
from academy_app.services.certificates import normalize_code
from academy_app.services.errors import NotFound

JSON_LD = "application/ld+json"
PUBLIC_HEADERS = {
    "Access-Control-Allow-Origin": "*",  # GET only: the routes take no other method
    "X-Content-Type-Options": "nosniff",
}


async def credential(request: Request) -> Response:
    """/credentials/{code}.json; with ?download, as a file to save (the learner's button)."""
    code = request.path_params["code"]
    answer = _document(lambda session: credentials.for_code(session, code), max_age=300)
    if answer.status_code == 200 and "download" in request.query_params:
        answer.headers["Content-Disposition"] = (
            f'attachment; filename="open-badge-{normalize_code(code)}.json"')
    return answer


async def badge(request: Request) -> Response:
    """/credentials/{code}.png: the badge image with the credential baked in (?download: a file)."""
    code = request.path_params["code"]
    try:
        with session_scope() as session:
            image = credentials.baked_badge(session, code)
    except NotFound:
        return _not_found()
    headers = {**PUBLIC_HEADERS, "Cache-Control": "public, max-age=300"}
    if "download" in request.query_params:
        headers["Content-Disposition"] = (
            f'attachment; filename="open-badge-{normalize_code(code)}.png"')
    return Response(image, media_type="image/png", headers=headers)


async def issuer(_request: Request) -> Response:
    return _document(credentials.issuer_document, max_age=300)


async def key(request: Request) -> Response:
    public_key = request.path_params["key"]
    return _document(lambda session: credentials.key_document(session, public_key), max_age=300)


async def status_list(request: Request) -> Response:
    number = request.path_params["number"]
    # Short-lived in caches: a revocation reaches verifiers within a minute.
    return _document(lambda session: credentials.status_list(session, number), max_age=60)


def _document(read: Callable[[Session], dict[str, Any]], *, max_age: int) -> Response:
    try:
        with session_scope() as session:  # committed: a first read may sign and store it
            document = read(session)
    except NotFound:
        return _not_found()
    return Response(json.dumps(document, ensure_ascii=False, indent=2), media_type=JSON_LD,
                    headers={**PUBLIC_HEADERS, "Cache-Control": f"public, max-age={max_age}"})


def _not_found() -> Response:
    return Response(json.dumps({"error": "not found"}), status_code=404,
                    media_type="application/json", headers=PUBLIC_HEADERS)
