"""Progress: completing lessons, percent complete, the next lesson, and the learner's dashboard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, delete, select, update

from academy_app.infra import bus, clock
from academy_app.models import (
    CoursePrerequisite,
    Enrollment,
    EnrollmentStatus,
    Lesson,
    LessonKind,
    LessonProgress,
    Module,
    ReleaseRule,
    User,
    utcnow,
)
from academy_app.services import access, cache_scopes, certificates, unlocks
from academy_app.services.accounts import require_user
from academy_app.services.catalog import CourseOutline, outlines_by_id
from academy_app.services.enrollment import LEARNING_STATUSES
from academy_app.services.errors import Conflict, Locked, NotFound, PermissionDenied
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

    @classmethod
    def of(cls, rows: Sequence[tuple[int, bool]]) -> CourseProgress:
        """From (lesson id, done) pairs in learning order."""
        return cls(lesson_ids=tuple(lesson_id for lesson_id, _ in rows),
                   completed=frozenset(lesson_id for lesson_id, done in rows if done))

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
    resume_lesson_title: str = ""
    cover_key: str = ""  # an uploaded cover (services/covers.py)



def outline_progress(outline: CourseOutline) -> CourseProgress:
    """The outline viewer's progress, from what the outline already read: no statement."""
    return CourseProgress(lesson_ids=tuple(lesson.id for lesson in outline.lessons),
                          completed=outline.completed)


# The statements of the platform's busiest write, built once: building a statement and its cache
# key anew for every call was about a tenth of a worker's CPU per "mark as complete".
_LOCK_ENROLLMENT = (
    select(Enrollment.id, Enrollment.status, Enrollment.course_id, Lesson.kind,
           # gated: the course has release rules or prerequisites (services/access.py decides)
           sa.or_(sa.exists().where(col(ReleaseRule.course_id) == Enrollment.course_id),
                  sa.exists().where(col(CoursePrerequisite.course_id) == Enrollment.course_id))
           .label("gated"))
    .join(Module, col(Module.course_id) == Enrollment.course_id)
    .join(Lesson, col(Lesson.module_id) == Module.id)
    .where(Lesson.id == sa.bindparam("lesson_id"), Enrollment.user_id == sa.bindparam("user_id"))
    .with_for_update(of=Enrollment))
_MARK_DONE = {  # the unique key keeps exactly one row; a second "complete" inserts nothing
    dialect.dialect.name: dialect.insert(LessonProgress).values(
        user_id=sa.bindparam("user_id"), lesson_id=sa.bindparam("lesson_id"),
        completed_at=sa.bindparam("now")).on_conflict_do_nothing(
            index_elements=["user_id", "lesson_id"])
    for dialect in (postgresql, sqlite)}
_MARK_UNDONE = delete(LessonProgress).where(
    col(LessonProgress.user_id) == sa.bindparam("user_id"),
    col(LessonProgress.lesson_id) == sa.bindparam("lesson_id"))


def _course_progress(user: str, course: str) -> sa.Select:
    """The course's lessons with the learner's marks (the progress rows outer-joined through the
    unique key's index), the learner and the course bound under these parameter names."""
    return (
        select(Lesson.id, col(LessonProgress.id).is_not(None))
        .join(Module, col(Module.id) == Lesson.module_id)
        .outerjoin(LessonProgress, sa.and_(col(LessonProgress.lesson_id) == Lesson.id,
                                           col(LessonProgress.user_id) == sa.bindparam(user)))
        .where(Module.course_id == sa.bindparam(course))
        .order_by(col(Module.position), col(Module.id), col(Lesson.position), col(Lesson.id)))


_COURSE_PROGRESS = _course_progress("user_id", "course_id")
_TOUCH_ENROLLMENT = update(Enrollment).where(col(Enrollment.id) == sa.bindparam("enrollment_id")) \
    .values(updated_at=sa.bindparam("now"))
# On PostgreSQL the mark, the last activity and the course's marks are one statement (one round
# trip instead of three): the writes ride along as WITH clauses, which run whether or not the
# SELECT reads them. The SELECT sees the course as it was when the statement began, that is with
# every other transaction's marks (the enrollment's lock was taken by the statement before) but
# without this one's own: `_set_completion` puts that one in itself. Its parameters are named apart
# from the enrollment's columns: an UPDATE would take a parameter named like a column as a value
# to SET.
_MARK_AND_COUNT = {
    completed: _course_progress("learner", "course").add_cte(
        (postgresql.insert(LessonProgress).values(
            user_id=sa.bindparam("learner"), lesson_id=sa.bindparam("lesson_id"),
            completed_at=sa.bindparam("now")).on_conflict_do_nothing(
                index_elements=["user_id", "lesson_id"]) if completed
         else delete(LessonProgress).where(col(LessonProgress.user_id) == sa.bindparam("learner"),
                                           col(LessonProgress.lesson_id) == sa.bindparam(
                                               "lesson_id"))).cte("mark"),
        _TOUCH_ENROLLMENT.cte("touch"))
    for completed in (True, False)}


