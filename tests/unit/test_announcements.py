"""Course updates: the course's staff reaches every learner once; nobody else can send them."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from academy_app.infra import bus
from academy_app.models import AuditEntry, Enrollment, EnrollmentStatus, Notification, Role
from academy_app.services import announcements, notifications
from academy_app.services.errors import Conflict, Invalid, NotFound, PermissionDenied
from tests.factories import make_course, make_user


@pytest.fixture
def course(db, instructor):
    return make_course(db, instructor, title="Data Science")


def enrol(db, course, status: EnrollmentStatus):
    learner = make_user(db)
    db.add(Enrollment(user_id=learner.id, course_id=course.id, status=status))
    db.commit()
    return learner


def test_every_learner_gets_the_update_once_and_it_is_audited(db, instructor, course, monkeypatch):
    published: list[bus.Signal] = []
    monkeypatch.setattr(bus, "publish", published.append)
    active, done = enrol(db, course, EnrollmentStatus.ACTIVE), enrol(db, course,
                                                                      EnrollmentStatus.COMPLETED)
    waiting = enrol(db, course, EnrollmentStatus.PENDING_PAYMENT)
    assert announcements.broadcast_update(db, instructor, course.id, " New  module ",
                                          "Testing your app") == 2
    db.commit()
    for learner in (active, done):
        [note] = notifications.recent(db, learner)
        assert (note.title, note.body, note.link) == ("Data Science: New module", "Testing your app",
                                                      f"/courses/{course.slug}")
    assert notifications.recent(db, waiting) == []
    [signal] = published
    assert sorted(n.user_id for n in signal.notifications) == sorted([active.id, done.id])
    assert db.exec(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "course.broadcast")).one() == 1


def test_a_repeated_update_is_refused_a_different_one_is_sent(db, instructor, course):
    enrol(db, course, EnrollmentStatus.ACTIVE)
    announcements.broadcast_update(db, instructor, course.id, "Live session", "Friday")
    db.commit()
    with pytest.raises(Conflict, match="a moment ago"):
        announcements.broadcast_update(db, instructor, course.id, "Live session", "Friday")
    announcements.broadcast_update(db, instructor, course.id, "Live session", "Moved to Monday")
    db.commit()
    assert db.exec(select(func.count()).select_from(Notification)).one() == 2


@pytest.mark.parametrize(("title", "message", "field"), [
    ("", "body", "title"), ("ab", "", "title"), ("x" * 121, "", "title"),
    ("Fine title", "x" * 1001, "message"),
])
def test_bad_updates_name_the_field(db, instructor, course, title, message, field):
    with pytest.raises(Invalid) as refused:
        announcements.broadcast_update(db, instructor, course.id, title, message)
    assert field in refused.value.errors


def test_only_the_courses_staff_may_broadcast(db, course, student):
    with pytest.raises(PermissionDenied):
        announcements.broadcast_update(db, make_user(db, Role.INSTRUCTOR), course.id, "Hello", "")
    with pytest.raises(PermissionDenied):
        announcements.broadcast_update(db, student, course.id, "Hello", "")
    with pytest.raises(NotFound):
        announcements.broadcast_update(db, make_user(db, Role.ADMIN), 999_999, "Hello", "")
    assert announcements.broadcast_update(db, make_user(db, Role.ADMIN), course.id, "Hello", "") == 0
