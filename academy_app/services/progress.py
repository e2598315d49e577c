"""Progress: completing lessons, percent complete, the next lesson, and the learner's dashboard."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from academy_app.infra import bus
from academy_app.models import (
    Course,
    Enrollment,
    EnrollmentStatus,
    Lesson,
    LessonProgress,
    Module,
    User,
    utcnow,
)
from academy_app.services import certificates
from academy_app.services.accounts import require_user
from academy_app.services.enrollment import LEARNING_STATUSES
from academy_app.services.errors import NotFound, PermissionDenied


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


def progress_for(session: Session, user_id: int, course_id: int) -> CourseProgress:
    lesson_ids = tuple(_ordered_lesson_ids(session, [course_id]).get(course_id, []))
    completed = _completed_lesson_ids(session, user_id, lesson_ids)
    return CourseProgress(lesson_ids=lesson_ids, completed=frozenset(completed))


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
    """The learner's courses with progress: three statements however many courses they have."""
    user = require_user(actor)
    rows = session.exec(
        select(Enrollment, Course, User.full_name)
        .join(Course, col(Course.id) == Enrollment.course_id)
        .join(User, col(User.id) == Course.instructor_id)
        .where(Enrollment.user_id == user.id, Enrollment.status != EnrollmentStatus.CANCELLED)
        .order_by(col(Enrollment.updated_at).desc(), col(Enrollment.id).desc())
    ).all()
    lessons_by_course = _ordered_lesson_ids(session, [course.id for _, course, _ in rows])
    completed = _completed_lesson_ids(
        session, user.id, [lid for ids in lessons_by_course.values() for lid in ids])
    entries = []
    for enrollment, course, instructor in rows:
        ids = tuple(lessons_by_course.get(course.id, []))
        progress = CourseProgress(lesson_ids=ids, completed=frozenset(completed.intersection(ids)))
        entries.append(DashboardEntry(
            course_id=course.id, slug=course.slug, title=course.title, subtitle=course.subtitle,
            instructor=instructor, cover_image_url=course.cover_image_url,
            status=enrollment.status.value, percent=progress.percent, done=progress.done,
            total=progress.total,
            resume_lesson_id=progress.next_lesson_id or (ids[0] if ids else None),
        ))
    return entries


def _ordered_lesson_ids(session: Session, course_ids: list[int]) -> dict[int, list[int]]:
    if not course_ids:
        return {}
    result: dict[int, list[int]] = defaultdict(list)
    for course_id, lesson_id in session.exec(
        select(Module.course_id, Lesson.id)
        .join(Lesson, col(Lesson.module_id) == Module.id)
        .where(col(Module.course_id).in_(course_ids))
        .order_by(col(Module.course_id), col(Module.position), col(Module.id),
                  col(Lesson.position), col(Lesson.id))
    ):
        result[course_id].append(lesson_id)
    return result


def _completed_lesson_ids(session: Session, user_id: int, lesson_ids) -> set[int]:  # noqa: ANN001
    if not lesson_ids:
        return set()
    return set(session.exec(
        select(LessonProgress.lesson_id).where(
            LessonProgress.user_id == user_id, col(LessonProgress.lesson_id).in_(list(lesson_ids)))
    ))
