"""A client that speaks Reflex's WebSocket event protocol, as a browser tab (or an attacker) would.

It sends any event to any handler with any payload: exactly what a crafted request can do, so the
tests can prove that handlers validate what they get and re-check who is calling.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import urllib.request
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import reflex as rx
import socketio
from reflex_base.utils.format import format_event_handler

from academy_app.infra.session_cookie import SESSION_COOKIE, read_cookie

HYDRATE_AND_LOAD = f"{rx.State.get_full_name()}.hydrate_and_load"
# The one-time ticket in a log-in's answer, which the page hands to /auth/session (state/auth.py).
HANDOFF_TICKET = re.compile(r'"ticket": "([\w-]+)"')


T = TypeVar("T")
REPLY_TIMEOUT = 30.0  # an answer later than this counts as lost


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


def handoff_ticket(replies: list[dict]) -> str | None:
    """The ticket a successful log-in or sign-up answers with, or None (refused)."""
    for message in replies:
        for event in message.get("events") or []:
            if event.get("name") == "_call_script":
                found = HANDOFF_TICKET.search(str(event.get("payload", {}).get("javascript_code")))
                if found:
                    return found.group(1)
    return None


def browser_session(base_url: str, ticket: str, origin: str | None = None) -> str:
    """What the page does with a log-in's ticket: POST it to /auth/session; the HttpOnly login
    cookie it answers with."""
    request = urllib.request.Request(
        f"{base_url}/auth/session", method="POST", data=json.dumps({"ticket": ticket}).encode(),
        headers={"Content-Type": "application/json", "Origin": origin or base_url})
    with urllib.request.urlopen(request, timeout=10) as response:
        return read_cookie(response.headers["set-cookie"], SESSION_COOKIE)


class ReflexTab:
    def __init__(self, base_url: str, origin: str | None = None, login_token: str = "",
                 *, deflate: bool = False) -> None:
        self.base_url = base_url
        self.origin = origin or base_url
        self.login_token = login_token  # the browser's login cookie, sent with the handshake
        # Offer permessage-deflate as every browser does: a server that accepts it keeps a zlib
        # stream per socket, which a memory measurement must then include.
        self.deflate = deflate
        self.path = "/"
        self._new_connection()

    def _new_connection(self) -> None:
        self.token = str(uuid.uuid4())
        self._new_client()

    def _new_client(self) -> None:
        self.client = socketio.AsyncClient(
            reconnection=False, websocket_extra_options={"compress": 15} if self.deflate else {})
        self.messages: asyncio.Queue[dict] = asyncio.Queue()
        self.client.on("event", self.messages.put_nowait, namespace="/_event")

    async def connect(self) -> None:
        headers = {"Origin": self.origin}
        if self.login_token:
            headers["Cookie"] = f"{SESSION_COOKIE}={self.login_token}"
        await self.client.connect(f"{self.base_url}?token={self.token}", transports=["websocket"],
                                  socketio_path="/_event", namespaces=["/_event"],
                                  headers=headers, wait_timeout=10)

    async def reconnect(self) -> None:
        """What the page does when its socket drops: connect again with the same token (Reflex keeps
        it in the tab's sessionStorage), so the server picks the tab's state up where it was."""
        with contextlib.suppress(Exception):  # the old connection may be dead already
            await self.client.disconnect()
        self._new_client()
        await self.connect()

    async def finish_login(self, replies: list[dict]) -> bool:
        """Do what the page does with a log-in's answer: trade its ticket for the login cookie,
        then load again as a new tab (a new Reflex token) with it. False if there is no ticket."""
        ticket = handoff_ticket(replies)
        if ticket is None:
            return False
        self.login_token = await asyncio.to_thread(browser_session, self.base_url, ticket,
                                                   self.origin)
        await self.client.disconnect()
        self._new_connection()
        await self.connect()
        return True

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
        return replies

    async def open(self, path: str, timeout: float = 10.0) -> list[dict]:
        """Load a page as the browser does: hydrate, then its on_load."""
        self.path = path
        return await self.send(HYDRATE_AND_LOAD, {"vars": {}}, timeout=timeout)

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


async def wait_for_var(tab: ReflexTab, replies: list[dict], found: Callable[[dict], bool],
                       timeout: float = REPLY_TIMEOUT) -> None:
    """Add the tab's messages to `replies` until one satisfies `found`: on a busy machine an answer
    can come after ReflexTab's quiet spell has ended."""
    end = asyncio.get_running_loop().time() + timeout
    while not any(found(message) for message in replies):
        left = end - asyncio.get_running_loop().time()
        replies.append(await asyncio.wait_for(tab.messages.get(), max(left, 0.001)))


async def open_page(tab: ReflexTab, path: str, page_state: type[rx.State],
                    timeout: float = REPLY_TIMEOUT) -> list[dict]:
    """Load a page and wait until its on_load has finished (its state's `loading` turned False)."""
    replies = await tab.open(path, timeout)
    key = page_state.get_full_name()
    await wait_for_var(tab, replies, lambda message: (message.get("delta") or {}).get(key, {})
                       .get("loading_rx_state_") is False, timeout)
    return replies
