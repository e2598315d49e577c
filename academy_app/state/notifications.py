"""Notifications: the bell in the navbar (unread count, the latest, "Mark all as read") and the
/notifications page (all of them, paged, one or all marked read). One state for both, so a
notification pushed live reaches the count, the open popover and the open page alike."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

import reflex as rx

from academy_app.infra.bus import LiveNotification
from academy_app.models import Notification, as_utc
from academy_app.services import notifications
from academy_app.state.auth import AuthState, Events
from academy_app.text import as_id

KNOWN_IDS = 2 * notifications.RECENT_LIMIT
PAGE_PATH = "/notifications"


@dataclass
class NotificationRow:
    id: int = 0
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
    # The /notifications page: its rows, newest first, and whether older ones remain.
    page_items: list[NotificationRow] = []
    page_loaded: bool = False
    has_older: bool = False
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
            if self.page_loaded:
                self._close_page()
            return
        self.unread, self._known_ids = found
        if self.page_loaded and self.router.url.path.rstrip("/") != PAGE_PATH:
            self._close_page()  # left the page: live pushes need not keep its rows

    def _close_page(self) -> None:
        self.page_items, self.page_loaded, self.has_older = [], False, False

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
        self.items = [_row(n) for n in rows]
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
        row = NotificationRow(id=note.id, title=note.title, body=note.body, link=note.link,
                              when=_when(datetime.fromisoformat(note.created_at)), unread=True)
        if self.list_loaded:
            self.items = [row, *self.items][:notifications.RECENT_LIMIT]
        if self.page_loaded and all(item.id != note.id for item in self.page_items):
            # (the page's own load may have read it already, between the commit and this push)
            self.page_items = [row, *self.page_items]
        return True

    @rx.event
    async def open_page(self) -> Events:
        """on_load of /notifications: the newest page."""
        self._close_page()
        found, away = await self._read_as(lambda session, user: notifications.older(session, user))
        if away or found is None:
            return away
        rows, self.has_older = found
        self.page_items, self.page_loaded = [_row(n) for n in rows], True
        return None

    @rx.event
    async def show_older(self) -> Events:
        """The next page, older than the last row shown (keyset: nothing shifts or repeats)."""
        if not self.page_loaded or not self.page_items:
            return None
        before = self.page_items[-1].id
        found, refused = await self._act_as(
            "show_older", lambda session, user: notifications.older(session, user, before))
        if refused or found is None:
            return refused
        rows, self.has_older = found
        shown = {item.id for item in self.page_items}
        self.page_items = [*self.page_items, *(_row(n) for n in rows if n.id not in shown)]
        return None

    @rx.event
    async def mark_read(self, notification_id: int) -> Events:
        target = as_id(notification_id)
        changed, refused = await self._act_as(
            "mark_read", lambda session, user: notifications.mark_read(session, user, target))
        if refused:
            return refused
        if changed:
            self.unread = max(self.unread - 1, 0)
        self.items = [_read(i) if i.id == target else i for i in self.items]
        self.page_items = [_read(i) if i.id == target else i for i in self.page_items]
        return None

    @rx.event
    async def mark_all_read(self) -> Events:
        _, refused = await self._act_as("mark_all_read", notifications.mark_all_read)
        if refused:
            return refused
        self.unread = 0
        self.items = [_read(i) for i in self.items]
        self.page_items = [_read(i) for i in self.page_items]
        return None


def _row(notification: Notification) -> NotificationRow:
    return NotificationRow(id=notification.id, title=notification.title, body=notification.body,
                           link=notification.link, when=_when(as_utc(notification.created_at)),
                           unread=notification.read_at is None)


def _read(row: NotificationRow) -> NotificationRow:
    return dataclasses.replace(row, unread=False)


def _when(moment: datetime) -> str:
    return moment.strftime("%d %b, %H:%M")
