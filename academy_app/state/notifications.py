"""The bell in the navbar: unread count, the latest notifications, and "Mark all as read"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import reflex as rx

from academy_app.db import session_scope
from academy_app.infra.bus import LiveNotification
from academy_app.models import as_utc
from academy_app.services import notifications
from academy_app.state.auth import AuthState

KNOWN_IDS = 2 * notifications.RECENT_LIMIT


@dataclass
class NotificationRow:
    title: str = ""
    body: str = ""
    link: str = ""
    when: str = ""
    unread: bool = False


class NotificationState(AuthState):
    unread: int = 0
    # The list is read only while the bell's popover is open: a push then sends a few bytes (the
    # count) instead of the whole list to every tab, and page loads read no notification bodies.
    items: list[NotificationRow] = []
    list_loaded: bool = False
    # Ids already counted in `unread`: a live signal and a refresh may both bring the same row.
    _known_ids: list[int] = []

    @rx.var
    def bell_label(self) -> str:
        return f"Notifications, {self.unread} unread"

    @rx.event
    def refresh(self) -> None:
        """On every page load and reconnect: catch up from the database, so nothing sent while the
        tab was away or offline is lost."""
        with session_scope() as session:
            user = self._actor(session)
            if user is None:
                self.unread, self._known_ids = 0, []
                self.items, self.list_loaded = [], False
                return
            self.unread = notifications.unread_count(session, user)
            self._known_ids = notifications.recent_ids(session, user)

    @rx.event
    def show_list(self, is_open: bool) -> None:
        """The popover opened (load the latest) or closed (forget them until next time)."""
        self.items, self.list_loaded = [], False
        if is_open is not True:
            return
        with session_scope() as session:
            user = self._actor(session)
            if user is None:
                return
            self.unread = notifications.unread_count(session, user)
            rows = notifications.recent(session, user)
        self.items = [NotificationRow(title=n.title, body=n.body, link=n.link,
                                      when=_when(as_utc(n.created_at)), unread=n.read_at is None)
                      for n in rows]
        self._known_ids = list(dict.fromkeys([*(n.id for n in rows), *self._known_ids]))[
            :KNOWN_IDS]
        self.list_loaded = True

    def _receive_live(self, note: LiveNotification) -> bool:
        """Add a notification pushed by the bus; False when this tab already has it. Private, so
        it is not an event handler: a client cannot push itself a notification."""
        if note.user_id != self._user_id or note.id in self._known_ids:
            return False
        self._known_ids = [note.id, *self._known_ids][:KNOWN_IDS]
        self.unread += 1
        if self.list_loaded:
            self.items = [NotificationRow(title=note.title, body=note.body, link=note.link,
                                          when=_when(datetime.fromisoformat(note.created_at)),
                                          unread=True),
                          *self.items][:notifications.RECENT_LIMIT]
        return True

    @rx.event
    def mark_all_read(self) -> None:
        with session_scope() as session:
            user = self._actor(session)
            if user is not None:
                notifications.mark_all_read(session, user)
        self.unread = 0
        self.items = [NotificationRow(title=i.title, body=i.body, link=i.link, when=i.when)
                      for i in self.items]


def _when(moment: datetime) -> str:
    return moment.strftime("%d %b, %H:%M")
