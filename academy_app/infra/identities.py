"""Who a login is, remembered for a few seconds by this process: the lookup that every event of
every tab would otherwise make (its login row joined to its user row, a statement and two ORM
objects: about a seventh of a "mark as complete").

Only trusted while this process hears the bus (infra/bus.py): every transaction that ends a login,
or changes or deactivates a user, drops what it concerns here at once when it commits, and in every
other process through the bus. A process whose bus listener is down (Redis unreachable), or that
runs none (a Celery worker, a script), remembers nothing and reads the database on every call.
Whatever is remembered lapses after `TTL` anyway, so a drop the bus lost cannot keep a login alive
for longer than that.

A lookup that raced with a drop (read before it, stored after it) is not stored: every drop moves
`generation` on, and `remember` stores only under the generation its reader saw before reading.
Threads call this (handlers run their transactions in worker threads), hence the lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

TTL_SECONDS = 15.0


@dataclass(frozen=True)
class Identity:
    """A login and its user's columns, as last read from the database."""

    user_id: int
    user: dict[str, Any]  # column name → value: enough to rebuild the row without a statement
    expires_at: datetime  # the login's, to keep refusing it past its end without asking
    last_seen_at: datetime
    until: float  # time.monotonic() after which it is read again


class Identities:
    def __init__(self, ttl: float = TTL_SECONDS) -> None:
        self._ttl = ttl
        self._lock = threading.Lock()
        self._by_login: dict[str, Identity] = {}
        self._logins_of: dict[int, set[str]] = {}
        self._generation = 0
        self._heard = 0  # bus listeners now subscribed in this process
        self._next_sweep = 0.0

    def generation(self) -> int | None:
        """What a reader notes before it reads the database, for `remember`; None: remember
        nothing now (the bus is not heard)."""
        with self._lock:
            return self._generation if self._heard else None

    def get(self, login: str) -> Identity | None:
        identity = self._by_login.get(login)  # one dict read: no lock on the hot path
        if identity is None or not self._heard or identity.until <= time.monotonic():
            return None  # a lapsed one is replaced by the next `remember`, or swept
        return identity

    def remember(self, login: str, user_id: int, user: dict[str, Any], expires_at: datetime,
                 last_seen_at: datetime, generation: int | None) -> None:
        now = time.monotonic()
        with self._lock:
            if generation is None or generation != self._generation or not self._heard:
                return  # something was dropped since the read began, or the bus went quiet
            if now >= self._next_sweep:  # tabs that went away leave nothing behind for long
                self._sweep(now)
            self._forget(login)
            self._by_login[login] = Identity(user_id, user, expires_at, last_seen_at,
                                             now + self._ttl)
            self._logins_of.setdefault(user_id, set()).add(login)

    def drop(self, users: Iterable[int] = (), logins: Iterable[str] = ()) -> None:
        users, logins = tuple(users), tuple(logins)
        if not users and not logins:
            # Every commit that tells the bus anything calls this, most with nothing to drop: moving
            # `generation` on then would only make the reads racing that commit go unremembered.
            return
        with self._lock:
            self._generation += 1
            for login in logins:
                self._forget(login)
            for user_id in users:
                for login in list(self._logins_of.get(user_id, ())):
                    self._forget(login)

    def heard(self, listening: bool) -> None:
        """A bus listener of this process subscribed (True) or lost its subscription (False):
        whatever was remembered may have missed drops meanwhile, so it all goes."""
        with self._lock:
            self._heard += 1 if listening else -1
            self._generation += 1
            self._by_login.clear()
            self._logins_of.clear()

    def __len__(self) -> int:
        return len(self._by_login)

    def _forget(self, login: str) -> None:
        identity = self._by_login.pop(login, None)
        if identity is not None:
            logins = self._logins_of.get(identity.user_id, set())
            logins.discard(login)
            if not logins:
                self._logins_of.pop(identity.user_id, None)

    def _sweep(self, now: float) -> None:
        for login in [login for login, found in self._by_login.items() if found.until <= now]:
            self._forget(login)
        self._next_sweep = now + self._ttl


identities = Identities()
