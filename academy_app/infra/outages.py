"""While a backing service is down: say so to the user once per event, and to the log once a minute.

With Redis as Reflex's state manager and Redis down, every event fails before any handler runs
(the tab's state cannot be read); Reflex's default answer is a traceback in the log per event and
a generic "An error occurred" in the browser. Academy's backend exception handler tells the user
the page is reconnecting and that nothing they saved is lost (saved data lives in the database),
and logs one line a minute while the outage lasts. Every other error keeps Reflex's handling.
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from reflex.app import default_backend_exception_handler
from reflex_base.event import EventSpec

log = logging.getLogger(__name__)
ONE_LINE_EVERY_SECONDS = 60.0
RECONNECTING_TITLE = "Reconnecting…"
RECONNECTING_TEXT = ("The server lost its session store for a moment. Nothing you saved is lost; "
                     "try again in a few seconds.")

_last_logged: dict[str, float] = {}
_lock = threading.Lock()


def log_throttled(key: str, message: str, *args: object, level: int = logging.WARNING,
                  every: float = ONE_LINE_EVERY_SECONDS) -> bool:
    """Log `message` at most once per `every` seconds for `key`: one line a minute while something
    stays broken, not one per event. Returns whether it logged."""
    now = time.monotonic()
    with _lock:
        if now - _last_logged.get(key, -every) < every:
            return False
        _last_logged[key] = now
    log.log(level, message, *args)
    return True


def is_storage_outage(exc: BaseException) -> bool:
    """A Redis connection failure, raised directly or as the cause of another error."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, redis.ConnectionError | redis.TimeoutError | ConnectionError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def handle_backend_exception(exception: Exception) -> EventSpec | None:
    # Reflex checks this signature (the argument's name, its type, the return type) at start.
    if not is_storage_outage(exception):
        return default_backend_exception_handler(exception)
    log_throttled("state-store", "Reflex state store unreachable (%s: %s); events fail until it "
                  "answers again", type(exception).__name__, exception, level=logging.ERROR)
    from reflex_components_sonner.toast import toast

    return toast(RECONNECTING_TITLE, level="warning", description=RECONNECTING_TEXT,
                 id="reconnecting", position="top-center")
