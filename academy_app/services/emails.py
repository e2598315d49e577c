"""Which notifications also go out by email, and the email log that sends each of them once.

A service never talks to SMTP. Storing a notification of an emailed kind also writes an `EmailLog`
row (unique per kind and notification) in the same transaction; after commit a task is queued for
it by name (`SEND_EMAIL_TASK`), which renders, sends and marks it. A retried or redelivered task finds
the row already sent and does nothing, and a rolled-back transaction queues nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from academy_app.db import after_commit, after_keyset, keyset_cursor, read_keyset_cursor
from academy_app.infra.queue import enqueue
from academy_app.models import EmailLog, EmailStatus, Notification, User, utcnow

STUCK_BATCH = 500
FAN_OUT_BATCH = 500
EMAILED_KINDS = frozenset({"enrollment.active", "payment.received", "payment.approved",
                           "payment.rejected", "course.update", "certificate.issued"})
MAX_ATTEMPTS = 6  # then the email is marked failed (an admin may retry it)
# The tasks (tasks/emails.py) register under these names; a service queues work by name only.
SEND_EMAIL_TASK = "tasks.emails.send_email"
SEND_EMAILS_TASK = "tasks.emails.send_emails"


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
    return queue_once(session, values)


def queue_once(session: Session, values: list[dict]) -> list[int]:
    """Write email rows, skipping any whose dedupe key exists already, and queue the new ones'
    sending after commit. Returns the new rows' ids."""
    if not values:
        return []
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    ids = list(session.scalars(insert(EmailLog).on_conflict_do_nothing(
        index_elements=["dedupe_key"]).returning(EmailLog.id), values))
    if ids:
        after_commit(session, lambda: send_later(ids))
    return ids


def send_later(email_ids: list[int]) -> None:
    if len(email_ids) == 1:
        enqueue(SEND_EMAIL_TASK, email_ids[0])
        return
    for start in range(0, len(email_ids), FAN_OUT_BATCH):  # one message per batch, not per email
        enqueue(SEND_EMAILS_TASK, email_ids[start:start + FAN_OUT_BATCH])


def stuck(session: Session, older_than: timedelta) -> list[int]:
    """Emails still queued long after their transaction: their task was lost (the broker was down
    at commit, say). A scheduled job queues them again; sending is idempotent, so that is safe."""
    now = utcnow()
    return list(session.exec(select(EmailLog.id).where(
        EmailLog.status == EmailStatus.QUEUED, EmailLog.created_at <= now - older_than,
        EmailLog.attempts < MAX_ATTEMPTS,
        or_(col(EmailLog.claimed_until).is_(None), col(EmailLog.claimed_until) < now))
        .order_by(col(EmailLog.id)).limit(STUCK_BATCH)))


def give_up(session: Session) -> int:
    """Mark failed the emails still queued after every attempt (their last task died mid-way),
    so they show on the jobs page instead of waiting forever."""
    now = utcnow()
    return session.execute(sa.update(EmailLog).where(
        EmailLog.status == EmailStatus.QUEUED, EmailLog.attempts >= MAX_ATTEMPTS,
        or_(col(EmailLog.claimed_until).is_(None), col(EmailLog.claimed_until) < now))
        .values(status=EmailStatus.FAILED, claimed_until=None,
                last_error=f"gave up after {MAX_ATTEMPTS} attempts")).rowcount


def newest(session: Session, limit: int, status: EmailStatus | None = None,
           after: str = "") -> tuple[list[EmailLog], str]:
    """A page of the email log, newest first, from the row after `after` (a keyset cursor, "" for
    the first page); and the cursor of the next page, "" on the last."""
    table = EmailLog.__table__.c
    statement = select(EmailLog).order_by(table.created_at.desc(), table.id.desc())
    if status is not None:
        statement = statement.where(EmailLog.status == status)
    if (bound := read_keyset_cursor(after, table.created_at)) is not None:
        statement = statement.where(after_keyset(table.created_at, table.id, bound,
                                                 descending=True))
    rows = list(session.exec(statement.limit(limit + 1)))
    if len(rows) <= limit:
        return rows, ""
    return rows[:limit], keyset_cursor(rows[limit - 1].created_at, rows[limit - 1].id)
