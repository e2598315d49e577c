"""A learner's record: their enrollments and the lessons they completed, read once and cached.

Every learner page needs it (the dashboard, a course page, a lesson page), so it is one cached value
per learner, read in one statement on a miss and invalidated by any change to their enrollments or
progress (services/cache_scopes.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from academy_app.infra.cache import Entry, cache, decode
from academy_app.models import Enrollment, EnrollmentStatus, Lesson, LessonProgress, Module
from academy_app.services.cache_scopes import learner_scope

log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class RecordCheck:
    checked: int  # cached records compared with the database
    stale: int  # of which differed and were invalidated


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


def check_cached_records(session: Session, active_since: datetime,
                         batch_size: int = 500) -> RecordCheck:
    """Compare the cached record of every learner active since `active_since` with the database,
    and invalidate any that differs. The invalidation rules (services/cache_scopes.py) should make
    this find nothing: a stale record means a write path they miss, so it is logged as a warning.

    A record whose version changed while it was being compared was rewritten by a write meanwhile,
    and is not counted."""
    checked = stale = 0
    after = 0
    while True:
        user_ids = list(session.exec(
            select(Enrollment.user_id).where(Enrollment.updated_at >= active_since,
                                             Enrollment.user_id > after)
            .group_by(col(Enrollment.user_id)).order_by(col(Enrollment.user_id)).limit(batch_size)))
        if not user_ids:
            break
        after = user_ids[-1]
        entries = [learner_entry(user_id) for user_id in user_ids]
        cached = cache().peek(entries)
        suspects = {entry: found for entry, found in cached.items()
                    if decode(found.payload) != load_learner_record(session, _user_of(entry))}
        checked += len(cached)
        if suspects:
            still = cache().peek(list(suspects))
            stale_scopes = [entry.scope for entry, found in suspects.items()
                            if entry in still and still[entry].version == found.version]
            cache().invalidate(stale_scopes)
            stale += len(stale_scopes)
    if stale:
        log.warning("cached progress check: %d of %d cached learner records were stale "
                    "(invalidated); a write path escapes services/cache_scopes.py", stale, checked)
    else:
        log.info("cached progress check: %d cached learner records agree with the database", checked)
    return RecordCheck(checked=checked, stale=stale)


def _user_of(entry: Entry) -> int:
    return int(entry.scope.removeprefix("learner:"))
