"""Background work as admins see it: what waits, what ran, what failed, and retrying a failure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select, update

from academy_app.db import after_commit
from academy_app.infra import broker
from academy_app.models import EmailLog, EmailStatus, User, utcnow
from academy_app.services import audit, certificates, emails
from academy_app.services.errors import Conflict, NotFound
from academy_app.services.permissions import require_admin

PAGE_SIZE = 50  # emails a page of the jobs page lists


@dataclass(frozen=True)
class EmailRun:
    id: int
    kind: str
    to_address: str
    subject: str
    status: str
    attempts: int
    last_error: str
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class JobsOverview:
    waiting: int | None  # messages in the broker's queue; None = no broker (tasks run eagerly)
    broker_answers: bool
    queued: int
    failed: int
    sent_last_day: int
    certificates_drawing: int  # issued, PDF not drawn yet
    recent: list[EmailRun]  # a page of the email log, newest first (of `status`, if given)
    listed: int = 0  # how many emails the pages hold in all
    next_cursor: str = ""  # where the next page starts; "" on the last


def overview(session: Session, actor: User | None, status: EmailStatus | None = None,
             after: str = "") -> JobsOverview:
    """The counts, and the page of emails that starts after `after` (a cursor the previous page
    gave, "" for the newest)."""
    require_admin(actor)
    counts = {status: n for status, n in session.exec(
        select(EmailLog.status, func.count()).group_by(EmailLog.status)).all()}
    sent_last_day = session.exec(select(func.count()).select_from(EmailLog).where(
        EmailLog.status == EmailStatus.SENT, col(EmailLog.sent_at) >= utcnow() - timedelta(days=1)
    )).one()
    try:
        waiting, answers = broker.queue_length(), True
    except broker.BrokerUnavailable:
        waiting, answers = None, False
    page, next_cursor = emails.newest(session, PAGE_SIZE, status, after)
    return JobsOverview(
        waiting=waiting, broker_answers=answers, queued=counts.get(EmailStatus.QUEUED, 0),
        failed=counts.get(EmailStatus.FAILED, 0), sent_last_day=sent_last_day,
        certificates_drawing=certificates.drawing_count(session),
        recent=[EmailRun(id=e.id, kind=e.kind, to_address=e.to_address, subject=e.subject,
                         status=e.status.value, attempts=e.attempts, last_error=e.last_error,
                         created_at=e.created_at, sent_at=e.sent_at) for e in page],
        listed=counts.get(status, 0) if status is not None else sum(counts.values()),
        next_cursor=next_cursor)


def retry_email(session: Session, actor: User | None, email_id: int) -> None:
    """Send a failed email again. Only a failed one: a second click finds it queued and is refused."""
    admin = require_admin(actor)
    email = session.get(EmailLog, email_id)
    if email is None:
        raise NotFound("email", email_id)
    changed = session.execute(update(EmailLog).where(
        col(EmailLog.id) == email_id, col(EmailLog.status) == EmailStatus.FAILED)
        .values(status=EmailStatus.QUEUED)).rowcount
    if changed != 1:
        session.refresh(email)
        raise Conflict(f"This email is {email.status.value}, not failed: nothing to retry")
    audit.record(session, admin, "email.retry", email, {"status": "failed"}, {"status": "queued"})
    after_commit(session, lambda: emails.send_later([email_id]))
