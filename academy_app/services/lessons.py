"""Lessons as a learner opens them: access check, content and where they are in the course."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from academy_app.infra.markdown import render_markdown
from academy_app.models import Lesson, User
from academy_app.services.catalog import CourseOutline, course_outline
from academy_app.services.enrollment import require_learning_access
from academy_app.services.errors import NotFound
from academy_app.services.progress import CourseProgress, outline_progress


@dataclass(frozen=True)
class LessonView:
    outline: CourseOutline
    lesson: Lesson
    body_html: str
    progress: CourseProgress
    previous_id: int | None
    next_id: int | None
    is_enrolled: bool  # False when course staff preview without an enrollment


def open_lesson(session: Session, actor: User | None, slug: str, lesson_id: int) -> LessonView:
    """Raises NotAuthenticated, NotFound (course or lesson) or PermissionDenied (not enrolled).

    Three statements however long the course: the outline (which brings the actor's enrollment
    and completed lessons along) and the lesson itself.
    """
    outline = course_outline(session, slug, actor)
    enrollment = require_learning_access(actor, outline.course, outline.enrollment)
    order = [lesson.id for lesson in outline.lessons]
    if lesson_id not in order:
        raise NotFound("lesson", lesson_id)
    lesson = session.get(Lesson, lesson_id)
    if lesson is None:
        raise NotFound("lesson", lesson_id)
    index = order.index(lesson_id)
    progress = (outline_progress(outline) if enrollment is not None
                else CourseProgress(lesson_ids=tuple(order), completed=frozenset()))
    return LessonView(
        outline=outline,
        lesson=lesson,
        body_html=render_markdown(lesson.body),
        progress=progress,
        previous_id=order[index - 1] if index > 0 else None,
        next_id=order[index + 1] if index + 1 < len(order) else None,
        is_enrolled=enrollment is not None,
    )
