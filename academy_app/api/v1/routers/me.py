"""The caller's own learning: enrollments, progress (read, mark lessons done), notifications and
the discussions of the courses they learn or teach (read only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlmodel import Session

from academy_app.api.v1.deps import CurrentUser, DbSession
from academy_app.api.v1.errors import problems
from academy_app.api.v1.routers.courses import Slug
from academy_app.api.v1.schemas import (
    CourseProgressOut,
    EnrollmentOut,
    LessonCompletion,
    MarkedRead,
    NotificationList,
    NotificationOut,
    ProgressSummary,
    ThreadDetailOut,
    ThreadOut,
)
from academy_app.models import User
from academy_app.services import catalog, discussions, notifications, progress
from academy_app.text import MAX_ID

router = APIRouter(prefix="/me", tags=["me"], responses=problems(401))
LessonId = Annotated[int, Path(ge=1, le=MAX_ID)]
ThreadId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("/enrollments", response_model=list[EnrollmentOut])
def my_enrollments(session: DbSession, user: CurrentUser) -> list[EnrollmentOut]:
    """The caller's courses (not cancelled ones) with progress, most recently active first."""
    return [EnrollmentOut.of(entry) for entry in progress.dashboard(session, user)]


@router.get("/progress/{course_slug}", response_model=CourseProgressOut, responses=problems(404))
def my_progress(course_slug: Slug, session: DbSession, user: CurrentUser) -> CourseProgressOut:
    """The caller's progress in a course they can see; empty when not enrolled."""
    outline = catalog.course_outline(session, course_slug, user)
    summary = ProgressSummary.of(progress.outline_progress(outline))
    return CourseProgressOut(**summary.model_dump(), course_slug=outline.course.slug,
                             enrollment_status=outline.enrollment.status if outline.enrollment
                             else None)


def _completion(session: Session, user: User, lesson_id: int, completed: bool) -> LessonCompletion:
    course = progress.set_lesson_completion(session, user, lesson_id, completed)
    return LessonCompletion(lesson_id=lesson_id, completed=completed,
                            course=ProgressSummary.of(course))


@router.put("/progress/lessons/{lesson_id}", response_model=LessonCompletion,
            responses=problems(403, 404))
def complete_lesson(lesson_id: LessonId, session: DbSession, user: CurrentUser) -> LessonCompletion:
    """Mark a lesson complete (idempotent). Only in a course the caller is enrolled in; finishing
    the last lesson completes the course and issues the certificate, as on the site."""
    return _completion(session, user, lesson_id, True)


@router.delete("/progress/lessons/{lesson_id}", response_model=LessonCompletion,
               responses=problems(403, 404))
def uncomplete_lesson(lesson_id: LessonId, session: DbSession,
                      user: CurrentUser) -> LessonCompletion:
    """Mark a lesson not complete (idempotent). A certificate already issued is kept."""
    return _completion(session, user, lesson_id, False)


@router.get("/notifications", response_model=NotificationList)
def my_notifications(
    session: DbSession, user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=notifications.RECENT_LIMIT)] = notifications.RECENT_LIMIT,
) -> NotificationList:
    """The caller's newest notifications, read or not, and how many are unread."""
    return NotificationList(
        unread=notifications.unread_count(session, user),
        items=[NotificationOut.model_validate(n) for n in notifications.recent(session, user, limit)])


@router.post("/notifications/read", response_model=MarkedRead)
def mark_notifications_read(session: DbSession, user: CurrentUser) -> MarkedRead:
    """Mark every notification of the caller read (the bell's "Mark all as read")."""
    return MarkedRead(marked=notifications.mark_all_read(session, user))


@router.get("/lessons/{lesson_id}/threads", response_model=list[ThreadOut],
            responses=problems(403, 404))
def lesson_threads(
    lesson_id: LessonId, session: DbSession, user: CurrentUser,
    sort: discussions.ThreadSort = discussions.ThreadSort.NEWEST,
    search: Annotated[str, Query(max_length=discussions.MAX_SEARCH)] = "",
) -> list[ThreadOut]:
    """The lesson's discussion threads (with `search`, the matching threads of its whole course),
    for the course's enrolled learners and staff only, as the lesson page shows them."""
    return [ThreadOut.model_validate(row) for row in
            discussions.list_threads(session, user, lesson_id, sort=sort, search=search)]


@router.get("/threads/{thread_id}", response_model=ThreadDetailOut, responses=problems(403, 404))
def thread(thread_id: ThreadId, session: DbSession, user: CurrentUser) -> ThreadDetailOut:
    """One thread with its replies, under the same rule."""
    return ThreadDetailOut.model_validate(discussions.open_thread(session, user, thread_id))
