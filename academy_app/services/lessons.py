"""Lessons as a learner opens them: access check, content and where they are in the course."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from academy_app.infra import clock
from academy_app.infra.markdown import render_markdown
from academy_app.models import Course, Lesson, Module, User
from academy_app.services import access, deadlines
from academy_app.services.access import Access
from academy_app.services.captions import Cue, read_webvtt
from academy_app.services.catalog import CourseOutline, course_outline
from academy_app.services.deadlines import Due
from academy_app.services.enrollment import require_learning_access
from academy_app.services.errors import Invalid, Locked, NotFound
from academy_app.services.progress import CourseProgress, outline_progress


@dataclass(frozen=True)
class LessonView:
    outline: CourseOutline
    lesson: Lesson
    body_html: str
    captions: tuple[Cue, ...]  # read from the lesson's WebVTT; empty when it has none
    progress: CourseProgress
    previous_id: int | None
    next_id: int | None
    is_enrolled: bool  # False when course staff preview without an enrollment
    # Each lesson's access for this learner when the course is gated (release rules or
    # prerequisites); empty when every lesson is open to them.
    access: Mapping[int, Access] = field(default_factory=dict)
    # When each quiz of the course closes for this learner (services/deadlines.py), by lesson id;
    # empty when none closes.
    due: Mapping[int, Due] = field(default_factory=dict)

    def locked(self, lesson_id: int | None) -> Access | None:
        """The lesson's access if it is locked to this learner, else None."""
        found = self.access.get(lesson_id) if lesson_id is not None else None
        return found if found is not None and not found.is_open else None


def open_lesson(session: Session, actor: User | None, slug: str, lesson_id: int,
                now: datetime | None = None) -> LessonView:
    """Raises NotAuthenticated, NotFound (course or lesson), PermissionDenied (not enrolled) or
    Locked (not open to this learner yet, services/access.py: nothing of the lesson is read).

    Three statements however long the course: the outline (which brings the actor's enrollment
    and completed lessons along) and the lesson itself; a gated course adds `outline_access`'s,
    a course with a quiz that closes the learner's due dates.
    """
    outline = course_outline(session, slug, actor)
    enrollment = require_learning_access(actor, outline.course, outline.enrollment)
    order = [lesson.id for lesson in outline.lessons]
    if lesson_id not in order:
        raise NotFound("lesson", lesson_id)
    accesses: Mapping[int, Access] = {}
    if outline.gated and enrollment is not None:  # staff preview every lesson
        accesses = access.outline_access(session, actor, outline.course.id, now or clock.now())
        if not accesses[lesson_id].is_open:
            raise Locked(accesses[lesson_id].reason, accesses[lesson_id].opens_at)
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
        captions=_captions(lesson),
        progress=progress,
        previous_id=order[index - 1] if index > 0 else None,
        next_id=order[index + 1] if index + 1 < len(order) else None,
        is_enrolled=enrollment is not None,
        access=accesses,
        due=deadlines.course_due_dates(session, actor, outline.course)
        if outline.closes and enrollment is not None else {},
    )


def _captions(lesson: Lesson) -> tuple[Cue, ...]:
    try:
        return tuple(read_webvtt(lesson.captions_vtt)) if lesson.captions_vtt else ()
    except Invalid:  # saved before a stricter reading: the video still plays, without them
        return ()


def captions_for(session: Session, actor: User | None, lesson_id: int) -> str:
    """A video lesson's WebVTT captions, for whoever may open the lesson. Raises as open_lesson,
    and NotFound when the lesson has no captions."""
    slug = session.exec(select(Course.slug).join(Module, col(Module.course_id) == Course.id)
                        .join(Lesson, col(Lesson.module_id) == Module.id)
                        .where(Lesson.id == lesson_id)).first()
    if slug is None:
        raise NotFound("lesson", lesson_id)
    lesson = open_lesson(session, actor, slug, lesson_id).lesson
    if not lesson.captions_vtt:
        raise NotFound("captions", lesson_id)
    return lesson.captions_vtt
