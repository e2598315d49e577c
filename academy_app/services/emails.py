"""Which notifications also go out by email, and the email log that sends each of them once.

A service never talks to SMTP. Storing a notification of an emailed kind also writes an `EmailLog`
row (unique per kind and notification) in the same transaction; after commit a task is queued for
it (`tasks.emails.send_email`), which renders, sends and marks it. A retried or redelivered task finds
the row already sent and does nothing, and a rolled-back transaction queues nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from academy_app.db import after_commit
from academy_app.models import EmailLog, EmailStatus, Notification, User, utcnow

STUCK_BATCH = 500
EMAILED_KINDS = frozenset({"enrollment.active", "payment.received", "payment.approved",
                           "payment.rejected", "course.update", "certificate.issued"})


def queue_for(session: Session, notifications: Sequence[Notification]) -> list[int]:
    """Write the email rows for these (flushed) notifications and queue their sending after commit."""
    emailed = [n for n in notifications if n.kind in EMAILED_KINDS]
    if not emailed:
        return []
    users = {u.id: u for u in session.exec(select(User).where(
        col(User.id).in_({n.user_id for n in emailed}), col(User.is_active).is_(True)))}
    values = [{"kind": n.kind, "dedupe_key": f"{n.kind}:notification:{n.id}", "user_id": n.user_id,
               "to_address": users[n.user_id].email, "subject": n.title[:200],
               "context": json.dumps({"name": users[n.user_id].full_name, "title": n.title,
                                      "body": n.body, "link": n.link})}
              for n in emailed if n.user_id in users]
    if not values:
        return []
    ids = list(session.scalars(sa.insert(EmailLog).returning(EmailLog.id), values))
    after_commit(session, lambda: send_later(ids))
    return ids


def send_later(email_ids: list[int]) -> None:
    from tasks.emails import send_email  # the task layer sits above the services

    for email_id in email_ids:
        send_email.delay(email_id)


def stuck(session: Session, older_than: timedelta) -> list[int]:
    """Emails still queued long after their transaction: their task was lost (the broker was down
    at commit, say). A scheduled job queues them again; sending is idempotent, so that is safe."""
    return list(session.exec(select(EmailLog.id).where(
        EmailLog.status == EmailStatus.QUEUED, EmailLog.created_at <= utcnow() - older_than)
        .order_by(col(EmailLog.id)).limit(STUCK_BATCH)))


def recent(session: Session, limit: int = 50, status: EmailStatus | None = None) -> list[EmailLog]:
    statement = select(EmailLog).order_by(col(EmailLog.created_at).desc(), col(EmailLog.id).desc())
    if status is not None:
        statement = statement.where(EmailLog.status == status)
    return list(session.exec(statement.limit(limit)))
