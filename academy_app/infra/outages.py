"""While a backing service is down: say so to the user once per event, and to the log once a minute.

Reflex's default answer to an event that fails is a traceback in the log per event and a generic
"An error occurred" in the browser. Academy's backend exception handler tells the user what happened
to what they just did, and logs one line a minute while an outage lasts:

- Redis, as Reflex's state manager, down: every event fails before any handler runs (the tab's
  state cannot be read). The page is reconnecting; nothing they saved is lost (saved data lives in
  the database).
- The database down: the handler's transaction failed and was rolled back, so what they just did
  was not saved and they should try again; the connection pool reconnects when it answers again.

Every other error keeps Reflex's handling.
"""

from __future__ import annotations

import logging
import threading
import time

import redis
import sqlalchemy as sa
from reflex.app import default_backend_exception_handler
from reflex_base.event import EventSpec

log = logging.getLogger(__name__)
ONE_LINE_EVERY_SECONDS = 60.0
RECONNECTING_TITLE = "Reconnecting…"
RECONNECTING_TEXT = ("The server lost its session store for a moment. Nothing you saved is lost; "
                     "try again in a few seconds.")
NOT_SAVED_TITLE = "Not saved"
NOT_SAVED_TEXT = ("The database is not answering, so what you just did was not saved. "
                  "Try again in a moment.")

MAX_KEYS = 1000
_last_logged: dict[str, float] = {}
_lock = threading.Lock()


def log_throttled(key: str, message: str, *args: object, level: int = logging.WARNING,
                  every: float = ONE_LINE_EVERY_SECONDS, logger: logging.Logger = log,
                  exc_info: BaseException | None = None) -> bool:
    """Log `message` at most once per `every` seconds for `key`: one line a minute while something
    stays broken, not one per event. Returns whether it logged."""
    now = time.monotonic()
    with _lock:
        if now - _last_logged.get(key, -every) < every:
            return False
        if len(_last_logged) > MAX_KEYS:  # keys may carry error texts: keep the memory bounded
            _last_logged.clear()
        _last_logged[key] = now
    logger.log(level, message, *args, exc_info=exc_info)
    return True


def outage_of(exc: BaseException) -> str | None:
    """"state store" or "database" when `exc` (or what caused it) is that service not answering."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, redis.ConnectionError | redis.TimeoutError):
            return "state store"
        if isinstance(current, sa.exc.OperationalError) or (
                isinstance(current, sa.exc.DBAPIError) and current.connection_invalidated):
            return "database"
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def handle_backend_exception(exception: Exception) -> EventSpec | None:
    # Reflex checks this signature (the argument's name, its type, the return type) at start.
    outage = outage_of(exception)
    if outage is None:
        return default_backend_exception_handler(exception)
    log_throttled(outage, "%s unreachable (%s: %s); events fail until it answers again",
                  outage.capitalize(), type(exception).__name__, str(exception).split("\n")[0],
                  level=logging.ERROR)
    from reflex_components_sonner.toast import toast

    if outage == "database":
        return toast(NOT_SAVED_TITLE, level="error", description=NOT_SAVED_TEXT, id="not-saved",
                     position="top-center")
    return toast(RECONNECTING_TITLE, level="warning", description=RECONNECTING_TEXT,
                 id="reconnecting", position="top-center")
