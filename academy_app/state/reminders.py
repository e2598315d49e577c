"""The page an unsubscribe link opens: one kind of email off (or back on) without logging in."""

from __future__ import annotations

import reflex as rx
from sqlmodel import Session

from academy_app.models import User
from academy_app.services import email_preferences
from academy_app.services.errors import NotFound
from academy_app.state.auth import AuthState, Events


class ReminderLinkState(AuthState):
    loading: bool = True
    valid: bool = False
    email: str = ""  # masked: enough to recognise one's own
    topics: str = ""  # what the link is about, in words
    enabled: bool = True
    _token: str = ""  # from the address; never sent back to the browser

    @rx.event
    async def load(self) -> None:
        self.loading = True
        self._token = token = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

        def read(session: Session, _viewer: User | None) -> email_preferences.LinkView | None:
            """The link's person and topic (the caller may be anyone, or nobody: the link is the
            key)."""
            try:
                return email_preferences.read_link(session, token)
            except NotFound:
                return None

        found, _ = await self._read_as(read, roles=None)
        self.valid = found is not None
        if found is not None:
            self.email, self.enabled = found.masked_email, found.email
            self.topics = ", ".join(found.labels)
        self.loading = False

    @rx.event
    async def set_enabled(self, enabled: bool) -> Events:
        token = self._token
        try:
            self.enabled = await self._in_transaction(
                lambda session: email_preferences.set_by_link(session, token, enabled is True))
        except NotFound:
            self.valid = False
            return None
        return rx.toast.success("These emails are back on" if self.enabled
                                else "Done: no more of these emails")
