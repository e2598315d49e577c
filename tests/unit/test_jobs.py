"""The jobs page's service: admins only; a failed email can be retried once, and it is audited."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import redis
from sqlmodel import col, select

from academy_app.admin.jobs import waiting_label
from academy_app.infra import broker
from academy_app.models import AuditEntry, EmailLog, EmailStatus, Role, utcnow
from academy_app.services import jobs
from academy_app.services.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied
from academy_app.settings import get_settings
from tests.factories import make_user


@pytest.fixture
def admin(db):
    return make_user(db, Role.ADMIN, name="Ada Admin")


def failed_email(db, student) -> EmailLog:
    email = EmailLog(kind="course.update", dedupe_key=f"course.update:test:{student.id}",
                     user_id=student.id, to_address=student.email, subject="Lost in transit",
                     context=json.dumps({"name": student.full_name, "title": "Lost in transit"}),
                     status=EmailStatus.FAILED, attempts=6, last_error="SMTPConnectError: down")
    db.add(email)
    db.commit()
    return email


def test_admins_see_counts_and_recent_emails_others_are_refused(db, admin, student, instructor):
    failed_email(db, student)
    data = jobs.overview(db, admin)
    assert (data.waiting, data.queued, data.failed, data.sent_last_day,
            data.certificates_drawing) == (None, 0, 1, 0, 0)
    assert data.broker_answers
    assert [r.subject for r in data.recent] == ["Lost in transit"]
    assert jobs.overview(db, admin, EmailStatus.SENT).recent == []
    for outsider in (student, instructor):
        with pytest.raises(PermissionDenied):
            jobs.overview(db, outsider)
    with pytest.raises(NotAuthenticated):
        jobs.overview(db, None)


def test_a_failed_email_is_retried_once_sent_and_audited(db, admin, student, outbox):
    email = failed_email(db, student)
    jobs.retry_email(db, admin, email.id)
    db.commit()  # the task runs eagerly after the commit
    db.refresh(email)
    assert email.status is EmailStatus.SENT and email.attempts == 7
    assert len(list(outbox.glob("*.eml"))) == 1
    with pytest.raises(Conflict, match="is sent, not failed"):
        jobs.retry_email(db, admin, email.id)
    assert db.exec(select(AuditEntry.action)).all() == ["email.retry"]


def test_retry_is_for_admins_and_existing_emails_only(db, admin, student, instructor):
    email = failed_email(db, student)
    for outsider in (student, instructor):
        with pytest.raises(PermissionDenied):
            jobs.retry_email(db, outsider, email.id)
    with pytest.raises(NotFound):
        jobs.retry_email(db, admin, 999_999)
    db.refresh(email)
    assert email.status is EmailStatus.FAILED


def test_the_queue_length_comes_from_the_broker_and_a_silent_broker_is_said(db, admin,
                                                                            monkeypatch):
    broker_url = "redis://127.0.0.1:6379/5"
    client = redis.Redis.from_url(broker_url)
    try:
        client.flushdb()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable: {exc}. Run `make services`.")
    monkeypatch.setattr(get_settings(), "broker_url", broker_url)
    monkeypatch.setattr(broker, "_last", [])
    client.lpush(broker.QUEUE, "a", "b")
    assert jobs.overview(db, admin).waiting == 2
    client.flushdb()
    monkeypatch.setattr(get_settings(), "broker_url", "redis://127.0.0.1:1/0")
    data = jobs.overview(db, admin)
    assert (data.waiting, data.broker_answers) == (None, False)


@pytest.mark.parametrize(("waiting", "answers", "label"), [
    (3, True, "3"),
    (0, True, "0"),
    (None, True, "Runs in the web process (no broker)"),  # not an error: the embedded default
    (None, False, "Broker not answering"),
])
def test_the_waiting_card_says_what_is_true(waiting, answers, label):
    data = jobs.JobsOverview(waiting=waiting, broker_answers=answers, queued=0, failed=0,
                             sent_last_day=0, certificates_drawing=0, recent=[])
    assert waiting_label(data) == label


def test_the_email_log_pages_through_every_email_newest_first(db, admin, student):
    # 130 emails, some sharing a creation time to the microsecond: the id orders those.
    start = utcnow()
    statuses = [EmailStatus.SENT, EmailStatus.SENT, EmailStatus.FAILED]
    db.add_all([EmailLog(kind="course.update", dedupe_key=f"course.update:paging:{n}",
                         to_address=student.email, subject=f"Email {n}", status=statuses[n % 3],
                         created_at=start + timedelta(seconds=n // 4)) for n in range(130)])
    db.commit()
    newest_first = db.exec(select(EmailLog.id).order_by(col(EmailLog.created_at).desc(),
                                                        col(EmailLog.id).desc())).all()

    def every_page(status: EmailStatus | None = None) -> list[list[int]]:
        pages, cursor = [], ""
        while True:
            data = jobs.overview(db, admin, status, cursor)
            pages.append([run.id for run in data.recent])
            assert data.listed == (130 if status is None else 43)
            if not data.next_cursor:
                return pages
            cursor = data.next_cursor

    pages = every_page()
    assert [len(page) for page in pages] == [50, 50, 30]
    assert [email_id for page in pages for email_id in page] == newest_first
    failed = every_page(EmailStatus.FAILED)
    assert [len(page) for page in failed] == [43]
    assert all(email_id in newest_first for email_id in failed[0])
    # A cursor a client made up reads as the first page, never as an error.
    assert [run.id for run in jobs.overview(db, admin, None, "bm90IGEgY3Vyc29y").recent] == pages[0]
