"""Sending one logged email: render, deliver, mark; retried with backoff, marked failed at the end."""

from __future__ import annotations

import logging
import random
import smtplib

from sqlmodel import update

from academy_app.db import session_scope
from academy_app.infra import mail
from academy_app.models import EmailLog, EmailStatus, utcnow
from academy_app.settings import get_settings
from tasks.celery_app import app

log = logging.getLogger("academy.tasks")

MAX_ATTEMPTS = 6
MAX_DELAY_SECONDS = 3600


def retry_delay(attempt: int) -> float:
    """Exponential backoff with full jitter: retries from many workers do not come back in step."""
    ceiling = min(MAX_DELAY_SECONDS, get_settings().mail_retry_seconds * 2 ** attempt)
    return random.uniform(ceiling / 2, ceiling)


@app.task(bind=True, name="tasks.emails.send_email", max_retries=MAX_ATTEMPTS - 1)
def send_email(self, email_id: int) -> str:  # noqa: ANN001
    with session_scope() as session:
        email = session.get(EmailLog, email_id)
        if email is None or email.status is EmailStatus.SENT:
            return "nothing to do"  # a redelivered or repeated task: it was sent already
        message = mail.build_message(email)
    try:
        mail.deliver(message, email_id)
    except (smtplib.SMTPException, OSError) as exc:
        final = self.request.is_eager or self.request.retries >= self.max_retries
        _record_failure(email_id, f"{type(exc).__name__}: {exc}", final)
        if final:
            log.error("email %s failed for good: %s", email_id, exc)
            return "failed"
        raise self.retry(exc=exc, countdown=retry_delay(self.request.retries)) from exc
    with session_scope() as session:
        session.execute(update(EmailLog).where(EmailLog.id == email_id,
                                               EmailLog.status != EmailStatus.SENT)
                        .values(status=EmailStatus.SENT, sent_at=utcnow(),
                                attempts=EmailLog.attempts + 1, last_error=""))
    return "sent"


def _record_failure(email_id: int, error: str, final: bool) -> None:
    values = {"attempts": EmailLog.attempts + 1, "last_error": error[:2000]}
    if final:
        values["status"] = EmailStatus.FAILED
    with session_scope() as session:
        session.execute(update(EmailLog).where(EmailLog.id == email_id,
                                               EmailLog.status != EmailStatus.SENT).values(**values))
