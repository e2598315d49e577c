"""Progress: completing lessons, percent complete, the next lesson, and the learner's dashboard."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from academy_app.infra import bus
from academy_app.models import (
    Enrollment,
    EnrollmentStatus,
    Lesson,
    LessonProgress,
    Module,
    User,
    utcnow,
)
from academy_app.services import cache_scopes, certificates
from academy_app.services.accounts import require_user
from academy_app.services.catalog import CourseOutline, outlines_by_id
from academy_app.services.enrollment import LEARNING_STATUSES
from academy_app.services.errors import NotFound, PermissionDenied
from academy_app.services.learner_records import learner_record


@dataclass(frozen=True)
class CourseProgress:
    lesson_ids: tuple[int, ...]  # every lesson of the course, in learning order
    completed: frozenset[int]

    @property
    def total(self) -> int:
        return len(self.lesson_ids)

    @property
    def done(self) -> int:
        return len(self.completed)

    @property
    def percent(self) -> int:
        return (100 * self.done) // self.total if self.total else 0

    @property
    def is_complete(self) -> bool:
        return self.total > 0 and self.done == self.total

    @property
    def next_lesson_id(self) -> int | None:
        """The first lesson not yet completed, in course order."""
        return next((lid for lid in self.lesson_ids if lid not in self.completed), None)


@dataclass(frozen=True)
class DashboardEntry:
    course_id: int
    slug: str
    title: str
    subtitle: str
    instructor: str
    cover_image_url: str
    status: str
    percent: int
    done: int
    total: int
    resume_lesson_id: int | None  # next lesson, or the first one once everything is done


_NO_LESSONS = CourseProgress(lesson_ids=(), completed=frozenset())


def outline_progress(outline: CourseOutline) -> CourseProgress:
    """The outline viewer's progress, from what the outline already read: no statement."""
    return CourseProgress(lesson_ids=tuple(lesson.id for lesson in outline.lessons),
                          completed=outline.completed)


def progress_for(session: Session, user_id: int, course_id: int) -> CourseProgress:
    return _progress_by_course(session, user_id, [course_id]).get(course_id, _NO_LESSONS)


def set_lesson_completion(session: Session, actor: User | None, lesson_id: int,
                          completed: bool) -> CourseProgress:
    """Mark a lesson complete or not; keep the enrollment's completed status in step.

    Idempotent: marking twice leaves one progress row. The enrollment row is locked first so two tabs
    finishing the last two lessons at once still see each other and complete the course.
    """
    user = require_user(actor)
    row = session.exec(
        select(Lesson, Module.course_id).join(Module, col(Module.id) == Lesson.module_id)
        .where(Lesson.id == lesson_id)
    ).first()
    if row is None:
        raise NotFound("lesson", lesson_id)
    _lesson, course_id = row
    enrollment = session.exec(
        select(Enrollment)
        .where(Enrollment.user_id == user.id, Enrollment.course_id == course_id)
        .with_for_update()
    ).first()
    if enrollment is None or enrollment.status not in LEARNING_STATUSES:
        raise PermissionDenied("Enroll in this course to track your progress")

    if completed:
        try:
            with session.begin_nested():
                session.add(LessonProgress(user_id=user.id, lesson_id=lesson_id))
        except IntegrityError:
            pass  # already complete: the unique key keeps exactly one row
    else:
        session.exec(delete(LessonProgress).where(
            col(LessonProgress.user_id) == user.id, col(LessonProgress.lesson_id) == lesson_id))
        cache_scopes.changed(session, [cache_scopes.learner_scope(user.id)])  # the ORM did not see it

    progress = progress_for(session, user.id, course_id)
    now = utcnow()
    if progress.is_complete and enrollment.status is EnrollmentStatus.ACTIVE:
        enrollment.status = EnrollmentStatus.COMPLETED
        enrollment.completed_at = now
        certificates.issue(session, enrollment)  # kept if a lesson is later marked undone
    elif not progress.is_complete and enrollment.status is EnrollmentStatus.COMPLETED:
        enrollment.status = EnrollmentStatus.ACTIVE
        enrollment.completed_at = None
    enrollment.updated_at = now  # doubles as "last activity"
    session.add(enrollment)
    bus.refresh(session, user.id)  # the learner's other tabs show the new progress
    return progress


def dashboard(session: Session, actor: User | None) -> list[DashboardEntry]:
    """The learner's courses with progress, most recently active first: two cache round trips
    (their record, then the outlines of its courses); on misses, two statements however many
    courses they have."""
    user = require_user(actor)
    record = learner_record(session, user.id)
    memberships = sorted((m for m in record.memberships.values()
                          if m.status is not EnrollmentStatus.CANCELLED),
                         key=lambda m: (m.updated_at, m.id), reverse=True)
    outlines = outlines_by_id(session, [m.course_id for m in memberships])
    entries = []
    for membership in memberships:
        outline = outlines.get(membership.course_id)
        if outline is None:
            continue  # the course was deleted since the record was read
        course = outline.course
        ids = tuple(lesson.id for lesson in outline.lessons)
        progress = CourseProgress(lesson_ids=ids,
                                  completed=record.completed_in(course.id, ids))
        entries.append(DashboardEntry(
            course_id=course.id, slug=course.slug, title=course.title, subtitle=course.subtitle,
            instructor=outline.instructor, cover_image_url=course.cover_image_url,
            status=membership.status.value, percent=progress.percent, done=progress.done,
            total=progress.total,
            resume_lesson_id=progress.next_lesson_id or (ids[0] if ids else None),
        ))
    return entries


def _progress_by_course(session: Session, user_id: int,
                        course_ids: list[int]) -> dict[int, CourseProgress]:
    """Each course's lessons in learning order, each flagged done or not for the user: one
    statement (the progress rows are outer-joined, not looked up by a list of every lesson id).
    Courses without lessons are left out."""
    if not course_ids:
        return {}
    lesson_ids: dict[int, list[int]] = defaultdict(list)
    completed: dict[int, set[int]] = defaultdict(set)
    for course_id, lesson_id, done in session.exec(
        select(Module.course_id, Lesson.id, col(LessonProgress.id).is_not(None))
        .join(Lesson, col(Lesson.module_id) == Module.id)
        .outerjoin(LessonProgress, sa.and_(col(LessonProgress.lesson_id) == Lesson.id,
                                           col(LessonProgress.user_id) == user_id))
        .where(col(Module.course_id).in_(course_ids))
        .order_by(col(Module.course_id), col(Module.position), col(Module.id),
                  col(Lesson.position), col(Lesson.id))
    ):
        lesson_ids[course_id].append(lesson_id)
        if done:
            completed[course_id].add(lesson_id)
    return {course_id: CourseProgress(lesson_ids=tuple(ids),
                                      completed=frozenset(completed[course_id]))
            for course_id, ids in lesson_ids.items()}
