"""Events a client made up, stopped or cleaned before any handler sees them.

Any client can send any event over the WebSocket, not just what the pages the app serves send:

- A payload that does not fit the handler (arguments it does not have, one it needs left out, or
  not an object at all) would make Reflex fail while calling it, with a traceback in the log (and an
  error report) for every such event. Nothing would run, so the event is dropped with one warning.
- Text a form never produces: a NUL character (PostgreSQL refuses it in text, so the handler's
  query would fail) or half of a UTF-16 surrogate pair (valid in the JSON a client sends, but not
  UTF-8: the database driver refuses it, and a state var holding one can no longer be sent to the
  browser, which leaves the tab waiting forever). Each becomes U+FFFD, the replacement character.

What the arguments mean is still each handler's (and each service's) to check.
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
from collections.abc import Callable
from typing import Any

from reflex.app import App
from reflex.middleware import Middleware
from reflex.state import BaseState, StateUpdate
from reflex_base.event import Event
from reflex_base.registry import RegistrationContext

log = logging.getLogger(__name__)

UNSENDABLE = re.compile("[\x00\ud800-\udfff]")  # JSON decoding already joined the valid pairs


class CraftedEventGuard(Middleware):
    async def preprocess(self, app: App, state: BaseState, event: Event) -> StateUpdate | None:
        try:
            handler = RegistrationContext.get().event_handlers[event.name].handler
        except (LookupError, AttributeError):
            return None  # not an event of a handler: Reflex's own business
        if not fits(handler.fn, event.payload):
            log.warning("refused %s: the event's payload does not fit the handler (%s)",
                        handler.fn.__qualname__, _shape(event.payload))
            return StateUpdate()  # nothing to send back: the event is dropped
        clean_text(event.payload)
        return None


def fits(fn: Callable[..., Any], payload: object) -> bool:
    """Whether `fn(state, **payload)` binds: an object whose keys are parameters of `fn` and which
    names every parameter without a default."""
    if not isinstance(payload, dict):
        return False
    try:
        _signature(fn).bind(None, **payload)
    except TypeError:
        return False
    return True


def clean_text(payload: dict) -> None:
    """Replace NULs and unpaired surrogates in every string of the payload (keys too), in place:
    the event is frozen, its payload is not. A loop, not recursion: JSON may nest deeply."""
    pending: list[dict | list] = [payload]
    while pending:
        container = pending.pop()
        items = list(container.items()) if isinstance(container, dict) else enumerate(container)
        if isinstance(container, dict):
            container.clear()
        for key, value in items:
            if isinstance(value, str):
                value = _text(value)
            elif isinstance(value, dict | list):
                pending.append(value)
            container[_text(key) if isinstance(key, str) else key] = value


def _text(value: str) -> str:
    return UNSENDABLE.sub("\ufffd", value) if UNSENDABLE.search(value) else value


@functools.lru_cache(maxsize=1024)
def _signature(fn: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(fn)


def _shape(payload: object) -> str:
    """What was sent, in a few bounded characters: the client chose the names."""
    if isinstance(payload, dict):
        return "arguments " + repr(sorted(map(_text, map(str, payload)))[:5])[:120]
    return f"a {type(payload).__name__} instead of arguments"
