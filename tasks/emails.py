"""Sending one logged email: render, deliver, mark; retried with backoff, marked failed at the end."""

from __future__ import annotations

import logging
import random
import smtplib
from datetime import timedelta

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import or_
from sqlmodel import Session, col, update

from academy_app.db import session_scope
from academy_app.infra import mail
from academy_app.infra.queue import TASK_TIME_LIMIT_SECONDS, app
from academy_app.models import EmailLog, EmailStatus, utcnow
from academy_app.services.emails import MAX_ATTEMPTS, SEND_EMAIL_TASK, SEND_EMAILS_TASK
from academy_app.settings import get_settings

log = logging.getLogger("academy.tasks")

MAX_DELAY_SECONDS = 1800  # well under the broker's redelivery timeout (infra/queue.py)
CLAIM_SECONDS = TASK_TIME_LIMIT_SECONDS + 30  # a killed task's claim lapses after this


def retry_delay(attempt: int) -> float:
    """Exponential backoff with full jitter: retries from many workers do not come back in step."""
    ceiling = min(MAX_DELAY_SECONDS, get_settings().mail_retry_seconds * 2 ** attempt)
    return random.uniform(ceiling / 2, ceiling)


@app.task(bind=True, name=SEND_EMAILS_TASK)
def send_emails(self: Task, email_ids: list[int]) -> int:
    """Fan out one task per email: a broadcast queues one message, not one per learner."""
    for email_id in email_ids:
        send_email.delay(email_id)
    return len(email_ids)


@app.task(bind=True, name=SEND_EMAIL_TASK, max_retries=MAX_ATTEMPTS - 1)
def send_email(self: Task, email_id: int) -> str:
    task_id = self.request.id or ""  # the same id on each retry of this task
    with session_scope() as session:
        if not _claim(session, email_id, task_id, CLAIM_SECONDS):
            return "nothing to do"  # sent already, or another copy of the task is sending it
        message = mail.build_message(session.get(EmailLog, email_id))
    try:
        mail.deliver(message, email_id)
    except (smtplib.SMTPException, OSError, SoftTimeLimitExceeded) as exc:
        final = self.request.is_eager or self.request.retries >= self.max_retries
        delay = 0 if final else retry_delay(self.request.retries)
        _record_failure(email_id, f"{type(exc).__name__}: {exc}", final, task_id,
                        delay + CLAIM_SECONDS)
        if final:
            log.error("email %s failed for good: %s", email_id, exc)
            return "failed"
        raise self.retry(exc=exc, countdown=delay) from exc
    with session_scope() as session:
        session.execute(update(EmailLog).where(EmailLog.id == email_id,
                                               EmailLog.status != EmailStatus.SENT)
                        .values(status=EmailStatus.SENT, sent_at=utcnow(), claimed_until=None,
                                attempts=EmailLog.attempts + 1, last_error=""))
    return "sent"


def _claim(session: Session, email_id: int, task_id: str, seconds: float) -> bool:
    """Take the email for this task unless it is sent or held by another live task (one UPDATE:
    of two copies racing, exactly one wins)."""
    now = utcnow()
    return session.execute(update(EmailLog).where(
        col(EmailLog.id) == email_id, col(EmailLog.status) == EmailStatus.QUEUED,
        or_(col(EmailLog.claimed_by) == task_id, col(EmailLog.claimed_until).is_(None),
            col(EmailLog.claimed_until) < now))
        .values(claimed_by=task_id, claimed_until=now + timedelta(seconds=seconds))).rowcount == 1


def _record_failure(email_id: int, error: str, final: bool, task_id: str, hold: float) -> None:
    # Until its retry is due the email stays this task's, so the sweeper leaves it alone.
    values = {"attempts": EmailLog.attempts + 1, "last_error": error[:2000],
              "claimed_by": task_id, "claimed_until": utcnow() + timedelta(seconds=hold)}
    if final:
        values.update(status=EmailStatus.FAILED, claimed_until=None)
    with session_scope() as session:
        session.execute(update(EmailLog).where(EmailLog.id == email_id,
                                               EmailLog.status != EmailStatus.SENT).values(**values))
