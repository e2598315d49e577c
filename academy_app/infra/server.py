"""The backend's worker class under gunicorn: Reflex's Uvicorn worker without permessage-deflate.

Every browser offers permessage-deflate when it opens the WebSocket, and Uvicorn accepts it by
default: the socket then keeps a zlib stream for as long as the tab stays open, about 300 KiB per
tab measured here, three times everything else a learner's tab costs the worker (docs/benchmarks.md,
"Which server"). Granian never compressed, so the bytes on the wire stay what they were.
`rxconfig.py` names this class in GUNICORN_CMD_ARGS.
"""

from typing import Any

from uvicorn.workers import UvicornH11Worker


class UvicornWorker(UvicornH11Worker):
    """What Reflex runs (h11 and asyncio's own loop), with the WebSocket's compression off."""

    CONFIG_KWARGS: dict[str, Any] = {**UvicornH11Worker.CONFIG_KWARGS, "ws_per_message_deflate": False}
