"""The page an unsubscribe link opens: reminder emails off (or back on) without logging in."""

from __future__ import annotations

import reflex as rx

from academy_app.db import session_scope
from academy_app.services import reminders
from academy_app.services.errors import NotFound
from academy_app.state.auth import AuthState


class ReminderLinkState(AuthState):
    loading: bool = True
    valid: bool = False
    email: str = ""
    enabled: bool = True
    _token: str = ""  # from the address; never sent back to the browser

    @rx.event
    def load(self) -> None:
        self.loading = True
        self._token = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        with session_scope() as session:
            self._actor(session)  # keeps the navbar true for a logged-in visitor
            try:
                user = reminders.user_for_token(session, self._token)
            except NotFound:
                self.valid, self.loading = False, False
                return
            self.valid, self.email = True, _masked(user.email)
            self.enabled = user.email_reminders
        self.loading = False

    @rx.event
    def set_enabled(self, enabled: bool):  # noqa: ANN201
        try:
            with session_scope() as session:
                user = reminders.set_reminders(session, self._token, enabled is True)
                self.enabled = user.email_reminders
        except NotFound:
            self.valid = False
            return None
        return rx.toast.success("Reminder emails are back on" if self.enabled
                                else "Done: no more reminder emails")


def _masked(address: str) -> str:
    """Enough of the address to recognise one's own, not enough to learn someone else's from a
    forwarded email: s•••••2@academy.test."""
    local, _, domain = address.partition("@")
    hidden = local[0] + "•" * max(len(local) - 2, 1) + local[-1] if len(local) > 2 else local[0] + "•"
    return f"{hidden}@{domain}"
