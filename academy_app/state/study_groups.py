"""The learner's study groups page: who is calling, then one service call."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from academy_app.services import study_groups
from academy_app.state.auth import AuthState, Events


@dataclass
class StudyGroupLine:
    name: str = ""
    course: str = ""
    description: str = ""
    seats: str = ""
    meeting_url: str = ""


class LearnerGroupsState(AuthState):
    rows: list[StudyGroupLine] = []
    loading: bool = True

    @rx.event
    async def load(self) -> Events:
        groups, away = await self._read_as(study_groups.for_learner)
        if away:
            return away
        self.rows = [StudyGroupLine(name=g.name, course=g.course, description=g.description,
                                    seats=f"{g.capacity} seats", meeting_url=g.meeting_url)
                     for g in groups or []]
        self.loading = False
        return None
