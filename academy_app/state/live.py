"""Live delivery: the bus listener that every backend worker runs, and what a signal does to a tab.

For each user a signal names, the listener takes the tabs of that user whose socket this worker holds
(`infra.presence`) and, through `app.modify_state`, updates their state: new notifications go into the
bell (and show as a toast), and for a "refresh" the page's own load handlers run again, so progress,
an unlocked course or a dashboard change appear without a reload. Tabs on other workers are left to
those workers, so every tab hears each signal once.

A changed resource reloads every tab watching it. A state may share that work among them: given
the `Change` (one per signal and resource in this worker), its `_refresh_live` reads what every
tab needs once (`Change.once`, `Change.batched`) and writes only its own tab's view of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Mapping
from functools import lru_cache
from typing import TypeVar

import reflex as rx
from reflex.event import Event, EventHandler, EventSpec
from reflex.state import BaseState, StateUpdate

from academy_app.infra import bus
from academy_app.infra.presence import presence, watchers
from academy_app.settings import get_settings
from academy_app.state.notifications import NotificationState

log = logging.getLogger(__name__)
T = TypeVar("T")

PRUNE_EVERY_SECONDS = 60
_LIVE_RELOADS: set = set()  # on_load functions a refresh may run again (see reloads_live)
MAX_TABS_AT_ONCE = 64  # tabs updated concurrently for one signal (a broadcast reaches hundreds)


class Change:
    """One signal's change to one resource, as the tabs watching it in this worker receive it: what
    they read of it is read once for all of them, and each writes its own view from that. Lives
    as long as the delivery, so nothing read here outlives the change it was read for."""

    def __init__(self) -> None:
        self._reads: dict[Hashable, asyncio.Future] = {}
        self._batches: dict[Hashable, _Batch] = {}

    async def once(self, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
        """`read()`'s result, read by the first tab that asks for `key`; the others wait for it
        (its error too)."""
        future = self._reads.get(key)
        if future is None:
            future = self._reads[key] = asyncio.ensure_future(read())
        return await asyncio.shield(future)  # a tab that gives up does not cancel it for the rest

    async def batched(self, key: Hashable, item: Hashable,
                      read_many: Callable[[list], Awaitable[Mapping]]) -> object | None:
        """`read_many(items)[item]` (None when it has none), read for many tabs at once: the items
        asked for while a read runs go together in the next (as a database groups commits)."""
        batch = self._batches.get(key)
        if batch is None:
            batch = self._batches[key] = _Batch(read_many)
        return await asyncio.shield(batch.get(item))


class _Batch:
    def __init__(self, read_many: Callable[[list], Awaitable[Mapping]]) -> None:
        self._read_many = read_many
        self._found: dict[Hashable, asyncio.Future] = {}
        self._waiting: list[Hashable] = []
        self._reader: asyncio.Task | None = None

    def get(self, item: Hashable) -> asyncio.Future:
        future = self._found.get(item)
        if future is None:
            future = self._found[item] = asyncio.get_running_loop().create_future()
            self._waiting.append(item)
            if self._reader is None:
                self._reader = asyncio.create_task(self._read())
        return future

    async def _read(self) -> None:
        await asyncio.sleep(0)  # the tabs asking in this same turn of the loop join the first read
        while self._waiting:
            items, self._waiting = self._waiting, []
            try:
                found = await self._read_many(items)
            except Exception as exc:  # every tab waiting gets it, and falls back to its own read
                for item in items:
                    self._found[item].set_exception(exc)
                continue
            for item in items:
                self._found[item].set_result(found.get(item))
        self._reader = None


def connected_clients(app: rx.App) -> int:
    """Sockets this worker holds (logged each minute; the metrics endpoint will export it)."""
    return sum(1 for token in _token_manager(app).token_to_socket if is_connected_here(app, token))


def is_connected_here(app: rx.App, token: str) -> bool:
    manager = _token_manager(app)
    record = manager.token_to_socket.get(token)
    return record is not None and record.instance_id == manager.instance_id


async def run_listener(app: rx.App) -> None:
    """Lifespan task: hear every signal and update the tabs this worker holds."""
    log.info("live updates: listening (%s)", "Redis pub/sub" if _uses_redis() else "in-process")
    running: set[asyncio.Task] = set()
    last_prune = time.monotonic()
    async for signal in bus.listen():
        # One task per signal: a broadcast to hundreds of tabs must not hold up the next signal.
        task = asyncio.create_task(deliver(app, signal))
        running.add(task)
        task.add_done_callback(_finished(running))
        if time.monotonic() - last_prune > PRUNE_EVERY_SECONDS:
            presence.prune(lambda token: is_connected_here(app, token))
            watchers.prune(lambda token: is_connected_here(app, token))
            last_prune = time.monotonic()
            log.info("live updates: %d tabs connected to this worker, %d of them logged in",
                     connected_clients(app), len(presence))


async def deliver(app: rx.App, signal: bus.Signal) -> int:
    """Update every tab of the signal's users held by this worker; returns how many were updated."""
    notifications: dict[int, list[bus.LiveNotification]] = defaultdict(list)
    for note in signal.notifications:
        notifications[note.user_id].append(note)
    refresh = set(signal.refresh_users)
    tabs = []
    for user_id in signal.user_ids:
        for token in presence.tokens_of(user_id):
            if is_connected_here(app, token):
                origin = token == signal.origin_token
                notes, refresh_page = notifications.get(user_id, []), user_id in refresh and not origin
                if notes or refresh_page:  # else (the tab that made a change) nothing to do: no lock
                    tabs.append((token, user_id, notes, refresh_page, not origin))
            else:  # gone, or moved to another worker, which remembers it on its first event
                presence.forget(token)
    limit = asyncio.Semaphore(MAX_TABS_AT_ONCE)

    async def update(tab: tuple[str, int, list[bus.LiveNotification], bool, bool]) -> None:
        async with limit:
            await _update_tab(app, *tab)

    lists = []
    for resource in signal.resources:
        change = Change()
        for token, state_cls, path in watchers.tabs_of(resource):
            if not is_connected_here(app, token):
                watchers.forget(token)
            elif token != signal.origin_token:  # the tab that made the change reloads itself
                lists.append((token, state_cls, path, change))

    async def reload(tab: tuple[str, type[BaseState], str, Change]) -> None:
        async with limit:
            await _reload_list(app, *tab)

    await asyncio.gather(*(update(tab) for tab in tabs), *(reload(tab) for tab in lists))
    return len(tabs) + len(lists)


