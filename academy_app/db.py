"""The engine and session helpers, usable from Reflex states, the CLI, Celery and tests alike."""

from __future__ import annotations

import base64
import enum
import json
import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import lru_cache
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

from academy_app.settings import get_settings

log = logging.getLogger(__name__)
_AFTER_COMMIT = "academy_after_commit"
_AFTER_TRANSACTION = "academy_after_transaction"
T = TypeVar("T")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
            cursor = dbapi_connection.cursor()
            # WAL lets readers and the one writer work side by side; foreign keys are off by default.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
            # Left to itself, Python's sqlite3 opens a transaction only before the first write, so
            # a savepoint that is that first write commits on release and a later rollback cannot
            # undo it. We issue BEGIN ourselves instead.
            dbapi_connection.isolation_level = None

        @sa.event.listens_for(engine, "begin")
        def _begin_immediate(connection: sa.Connection) -> None:
            # IMMEDIATE takes the write lock up front: a read-then-write transaction can then never
            # fail half-way with SQLITE_BUSY when another writer committed in between.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def insert_or_get(session: OrmSession, row: T, find_existing: Callable[[], T | None], *,
                  alongside: Callable[[T], object] | None = None) -> tuple[T, bool]:
    """Insert `row`, or if a unique constraint says another transaction inserted its twin first,
    return that winner, as `find_existing` reads it: (the row, whether it is ours).

    For rows a double click or two tabs can create at once, where a check before the insert cannot
    close the race. The insert runs in a savepoint because on PostgreSQL a failed statement aborts
    the whole transaction: this way the conflict rolls back only the savepoint and the caller's
    transaction goes on, there and on SQLite alike. `alongside` runs in the same savepoint with the
    row, flushed (it has its id): writes that stand or fall with it.
    A conflict that leaves no winner to read was not a twin; it is raised.
    """
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
            if alongside is not None:
                alongside(row)
    except IntegrityError:
        winner = find_existing()
        if winner is None:
            raise
        return winner, False
    return row, True


def after_commit(session: OrmSession, callback: Callable[[], None]) -> None:
    """Run `callback` once this session's transaction has committed; never if it rolls back.

    For side effects that must only follow data that exists: queueing an email task, say.
    """
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def after_transaction(session: OrmSession, callback: Callable[[], None]) -> None:
    """Run `callback` once this session's transaction has ended, committed or rolled back.

    For a record that must outlive the refusal that prompts it: the refusal is an exception, which
    rolls the caller's transaction back, so the callback writes in a session of its own. It waits
    for the caller's transaction to end because on SQLite that transaction holds the write lock.
    """
    session.info.setdefault(_AFTER_TRANSACTION, []).append(callback)


@sa.event.listens_for(OrmSession, "after_commit")
def _run_after_commit(session: OrmSession) -> None:
    if session.in_nested_transaction():
        return  # a savepoint committed; the data is not visible to anyone else yet
    for callback in session.info.pop(_AFTER_COMMIT, []):
        try:
            callback()
        except Exception:  # the data is committed; a failed side effect must not undo the request
            log.exception("after-commit step failed")


@sa.event.listens_for(OrmSession, "after_transaction_end")
def _forget_after_rollback(session: OrmSession, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_AFTER_COMMIT, None)


@sa.event.listens_for(OrmSession, "after_transaction_end")
def _run_after_transaction(session: OrmSession, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return  # a savepoint ended; the transaction goes on
    for callback in session.info.pop(_AFTER_TRANSACTION, []):
        try:
            callback()
        except Exception:  # the request has had its answer; a failed record must not change it
            log.exception("after-transaction step failed")


# Keyset paging: a page starts after the (sort value, id) of the last row shown, so the 4,000th
# page is read in index order like the first, and rows added meanwhile neither repeat nor vanish
# (an OFFSET would shift). The cursor is that pair as opaque URL-safe text; one a client altered
# reads as no cursor (the first page), never as an error.

def keyset_cursor(value: Any, row_id: int) -> str:
    """The cursor of the page that starts after the row with this sort value and id."""
    if isinstance(value, datetime | date):
        value = value.isoformat()
    elif isinstance(value, enum.Enum):
        value = value.value
    return base64.urlsafe_b64encode(json.dumps([value, row_id]).encode()).decode()


def read_keyset_cursor(cursor: str, column: sa.ColumnElement) -> tuple[Any, int] | None:
    """(sort value, id) of the row a page starts after; None for the first page or a bad cursor."""
    if not cursor or not isinstance(cursor, str):
        return None
    try:
        value, row_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        python_type = column.type.python_type
        if python_type is datetime:
            value = datetime.fromisoformat(value)
        elif python_type is date:
            value = date.fromisoformat(value)
        elif not isinstance(value, python_type) and not hasattr(column.type, "enum_class"):
            return None
        if not isinstance(row_id, int):
            return None
    except (ValueError, TypeError, json.JSONDecodeError, NotImplementedError):
        return None
    return value, row_id


def after_keyset(sort_column: sa.ColumnElement, id_column: sa.ColumnElement,
                 after: tuple[Any, int], descending: bool) -> sa.ColumnElement[bool]:
    """The rows that come after `after` in the order (sort column, id), both descending or both
    ascending: one row-value comparison, which an index on (sort column, id) answers."""
    key = sa.tuple_(sort_column, id_column)
    bound = sa.tuple_(sa.literal(after[0], sort_column.type), sa.literal(after[1]))
    return key < bound if descending else key > bound
