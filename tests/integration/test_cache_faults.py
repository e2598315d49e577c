"""The cache's own Redis failing: pages keep working from the database, the log says so once, the
cache recovers when Redis returns, and an invalidation Redis missed is never followed by a stale read.

Each test runs its own redis-server (no persistence) on a free port, as ACADEMY_CACHE_URL would
point the cache at a Redis of its own, so it can be stopped and paused without touching the shared one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy.engine import Engine
from sqlmodel import Session

from academy_app.db import session_scope
from academy_app.infra import cache
from academy_app.infra.cache import Cache, RedisStore
from academy_app.models import User
from academy_app.services import catalog, enrollment, progress
from tests.appserver import RedisServer
from tests.factories import make_course


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_cache(own_redis: RedisServer, monkeypatch: pytest.MonkeyPatch) -> Cache:
    monkeypatch.setattr(cache, "RETRY_REDIS_SECONDS", 0.2)
    installed = Cache(RedisStore(own_redis.url, namespace="academy:cache:faults"), ttl=300,
                      describe="Redis cache at 127.0.0.1")
    cache.use(installed)
    return installed


def dashboard(engine: Engine, user_id: int) -> list[progress.DashboardEntry]:
    with session_scope(engine) as session:
        return progress.dashboard(session, session.get(User, user_id))


def complete(engine: Engine, user_id: int, lesson_id: int, done: bool = True) -> None:
    with session_scope(engine) as session:
        progress.set_lesson_completion(session, session.get(User, user_id), lesson_id, done)


@pytest.fixture
def learning(db: Session, student: User, instructor: User) -> tuple[int, list[int]]:
    course = make_course(db, instructor, lessons_per_module=(2, 2))
    enrollment.enroll_free(db, student, course.id)
    lesson_ids = [lesson.id for lesson in catalog.course_outline(db, course.slug, student).lessons]
    db.commit()
    return student.id, lesson_ids


def test_with_its_redis_stopped_pages_work_from_the_database_and_the_cache_recovers(
        engine: Engine, redis_cache: Cache, own_redis: RedisServer, learning, caplog) -> None:
    user_id, lesson_ids = learning
    dashboard(engine, user_id)
    assert dashboard(engine, user_id)[0].done == 0
    assert redis_cache.stats().hits >= 1

    caplog.set_level(logging.WARNING, logger="academy_app.infra.cache")
    own_redis.stop()
    complete(engine, user_id, lesson_ids[0])  # the invalidation cannot be written: kept for later
    for _ in range(10):
        assert dashboard(engine, user_id)[0].done == 1  # from the database, not stale
        time.sleep(0.05)  # spans several retry periods: each retry fails and says nothing new
    warnings = [r.getMessage() for r in caplog.records]
    assert len([w for w in warnings if "does not answer" in w]) == 1, warnings
    assert redis_cache.stats().bypassed >= 10

    own_redis.start()  # empty: no persistence
    time.sleep(0.3)
    assert dashboard(engine, user_id)[0].done == 1
    hits_before = redis_cache.stats().hits
    assert dashboard(engine, user_id)[0].done == 1
    assert redis_cache.stats().hits > hits_before  # caching again
    assert any("answers again" in r.getMessage() for r in caplog.records)


def test_an_invalidation_redis_missed_is_written_before_anything_is_read_from_it(
        engine: Engine, redis_cache: Cache, own_redis: RedisServer, learning) -> None:
    """Redis that stops answering but keeps its data (a pause, a network blip) still holds the
    entry the write made stale; the first read after it answers again must not get it."""
    user_id, lesson_ids = learning
    dashboard(engine, user_id)
    assert dashboard(engine, user_id)[0].done == 0  # cached: 0 of 4 done

    redis.Redis.from_url(own_redis.url).execute_command("CLIENT", "PAUSE", 2500, "ALL")
    paused_until = time.monotonic() + 2.5
    complete(engine, user_id, lesson_ids[0])  # its invalidation times out
    assert dashboard(engine, user_id)[0].done == 1
    time.sleep(max(0.0, paused_until - time.monotonic()) + 0.3)
    assert dashboard(engine, user_id)[0].done == 1  # not the 0 Redis still holds
    hits_before = redis_cache.stats().hits
    assert dashboard(engine, user_id)[0].done == 1
    assert redis_cache.stats().hits > hits_before
