"""The real-time bus: services say what changed for whom, and every backend worker hears it after commit.

A service never pushes to browsers itself. Inside its transaction it records a live notification
(`notification`) or "this learner's page data changed" (`refresh`). When the transaction commits, one
`Signal` carrying everything it recorded is published; a rollback drops it. Every backend worker runs
a listener (`listen`, started as a Reflex lifespan task by `state.live`) that updates the open tabs of
the users concerned.

With Redis (`REFLEX_REDIS_URL`) the signal goes through Redis pub/sub, so it reaches every backend
worker on every host and may start in another process, such as a Celery worker. Without Redis the bus
stays inside this process through the same two functions. Delivery is best effort by design: the
notification row is committed before anything is published, so a tab that misses a signal (offline,
reconnecting, Redis down) catches up from the database on its next page load or reconnect.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache

import redis
import redis.asyncio as aioredis
import sqlalchemy as sa
from sqlalchemy.orm import Session, SessionTransaction

from academy_app.infra.identities import identities
from academy_app.infra.outages import log_throttled
from academy_app.models import Notification, as_utc
from academy_app.settings import get_settings

log = logging.getLogger(__name__)

CHANNEL = "academy:live"
_PENDING = "academy_live_pending"  # key in Session.info
_RETRY_SECONDS = (0.5, 1, 2, 5)
HEALTH_CHECK_SECONDS = 30


@dataclass(frozen=True)
class LiveNotification:
    """What a tab needs to show a notification without reading the database."""

    id: int
    user_id: int
    kind: str
    title: str
    body: str
    link: str
    created_at: str  # ISO 8601, UTC


@dataclass(frozen=True)
class Signal:
    notifications: tuple[LiveNotification, ...] = ()
    refresh_users: tuple[int, ...] = ()  # users whose open page should reload its data
    # Admin-kit resources whose rows changed: every open list of them reloads, whoever holds it.
    resources: tuple[str, ...] = ()
    # The tab whose event caused the change: it has already shown the result and its own toast.
    origin_token: str = ""
    # Users whose logins ended or whose account changed: every process forgets who their logins
    # are (infra/identities.py) and asks the database at their next event.
    identity_users: tuple[int, ...] = ()
    sent_at: float = field(default_factory=time.time)  # for latency figures

    @property
    def user_ids(self) -> set[int]:
        return {n.user_id for n in self.notifications} | set(self.refresh_users)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> Signal:
        data = json.loads(raw)
        return cls(notifications=tuple(LiveNotification(**n) for n in data["notifications"]),
                   refresh_users=tuple(int(u) for u in data["refresh_users"]),
                   resources=tuple(str(r) for r in data.get("resources", ())),
                   origin_token=str(data["origin_token"]),
                   identity_users=tuple(int(u) for u in data.get("identity_users", ())),
                   sent_at=float(data["sent_at"]))


# --- recording inside a transaction ------------------------------------------------------------

def notification(session: Session, row: Notification) -> None:
    """Deliver this notification row live once the transaction commits."""
    _pending(session)["rows"].append(row)


def refresh(session: Session, user_id: int) -> None:
    """Once committed, reload the data of the pages this user has open (progress, enrollments)."""
    _pending(session)["refresh_users"].add(user_id)


def changed(session: Session, resource: str) -> None:
    """Once committed, reload every open list of this admin-kit resource (admin/kit)."""
    _pending(session)["resources"].add(resource)


def identities_changed(session: Session, user_ids: Iterable[int],
                       logins: Iterable[str] = ()) -> None:
    """Once committed, forget who these users' logins are (infra/identities.py): at once in this
    process (also these `logins` by hash), and in every other through the signal. The hashes stay
    here: a login's hash is what a tab presents, so it never goes on the bus."""
    pending = _pending(session)
    pending["identity_users"].update(user_ids)
    pending["identity_logins"].update(logins)


def origin(session: Session, token: str) -> None:
    """Name the tab (Reflex client token) whose event runs this transaction."""
    session.info["academy_live_origin"] = token


def _pending(session: Session) -> dict:
    return session.info.setdefault(_PENDING, {"rows": [], "refresh_users": set(),
                                              "resources": set(), "identity_users": set(),
                                              "identity_logins": set()})


