"""A cap on upload bodies, applied before Reflex's upload route reads them.

Reflex's `/_upload` reads the whole multipart body before any handler can look at it, so without a
cap any visitor could fill the disk. A file (a receipt, a course cover) is at most
MAX_UPLOAD_BYTES (5 MB); the cap leaves room for the rest of the form.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from academy_app.infra.storage import MAX_UPLOAD_BYTES

MAX_UPLOAD_BODY = MAX_UPLOAD_BYTES + 1024 * 1024


class UploadTooLarge(Exception):
    pass


def limit_upload_size(app: ASGIApp, max_body: int = MAX_UPLOAD_BODY) -> ASGIApp:
    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].rstrip("/").endswith("/_upload"):
            await app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_body):
            await _refuse(send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > max_body:  # a chunked body that lied by omission
                raise UploadTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await app(scope, counting_receive, tracking_send)
        except UploadTooLarge:
            if not started:
                await _refuse(send)

    return guarded


async def _refuse(send: Send) -> None:
    body = b"The file is too large: an upload can be at most 5 MB."
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
