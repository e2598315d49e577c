"""The bell in the navbar: unread count, the latest notifications, and "Mark all as read"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import reflex as rx

from academy_app.infra.bus import LiveNotification
from academy_app.models import as_utc
from academy_app.services import notifications
from academy_app.state.auth import AuthState, Events

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
    async def refresh(self) -> None:
        """On every page load and reconnect: catch up from the database, so nothing sent while the
        tab was away or offline is lost."""
        found, _ = await self._read_as(lambda session, user: None if user is None else (
            notifications.unread_count(session, user), notifications.recent_ids(session, user)),
            roles=None)
        if found is None:  # a visitor
            self.unread, self._known_ids = 0, []
            self.items, self.list_loaded = [], False
            return
        self.unread, self._known_ids = found

    @rx.event
    async def show_list(self, is_open: bool) -> None:
        """The popover opened (load the latest) or closed (forget them until next time)."""
        self.items, self.list_loaded = [], False
        if is_open is not True:
            return
        found, _ = await self._read_as(lambda session, user: None if user is None else (
            notifications.unread_count(session, user), notifications.recent(session, user)),
            roles=None)
        if found is None:
            return
        self.unread, rows = found
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
    async def mark_all_read(self) -> Events:
        _, refused = await self._act_as("mark_all_read", notifications.mark_all_read)
        if refused:
            return refused
        self.unread = 0
        self.items = [NotificationRow(title=i.title, body=i.body, link=i.link, when=i.when)
                      for i in self.items]
        return None


def _when(moment: datetime) -> str:
    return moment.strftime("%d %b, %H:%M")