async def _update_tab(app: rx.App, token: str, user_id: int, notes: list[bus.LiveNotification],
                      refresh_page: bool, toast: bool) -> None:
    try:
        async with app.modify_state(rx.BaseStateToken(ident=token, cls=NotificationState)) as root:
            bell = await root.get_state(NotificationState)
            if bell._user_id != user_id:  # the tab changed hands since it was remembered
                presence.forget(token)
                return
            fresh = [note for note in notes if bell._receive_live(note)]
            if refresh_page:
                await _rerun_page_load(app, root)
        if fresh and toast:
            events = [_toast(note.title, note.body[:200]) for note in fresh]
            await app.event_namespace.emit_update(StateUpdate(events=events), token)
    except Exception:  # one broken tab must not stop the others; the DB still has everything
        log.exception("live updates: could not update a tab")


async def _reload_list(app: rx.App, token: str, state_cls: type[BaseState], path: str,
                       change: Change) -> None:
    """Reload an open list (its `_refresh_live(change)` if it shares reads with the other tabs
    watching, else its `refresh`: rows only, never the form or a dialog)."""
    try:
        async with app.modify_state(rx.BaseStateToken(ident=token, cls=state_cls)) as root:
            if root.router.url.path.rstrip("/") != path.rstrip("/"):
                watchers.forget(token)  # the tab went to another page since
                return
            state = await root.get_state(state_cls)
            shared = getattr(state_cls, "_refresh_live", None)
            await _run_for_push(shared(state, change) if shared is not None else
                                state_cls.event_handlers["refresh"].fn(state))
    except Exception:  # one broken tab must not stop the others
        log.exception("live updates: could not reload a list")


@lru_cache(maxsize=256)
def _toast(title: str, body: str) -> Event:
    # Building a toast compiles its JavaScript call (~0.5 ms); a broadcast sends the same one to
    # every learner, so it is built once.
    return Event.from_event_type(rx.toast.info(title, description=body or None))[0]


def reloads_live(handler: EventHandler) -> EventHandler:
    """Mark an on_load handler as safe to run again when the user's data changes elsewhere: it
    only reads, and resets nothing the user may be typing (a form, an open dialog)."""
    _LIVE_RELOADS.add(handler.fn)
    return handler


async def _rerun_page_load(app: rx.App, root: BaseState) -> None:
    """Run the open page's live-safe on_load handlers again, inside the state lock we hold."""
    for load in app.get_load_events(root.router.url.path):
        handler = load.handler if isinstance(load, EventSpec) else load
        if not isinstance(handler, EventHandler) or handler.fn not in _LIVE_RELOADS or \
                handler.state is None or (isinstance(load, EventSpec) and load.args):
            continue
        state = await root.get_state(handler.state)
        await _run_for_push(handler.fn(state))


async def _run_for_push(result: object) -> None:
    """Run a handler called by a push to its end, whatever its kind (plain, async, generator).
    What it returns or yields (a redirect for an expired session, a toast) is for a click, not
    for a push: the next real event of the tab deals with it."""
    if inspect.isawaitable(result):
        await result
    elif inspect.isgenerator(result):
        for _ in result:
            pass
    elif inspect.isasyncgen(result):
        async for _ in result:
            pass


def _finished(running: set[asyncio.Task]):
    def done(task: asyncio.Task) -> None:
        running.discard(task)
        with contextlib.suppress(asyncio.CancelledError):
            if (exc := task.exception()) is not None:
                log.error("live updates: delivery failed", exc_info=exc)
    return done


def _token_manager(app: rx.App):
    # Reflex keeps the socket records (which worker holds which tab) on its token manager; there is
    # no public accessor in 0.10.1, so this is the one place that reaches for it.
    return app.event_namespace._token_manager


def _uses_redis() -> bool:
    return get_settings().redis_url is not None
