"""The live bus: what services record inside a transaction is published once, after commit, and
nothing is published for a transaction that rolls back. Both transports: in-process and Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
import redis

from academy_app.infra import bus, outages
from academy_app.infra.presence import Presence
from academy_app.services import enrollment, notifications
from academy_app.settings import get_settings
from tests.factories import make_course, make_user
from tests.wsclient import run

REDIS_URL = "redis://127.0.0.1:6379/11"


@pytest.fixture
def published(monkeypatch) -> Iterator[list[bus.Signal]]:
    """Signals as `publish` receives them (the transport is tested separately below)."""
    signals: list[bus.Signal] = []
    monkeypatch.setattr(bus, "publish", signals.append)
    yield signals


def test_a_transaction_publishes_one_signal_after_commit(db, student, instructor, published):
    course = make_course(db, instructor, price_cents=0)
    enrollment.enroll_free(db, student, course.id)
    notifications.notify(db, student.id, "course.update", "Second note")
    assert published == []  # nothing before the commit
    db.commit()
    [signal] = published
    assert [n.title for n in signal.notifications] == [f"You're enrolled in {course.title}",
                                                       "Second note"]
    assert all(n.id and n.user_id == student.id for n in signal.notifications)
    assert signal.refresh_users == (student.id,)


def test_a_rolled_back_transaction_publishes_nothing(db, student, published):
    notifications.notify(db, student.id, "course.update", "Never sent")
    db.rollback()
    db.commit()
    assert published == []


def test_a_signal_survives_the_wire_unchanged(db, student, published):
    notifications.notify(db, student.id, "course.update", "Zoë's «update»", "body", "/courses/x")
    bus.origin(db, "tab-token")
    db.commit()
    [signal] = published
    assert bus.Signal.from_json(signal.to_json()) == signal
    assert signal.origin_token == "tab-token"


@pytest.mark.parametrize("redis_url", [None, REDIS_URL], ids=["in-process", "redis"])
def test_every_listener_hears_a_published_signal(monkeypatch, redis_url):
    if redis_url:
        try:
            redis.Redis.from_url(redis_url).ping()
        except redis.ConnectionError as exc:
            pytest.fail(f"Redis is not reachable at {redis_url}: {exc}. Run `make services`.")
    monkeypatch.setattr(get_settings(), "redis_url", redis_url)
    signal = bus.Signal(refresh_users=(7,))

    async def scenario() -> list[bus.Signal]:
        async def first(listener: AsyncIterator[bus.Signal]) -> bus.Signal:
            return await anext(listener)

        listeners = [bus.listen(), bus.listen()]
        heard = [asyncio.create_task(first(listener)) for listener in listeners]
        await asyncio.sleep(0.3)  # both subscribed
        await asyncio.to_thread(bus.publish, signal)  # publishers are plain threads
        result = await asyncio.wait_for(asyncio.gather(*heard), 5)
        for listener in listeners:
            await listener.aclose()
        return result

    assert run(scenario()) == [signal, signal]


def test_publishing_without_redis_reachable_loses_nothing_saved(db, student, monkeypatch,
                                                                caplog):
    monkeypatch.setattr(get_settings(), "redis_url", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(outages, "_last_logged", {})
    notifications.notify(db, student.id, "course.update", "Stored anyway")
    db.commit()  # does not raise
    assert notifications.unread_count(db, student) == 1
    assert "live updates not published" in caplog.text


def test_presence_maps_tabs_to_users_and_forgets_closed_ones():
    presence = Presence()
    presence.remember(1, "tab-a")
    presence.remember(1, "tab-b")
    presence.remember(2, "tab-c")
    presence.remember(2, "tab-a")  # the tab now belongs to another user
    assert sorted(presence.tokens_of(1)) == ["tab-b"]
    assert sorted(presence.tokens_of(2)) == ["tab-a", "tab-c"]
    presence.prune(lambda token: token != "tab-c")
    assert presence.tokens_of(2) == ["tab-a"] and len(presence) == 2
    presence.forget("tab-b")
    assert presence.tokens_of(1) == []


def test_notifying_many_users_flushes_once_and_tags_each(db, published):
    learners = [make_user(db) for _ in range(30)]
    for learner in learners:
        notifications.notify(db, learner.id, "course.update", "Hello all")
    db.commit()
    [signal] = published
    assert sorted(n.user_id for n in signal.notifications) == sorted(u.id for u in learners)


def test_a_savepoint_inside_the_transaction_publishes_nothing_early(db, student, published):
    notifications.notify(db, student.id, "course.update", "Recorded before a savepoint")
    with db.begin_nested():
        bus.refresh(db, student.id)
    assert published == []
    db.commit()
    [signal] = published
    assert signal.refresh_users == (student.id,) and len(signal.notifications) == 1
