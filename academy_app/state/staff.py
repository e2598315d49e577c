"""The base of every workspace page state (instructors and admins)."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import reflex as rx
from sqlmodel import Session

from academy_app.models import User
from academy_app.services.errors import Invalid
from academy_app.state.auth import AuthState, Event


class StaffState(AuthState):
    """Display only: which page a user may open is decided by `_read_as(…, roles=STAFF or
    ADMINS)`, and each service checks permission again."""

    async def _act(self, name: str, action: Callable[[Session, User], object], success: str,
                   then: rx.EventHandler) -> list[Event]:
        """Run one service action as the calling staff member (`_act_as`), then `then` (the
        page's reload, one of this state's handlers), whatever happened: the page shows what is
        true now. What the service refuses is logged under `name` and told; bad input is only
        told. The reload runs within this event, so its rows arrive with the toast: returned as a
        chained event it would cost the browser another round trip first."""
        try:
            _, refused = await self._act_as(name, action)
        except Invalid as exc:
            told = [rx.toast.error(exc.message)]
        else:
            told = refused or ([rx.toast.success(success)] if success else [])
        return [*told, *await self._run_here(then)]

    async def _run_here(self, handler: rx.EventHandler) -> list[Event]:
        """One of this state's handlers, run as part of the current event; what it answers."""
        answer = handler.fn(self)
        if inspect.isawaitable(answer):
            answer = await answer
        return [] if answer is None else answer if isinstance(answer, list) else [answer]