def set_lesson_completion(session: Session, actor: User | None, lesson_id: int,
                          completed: bool, now: datetime | None = None) -> CourseProgress:
    """Mark a lesson complete or not; keep the enrollment's completed status in step.

    Idempotent: marking twice leaves one progress row. The enrollment row is locked first so two tabs
    finishing the last two lessons at once still see each other and complete the course.
    The platform's busiest write, so it keeps to four plain statements, two on PostgreSQL
    (tests/unit/test_query_counts.py): the enrollment found through the lesson and locked; the
    progress row inserted (or left) or deleted, the course's lessons with the learner's marks, the
    enrollment's last activity. Only finishing (or un-finishing) the course loads the enrollment as
    an object.
    A quiz lesson is refused: it is complete when its quiz is passed (`record_quiz_result`).
    In a gated course (release rules, prerequisites) a lesson locked to the learner is refused
    with the reason (`Locked`) and nothing is written; lessons the change opens are told to the
    learner's tabs (services/unlocks.py).
    """
    user = require_user(actor)
    return _set_completion(session, user.id, lesson_id, completed, by_quiz=False, learner=user,
                           now=now)


def record_quiz_result(session: Session, user_id: int, lesson_id: int,
                       done: bool) -> CourseProgress:
    """A quiz lesson is complete while the learner's kept score passes it, or once a practice quiz
    is taken (services/attempts.py decides, after every grading or regrading). Passing may also
    earn the certificate when the rest of the course was already done (a better grade, a fixed
    key), so it is asked again."""
    return _set_completion(session, user_id, lesson_id, done, by_quiz=True)


def _set_completion(session: Session, user_id: int, lesson_id: int, completed: bool, *,
                    by_quiz: bool, learner: User | None = None,
                    now: datetime | None = None) -> CourseProgress:
    access_now = now or clock.now()
    now = utcnow()
    # Plain statements on the session's connection: the ORM's entity machinery is most of what a
    # statement costs in Python, and none of these needs it.
    connection = session.connection()
    found = connection.execute(_LOCK_ENROLLMENT, {"lesson_id": lesson_id, "user_id": user_id}).first()
    if found is None or found.status not in LEARNING_STATUSES:
        if session.get(Lesson, lesson_id) is None:
            raise NotFound("lesson", lesson_id)
        raise PermissionDenied("Enroll in this course to track your progress")
    if (found.kind is LessonKind.QUIZ) is not by_quiz:
        raise Conflict("A quiz counts as complete once you pass it: take the quiz")
    before = None
    if found.gated and learner is not None:  # a quiz's result was gated when it was taken
        before = access.outline_access(session, learner, found.course_id, access_now)
        if not before[lesson_id].is_open:
            raise Locked(before[lesson_id].reason, before[lesson_id].opens_at)

    # Written past the ORM, so its flush hook does not see it: the learner's record is stale.
    cache_scopes.changed(session, [cache_scopes.learner_scope(user_id)])
    # A learner's mark always moves the last activity (finishing or reopening the course below
    # sets the same time again); a quiz's result keeps the statements apart, since whether it
    # does depends on the count.
    touched = not by_quiz and connection.dialect.name == "postgresql"
    if touched:
        rows = connection.execute(_MARK_AND_COUNT[completed], {
            "learner": user_id, "lesson_id": lesson_id, "now": now, "course": found.course_id,
            "enrollment_id": found.id}).all()
        rows = [(lesson, completed if lesson == lesson_id else done) for lesson, done in rows]
    else:
        connection.execute(_MARK_DONE[connection.dialect.name] if completed else _MARK_UNDONE,
                           {"user_id": user_id, "lesson_id": lesson_id, "now": now})
        rows = connection.execute(_COURSE_PROGRESS, {"user_id": user_id,
                                                     "course_id": found.course_id}).all()
    progress = CourseProgress.of(rows)
    finished = progress.is_complete and found.status is EnrollmentStatus.ACTIVE
    if finished or (not progress.is_complete and found.status is EnrollmentStatus.COMPLETED):
        enrollment = session.get_one(Enrollment, found.id)
        enrollment.status = EnrollmentStatus.COMPLETED if finished else EnrollmentStatus.ACTIVE
        enrollment.completed_at = now if finished else None
        enrollment.updated_at = now
        session.add(enrollment)
        if finished:
            certificates.issue(session, enrollment)  # kept if a lesson is later marked undone
    elif by_quiz and progress.is_complete:
        certificates.issue(session, session.get_one(Enrollment, found.id))
    elif not touched:  # updated_at doubles as "last activity"
        connection.execute(_TOUCH_ENROLLMENT, {"enrollment_id": found.id, "now": now})
    bus.refresh(session, user_id)  # the learner's other tabs show the new progress
    if before is not None and completed:
        after = access.outline_access(session, learner, found.course_id, access_now)
        unlocks.tell_opened(session, user_id, access.newly_opened(before, after))
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
        resume_id = progress.next_lesson_id or (ids[0] if ids else None)
        entries.append(DashboardEntry(
            course_id=course.id, slug=course.slug, title=course.title, subtitle=course.subtitle,
            instructor=outline.instructor, cover_image_url=course.cover_image_url,
            status=membership.status.value, percent=progress.percent, done=progress.done,
            total=progress.total,
            resume_lesson_id=resume_id,
            resume_lesson_title=next((lesson.title for lesson in outline.lessons
                                      if lesson.id == resume_id), ""),
            cover_key=course.cover_key,
        ))
    return entries
