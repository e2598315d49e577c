from __future__ import annotations

import pytest

from academy_app.services import notifications
from academy_app.services.errors import NotAuthenticated
from tests.factories import make_user


def test_each_user_sees_and_clears_only_their_own(db, student):
    other = make_user(db)
    for n in range(3):
        notifications.notify(db, student.id, "test", f"For student {n}")
    notifications.notify(db, other.id, "test", "For the other learner")
    db.commit()
    assert notifications.unread_count(db, student) == 3
    assert [n.title for n in notifications.recent(db, student)] == [
        "For student 2", "For student 1", "For student 0"]
    assert notifications.mark_all_read(db, student) == 3
    db.commit()
    assert notifications.unread_count(db, student) == 0
    assert notifications.unread_count(db, other) == 1
    assert notifications.recent(db, student, limit=10_000)[0].read_at is not None
    assert notifications.recent_ids(db, student) == [n.id for n in notifications.recent(db, student)]
    assert notifications.recent_ids(db, student, limit=1) == [notifications.recent(db, student)[0].id]


def test_anonymous_callers_get_nothing(db):
    with pytest.raises(NotAuthenticated):
        notifications.unread_count(db, None)
    with pytest.raises(NotAuthenticated):
        notifications.mark_all_read(db, None)
    with pytest.raises(NotAuthenticated):
        notifications.recent_ids(db, None)
