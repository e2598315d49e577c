"""The page an unsubscribe link opens: reminder emails off (or back on) without logging in."""

from __future__ import annotations

import reflex as rx
from sqlmodel import Session

from academy_app.models import User
from academy_app.services import reminders
from academy_app.services.errors import NotFound
from academy_app.state.auth import AuthState, Events


class ReminderLinkState(AuthState):
    loading: bool = True
    valid: bool = False
    email: str = ""
    enabled: bool = True
    _token: str = ""  # from the address; never sent back to the browser

    @rx.event
    async def load(self) -> None:
        self.loading = True
        self._token = token = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

        def read(session: Session, _viewer: User | None) -> tuple[str, bool] | None:
            """The link's learner (the caller may be anyone, or nobody: the link is the key)."""
            try:
                user = reminders.user_for_token(session, token)
            except NotFound:
                return None
            return user.email, user.email_reminders

        found, _ = await self._read_as(read, roles=None)
        self.valid = found is not None
        if found is not None:
            self.email, self.enabled = _masked(found[0]), found[1]
        self.loading = False

    @rx.event
    async def set_enabled(self, enabled: bool) -> Events:
        token = self._token
        try:
            self.enabled = await self._in_transaction(lambda session: reminders.set_reminders(
                session, token, enabled is True).email_reminders)
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
