"""Emails follow notifications: one log row per (kind, notification), sent once after commit.

Without a broker (as here) the send task runs eagerly in this process after the commit, and without
SMTP_HOST the message is written to the outbox folder.
"""

from __future__ import annotations

import email
import threading
from datetime import timedelta
from email import policy
from pathlib import Path

from sqlmodel import select, update

from academy_app.infra import mail, queue
from academy_app.models import EmailLog, EmailStatus, LoginSession, Role, utcnow
from academy_app.services import accounts, emails, notifications, users
from academy_app.settings import get_settings
from tasks.emails import MAX_DELAY_SECONDS, retry_delay, send_email
from tasks.maintenance import purge_expired_sessions, requeue_stuck_emails
from tests.factories import make_user


def sent_files(outbox: Path) -> list[Path]:
    return sorted(outbox.glob("*.eml")) if outbox.exists() else []


def test_an_emailed_notification_goes_out_once_after_commit(db, student, outbox):
    notifications.notify(db, student.id, "payment.approved", "Payment approved: Data Science",
                         "Your enrollment is active.", "/courses/data-science")
    assert sent_files(outbox) == []  # nothing leaves before the commit
    db.commit()
    [path] = sent_files(outbox)
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"] == student.email
    assert message["Subject"] == "Payment approved: Data Science"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Your enrollment is active." in text and "/courses/data-science" in text
    assert 'href="http://localhost:3000/courses/data-science"' in html
    row = db.exec(select(EmailLog)).one()
    assert (row.status, row.attempts, row.kind) == (EmailStatus.SENT, 1, "payment.approved")


def test_running_the_task_again_sends_nothing_more(db, student, outbox):
    notifications.notify(db, student.id, "course.update", "New module")
    db.commit()
    row = db.exec(select(EmailLog)).one()
    db.commit()  # end the read: on SQLite every transaction holds the write lock
    assert send_email.delay(row.id).get() == "nothing to do"
    assert len(sent_files(outbox)) == 1
    db.refresh(row)
    assert row.attempts == 1


def test_rolled_back_and_unemailed_notifications_send_nothing(db, student, outbox):
    notifications.notify(db, student.id, "payment.approved", "Rolled back")
    db.rollback()
    notifications.notify(db, student.id, "reminder.internal", "Not an emailed kind")
    db.commit()
    assert sent_files(outbox) == []
    assert db.exec(select(EmailLog)).all() == []


def test_deactivated_accounts_get_no_email(db, student, outbox):
    admin = make_user(db, Role.ADMIN)
    users.set_active(db, admin, student.id, False)
    db.commit()
    notifications.notify(db, student.id, "course.update", "Hello?")
    db.commit()
    assert sent_files(outbox) == []


def test_html_in_names_and_titles_is_escaped_in_the_html_part(db, outbox):
    learner = make_user(db, name="<script>alert(1)</script>")
    notifications.notify(db, learner.id, "course.update", "<b>Bold</b> & co")
    db.commit()
    message = email.message_from_bytes(sent_files(outbox)[0].read_bytes(), policy=policy.default)
    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;Bold" in html


def test_an_unreachable_smtp_server_marks_the_email_failed_and_keeps_the_notification(
        db, student, monkeypatch):
    monkeypatch.setattr(get_settings(), "smtp_host", "127.0.0.1")
    monkeypatch.setattr(get_settings(), "smtp_port", 1)  # nothing listens there
    notifications.notify(db, student.id, "course.update", "Will not arrive")
    db.commit()  # does not raise
    row = db.exec(select(EmailLog)).one()
    assert row.status is EmailStatus.FAILED and "refused" in row.last_error.lower()
    assert notifications.unread_count(db, student) == 1


def test_retry_delays_grow_exponentially_with_jitter(monkeypatch):
    monkeypatch.setattr(get_settings(), "mail_retry_seconds", 10)
    for attempt in range(5):
        delays = {retry_delay(attempt) for _ in range(20)}
        assert all(10 * 2 ** attempt / 2 <= d <= 10 * 2 ** attempt for d in delays)
        assert len(delays) > 1
    assert retry_delay(40) <= MAX_DELAY_SECONDS


