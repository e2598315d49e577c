"""Password hashing: argon2id, and a bounded number of hashes at once per process.

A hash or a verification costs about 20 ms of a core and 19 MiB on purpose. A burst of log-ins
(a class that starts at nine) would otherwise spread over every thread that asks, take every core,
and make every other learner's click wait seconds. So at most `password_hash_concurrency` run at
once in a process (`turns`), whoever asks: the log-in page, the API, the command line. The forms
that hash (log in, sign up, reset a password) also run their whole transaction through `in_turn`,
on a few threads of their own: a log-in waiting there is a future on the event loop, holding
neither a thread of the pool every other handler reads the database from nor a database
connection.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import TypeVar

from passlib.context import CryptContext

from academy_app.settings import get_settings

T = TypeVar("T")

# argon2id at the OWASP baseline (19 MiB, t=2, p=1): about 20 ms here, so a log-in stays snappy while
# an offline guess still costs memory. Hashes made with other parameters are upgraded at next log-in.
_context = CryptContext(
    schemes=["argon2"],
    argon2__type="ID",
    argon2__memory_cost=19_456,
    argon2__rounds=2,
    argon2__parallelism=1,
)


class Turns:
    """At most `limit` callers at once run a function; the others wait, each in its own thread."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)

    def run(self, work: Callable[[], T]) -> T:
        with self._slots:
            return work()


@lru_cache(maxsize=1)
def turns() -> Turns:
    """This process's turns for hashing, sized from the settings on first use."""
    return Turns(get_settings().password_hash_concurrency)


@lru_cache(maxsize=1)
def _form_threads() -> ThreadPoolExecutor:
    # Twice the turns: while one form hashes, another does its reads and writes, so the queue moves
    # at the pace of the hashing alone; a form thread that waits for a turn holds a connection,
    # so there are no more of them than that.
    return ThreadPoolExecutor(max_workers=2 * turns().limit, thread_name_prefix="academy-passwords")


async def in_turn(work: Callable[[], T]) -> T:
    """Run `work` (a form's transaction that hashes a password) on the forms' own threads, and
    await it without blocking the event loop."""
    return await asyncio.get_running_loop().run_in_executor(_form_threads(), work)


def hash_password(password: str) -> str:
    return turns().run(lambda: _context.hash(password))


def verify(password: str, hashed: str) -> bool:
    return turns().run(lambda: _context.verify(password, hashed))


def verify_and_update(password: str, hashed: str) -> tuple[bool, str | None]:
    """Whether `password` matches, and its new hash when `hashed` used older parameters."""
    return turns().run(lambda: _context.verify_and_update(password, hashed))
