"""/admin/courses/[course_id] — create or edit a course, its modules and lessons, and publish it.

``/admin/courses/new`` opens the same editor empty. Every id a handler acts on is checked by the
authoring service against the caller, so a crafted event naming another instructor's module fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import reflex as rx
from sqlmodel import Session

from academy_app.admin.broadcast import broadcast_card
from academy_app.admin.reports import course_report_links
from academy_app.admin.workspace import admin_page
from academy_app.components.layout import labelled, link_button
from academy_app.infra.markdown import render_markdown
from academy_app.models import Category, Course, User
from academy_app.services import attempts, authoring, captions, catalog, covers, quizzes
from academy_app.services.errors import Invalid, ServiceError
from academy_app.services.permissions import STAFF
from academy_app.state.auth import Events
from academy_app.state.staff import StaffState
from academy_app.text import as_id, id_in

COURSE_FIELDS = ("title", "slug", "subtitle", "description", "category", "level", "price",
                 "currency", "cover_image_url", "cover_alt")
LESSON_FIELDS = ("title", "kind", "body", "video_url", "poster_url", "captions", "duration_minutes")
CAPTIONS_UPLOAD_ID = "lesson-captions-file"
COVER_UPLOAD_ID = "course-cover-file"
COVER_TYPES = {"image/jpeg": [".jpg", ".jpeg"], "image/png": [".png"], "image/webp": [".webp"]}
LEVELS = [("beginner", "Beginner"), ("intermediate", "Intermediate"), ("advanced", "Advanced")]


@dataclass
class EditorLesson:
    id: int = 0
    title: str = ""
    kind: str = ""
    duration: int = 0
    quiz_id: int = 0  # a quiz lesson's quiz, edited on its own page


@dataclass
class EditorModule:
    id: int = 0
    title: str = ""
    lessons: list[EditorLesson] = field(default_factory=list)


OpenedCourse = tuple[Course, str, list[EditorModule]]  # the course, its category's slug, its outline


class CourseEditorState(StaffState):
    loading: bool = True
    not_found: bool = False
    is_new: bool = True
    is_published: bool = False
    public_slug: str = ""
    course_id: int = 0  # for links only; handlers act on the server-held _course_id
    form: dict[str, str] = {}
    errors: dict[str, str] = {}
    categories: list[list[str]] = []
    modules: list[EditorModule] = []
    new_module_title: str = ""
    renaming_module_id: int = 0
    module_title: str = ""
    # The lesson dialog: 0 = closed; -1 = a new lesson for `lesson_module_id`.
    lesson_id: int = 0
    lesson_module_id: int = 0
    lesson_form: dict[str, str] = {}
    lesson_errors: dict[str, str] = {}
    # The certificate rule: an optional minimum overall grade, and how quizzes weigh in it.
    rule_form: dict[str, str] = {}
    rule_errors: dict[str, str] = {}
    # What the delete confirmation is about: ("module" | "lesson", id, title); empty when closed.
    pending_delete_kind: str = ""
    pending_delete_title: str = ""
    _pending_delete_id: int = 0
    # The uploaded cover as cards show it ("" for none), and why the last file was refused.
    picture: str = ""
    cover_error: str = ""
    _course_id: int = 0
    _slug_edited: bool = False

    @rx.var
    def description_preview(self) -> str:
        return render_markdown(self.form.get("description", ""))

    @rx.var
    def lesson_preview(self) -> str:
        return render_markdown(self.lesson_form.get("body", ""))

    @rx.event
    async def load(self) -> AsyncIterator[Events]:
        self.loading = True
        yield
        key = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        course_id = 0 if key == "new" else id_in(key)

        def read(session: Session, staff: User) -> tuple[list[list[str]], OpenedCourse | None]:
            categories = [[c.slug, c.name] for c in catalog.list_categories(session)]
            if key == "new":
                return categories, None
            try:
                course = authoring.course_for_editing(session, staff, course_id)
            except ServiceError:
                return categories, None
            category = session.get(Category, course.category_id) if course.category_id else None
            return categories, (course, category.slug if category else "",
                                _outline(session, staff, course.slug))

        found, away = await self._read_as(read, roles=STAFF)
        if away or found is None:
            yield away
            return
        self.categories, opened = found
        self.errors, self.lesson_id, self.new_module_title = {}, 0, ""
        if key == "new":
            self._course_id, self.is_new, self.is_published, self.public_slug = 0, True, False, ""
            self._slug_edited, self.not_found, self.modules = False, False, []
            self.form = {"title": "", "slug": "", "subtitle": "", "description": "",
                         "category": "", "level": "beginner", "price": "0", "currency": "USD",
                         "cover_image_url": "", "cover_alt": ""}
            self.picture, self.cover_error = "", ""
        elif opened is None:
            self.not_found = True
        else:
            course, category, self.modules = opened
            self._fill(course, category)
        self.loading = False

    def _fill(self, course: Course, category: str) -> None:
        self._course_id, self.is_new, self.not_found = course.id, False, False
        self.course_id = course.id
        self.is_published, self.public_slug, self._slug_edited = course.is_published, course.slug, True
        self.form = {"title": course.title, "slug": course.slug, "subtitle": course.subtitle,
                     "description": course.description, "category": category,
                     "level": course.level.value,
                     "price": f"{course.price_cents // 100}.{course.price_cents % 100:02d}",
                     "currency": course.currency, "cover_image_url": course.cover_image_url,
                     "cover_alt": course.cover_alt}
        self.picture, self.cover_error = covers.cover_url(course.cover_key, covers.CARD), ""
        self.rule_form = {"min_grade_percent": "" if course.min_grade_percent is None
                          else str(course.min_grade_percent),
                          "grade_weighting": course.grade_weighting.value}
        self.rule_errors = {}

    @rx.event
    def set_field(self, name: str, value: str) -> None:
        if name not in COURSE_FIELDS or not isinstance(value, str):
            return
        form = {**self.form, name: value[:50_000]}
        if name == "slug":
            self._slug_edited = True
        elif name == "title" and not self._slug_edited:
            form["slug"] = authoring.slugify(value)
        self.form = form
        self.errors = {k: v for k, v in self.errors.items() if k != name}

    @rx.event
    async def save(self) -> Events:
        form = authoring.CourseForm(**{name: self.form.get(name, "") for name in COURSE_FIELDS})
        is_new, editing = self.is_new, self._course_id
        try:
            course_id, refused = await self._act_as("save_course", lambda session, actor: (
                authoring.create_course(session, actor, form) if is_new else
                authoring.update_course(session, actor, editing, form)).id)
        except Invalid as exc:
            self.errors = exc.errors
            return rx.toast.error("Please correct the highlighted fields")
        if refused:
            return refused
        if is_new:
            # From here on this form edits the new course: a second click (or a retry) updates it
            # instead of trying to create a twin with the same address.
            self._course_id, self.is_new = course_id, False
            return [rx.toast.success("Course created: now add its lessons"),
                    rx.redirect(f"/admin/courses/{course_id}")]
        return [rx.toast.success("Course saved"), CourseEditorState.load]

    @rx.event
    async def upload_cover(self, files: list[rx.UploadFile]) -> Events:
        """Upload handler: the picture becomes the cover in one transaction, or, refused, changes
        nothing and the editor says why."""
        # Only the upload endpoint brings files; the same handler named over the WebSocket brings
        # whatever the client sent, which is no file.
        if not (self._course_id and isinstance(files, list) and files
                and isinstance(files[0], rx.UploadFile)):
            return None
        data, course_id = await files[0].read(covers.MAX_BYTES + 1), self._course_id
        try:
            key, refused = await self._act_as("set_cover", lambda session, actor: covers.set_cover(
                session, actor, course_id, data).cover_key)
        except Invalid as exc:
            self.cover_error = exc.errors.get("cover", exc.message)
            return rx.clear_selected_files(COVER_UPLOAD_ID)
        if refused:
            return [*refused, rx.clear_selected_files(COVER_UPLOAD_ID)]
        self.picture, self.cover_error = covers.cover_url(key, covers.CARD), ""
        return [rx.toast.success("Cover saved"), rx.clear_selected_files(COVER_UPLOAD_ID)]

    @rx.event
    def reject_cover(self) -> None:
        """The browser refused the chosen file (its type or size) before any upload."""
        self.cover_error = (f"Choose a JPEG, PNG or WebP picture of at most "
                            f"{covers.MAX_BYTES // (1024 * 1024)} MB")

    @rx.event
    async def remove_cover(self) -> Events:
        course_id = self._course_id
        _, refused = await self._act_as("remove_cover", lambda session, actor:
                                        covers.remove_cover(session, actor, course_id))
        if refused:
            return refused
        self.picture, self.cover_error = "", ""
        return rx.toast.success("Cover removed")

    @rx.event
    async def set_published(self, published: bool) -> Events:
        course_id = self._course_id
        return await self._change("publish" if published else "unpublish",
                                  lambda s, a: authoring.set_published(s, a, course_id,
                                                                       published is True),
                                  "Course published" if published else "Course moved back to drafts")

    @rx.event
    def set_rule(self, name: str, value: str) -> None:
        if name in ("min_grade_percent", "grade_weighting") and isinstance(value, str):
            self.rule_form = {**self.rule_form, name: value[:20]}
            self.rule_errors = {k: v for k, v in self.rule_errors.items() if k != name}

    @rx.event
    async def save_rule(self) -> Events:
        course_id = self._course_id
        minimum, weighting = (self.rule_form.get("min_grade_percent", ""),
                              self.rule_form.get("grade_weighting", ""))
        try:
            _, refused = await self._act_as("certificate_rule", lambda session, actor:
                                            quizzes.set_certificate_rule(session, actor, course_id,
                                                                         minimum, weighting))
        except Invalid as exc:
            self.rule_errors = exc.errors
            return rx.toast.error("Please correct the certificate rule")
        if refused:
            return refused
        self.rule_errors = {}
        return rx.toast.success("Certificate rule saved")

    @rx.event
    def set_new_module_title(self, value: str) -> None:
        self.new_module_title = value[:160] if isinstance(value, str) else ""

    @rx.event
    async def add_module(self) -> Events:
        title, course_id = self.new_module_title, self._course_id
        self.new_module_title = ""
        return await self._change("add_module",
                                  lambda s, a: authoring.add_module(s, a, course_id, title),
                                  "Module added")

    @rx.event
    def start_rename(self, module_id: int, title: str) -> None:
        self.renaming_module_id = as_id(module_id)
        self.module_title = title[:160] if isinstance(title, str) else ""

    @rx.event
    def set_module_title(self, value: str) -> None:
        self.module_title = value[:160] if isinstance(value, str) else ""

    @rx.event
    async def finish_rename(self) -> Events:
        module_id, title = self.renaming_module_id, self.module_title
        self.renaming_module_id = 0
        return await self._change("rename_module",
                            lambda s, a: authoring.rename_module(s, a, module_id, title),
                            "Module renamed")

    @rx.event
    def cancel_rename(self) -> None:
        self.renaming_module_id = 0

    @rx.event
    async def move_module(self, module_id: int, direction: int) -> Events:
        return await self._change("move_module", lambda s, a: authoring.move_module(
            s, a, as_id(module_id), 1 if direction == 1 else -1))

    @rx.event
    def ask_delete(self, kind: str, item_id: int, title: str) -> None:
        """Open the confirmation; the title is only shown, the id is checked again on delete."""
        if kind in ("module", "lesson"):
            self.pending_delete_kind, self._pending_delete_id = kind, as_id(item_id)
            self.pending_delete_title = title[:160] if isinstance(title, str) else ""

    @rx.event
    def cancel_delete(self) -> None:
        self.pending_delete_kind = ""

    @rx.event
    async def confirm_delete(self) -> Events:
        kind, item_id = self.pending_delete_kind, self._pending_delete_id
        self.pending_delete_kind = ""
        if kind == "module":
            return await self._change("delete_module",
                                      lambda s, a: authoring.delete_module(s, a, item_id),
                                      "Module deleted")
        if kind == "lesson":
            return await self._change("delete_lesson",
                                      lambda s, a: authoring.delete_lesson(s, a, item_id),
                                      "Lesson deleted")
        return None

    @rx.event
    async def move_lesson(self, lesson_id: int, direction: int) -> Events:
        return await self._change("move_lesson", lambda s, a: authoring.move_lesson(
            s, a, as_id(lesson_id), 1 if direction == 1 else -1))


    @rx.event
    def open_new_lesson(self, module_id: int) -> None:
        self.lesson_id, self.lesson_module_id, self.lesson_errors = -1, as_id(module_id), {}
        self.lesson_form = {"title": "", "kind": "text", "body": "", "video_url": "",
                            "poster_url": "", "captions": "", "duration_minutes": "5"}

    @rx.event
    async def open_lesson(self, lesson_id: int) -> Events:
        found, refused = await self._act_as("open_lesson", lambda session, staff:
                                            authoring.lesson_for_editing(session, staff,
                                                                         as_id(lesson_id)))
        if refused or found is None:
            return refused
        lesson, _ = found
        self.lesson_id, self.lesson_errors = lesson.id, {}
        self.lesson_form = {"title": lesson.title, "kind": lesson.kind.value, "body": lesson.body,
                            "video_url": lesson.video_url, "poster_url": lesson.poster_url,
                            "captions": lesson.captions_vtt,
                            "duration_minutes": str(lesson.duration_minutes)}
        return None

    @rx.event
    def set_lesson_field(self, name: str, value: str) -> None:
        if name in LESSON_FIELDS and isinstance(value, str):
            # One past the largest the service accepts, so an oversized paste gets its message.
            self.lesson_form = {**self.lesson_form, name: value[:captions.MAX_BYTES + 1]}

    @rx.event
    async def upload_captions(self, files: list[rx.UploadFile]) -> Events:
        """Upload handler: a .vtt file read into the captions box; checked when the lesson saves."""
        # Only the upload endpoint brings files; the same handler named over the WebSocket brings
        # whatever the client sent, which is no file.
        if not (self.lesson_id and isinstance(files, list) and files
                and isinstance(files[0], rx.UploadFile)):
            return None
        data = await files[0].read(captions.MAX_BYTES + 1)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = ""
            self.lesson_errors = {**self.lesson_errors,
                                  "captions": "The file is not UTF-8 text: save it as UTF-8"}
        if text:
            self.lesson_form = {**self.lesson_form, "captions": text[:captions.MAX_BYTES + 1]}
        return rx.clear_selected_files(CAPTIONS_UPLOAD_ID)

    @rx.event
    def close_lesson(self) -> None:
        self.lesson_id = 0

    @rx.event
    async def save_lesson(self) -> Events:
        form = authoring.LessonForm(**{n: self.lesson_form.get(n, "") for n in LESSON_FIELDS})
        lesson_id, module_id = self.lesson_id, self.lesson_module_id
        new_quiz = lesson_id == -1 and form.kind == "quiz"
        try:
            saved, refused = await self._act_as("save_lesson", lambda session, actor: (
                quizzes.create_quiz(session, actor, module_id, form.title).id if new_quiz else
                authoring.add_lesson(session, actor, module_id, form) if lesson_id == -1 else
                authoring.update_lesson(session, actor, lesson_id, form)))
        except Invalid as exc:
            self.lesson_errors = exc.errors
            return None
        if refused:
            return refused
        self.lesson_id = 0
        if new_quiz:  # the quiz's settings and questions are on its own page
            return [rx.toast.success("Quiz created: now add its questions"),
                    rx.redirect(f"/admin/quizzes/{saved}")]
        return [rx.toast.success("Lesson saved"), CourseEditorState.reload_outline]

    @rx.event
    async def reload_outline(self) -> Events:
        course_id = self._course_id

        def read(session: Session, staff: User) -> tuple[bool, list[EditorModule]]:
            course = authoring.course_for_editing(session, staff, course_id)
            return course.is_published, _outline(session, staff, course.slug)

        found, refused = await self._act_as("reload_outline", read)
        if refused or found is None:
            return refused
        self.is_published, self.modules = found
        return None

    async def _change(self, name: str, action: Callable[[Session, User], object],
                      success: str = "") -> Events:
        """One authoring action, then the outline as it now is."""
        return await self._act(name, action, success, CourseEditorState.reload_outline)


def _outline(session: Session, staff: User, slug: str) -> list[EditorModule]:
    outline = catalog.course_outline(session, slug, staff)
    return [EditorModule(id=m.id, title=m.title, lessons=[
        EditorLesson(id=lesson.id, title=lesson.title, kind=lesson.kind,
                     duration=lesson.duration_minutes,
                     quiz_id=(attempts.quiz_id_for_lesson(session, lesson.id) or 0)
                     if lesson.kind == "quiz" else 0) for lesson in m.lessons])
        for m in outline.modules]


def _field(label: str, name: str, control: rx.Component, hint: str = "") -> rx.Component:
    return labelled(label, name, control, CourseEditorState.errors.get(name, ""), hint)


def _text(label: str, name: str, hint: str = "", **props) -> rx.Component:
    return _field(label, name, rx.input(
        id=name, value=CourseEditorState.form.get(name, ""), width="100%",
        on_change=lambda value: CourseEditorState.set_field(name, value),
        aria_invalid=rx.cond(CourseEditorState.errors.contains(name), "true", "false"),
        aria_describedby=f"{name}-error", **props), hint)


def _choice(label: str, name: str, options: list[rx.Component]) -> rx.Component:
    return _field(label, name, rx.select.root(
        rx.select.trigger(id=name, aria_label=label, width="100%"),
        rx.select.content(*options),
        value=CourseEditorState.form.get(name, ""),
        on_change=lambda value: CourseEditorState.set_field(name, value),
    ))


def cover_field() -> rx.Component:
    """The cover as a card shows it, and the upload that replaces it at once."""
    picture = CourseEditorState.picture
    return rx.vstack(
        rx.text("Cover picture", weight="medium", size="2"),
        rx.flex(
            rx.cond(picture != "",
                    rx.image(src=picture, alt="Current cover", decoding="async",
                             custom_attrs={"width": str(covers.CARD.width),
                                           "height": str(covers.CARD.height)},
                             width="240px", height="auto", border_radius="8px",
                             display="block", flex_shrink="0"),
                    rx.center(rx.text("No picture yet", size="2", color_scheme="gray"),
                              width="240px", aspect_ratio="16 / 9", border_radius="8px",
                              flex_shrink="0", background=rx.color("gray", 3))),
            rx.vstack(
                rx.text(f"JPEG, PNG or WebP, at most {covers.MAX_BYTES // (1024 * 1024)} MB. It "
                        f"is cropped to 16:9 from its centre, {covers.PAGE.width} × "
                        f"{covers.PAGE.height} pixels at best.", size="1", color_scheme="gray"),
                rx.hstack(
                    # The dropzone's file input takes no props of its own: a label around it
                    # names it after the button.
                    rx.el.label(rx.upload.root(
                        rx.button(rx.icon("image-up", size=14),
                                  rx.cond(picture != "", "Replace cover picture",
                                          "Upload cover picture"),
                                  variant="outline", type="button"),
                        id=COVER_UPLOAD_ID, accept=COVER_TYPES, max_files=1,
                        max_size=covers.MAX_BYTES, multiple=False, no_drag=True,
                        on_drop=CourseEditorState.upload_cover(
                            rx.upload_files(upload_id=COVER_UPLOAD_ID)),
                        # The refused File objects stay in the browser (see checkout.py).
                        on_drop_rejected=lambda _refused: CourseEditorState.reject_cover(),
                    )),
                    rx.cond(picture != "", rx.button("Remove cover picture", variant="soft",
                                                     color_scheme="gray", type="button",
                                                     on_click=CourseEditorState.remove_cover)),
                    spacing="2",
                    wrap="wrap",
                ),
                rx.cond(CourseEditorState.cover_error != "",
                        rx.text(CourseEditorState.cover_error, color_scheme="red", size="2",
                                role="alert")),
                spacing="2",
            ),
            direction=rx.breakpoints(initial="column", sm="row"),
            spacing="4",
            width="100%",
        ),
        spacing="2",
        width="100%",
    )


def details_form() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Details", size="4", as_="h2"),
        _text("Title", "title", placeholder="e.g. SQL for Analysts"),
        _text("Web address", "slug", hint="Learners find the course at /courses/<address>."),
        _text("Subtitle", "subtitle", placeholder="One sentence about what learners will gain"),
        rx.grid(
            _choice("Category", "category", [rx.foreach(
                CourseEditorState.categories, lambda c: rx.select.item(c[1], value=c[0]))]),
            _choice("Level", "level", [rx.select.item(text, value=value)
                                       for value, text in LEVELS]),
            _text("Price", "price", hint="0 makes the course free.", inputmode="decimal"),
            _choice("Currency", "currency", [rx.select.item(c, value=c)
                                             for c in authoring.CURRENCIES]),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="4",
            width="100%",
        ),
        rx.cond(CourseEditorState.is_new,
                rx.text("Once the course is created, you can upload its cover picture here.",
                        size="2", color_scheme="gray"),
                cover_field()),
        _text("Cover description", "cover_alt",
              hint="What the cover picture shows, for people who cannot see it. Empty: the "
                   "course's title."),
        _text("Cover image URL", "cover_image_url", placeholder="https://… (optional)",
              hint="Only used while no cover picture is uploaded."),
        rx.grid(
            _field("Description", "description", rx.text_area(
                id="description", value=CourseEditorState.form.get("description", ""),
                on_change=lambda value: CourseEditorState.set_field("description", value),
                rows="12", width="100%", placeholder="Markdown: **bold**, lists, links…"),
                hint="Markdown. The preview shows what learners will see."),
            rx.vstack(
                rx.text("Preview", weight="medium", size="2"),
                rx.box(rx.html(CourseEditorState.description_preview, class_name="markdown"),
                       border=f"1px solid {rx.color('gray', 5)}", border_radius="8px",
                       padding="12px", min_height="200px", width="100%",
                       aria_label="Description preview", role="region"),
                width="100%",
                spacing="1",
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        rx.hstack(
            rx.spacer(),
            rx.button(rx.cond(CourseEditorState.is_new, "Create course", "Save changes"),
                      on_click=CourseEditorState.save, size="3"),
            width="100%",
        ),
        spacing="4",
        width="100%",
    ), width="100%")


def lesson_line(lesson: EditorLesson) -> rx.Component:
    return rx.hstack(
        rx.icon(rx.match(lesson.kind, ("video", "circle-play"), ("quiz", "list-checks"),
                         "file-text"), size=16, aria_hidden="true"),
        rx.text(lesson.title, size="2", flex="1"),
        rx.text(lesson.duration.to_string() + " min", size="1", color_scheme="gray"),
        rx.icon_button(rx.icon("arrow-up", size=14), size="1", variant="ghost",
                       aria_label="Move lesson up: " + lesson.title,
                       on_click=CourseEditorState.move_lesson(lesson.id, -1)),
        rx.icon_button(rx.icon("arrow-down", size=14), size="1", variant="ghost",
                       aria_label="Move lesson down: " + lesson.title,
                       on_click=CourseEditorState.move_lesson(lesson.id, 1)),
        rx.cond(lesson.quiz_id > 0,
                link_button("Edit quiz", "/admin/quizzes/" + lesson.quiz_id.to_string(),
                            size="1", variant="soft", aria_label="Edit quiz: " + lesson.title)),
        rx.button(rx.cond(lesson.quiz_id > 0, "Rename", "Edit"), size="1", variant="soft",
                  aria_label=rx.cond(lesson.quiz_id > 0, "Rename quiz: ", "Edit lesson: ")
                  + lesson.title,
                  on_click=CourseEditorState.open_lesson(lesson.id)),
        rx.button("Delete", size="1", variant="soft", color_scheme="red",
                  aria_label="Delete lesson: " + lesson.title,
                  on_click=CourseEditorState.ask_delete("lesson", lesson.id, lesson.title)),
        align="center",
        width="100%",
        padding_y="4px",
    )


def module_card(module: EditorModule) -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(
            rx.cond(
                CourseEditorState.renaming_module_id == module.id,
                rx.hstack(
                    rx.input(value=CourseEditorState.module_title, aria_label="Module name",
                             on_change=CourseEditorState.set_module_title, flex="1"),
                    rx.button("Save", size="1", on_click=CourseEditorState.finish_rename),
                    rx.button("Cancel", size="1", variant="soft", color_scheme="gray",
                              on_click=CourseEditorState.cancel_rename),
                    flex="1",
                    align="center",
                ),
                rx.hstack(
                    rx.heading(module.title, size="3", as_="h3"),
                    rx.button("Rename", size="1", variant="ghost",
                              aria_label="Rename module: " + module.title,
                              on_click=CourseEditorState.start_rename(module.id, module.title)),
                    flex="1",
                    align="center",
                ),
            ),
            rx.icon_button(rx.icon("arrow-up", size=14), size="1", variant="ghost",
                           aria_label="Move module up: " + module.title,
                           on_click=CourseEditorState.move_module(module.id, -1)),
            rx.icon_button(rx.icon("arrow-down", size=14), size="1", variant="ghost",
                           aria_label="Move module down: " + module.title,
                           on_click=CourseEditorState.move_module(module.id, 1)),
            rx.button("Delete module", size="1", variant="soft", color_scheme="red",
                      aria_label="Delete module: " + module.title,
                      on_click=CourseEditorState.ask_delete("module", module.id, module.title)),
            align="center",
            width="100%",
        ),
        rx.foreach(module.lessons, lesson_line),
        rx.button(rx.icon("plus", size=14), "Add lesson", size="2", variant="outline",
                  aria_label="Add lesson to " + module.title,
                  on_click=CourseEditorState.open_new_lesson(module.id)),
        spacing="2",
        width="100%",
    ), width="100%")


def curriculum() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Curriculum", size="4", as_="h2"),
        rx.text("Modules group lessons; learners go through them in this order.", size="2",
                color_scheme="gray"),
        rx.foreach(CourseEditorState.modules, module_card),
        rx.hstack(
            rx.input(value=CourseEditorState.new_module_title, aria_label="New module title",
                     placeholder="New module title, e.g. Getting started",
                     on_change=CourseEditorState.set_new_module_title, flex="1"),
            rx.button(rx.icon("plus", size=14), "Add module", on_click=CourseEditorState.add_module),
            width="100%",
        ),
        spacing="3",
        width="100%",
    ), width="100%")


def _lesson_input(label: str, name: str, control: rx.Component) -> rx.Component:
    return labelled(label, f"lesson-{name}", control,
                    CourseEditorState.lesson_errors.get(name, ""))


def video_fields(value: Callable[[str], rx.Var], on_change: Callable) -> rx.Component:
    return rx.vstack(
        _lesson_input("Video address", "video_url", rx.input(
            id="lesson-video_url", value=value("video_url"), on_change=on_change("video_url"),
            placeholder="https://…/lesson.mp4", width="100%")),
        _lesson_input("Poster image address (optional)", "poster_url", rx.input(
            id="lesson-poster_url", value=value("poster_url"), on_change=on_change("poster_url"),
            placeholder="https://…/still.jpg", width="100%")),
        _lesson_input("Captions, WebVTT (optional)", "captions", rx.text_area(
            id="lesson-captions", value=value("captions"), on_change=on_change("captions"),
            rows="4", width="100%", font_family="monospace",
            placeholder="WEBVTT\n\n00:00.000 --> 00:04.000\nWelcome to the lesson.")),
        # The dropzone's file input takes no props of its own: a label around it names it after
        # the button.
        rx.el.label(rx.upload.root(
            rx.button(rx.icon("paperclip", size=14), "Choose a .vtt file", variant="outline",
                      type="button"),
            id=CAPTIONS_UPLOAD_ID, accept={"text/vtt": [".vtt"]}, max_files=1,
            max_size=captions.MAX_BYTES, multiple=False, no_drag=True,
            on_drop=CourseEditorState.upload_captions(
                rx.upload_files(upload_id=CAPTIONS_UPLOAD_ID)),
        )),
        spacing="3",
        width="100%",
    )


def lesson_dialog() -> rx.Component:
    def value(name: str) -> rx.Var:
        return CourseEditorState.lesson_form.get(name, "")

    def on_change(name: str):
        return lambda v: CourseEditorState.set_lesson_field(name, v)

    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title(rx.cond(CourseEditorState.lesson_id == -1, "New lesson", "Edit lesson")),
        rx.dialog.description("Text lessons are Markdown; video lessons also play a video; a "
                              "quiz gets its questions on its own page."),
        rx.vstack(
            _lesson_input("Lesson title", "title", rx.input(
                id="lesson-title", value=value("title"), on_change=on_change("title"),
                width="100%")),
            rx.grid(
                _lesson_input("Kind", "kind", rx.select.root(
                    rx.select.trigger(id="lesson-kind", aria_label="Kind", width="100%"),
                    rx.select.content(rx.select.item("Text", value="text"),
                                      rx.select.item("Video", value="video"),
                                      rx.select.item("Quiz", value="quiz")),
                    value=value("kind"), on_change=on_change("kind"))),
                _lesson_input("Duration in minutes", "duration_minutes", rx.input(
                    id="lesson-duration_minutes", value=value("duration_minutes"),
                    on_change=on_change("duration_minutes"), inputmode="numeric",
                    width="100%")),
                columns="2", spacing="3", width="100%",
            ),
            # A quiz's content is its questions, edited on the quiz's own page.
            rx.cond(value("kind") != "quiz", rx.vstack(
                rx.cond(value("kind") == "video", video_fields(value, on_change)),
                _lesson_input("Lesson text", "body", rx.text_area(
                    id="lesson-body", value=value("body"), on_change=on_change("body"), rows="8",
                    width="100%", placeholder="Markdown")),
                rx.box(rx.html(CourseEditorState.lesson_preview, class_name="markdown"),
                       border=f"1px solid {rx.color('gray', 5)}", border_radius="8px",
                       padding="12px", max_height="200px", overflow_y="auto", width="100%",
                       role="region", aria_label="Lesson preview"),
                spacing="3",
                width="100%",
            )),
            rx.hstack(
                rx.spacer(),
                rx.button("Cancel", variant="soft", color_scheme="gray",
                          on_click=CourseEditorState.close_lesson),
                rx.button("Save lesson", on_click=CourseEditorState.save_lesson),
                width="100%",
            ),
            spacing="3",
            padding_top="8px",
        ),
        max_width="760px",
    ), open=CourseEditorState.lesson_id != 0,
        on_open_change=lambda is_open: rx.cond(is_open, rx.noop(), CourseEditorState.close_lesson()))


def delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(rx.alert_dialog.content(
        rx.alert_dialog.title("Delete " + CourseEditorState.pending_delete_kind + "?"),
        rx.alert_dialog.description(rx.cond(
            CourseEditorState.pending_delete_kind == "module",
            "“" + CourseEditorState.pending_delete_title + "” and all its lessons will be deleted, "
            "with the progress learners made on them. This cannot be undone.",
            "“" + CourseEditorState.pending_delete_title + "” will be deleted, with the progress "
            "learners made on it. This cannot be undone.")),
        rx.hstack(
            rx.spacer(),
            rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray",
                                             on_click=CourseEditorState.cancel_delete)),
            rx.alert_dialog.action(rx.button("Delete", color_scheme="red",
                                             on_click=CourseEditorState.confirm_delete)),
            width="100%",
            padding_top="12px",
        ),
    ), open=CourseEditorState.pending_delete_kind != "")


def certificate_rule_card() -> rx.Component:
    def error(name: str) -> rx.Var:
        return CourseEditorState.rule_errors.get(name, "")

    return rx.card(rx.vstack(
        rx.heading("Certificate rule", size="4", as_="h2"),
        rx.text("A certificate needs every lesson complete and every graded quiz passed; it can "
                "also ask for a minimum overall grade across the quizzes.", size="2",
                color_scheme="gray"),
        rx.grid(
            labelled("Minimum overall grade (%)", "min_grade_percent", rx.input(
                id="min_grade_percent", inputmode="numeric", width="100%",
                value=CourseEditorState.rule_form.get("min_grade_percent", ""),
                on_change=lambda v: CourseEditorState.set_rule("min_grade_percent", v),
                aria_invalid=rx.cond(error("min_grade_percent") != "", "true", "false"),
                aria_describedby="min_grade_percent-error"),
                error("min_grade_percent"), "Empty: no minimum."),
            labelled("Weigh quizzes", "grade_weighting", rx.select.root(
                rx.select.trigger(id="grade_weighting", aria_label="Weigh quizzes", width="100%"),
                rx.select.content(rx.select.item("By their points", value="points"),
                                  rx.select.item("By the weight given to each quiz",
                                                 value="quiz_weight")),
                value=CourseEditorState.rule_form.get("grade_weighting", ""),
                on_change=lambda v: CourseEditorState.set_rule("grade_weighting", v)),
                error("grade_weighting")),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="4",
            width="100%",
        ),
        rx.hstack(rx.spacer(), rx.button("Save certificate rule",
                                         on_click=CourseEditorState.save_rule), width="100%"),
        spacing="3",
        width="100%",
    ), width="100%")


def publish_bar() -> rx.Component:
    return rx.card(rx.hstack(
        rx.cond(CourseEditorState.is_published,
                rx.badge("Published", color_scheme="green", size="2"),
                rx.badge("Draft", color_scheme="gray", size="2")),
        rx.cond(CourseEditorState.is_published,
                rx.link("View as a learner", href="/courses/" + CourseEditorState.public_slug,
                        size="2"),
                rx.text("Learners cannot see a draft.", size="2", color_scheme="gray")),
        rx.spacer(),
        course_report_links(CourseEditorState.course_id),
        rx.cond(CourseEditorState.is_published,
                rx.button("Unpublish", variant="soft", color_scheme="gray",
                          on_click=CourseEditorState.set_published(False)),
                rx.button("Publish", color_scheme="green",
                          on_click=CourseEditorState.set_published(True))),
        align="center",
        width="100%",
        wrap="wrap",  # the links to the course's other pages go under each other on a phone
    ), width="100%")


def course_editor_page() -> rx.Component:
    return admin_page(
        rx.cond(CourseEditorState.is_new, "New course",
                CourseEditorState.form.get("title", "Course")),
        "Describe the course, build its curriculum, then publish it.",
        rx.cond(
            CourseEditorState.not_found,
            rx.callout("This course does not exist, or it is not yours to edit.",
                       icon="circle-alert", color_scheme="red", role="alert"),
            rx.cond(
                CourseEditorState.loading,
                rx.skeleton(rx.box(height="400px", width="100%"), loading=True),
                rx.vstack(
                    rx.cond(~CourseEditorState.is_new, publish_bar()),
                    rx.cond(CourseEditorState.is_published, broadcast_card()),
                    details_form(),
                    rx.cond(~CourseEditorState.is_new, curriculum()),
                    rx.cond(~CourseEditorState.is_new, certificate_rule_card()),
                    lesson_dialog(),
                    delete_dialog(),
                    spacing="4",
                    width="100%",
                ),
            ),
        ),
    )
