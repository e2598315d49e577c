"""My learning: the learner's courses with progress, and suggestions while they have none."""

from __future__ import annotations

import reflex as rx
from sqlmodel import Session

from academy_app.models import User
from academy_app.services import catalog, certificates, progress
from academy_app.services.progress import DashboardEntry
from academy_app.state.auth import AuthState, Events
from academy_app.state.rows import CourseCardRow, DashboardRow

SUGGESTIONS = 3


class DashboardState(AuthState):
    loading: bool = True
    courses: list[DashboardRow] = []
    suggestions: list[CourseCardRow] = []  # catalog courses, shown only while `courses` is empty

    @rx.var
    def completed_count(self) -> int:
        return sum(1 for row in self.courses if row.status == "completed")

    @rx.event
    async def load(self) -> Events:
        def read(session: Session, user: User | None) -> tuple[
                list[DashboardEntry], dict[int, str], list[catalog.CourseCard]]:
            entries = progress.dashboard(session, user)
            # Only what the page shows: certificates beside completed courses, suggestions when
            # there is no course at all (the common page load asks for neither).
            codes = certificates.codes_by_course(session, user) \
                if any(entry.status == "completed" for entry in entries) else {}
            suggested = [] if entries else catalog.featured_courses(session, limit=SUGGESTIONS)
            return entries, codes, suggested

        found, away = await self._read_as(read)
        if away:
            return away
        entries, codes, suggested = found or ([], {}, [])
        self.courses = [DashboardRow.of(entry, codes.get(entry.course_id, "")) for entry in entries]
        self.suggestions = [CourseCardRow.of(card) for card in suggested]
        self.loading = False
        return None
