"""Who a login is, remembered for a few seconds (infra/identities.py) so that most events ask the
database nothing about their sender: only while this process hears the bus, and never past a
log-out, a log-out everywhere, a password reset, a role change or a deactivation, whether made in
this process or in another worker; with Redis unreachable nothing is remembered."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, NamedTuple

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from academy_app.infra import bus
from academy_app.infra.identities import Identities, identities
from academy_app.models import Role, User, utcnow
from academy_app.services import accounts, users
from academy_app.settings import get_settings
from tests.factories import make_user
from tests.unit.test_password_reset import latest_token
from tests.wsclient import run

REDIS_URL = "redis://127.0.0.1:6379/11"  # as tests/unit/test_bus.py


class Found(NamedTuple):
    """The user an event found (plain values), and how many statements finding them took."""

    user: tuple[int, str, Role, bool] | None  # id, name, role, active
    statements: int


@pytest.fixture
def heard() -> Iterator[None]:
    """This process hears the bus, as a backend worker whose listener is subscribed."""
    identities.heard(True)
    yield
    identities.heard(False)


@pytest.fixture
def admin(db: Session) -> User:
    return make_user(db, Role.ADMIN)


def login(db: Session, user: User) -> str:
    token = accounts.start_session(db, user)
    db.commit()
    return token


def event_user(engine: Engine, token: str) -> Found:
    """The token's user as an event finds it: in a transaction of its own, committed."""
    statements: list[str] = []

    def record(_connection: Any, _cursor: Any, sql: str, *_rest: Any) -> None:
        statements.append(sql)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        with Session(engine, expire_on_commit=False) as session:
            user = accounts.user_for_token(session, token)
            found = user and (user.id, user.full_name, user.role, user.is_active)
            session.commit()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return Found(found, len([s for s in statements if not s.lstrip().upper().startswith(
        ("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA"))]))


def test_a_worker_that_hears_the_bus_asks_the_database_once(db, engine, student, heard):
    token = login(db, student)
    me = (student.id, student.full_name, Role.STUDENT, True)
    assert [event_user(engine, token) for _ in range(3)] == [(me, 1), (me, 0), (me, 0)]


def test_a_worker_that_does_not_hear_the_bus_asks_every_time(db, engine, student):
    token = login(db, student)
    assert [event_user(engine, token).statements for _ in range(3)] == [1, 1, 1]


def test_the_remembered_user_is_an_ordinary_row_of_the_session(db, engine, student, heard):
    """What a service gets is its session's row: it can change it, the change is saved, and the
    next event reads the changed row."""
    token = login(db, student)
    event_user(engine, token)
    with Session(engine, expire_on_commit=False) as session:
        user = accounts.user_for_token(session, token)
        assert session.get(User, student.id) is user
        user.full_name = "Renamed Learner"
        session.add(user)
        session.commit()
    db.expire_all()
    assert db.get(User, student.id).full_name == "Renamed Learner"
    db.commit()  # SQLite: its transaction holds the write lock the next event's waits for
    assert event_user(engine, token) == ((student.id, "Renamed Learner", Role.STUDENT, True), 1)


@pytest.mark.parametrize("ending", ["log out", "log out everywhere", "deactivation",
                                    "password reset"])
def test_an_ended_login_is_refused_at_its_next_event(db, engine, student, admin, heard, outbox,
                                                      ending):
    token = login(db, student)
    assert event_user(engine, token).user is not None  # remembered from here on
    if ending == "log out":
        accounts.end_session(db, token)
    elif ending == "log out everywhere":
        accounts.end_all_sessions(db, student)
    elif ending == "deactivation":
        users.set_active(db, admin, student.id, False)
    else:
        accounts.request_password_reset(db, student.email, "10.0.0.1")
        db.commit()
        accounts.reset_password(db, latest_token(outbox), "a brand new passphrase")
    db.commit()
    assert event_user(engine, token) == (None, 1)


def test_a_role_change_counts_from_the_next_event(db, engine, student, admin, heard):
    token = login(db, student)
    assert event_user(engine, token).user[2] is Role.STUDENT
    users.change_role(db, admin, student.id, Role.INSTRUCTOR.value)
    db.commit()
    assert event_user(engine, token) == ((student.id, student.full_name, Role.INSTRUCTOR, True), 1)


