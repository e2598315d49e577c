"""A learner's record: their enrollments and the lessons they completed, read once and cached.

Every learner page needs it (the dashboard, a course page, a lesson page), so it is one cached value
per learner, read in one statement on a miss and invalidated by any change to their enrollments or
progress (services/cache_scopes.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from academy_app.infra.cache import Entry, cache
from academy_app.models import Enrollment, EnrollmentStatus, Lesson, LessonProgress, Module
from academy_app.services.cache_scopes import learner_scope


@dataclass(frozen=True)
class Membership:
    """One enrollment, as the learner pages need it."""

    id: int
    course_id: int
    status: EnrollmentStatus
    updated_at: datetime  # doubles as "last activity": the dashboard lists recent courses first


@dataclass(frozen=True)
class LearnerRecord:
    memberships: dict[int, Membership] = field(default_factory=dict)  # by course id
    completed: dict[int, frozenset[int]] = field(default_factory=dict)  # lesson ids by course id

    def membership(self, course_id: int) -> Membership | None:
        return self.memberships.get(course_id)

    def completed_in(self, course_id: int, lesson_ids: tuple[int, ...] | list[int]) -> frozenset[int]:
        """Completed lessons that are still lessons of the course (one may have been deleted)."""
        return self.completed.get(course_id, frozenset()) & frozenset(lesson_ids)


def learner_entry(user_id: int) -> Entry:
    return Entry(learner_scope(user_id), "record")


def learner_record(session: Session, user_id: int) -> LearnerRecord:
    return cache().get(session, learner_entry(user_id), lambda: load_learner_record(session, user_id))


def load_learner_record(session: Session, user_id: int) -> LearnerRecord:
    """From the database, in one statement: each enrollment joined to its completed lessons."""
    done = (
        select(Module.course_id.label("course_id"), LessonProgress.lesson_id.label("lesson_id"))
        .join(Lesson, col(Lesson.id) == LessonProgress.lesson_id)
        .join(Module, col(Module.id) == Lesson.module_id)
        .where(LessonProgress.user_id == user_id)
        .subquery()
    )
    memberships: dict[int, Membership] = {}
    completed: dict[int, set[int]] = {}
    for enrollment_id, course_id, status, updated_at, lesson_id in session.exec(
        select(Enrollment.id, Enrollment.course_id, Enrollment.status, Enrollment.updated_at,
               done.c.lesson_id)
        .outerjoin(done, done.c.course_id == Enrollment.course_id)
        .where(Enrollment.user_id == user_id)
    ):
        memberships.setdefault(course_id, Membership(enrollment_id, course_id, status, updated_at))
        if lesson_id is not None:
            completed.setdefault(course_id, set()).add(lesson_id)
    return LearnerRecord(memberships, {course: frozenset(ids) for course, ids in completed.items()})
