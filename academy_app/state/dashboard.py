"""My learning: the learner's courses with progress."""

from __future__ import annotations

import reflex as rx

from academy_app.services import progress
from academy_app.state.auth import AuthState, Events
from academy_app.state.rows import DashboardRow


class DashboardState(AuthState):
    loading: bool = True
    courses: list[DashboardRow] = []

    @rx.var
    def completed_count(self) -> int:
        return sum(1 for row in self.courses if row.status == "completed")

    @rx.event
    async def load(self) -> Events:
        entries, away = await self._read_as(progress.dashboard)
        if away:
            return away
        self.courses = [DashboardRow.of(entry) for entry in entries or []]
        self.loading = False
        return None