@sa.event.listens_for(Session, "before_commit")
def _seal_pending(session: Session) -> None:
    # After the commit no SQL may run, so the rows get their ids (one flush for all) and are turned
    # into plain values now.
    pending = session.info.get(_PENDING)
    if session.in_nested_transaction() or not pending or not (
            pending["rows"] or pending["refresh_users"] or pending["resources"]
            or pending["identity_users"] or pending["identity_logins"]):
        return  # nothing recorded, or only a savepoint is committing: the transaction goes on
    if pending["rows"]:
        session.flush()
    pending["signal"] = Signal(
        notifications=tuple(LiveNotification(
            id=row.id, user_id=row.user_id, kind=row.kind, title=row.title, body=row.body,
            link=row.link, created_at=as_utc(row.created_at).isoformat())
            for row in pending["rows"]),
        refresh_users=tuple(sorted(pending["refresh_users"])),
        resources=tuple(sorted(pending["resources"])),
        origin_token=session.info.get("academy_live_origin", ""),
        identity_users=tuple(sorted(pending["identity_users"])))


@sa.event.listens_for(Session, "after_commit")
def _publish_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint committed; the data is not visible to anyone else yet
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    # Here first, before anything can fail: this process's next event reads the database.
    identities.drop(users=pending["identity_users"], logins=pending["identity_logins"])
    signal = pending.get("signal")
    if pending["identity_users"] and (signal is None or set(signal.identity_users)
                                      != pending["identity_users"]):
        # A user row changed in the commit's own flush, which comes after the seal.
        signal = replace(signal or Signal(), identity_users=tuple(sorted(pending["identity_users"])))
    if signal is not None:
        publish(signal)


@sa.event.listens_for(Session, "after_transaction_end")
def _drop_on_rollback(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended without commit
        session.info.pop(_PENDING, None)


# --- transport -----------------------------------------------------------------------------------

def publish(signal: Signal) -> None:
    """Send a signal to every listener. Never raises: the data is committed whatever happens here."""
    url = get_settings().redis_url
    if url is None:
        _local.publish(signal)
        return
    try:
        _redis_client(url).publish(CHANNEL, signal.to_json())
    except redis.RedisError as exc:
        log_throttled("live-updates", "live updates not published (Redis: %s); tabs catch up on "
                      "their next load", exc)


async def listen() -> AsyncIterator[Signal]:
    """Signals as they are published, for as long as the caller iterates."""
    url = get_settings().redis_url
    if url is None:
        identities.heard(True)  # every writer is in this process: it drops as it commits
        try:
            async for signal in _local.listen():
                yield signal
        finally:
            identities.heard(False)
        return
    attempt = 0
    while True:
        # The health check PINGs an idle connection, so one dropped by a proxy or a failover
        # raises (and is retried below) instead of leaving this worker deaf.
        client = aioredis.Redis.from_url(url, health_check_interval=HEALTH_CHECK_SECONDS,
                                         socket_keepalive=True)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        subscribed = False
        try:
            await pubsub.subscribe(CHANNEL)
            identities.heard(subscribed := True)  # from now on no drop is missed
            if attempt:
                log.warning("live updates: listening on Redis again")
            attempt = 0
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True,
                                                   timeout=HEALTH_CHECK_SECONDS)
                if message is None:
                    continue
                try:
                    signal = Signal.from_json(message["data"])
                except (ValueError, KeyError, TypeError):
                    log.warning("live updates: ignored a malformed signal")
                    continue
                if signal.identity_users:  # before anything else: the next event must see it
                    identities.drop(users=signal.identity_users)
                yield signal
        except (redis.RedisError, OSError) as exc:
            log_throttled("live-updates", "live updates: Redis listener lost (%s); retrying", exc)
            await asyncio.sleep(_RETRY_SECONDS[min(attempt, len(_RETRY_SECONDS) - 1)])
            attempt += 1
        finally:
            if subscribed:  # drops may be missed from here on: remember nothing until heard again
                identities.heard(False)
            await pubsub.aclose()
            await client.aclose()


@lru_cache
def _redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


class _LocalBus:
    """The in-process bus: publishers may be on any thread, listeners are asyncio tasks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Signal]]] = []

    def publish(self, signal: Signal) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for loop, queue in listeners:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, signal)
            except RuntimeError:  # that listener's loop has shut down
                continue

    async def listen(self) -> AsyncIterator[Signal]:
        queue: asyncio.Queue[Signal] = asyncio.Queue()
        entry = (asyncio.get_running_loop(), queue)
        with self._lock:
            self._listeners.append(entry)
        try:
            while True:
                yield await queue.get()
        finally:
            with self._lock:
                self._listeners.remove(entry)


_local = _LocalBus()
