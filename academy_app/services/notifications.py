"""Notifications for a user, stored first: live delivery and email read them from here."""

from __future__ import annotations

from sqlmodel import Session

from academy_app.models import Notification


def notify(session: Session, user_id: int, kind: str, title: str, body: str = "",
           link: str = "") -> Notification:
    notification = Notification(user_id=user_id, kind=kind, title=title[:160], body=body,
                                link=link[:255])
    session.add(notification)
    return notification
