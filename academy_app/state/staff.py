"""The base of every workspace page state (instructors and admins)."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx
from sqlmodel import Session

from academy_app.models import User
from academy_app.services.errors import Invalid
from academy_app.state.auth import AuthState, Refusal


class StaffState(AuthState):
    """Display only: which page a user may open is decided by `_read_as(…, roles=STAFF or
    ADMINS)`, and each service checks permission again."""

    async def _act(self, name: str, action: Callable[[Session, User], object], success: str,
                   then: rx.EventHandler) -> Refusal:
        """Run one service action as the calling staff member (`_act_as`), then `then` (the
        page's reload), whatever happened: the page shows what is true now. What the service
        refuses is logged under `name` and told; bad input is only told."""
        try:
            _, refused = await self._act_as(name, action)
        except Invalid as exc:
            return [rx.toast.error(exc.message), then]
        if refused:
            return [*refused, then]
        return [rx.toast.success(success), then] if success else [then]
