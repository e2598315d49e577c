"""Reminder emails: one per quiet spell to learners with an unfinished course, none to those who
opted out with the signed link, and the link itself."""

from __future__ import annotations

import email
from datetime import timedelta
from email import policy

import pytest
from sqlmodel import select, update

from academy_app.infra import signing
from academy_app.models import EmailLog, Enrollment, EnrollmentStatus, Role, utcnow
from academy_app.services import email_preferences, emails, enrollment, reminders, users
from academy_app.services.errors import NotFound
from tasks.maintenance import send_inactivity_reminders
from tests.factories import make_course, make_user


@pytest.fixture
def course(db, instructor):
    return make_course(db, instructor, title="SQL for Analysts", slug="sql-for-analysts")


def enrolled(db, course, days_quiet: float, status=EnrollmentStatus.ACTIVE, **user):
    learner = make_user(db, **user)
    row = enrollment.enroll_free(db, learner, course.id)
    db.exec(update(Enrollment).where(Enrollment.id == row.id).values(
        status=status, updated_at=utcnow() - timedelta(days=days_quiet)))
    db.commit()
    return learner


def reminded(db) -> list[int]:
    ids = list(db.exec(select(EmailLog.user_id).where(EmailLog.kind == "reminder.inactive")
                       .order_by(EmailLog.id)))
    db.commit()  # SQLite: end the read before a task needs the write lock
    return ids


def test_a_quiet_learner_gets_one_reminder_per_quiet_spell(db, course, outbox):
    learner = enrolled(db, course, days_quiet=8, name="Zoë Ångström")
    assert send_inactivity_reminders.apply().get() == 1
    assert send_inactivity_reminders.apply().get() == 0  # the daily job again: nothing new
    assert reminded(db) == [learner.id]
    [path] = [p for p in outbox.glob("*.eml") if b"Pick up" in p.read_bytes()]
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["Subject"] == "Pick up SQL for Analysts where you left off"
    text = message.get_body(("plain",)).get_content()
    assert "Zoë Ångström" in text and "/courses/sql-for-analysts" in text
    token = emails.unsubscribe_token(learner.id, emails.Topic.REMINDERS)
    assert f"/unsubscribe/{token}" in text
    assert message["List-Unsubscribe"].endswith(f"/email/unsubscribe/{token}>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # Back to learning, then quiet again for a week: a new spell, a new reminder.
    db.exec(update(Enrollment).where(Enrollment.user_id == learner.id)
            .values(updated_at=utcnow() - timedelta(days=7, hours=1)))
    db.commit()
    assert len(reminders.queue_inactivity_reminders(db)) == 1
    db.commit()
    assert reminded(db) == [learner.id, learner.id]


def test_only_quiet_active_learners_with_an_unfinished_course_and_reminders_on(db, course,
                                                                               instructor):
    quiet = enrolled(db, course, days_quiet=8)
    enrolled(db, course, days_quiet=3)  # learned this week
    enrolled(db, course, days_quiet=30, status=EnrollmentStatus.COMPLETED)  # nothing unfinished
    enrolled(db, course, days_quiet=30, status=EnrollmentStatus.CANCELLED)
    opted_out = enrolled(db, course, days_quiet=8)
    email_preferences.set_by_link(db, emails.unsubscribe_token(opted_out.id,
                                                                emails.Topic.REMINDERS), False)
    gone = enrolled(db, course, days_quiet=8)
    admin = make_user(db, role=Role.ADMIN)
    users.set_active(db, admin, gone.id, False)
    busy_elsewhere = enrolled(db, course, days_quiet=8)  # quiet here, finished another yesterday
    other = make_course(db, instructor, title="Other", slug="other")
    done = enrollment.enroll_free(db, busy_elsewhere, other.id)
    db.exec(update(Enrollment).where(Enrollment.id == done.id).values(
        status=EnrollmentStatus.COMPLETED, updated_at=utcnow() - timedelta(days=1)))
    db.commit()
    reminders.queue_inactivity_reminders(db)
    db.commit()
    assert reminded(db) == [quiet.id]


def test_learners_gone_for_over_a_month_are_let_be(db, course):
    enrolled(db, course, days_quiet=31)
    recent = enrolled(db, course, days_quiet=29)
    reminders.queue_inactivity_reminders(db)
    db.commit()
    assert reminded(db) == [recent.id]


def test_every_quiet_learner_is_reached_however_many_batches(db, course, monkeypatch):
    monkeypatch.setattr(reminders, "BATCH", 2)
    learners = [enrolled(db, course, days_quiet=9) for _ in range(5)]
    assert len(reminders.queue_inactivity_reminders(db)) == 5
    db.commit()
    assert reminded(db) == [learner.id for learner in learners]


def test_the_unsubscribe_link_is_signed_for_one_learner_and_one_topic(db, student):
    token = emails.unsubscribe_token(student.id, emails.Topic.REMINDERS)
    assert email_preferences.read_link(db, token).labels == ["Study reminders"]
    value, _, signature = token.rpartition(".")
    for forged in ("", "garbage", f"{student.id + 1}:reminders.{signature}",
                   f"{value}.{signature[:-1]}x", f"{student.id}:payments.{signature}",
                   signing.sign("another-purpose", f"{student.id}:reminders"), "x" * 5000,
                   signing.sign(emails.UNSUBSCRIBE, f"{student.id}:no-such-topic"),
                   signing.sign(emails.UNSUBSCRIBE, "99999999999999999999:reminders"),
                   f"{student.id}.é", "é.é", f"{value}.{signature}\x00"):
        with pytest.raises(NotFound):
            email_preferences.read_link(db, forged)
    assert email_preferences.set_by_link(db, token, enabled=False) is False
    assert (student.email_reminders, student.email_payments) == (False, True)
    assert email_preferences.set_by_link(db, token, enabled=True) is True
    assert student.email_reminders is True


def test_a_link_from_before_topics_still_stops_what_it_stopped(db, student):
    """Reminders, release emails and digests all carried this link and obeyed one switch."""
    legacy = signing.sign(email_preferences.LEGACY_UNSUBSCRIBE, str(student.id))
    email_preferences.set_by_link(db, legacy, enabled=False)
    assert (student.email_reminders, student.email_releases, student.email_discussions,
            student.email_course_updates, student.email_payments) == (False, False, False, True,
                                                                        True)
