"""/orders/[id] — one of the learner's payments: its status, and the receipt once approved."""

from __future__ import annotations

import reflex as rx
from sqlmodel import Session

from academy_app.models import User
from academy_app.services import payments
from academy_app.services.errors import NotFound
from academy_app.state.auth import AuthState, Events
from academy_app.state.rows import OrderRow
from academy_app.text import id_in


class OrderState(AuthState):
    loading: bool = True
    not_found: bool = False
    order: OrderRow = OrderRow()

    @rx.event
    async def load(self) -> Events:
        self.loading = True
        payment_id = id_in(self.router.url.path.rstrip("/").rsplit("/", 1)[-1])

        def read(session: Session, viewer: User | None) -> OrderRow | None:
            try:
                return OrderRow.of(payments.order_for(session, viewer, payment_id))
            except NotFound:  # missing, or someone else's: the same answer
                return None

        found, away = await self._read_as(read)
        if away:
            return away
        self.order, self.not_found = found or OrderRow(), found is None
        self.loading = False
        return None
