"""Private files (payment receipts, certificate PDFs, lesson captions), served only to the people
allowed to see them.

Files under Reflex's upload route would be public, so receipts live outside the web root and come
through here: the session cookie names the user, and the payments service decides.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from academy_app.db import session_scope
from academy_app.infra.session_cookie import SESSION_COOKIE
from academy_app.services import accounts, certificates, covers, lessons, payments
from academy_app.services.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied
from academy_app.text import as_id

# For a file whose address changes with its content: kept a year, never asked for again.
CACHED_FOR_GOOD = "public, max-age=31536000, immutable"


async def receipt(request: Request) -> Response:
    try:
        with session_scope() as session:
            user = accounts.user_for_token(session, request.cookies.get(SESSION_COOKIE))
            # The route takes any run of digits: one past an id column's range names no row.
            path, content_type = payments.receipt_for(session, user,
                                                      as_id(request.path_params["payment_id"]))
    except NotAuthenticated:
        return PlainTextResponse("Log in to see this receipt", status_code=401)
    except NotFound:
        return PlainTextResponse("Not found", status_code=404)
    # Shown inline in the review page, never sniffed as anything else, never framed elsewhere.
    return FileResponse(path, media_type=content_type, headers={
        "Content-Disposition": "inline",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
                                   "frame-ancestors 'self'",
    })


async def certificate_pdf(request: Request) -> Response:
    try:
        with session_scope() as session:
            user = accounts.user_for_token(session, request.cookies.get(SESSION_COOKIE))
            path, filename = certificates.download(session, user, request.path_params["code"])
    except NotAuthenticated:
        return PlainTextResponse("Log in to download your certificate", status_code=401)
    except NotFound:
        return PlainTextResponse("Not found", status_code=404)
    except Conflict as exc:  # revoked, or still being drawn
        return PlainTextResponse(exc.message, status_code=409)
    return FileResponse(path, media_type="application/pdf", filename=filename, headers={
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


async def lesson_captions(request: Request) -> Response:
    # The <track> element asks for this with the page's cookies: the same rule as the lesson page.
    try:
        with session_scope() as session:
            user = accounts.user_for_token(session, request.cookies.get(SESSION_COOKIE))
            text = lessons.captions_for(session, user, as_id(request.path_params["lesson_id"]))
    except NotAuthenticated:
        return PlainTextResponse("Log in to see these captions", status_code=401)
    except PermissionDenied as exc:
        return PlainTextResponse(exc.message, status_code=403)
    except NotFound:
        return PlainTextResponse("Not found", status_code=404)
    return Response(text, media_type="text/vtt; charset=utf-8", headers={
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-cache"})


async def course_cover(request: Request) -> Response:
    """A course's cover at one size. Public, like the course page: a draft's cover is only found by
    the address its staff's pages print, which the uploaded bytes' hash makes unguessable."""
    path = covers.file_for(request.path_params["name"])
    if path is None:
        return PlainTextResponse("Not found", status_code=404)
    return FileResponse(path, media_type="image/webp", headers={
        "X-Content-Type-Options": "nosniff", "Cache-Control": CACHED_FOR_GOOD})