def test_a_read_that_raced_with_a_drop_is_not_remembered():
    cache = Identities()
    cache.heard(True)
    before = cache.generation()  # a reader notes the generation, then reads the database ...
    cache.drop(users=[7])  # ... meanwhile the user is deactivated, and dropped ...
    cache.remember("login", 7, {"id": 7}, *_times(), before)  # ... then it stores what it read
    assert cache.get("login") is None
    cache.remember("login", 7, {"id": 7}, *_times(), cache.generation())
    assert cache.get("login") is not None


def test_a_commit_with_nothing_to_drop_does_not_spoil_a_read_racing_it():
    cache = Identities()
    cache.heard(True)
    before = cache.generation()
    cache.drop()  # e.g. a "mark as complete" committed meanwhile: it changed nobody's login
    cache.remember("login", 7, {"id": 7}, *_times(), before)
    assert cache.get("login") is not None


def test_losing_the_bus_forgets_everything_and_remembers_nothing_until_heard_again():
    cache = Identities()
    cache.heard(True)
    cache.remember("login", 7, {"id": 7}, *_times(), cache.generation())
    cache.heard(False)
    assert (cache.get("login"), cache.generation()) == (None, None)
    cache.remember("login", 7, {"id": 7}, *_times(), 0)
    assert len(cache) == 0


def test_what_is_remembered_lapses_after_its_time(db, engine, student, heard, monkeypatch):
    token = login(db, student)
    monkeypatch.setattr(identities, "_ttl", 0.0)
    assert [event_user(engine, token).statements for _ in range(3)] == [1, 1, 1]


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_a_deactivation_in_another_worker_reaches_this_one_over_the_bus(
        db, engine, student, admin, monkeypatch):
    """Another process (a second backend worker) deactivates the learner: its commit reaches this
    worker only through Redis, and this worker's next event for them is refused."""
    _require_redis()
    monkeypatch.setattr(get_settings(), "redis_url", REDIS_URL)
    token = login(db, student)
    other_worker = [sys.executable, "-c", _DEACTIVATE.format(admin=admin.id, user=student.id)]
    env = {**os.environ, "REFLEX_DB_URL": engine.url.render_as_string(hide_password=False),
           "REFLEX_REDIS_URL": REDIS_URL}

    async def scenario() -> tuple[Found, Found]:
        listener = bus.listen()

        async def dropped() -> None:  # the other worker's signal (others may share the channel)
            while student.id not in (await anext(listener)).identity_users:
                pass

        heard = asyncio.create_task(dropped())
        while identities.generation() is None:  # until it is subscribed
            await asyncio.sleep(0.01)
        event_user(engine, token)
        remembered = event_user(engine, token)
        await asyncio.to_thread(subprocess.run, other_worker, env=env, check=True)
        await asyncio.wait_for(heard, 30)  # dropped as it arrived
        after = event_user(engine, token)
        await listener.aclose()
        return remembered, after

    remembered, after = run(scenario())
    assert remembered == ((student.id, student.full_name, Role.STUDENT, True), 0)
    assert after == (None, 1)


def test_with_redis_unreachable_every_event_asks_the_database(db, engine, student, monkeypatch):
    monkeypatch.setattr(get_settings(), "redis_url", "redis://127.0.0.1:1/0")
    token = login(db, student)

    async def scenario() -> list[int]:
        listening = asyncio.create_task(anext(bus.listen()))
        await asyncio.sleep(0.2)  # it has tried, failed, and waits to try again
        asked = [event_user(engine, token).statements for _ in range(3)]
        listening.cancel()
        return asked

    assert run(scenario()) == [1, 1, 1]
    assert identities.generation() is None


# Run by another process, as a second backend worker would: the settings from its environment.
_DEACTIVATE = """
from academy_app.db import session_scope
from academy_app.models import User
from academy_app.services import users
with session_scope() as session:
    users.set_active(session, session.get(User, {admin}), {user}, False)
"""


def _require_redis() -> None:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}. Run `make services`.")


def _times() -> tuple[Any, Any]:
    """A login's expiry and last-seen time, for the cache's own tests."""
    return utcnow() + timedelta(days=1), utcnow()
