"""The jobs page's service: admins only; a failed email can be retried once, and it is audited."""

from __future__ import annotations

import json

import pytest
import redis
from sqlmodel import select

from academy_app.admin.jobs import waiting_label
from academy_app.infra import broker
from academy_app.models import AuditEntry, EmailLog, EmailStatus, Role
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
