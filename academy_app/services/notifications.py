"""Notifications for a user, stored first: live delivery and email read them from here."""

from __future__ import annotations

from sqlmodel import Session, col, func, select, update

from academy_app.models import Notification, User, utcnow
from academy_app.services.accounts import require_user

RECENT_LIMIT = 20


def notify(session: Session, user_id: int, kind: str, title: str, body: str = "",
           link: str = "") -> Notification:
    notification = Notification(user_id=user_id, kind=kind, title=title[:160], body=body,
                                link=link[:255])
    session.add(notification)
    return notification


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


def mark_all_read(session: Session, actor: User | None) -> int:
    user = require_user(actor)
    return session.execute(update(Notification).where(
        col(Notification.user_id) == user.id, col(Notification.read_at).is_(None))
        .values(read_at=utcnow())).rowcount
