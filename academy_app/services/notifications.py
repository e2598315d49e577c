"""Notifications for a user, stored first: live delivery and email read them from here."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert
from sqlmodel import Session, col, func, select, update

from academy_app.infra import bus
from academy_app.models import Notification, User, utcnow
from academy_app.services import emails
from academy_app.services.accounts import require_user

RECENT_LIMIT = 20


def notify(session: Session, user_id: int, kind: str, title: str, body: str = "",
           link: str = "") -> Notification:
    """Store a notification; once the transaction commits, the user's open tabs get it live and,
    for the kinds that are emailed, the email goes out."""
    notification = Notification(user_id=user_id, kind=kind, title=title[:160], body=body,
                                link=link[:255])
    session.add(notification)
    session.flush()  # its id keys the email
    bus.notification(session, notification)
    emails.queue_for(session, [notification])
    return notification


def notify_many(session: Session, user_ids: Sequence[int], kind: str, title: str, body: str = "",
                link: str = "") -> list[Notification]:
    """The same notification for many users, in one INSERT (a course broadcast reaches hundreds)."""
    if not user_ids:
        return []
    now = utcnow()
    rows = list(session.scalars(insert(Notification).returning(Notification), [
        {"user_id": user_id, "kind": kind, "title": title[:160], "body": body, "link": link[:255],
         "created_at": now} for user_id in user_ids]))
    for row in rows:
        bus.notification(session, row)
    emails.queue_for(session, rows)
    return rows


def unread_count(session: Session, actor: User | None) -> int:
    user = require_user(actor)
    return session.exec(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, col(Notification.read_at).is_(None))).one()


def recent(session: Session, actor: User | None, limit: int = RECENT_LIMIT) -> list[Notification]:
    """The user's newest notifications, read or not: nobody else's, whatever is asked."""
    user = require_user(actor)
    return list(session.exec(select(Notification).where(Notification.user_id == user.id)
                             .order_by(col(Notification.created_at).desc(),
                                       col(Notification.id).desc())
                             .limit(min(max(limit, 1), RECENT_LIMIT))))


def recent_ids(session: Session, actor: User | None, limit: int = RECENT_LIMIT) -> list[int]:
    """The ids of the user's newest notifications: what a tab has already counted."""
    user = require_user(actor)
    return list(session.exec(select(Notification.id).where(Notification.user_id == user.id)
                             .order_by(col(Notification.id).desc()).limit(min(max(limit, 1), 100))))


def mark_all_read(session: Session, actor: User | None) -> int:
    user = require_user(actor)
    return session.execute(update(Notification).where(
        col(Notification.user_id) == user.id, col(Notification.read_at).is_(None))
        .values(read_at=utcnow())).rowcount
