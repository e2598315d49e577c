"""Notifications for a user, stored first: live delivery and email read them from here."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert
from sqlmodel import Session, col, func, select, update

from academy_app.infra import bus
from academy_app.models import Notification, User, utcnow
from academy_app.services import emails
from academy_app.services.accounts import require_user
from academy_app.text import as_id

RECENT_LIMIT = 20
PAGE_SIZE = 20  # the all-notifications page, per "Show older"


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


def older(session: Session, actor: User | None, before_id: int = 0,
          limit: int = PAGE_SIZE) -> tuple[list[Notification], bool]:
    """One page of the user's notifications, newest first, from just before `before_id` (0: the
    newest): keyset paging down the (user, id) index, so a page far back costs what the first does
    and a notification arriving meanwhile shifts nothing. Returns the page and whether there is
    more."""
    user = require_user(actor)
    statement = select(Notification).where(Notification.user_id == user.id)
    if before_id := as_id(before_id):
        statement = statement.where(col(Notification.id) < before_id)
    size = min(max(as_id(limit), 1), PAGE_SIZE)
    rows = list(session.exec(statement.order_by(col(Notification.id).desc()).limit(size + 1)))
    return rows[:size], len(rows) > size


def mark_read(session: Session, actor: User | None, notification_id: int) -> bool:
    """Mark one of the user's notifications read; whether it was unread (nobody else's is touched,
    whatever id is asked, and a second click changes nothing)."""
    user = require_user(actor)
    return session.execute(update(Notification).where(
        col(Notification.id) == as_id(notification_id), col(Notification.user_id) == user.id,
        col(Notification.read_at).is_(None)).values(read_at=utcnow())).rowcount == 1


def mark_all_read(session: Session, actor: User | None) -> int:
    user = require_user(actor)
    return session.execute(update(Notification).where(
        col(Notification.user_id) == user.id, col(Notification.read_at).is_(None))
        .values(read_at=utcnow())).rowcount