def test_emails_whose_task_was_lost_are_sent_by_the_sweeper(db, student, outbox, monkeypatch):
    with monkeypatch.context() as broker_down:
        broker_down.setattr(emails, "send_later", lambda ids: None)  # lost at commit
        notifications.notify(db, student.id, "course.update", "Lost on the way")
        db.commit()
    assert sent_files(outbox) == []
    assert requeue_stuck_emails.delay().get() == 0  # too recent to call lost
    db.exec(update(EmailLog).values(created_at=utcnow() - timedelta(minutes=11)))
    db.commit()
    assert requeue_stuck_emails.delay().get() == 1
    assert len(sent_files(outbox)) == 1
    assert requeue_stuck_emails.delay().get() == 0


def test_expired_login_sessions_are_purged(db, student):
    fresh = accounts.start_session(db, student)
    old = accounts.start_session(db, student)
    db.exec(update(LoginSession).where(LoginSession.token_hash == accounts.token_hash(old))
            .values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    assert purge_expired_sessions.delay().get() == 1
    assert accounts.user_for_token(db, fresh) is not None


def test_without_a_broker_the_request_does_not_wait_for_the_emails(db, student, outbox,
                                                                   monkeypatch):
    monkeypatch.setattr(queue, "run_inline", False)
    started, release = threading.Event(), threading.Event()
    deliver = mail.deliver

    def slow_deliver(message, email_id):
        started.set()
        release.wait(10)
        return deliver(message, email_id)

    monkeypatch.setattr(mail, "deliver", slow_deliver)
    notifications.notify(db, student.id, "course.update", "In the background")
    db.commit()  # returns while the email is still being delivered
    assert started.wait(10) and sent_files(outbox) == []
    release.set()
    queue.drain()
    assert len(sent_files(outbox)) == 1


def test_a_copy_of_the_task_stands_down_while_another_holds_the_email(db, student, outbox,
                                                                      monkeypatch):
    with monkeypatch.context() as broker_down:
        broker_down.setattr(emails, "send_later", lambda ids: None)
        notifications.notify(db, student.id, "course.update", "Claimed elsewhere")
        db.commit()
    row = db.exec(select(EmailLog)).one()
    db.exec(update(EmailLog).values(claimed_by="other-task",
                                    claimed_until=utcnow() + timedelta(minutes=2),
                                    created_at=utcnow() - timedelta(minutes=30)))
    db.commit()
    assert send_email.apply(args=[row.id]).get() == "nothing to do"
    assert emails.stuck(db, timedelta(minutes=10)) == []  # the sweeper leaves it alone too
    db.exec(update(EmailLog).values(claimed_until=utcnow() - timedelta(seconds=1)))
    db.commit()
    assert emails.stuck(db, timedelta(minutes=10)) == [row.id]
    db.commit()
    assert send_email.apply(args=[row.id]).get() == "sent"
    assert len(sent_files(outbox)) == 1


def test_the_sweeper_gives_up_on_an_email_out_of_attempts(db, student, monkeypatch):
    with monkeypatch.context() as broker_down:
        broker_down.setattr(emails, "send_later", lambda ids: None)
        notifications.notify(db, student.id, "course.update", "Tried enough")
        db.commit()
    db.exec(update(EmailLog).values(attempts=emails.MAX_ATTEMPTS,
                                    created_at=utcnow() - timedelta(minutes=30)))
    db.commit()
    assert emails.stuck(db, timedelta(minutes=10)) == []
    db.commit()
    assert requeue_stuck_emails.delay().get() == 0
    db.expire_all()
    row = db.exec(select(EmailLog)).one()
    assert row.status is EmailStatus.FAILED and "gave up after 6 attempts" in row.last_error
