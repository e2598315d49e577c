"""What the first response for a page carries, before any script runs.

In prod mode Reflex serves its exported pages from a static-file mount on the backend
(reflex/utils/exec.py `get_frontend_mount`: Starlette's StaticFiles with html=True). A page without
a dynamic segment is exported as a folder (`courses/index.html`), and StaticFiles answers such a
folder asked for without its trailing slash with a 307 to the slashed address: one more round trip
(about 600 ms on a slow phone network) for every link the app prints and people share (`/courses`,
`/login`, `/verify`). Here every such page is served at both addresses: a request without the slash
is handed to the mount as if it had one, and the browser keeps the address it asked for.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from reflex.utils.prerequisites import get_web_dir
from reflex_base import constants
from reflex_base.config import get_config
from starlette.types import ASGIApp, Receive, Scope, Send


@lru_cache(maxsize=1)
def exported_pages() -> Path:
    """The folder Reflex's frontend mount serves (the same path get_frontend_mount computes)."""
    return (get_web_dir() / constants.Dirs.STATIC / get_config().frontend_path.strip("/")).resolve()


def folder_page(path: str) -> bool:
    """Whether `path` (no trailing slash) names a page exported as a folder with an index.html."""
    parts = path.strip("/").split("/")
    if not parts[0] or any(part in {".", ".."} or "." in part for part in parts):
        return False  # the home page, a file name (assets end in an extension) or a climb out
    return (exported_pages().joinpath(*parts) / "index.html").is_file()


def served_html(app: ASGIApp) -> ASGIApp:
    """Reflex `api_transformer` in front of the frontend mount."""

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (scope["type"] == "http" and scope["method"] in ("GET", "HEAD")
                and not path.endswith("/") and folder_page(path)):
            raw_path = scope.get("raw_path") or path.encode()
            scope = {**scope, "path": path + "/", "raw_path": raw_path + b"/"}
        await app(scope, receive, send)

    return serve
