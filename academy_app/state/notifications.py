"""The bell in the navbar: unread count, the latest notifications, and "Mark all as read"."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from academy_app.db import session_scope
from academy_app.models import as_utc
from academy_app.services import notifications
from academy_app.state.auth import AuthState


@dataclass
class NotificationRow:
    title: str = ""
    body: str = ""
    link: str = ""
    when: str = ""
    unread: bool = False


class NotificationState(AuthState):
    unread: int = 0
    items: list[NotificationRow] = []

    @rx.var
    def bell_label(self) -> str:
        return f"Notifications, {self.unread} unread"

    @rx.event
    def refresh(self) -> None:
        """On every page mount: catches up from the database, so nothing sent while away is lost."""
        with session_scope() as session:
            user = self._actor(session)
            if user is None:
                self.unread, self.items = 0, []
                return
            self.unread = notifications.unread_count(session, user)
            self.items = [NotificationRow(title=n.title, body=n.body, link=n.link,
                                          when=as_utc(n.created_at).strftime("%d %b, %H:%M"),
                                          unread=n.read_at is None)
                          for n in notifications.recent(session, user)]

    @rx.event
    def mark_all_read(self) -> None:
        with session_scope() as session:
            user = self._actor(session)
            if user is not None:
                notifications.mark_all_read(session, user)
        self.unread = 0
        self.items = [NotificationRow(title=i.title, body=i.body, link=i.link, when=i.when)
                      for i in self.items]
