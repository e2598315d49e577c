"""The lesson player: content, syllabus with checkmarks, mark complete, next lesson."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import replace

import reflex as rx

from academy_app.infra import clock
from academy_app.services import access, lessons, progress
from academy_app.services.access import Access
from academy_app.services.errors import Locked, NotFound, PermissionDenied
from academy_app.state.auth import AuthState, Events
from academy_app.state.rows import (
    LessonRow,
    ModuleRow,
    TranscriptLine,
    iso_utc,
    module_rows,
    transcript_lines,
)
from academy_app.text import id_in


class LearnState(AuthState):
    loading: bool = True
    course_slug: str = ""
    course_title: str = ""
    lesson_title: str = ""
    lesson_kind: str = "text"
    body_html: str = ""
    video_url: str = ""
    poster_url: str = ""
    captions_src: str = ""
    transcript: list[TranscriptLine] = []
    modules: list[ModuleRow] = []
    completed_ids: list[int] = []
    percent: int = 0
    done: int = 0
    total: int = 0
    is_completed: bool = False
    is_enrolled: bool = False
    previous_href: str = ""
    next_href: str = ""
    # The next lesson when it is locked to the learner (its title and why), else an empty row.
    next_locked: LessonRow = LessonRow()
    # Which lesson this tab is on, fixed by the URL at load time; the client cannot change it.
    _lesson_id: int = 0
    _course_id: int = 0
    # Whether a lesson of the outline is locked to the learner: only then can completing one open
    # another. Kept beside `modules` so a click does not walk every row of it.
    _waiting: bool = False

    @rx.var
    def course_complete(self) -> bool:
        return self.total > 0 and self.done == self.total

    @rx.event
    async def load(self) -> AsyncIterator[Events]:
        self.loading = True
        yield
        parts = self.router.url.path.strip("/").split("/")  # learn/<slug>/<lesson id>
        slug = parts[1] if len(parts) == 3 else ""
        lesson_id = id_in(parts[2]) if len(parts) == 3 else 0
        try:
            view, away = await self._read_as(lambda session, learner: lessons.open_lesson(
                session, learner, slug, lesson_id))
        except Locked as exc:  # nothing of the lesson was read: its course page says why
            yield [rx.redirect(f"/courses/{slug}"),
                   rx.toast.info(f"This lesson is locked: {exc.message}")]
            return
        except PermissionDenied as exc:
            yield [rx.redirect(f"/courses/{slug}"), rx.toast.info(exc.message)]
            return
        except NotFound:
            yield rx.redirect(f"/courses/{slug}" if slug else "/courses")
            return
        if away or view is None:
            yield away
            return
        self._lesson_id, self._course_id = view.lesson.id, view.outline.course.id
        self.course_slug, self.course_title = view.outline.course.slug, view.outline.course.title
        self.lesson_title, self.lesson_kind = view.lesson.title, view.lesson.kind.value
        self.body_html, self.video_url = view.body_html, view.lesson.video_url
        self.poster_url = view.lesson.poster_url
        self.captions_src = f"/lessons/{view.lesson.id}/captions.vtt" if view.captions else ""
        self.transcript = transcript_lines(view.captions)
        self.is_enrolled = view.is_enrolled
        base = f"/learn/{self.course_slug}/"
        self.previous_href = f"{base}{view.previous_id}" if view.previous_id else ""
        modules = module_rows(view.outline, current_id=self._lesson_id, access=view.access,
                              due=view.due, now=clock.now())
        self.modules, self._waiting = modules, _any_locked(modules)
        following = next((row for module in modules for row in module.lessons or ()
                          if row.id == view.next_id), None)
        locked = following is not None and following.locked
        self.next_href = f"{base}{view.next_id}" if view.next_id and not locked else ""
        self.next_locked = following if following is not None and locked else LessonRow()
        self._show_progress(view.progress)
        self.loading = False

    def _show_locks(self, accesses: Mapping[int, Access]) -> list[str]:
        """Redraw which lessons of the outline wait (after this tab completed one or passed a
        quiz: its own action, which the live refresh of the other tabs leaves out); the titles
        of those that opened."""
        opened: list[str] = []
        base = f"/learn/{self.course_slug}/"

        def redrawn(row: LessonRow) -> LessonRow:
            found = accesses.get(row.id)
            locked = found is not None and not found.is_open
            if row.locked and not locked:
                opened.append(row.title)
            return replace(row, locked=locked, href="" if locked else f"{base}{row.id}",
                           lock_reason=found.reason if found is not None and locked else "",
                           opens_at=iso_utc(found.opens_at)
                           if found is not None and locked and found.opens_at else "")

        modules = [replace(module, lessons=[redrawn(row) for row in module.lessons or ()])
                   for module in self.modules]
        self.modules, self._waiting = modules, _any_locked(modules)
        if self.next_locked.locked:
            following = next(row for module in self.modules for row in module.lessons or ()
                             if row.id == self.next_locked.id)
            if not following.locked:
                self.next_href, self.next_locked = following.href, LessonRow()
            else:
                self.next_locked = following
        return opened

    def _show_progress(self, state: progress.CourseProgress) -> None:
        # The syllabus itself stays as loaded; only which lessons are done changes (a short list
        # in the delta, not every lesson's row again).
        completed = sorted(state.completed)
        if completed != self.completed_ids:
            self.completed_ids = completed
        self.percent, self.done, self.total = state.percent, state.done, state.total
        self.is_completed = self._lesson_id in state.completed

    @rx.event
    async def set_completed(self, completed: bool) -> Events:
        if not isinstance(completed, bool) or not self._lesson_id:
            return None
        lesson_id = self._lesson_id
        state, refused = await self._act_as("set_completed", lambda session, learner:
                                            progress.set_lesson_completion(
                                                session, learner, lesson_id, completed), shown=())
        if refused or state is None:
            return refused
        self._show_progress(state)
        if completed and self.course_complete:
            return rx.toast.success(f"You completed {self.course_title}. Congratulations!")
        if completed and self._waiting:  # completing it may have opened what waited for it
            course_id = self._course_id
            found, _ = await self._read_as(lambda session, learner: access.outline_access(
                session, learner, course_id, clock.now()))
            opened = self._show_locks(found) if found is not None else []
            if opened:
                return rx.toast.success(f"Now open: {', '.join(opened)}")
        return None


def _any_locked(modules: list[ModuleRow]) -> bool:
    return any(row.locked for module in modules for row in module.lessons or ())
