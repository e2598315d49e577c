"""A client that speaks Reflex's WebSocket event protocol, as a browser tab (or an attacker) would.

It sends any event to any handler with any payload: exactly what a crafted request can do, so the
tests can prove that handlers validate what they get and re-check who is calling.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import reflex as rx
import socketio
from reflex_base.utils.format import format_event_handler

HYDRATE_AND_LOAD = f"{rx.State.get_full_name()}.hydrate_and_load"
# Browser storage (cookies) the tab keeps and sends back on every page load, as the browser does.
CLIENT_STORAGE_VARS = ("session_token",)


T = TypeVar("T")


def run(scenario: Coroutine[Any, Any, T]) -> T:
    """Run a client scenario on its own loop and thread: Playwright's sync API may hold this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, scenario).result()


def handler_name(state: type[rx.State], handler: str) -> str:
    return format_event_handler(state.event_handlers[handler])


def iter_vars(message: dict) -> Iterator[tuple[str, str, Any]]:
    """(state path, var name, value) for every var in a server message's delta."""
    for state_path, changes in (message.get("delta") or {}).items():
        for key, value in changes.items():
            yield state_path, key.removesuffix("_rx_state_"), value


class ReflexTab:
    def __init__(self, base_url: str, origin: str | None = None) -> None:
        self.base_url = base_url
        self.origin = origin or base_url
        self.token = str(uuid.uuid4())
        self.client = socketio.AsyncClient(reconnection=False)
        self.messages: asyncio.Queue[dict] = asyncio.Queue()
        self.client.on("event", self.messages.put_nowait, namespace="/_event")
        self.path = "/"
        self.storage: dict[str, Any] = {}

    async def connect(self) -> None:
        await self.client.connect(f"{self.base_url}?token={self.token}", transports=["websocket"],
                                  socketio_path="/_event", namespaces=["/_event"],
                                  headers={"Origin": self.origin}, wait_timeout=10)

    async def send(self, name: str, payload: dict | None = None, *, settle: float = 0.4,
                   timeout: float = 10.0, expect_reply: bool = True) -> list[dict]:
        """Send one event and return the messages that answer it.

        A handler that changes nothing sends nothing back: pass ``expect_reply=False`` for those.
        """
        await self.client.emit("event", {
            "name": name,
            "payload": payload or {},
            "router_data": {"pathname": self.path, "asPath": self.path, "query": {}},
        }, namespace="/_event")
        replies = [await asyncio.wait_for(self.messages.get(), timeout)] if expect_reply else []
        while True:
            try:
                replies.append(await asyncio.wait_for(self.messages.get(), settle))
            except TimeoutError:
                break
        for message in replies:
            for state_path, key, value in iter_vars(message):
                if key in CLIENT_STORAGE_VARS:
                    self.storage[f"{state_path}.{key}_rx_state_"] = value
        return replies

    async def open(self, path: str) -> list[dict]:
        """Load a page as the browser does: hydrate with the stored cookies, then its on_load."""
        self.path = path
        return await self.send(HYDRATE_AND_LOAD, {"vars": dict(self.storage)})

    async def close(self) -> None:
        await self.client.disconnect()

    @staticmethod
    def var(replies: list[dict], name: str) -> Any:
        """The last value the server sent for a var of this name (any state), or KeyError."""
        found = [value for message in replies for _, key, value in iter_vars(message)
                 if key == name]
        if not found:
            raise KeyError(name)
        return found[-1]
