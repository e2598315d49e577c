"""/admin/discussions — the instructor's inbox: questions nobody from the staff has answered yet,
oldest first, with how long each has waited; answered in place, and live (a new question or an
answer given elsewhere reloads every open inbox through the bus). Below them, moderation: posts
held for review, to approve or reject; posts learners flagged, and what is hidden, to hide, show
again or leave up (the service checks the caller is the course's staff, and audits each action)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import reflex as rx
from sqlmodel import Session

from academy_app.admin.workspace import admin_page
from academy_app.components.layout import empty_state, labelled
from academy_app.infra.presence import watchers
from academy_app.models import User, utcnow
from academy_app.services import discussions
from academy_app.services.errors import Invalid
from academy_app.services.permissions import STAFF
from academy_app.state.auth import Events
from academy_app.state.staff import StaffState
from academy_app.text import as_id, id_in

ROUTE = "/admin/discussions"
ALL = "all"  # a select item cannot have an empty value


@dataclass
class InboxLine:
    thread_id: int = 0
    course: str = ""
    lesson: str = ""
    title: str = ""
    asker: str = ""
    body_html: str = ""
    href: str = ""
    waiting: str = ""


@dataclass
class FlagLine:
    post_id: int = 0
    thread_id: int = 0
    opening: bool = False
    where: str = ""  # "Course · Lesson"
    thread_title: str = ""
    author: str = ""
    body_html: str = ""
    href: str = ""
    flags: str = ""  # "2 flags: spam; rude" ('' once resolved)
    hidden: bool = False  # the post itself
    thread_hidden: bool = False
    held: bool = False  # waiting for review
    waiting: str = ""  # since it was held, or first flagged


def _flag_line(row: discussions.FlaggedRow, now: datetime) -> FlagLine:
    flags = ""
    if row.flags:
        flags = f"{row.flags} flag{'s' if row.flags > 1 else ''}: " + "; ".join(row.reasons)
    return FlagLine(post_id=row.post_id, thread_id=row.thread_id, opening=row.opening,
                    where=f"{row.course_title} · {row.lesson_title}",
                    thread_title=row.thread_title, author=row.author, body_html=row.body_html,
                    href=row.href, flags=flags, hidden=row.hidden, thread_hidden=row.thread_hidden,
                    held=row.held_at is not None,
                    waiting=waited(since, now) if (since := row.held_at or row.flagged_at) else "")


def waited(since: datetime, now: datetime) -> str:
    """How long a question has waited, as a person says it: "4 min", "3 h 20 min", "2 days"."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        hours, rest = divmod(minutes, 60)
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    return f"{minutes // (24 * 60)} days"


class InboxState(StaffState):
    rows: list[InboxLine] = []
    flagged: list[FlagLine] = []
    courses: list[list[str]] = []  # [id, title]
    lessons: list[list[str]] = []
    course_filter: str = ALL
    lesson_filter: str = ALL
    loading: bool = True
    answering: int = 0  # the question whose answer form is open
    answer: str = ""
    answer_error: str = ""
    _request: str = ""

    @rx.event
    async def load(self) -> Events:
        away = await self._reload()
        if away:
            return away
        watchers.watch(discussions.INBOX, self.router.session.client_token, type(self), ROUTE)
        return None

    @rx.event
    async def refresh(self) -> None:
        """A question asked or answered elsewhere: the rows only; an answer being typed stays."""
        await self._reload()

    async def _reload(self) -> Events:
        course_id, lesson_id = id_in(self.course_filter), id_in(self.lesson_filter)

        def read(session: Session, staff: User | None) -> tuple[
                list[discussions.InboxRow], list[discussions.Choice], list[discussions.Choice],
                list[discussions.FlaggedRow]]:
            return (discussions.inbox(session, staff, course_id=course_id, lesson_id=lesson_id),
                    discussions.inbox_courses(session, staff),
                    discussions.inbox_lessons(session, staff, course_id) if course_id else [],
                    discussions.moderation_queue(session, staff))

        result, away = await self._read_as(read, roles=STAFF)
        if away or result is None:
            return away
        rows, courses, lessons, flagged = result
        now = utcnow()
        self.rows = [InboxLine(thread_id=r.thread_id, course=r.course_title, lesson=r.lesson_title,
                               title=r.title, asker=r.asker, body_html=r.body_html, href=r.href,
                               waiting=waited(r.asked_at, now)) for r in rows]
        self.courses = [[str(c.id), c.label] for c in courses]
        self.lessons = [[str(c.id), c.label] for c in lessons]
        self.flagged = [_flag_line(row, now) for row in flagged]
        self.loading = False
        return None

    @rx.event
    async def set_course_filter(self, value: str) -> None:
        self.course_filter = str(id_in(value) or ALL)
        self.lesson_filter = ALL
        await self._reload()

    @rx.event
    async def set_lesson_filter(self, value: str) -> None:
        self.lesson_filter = str(id_in(value) or ALL)
        await self._reload()

    @rx.event
    def start_answer(self, thread_id: int) -> None:
        self.answering, self.answer, self.answer_error = as_id(thread_id), "", ""
        self._request = uuid.uuid4().hex  # the answer is stored once, however often sent

    @rx.event
    def cancel_answer(self) -> None:
        self.answering, self.answer_error = 0, ""

    @rx.event
    def set_answer(self, value: str) -> None:
        self.answer = value[:discussions.MAX_BODY + 100] if isinstance(value, str) else ""

    @rx.event
    async def send_answer(self) -> Events:
        if not self.answering:
            return None  # the second click of a double click: the form has closed
        thread_id, body, request = self.answering, self.answer, self._request
        try:
            _, refused = await self._act_as("answer_question", lambda session, staff:
                                            discussions.reply(session, staff, thread_id, body=body,
                                                              anonymous=False, request_id=request))
        except Invalid as exc:
            self.answer_error = exc.message
            return None
        if refused:
            return refused
        self.answering, self.answer = 0, ""
        await self._reload()
        return rx.toast.success("Answer posted")

    # --- moderation: each handler only asks; the service refuses whoever is not the course's staff

    @rx.event
    async def hide_post(self, post_id: int, hidden: bool) -> Events:
        pid, hide = as_id(post_id), hidden is True
        return await self._moderate("hide_post", lambda session, staff: discussions.set_post_hidden(
            session, staff, pid, hide), "Hidden from learners" if hide else "Shown again")

    @rx.event
    async def hide_thread(self, thread_id: int, hidden: bool) -> Events:
        tid, hide = as_id(thread_id), hidden is True
        return await self._moderate("hide_thread", lambda session, staff:
                                    discussions.set_thread_hidden(session, staff, tid, hide),
                                    "Thread hidden from learners" if hide else "Thread shown again")

    @rx.event
    async def review_post(self, post_id: int, approve: bool) -> Events:
        pid, publish = as_id(post_id), approve is True
        return await self._moderate("review_post", lambda session, staff: discussions.review_post(
            session, staff, pid, publish), "Published" if publish else "Rejected")

    @rx.event
    async def dismiss_flags(self, post_id: int) -> Events:
        pid = as_id(post_id)
        return await self._moderate("dismiss_flags", lambda session, staff:
                                    discussions.dismiss_flags(session, staff, pid), "Left up")

    async def _moderate(self, name: str, action: Callable[[Session, User], object],
                        success: str) -> Events:
        _, refused = await self._act_as(name, action, shown=())
        await self._reload()
        return refused or rx.toast.success(success)


def filters() -> rx.Component:
    return rx.hstack(
        rx.select.root(
            rx.select.trigger(aria_label="Filter by course"),
            rx.select.content(rx.select.item("All courses", value=ALL),
                              rx.foreach(InboxState.courses,
                                         lambda c: rx.select.item(c[1], value=c[0]))),
            value=InboxState.course_filter, on_change=InboxState.set_course_filter,
        ),
        rx.cond(InboxState.course_filter != ALL, rx.select.root(
            rx.select.trigger(aria_label="Filter by lesson"),
            rx.select.content(rx.select.item("All lessons", value=ALL),
                              rx.foreach(InboxState.lessons,
                                         lambda c: rx.select.item(c[1], value=c[0]))),
            value=InboxState.lesson_filter, on_change=InboxState.set_lesson_filter,
        )),
        spacing="3", wrap="wrap",
    )


def answer_form() -> rx.Component:
    return rx.vstack(
        labelled("Your answer", "inbox-answer", rx.text_area(
            id="inbox-answer", value=InboxState.answer, on_change=InboxState.set_answer, rows="4",
            width="100%", aria_describedby="inbox-answer-error"), InboxState.answer_error,
            hint="Markdown works, code blocks too. The learner is told at once."),
        rx.hstack(rx.spacer(),
                  rx.button("Cancel", variant="soft", color_scheme="gray",
                            on_click=InboxState.cancel_answer),
                  rx.button("Post answer", on_click=InboxState.send_answer), width="100%"),
        spacing="2", width="100%",
    )


def question_card(line: InboxLine) -> rx.Component:
    return rx.card(rx.el.article(rx.vstack(
        rx.hstack(
            rx.badge(rx.icon("clock", size=12), "Waiting " + line.waiting, color_scheme="orange",
                     variant="soft"),
            rx.text(line.course, " · ", line.lesson, size="1", color_scheme="gray"),
            spacing="2", wrap="wrap", align="center",
        ),
        rx.heading(line.title, size="4", as_="h2"),
        rx.text("Asked by ", line.asker, size="2", color_scheme="gray"),
        rx.html(line.body_html, class_name="markdown"),
        rx.cond(
            InboxState.answering == line.thread_id,
            answer_form(),
            rx.hstack(
                rx.button(rx.icon("reply", size=14), "Answer", aria_label="Answer: " + line.title,
                          on_click=InboxState.start_answer(line.thread_id)),
                rx.link("Open the lesson", href=line.href, size="2",
                        aria_label="Open the lesson of: " + line.title),
                rx.button(rx.icon("eye-off", size=14), "Hide", variant="soft",
                          color_scheme="orange", aria_label="Hide from learners: " + line.title,
                          on_click=InboxState.hide_thread(line.thread_id, True)),
                spacing="4", align="center", wrap="wrap",
            ),
        ),
        spacing="2", width="100%",
    ), aria_label="Question: " + line.title), width="100%")


def _state_badge(line: FlagLine) -> rx.Component:
    return rx.cond(
        line.held,
        rx.badge(rx.icon("hourglass", size=12), "Waiting for review " + line.waiting,
                 color_scheme="amber", variant="soft"),
        rx.cond(line.hidden | line.thread_hidden,
                rx.badge(rx.icon("eye-off", size=12), "Hidden from learners",
                         color_scheme="orange", variant="soft"),
                rx.badge(rx.icon("flag", size=12), "Flagged " + line.waiting + " ago",
                         color_scheme="red", variant="soft")))


def review_actions(line: FlagLine) -> rx.Component:
    """A held post: published as if written now, or never (each once, however often clicked)."""
    return rx.fragment(
        rx.button(rx.icon("check", size=14), "Approve", color_scheme="green",
                  on_click=InboxState.review_post(line.post_id, True)),
        rx.button(rx.icon("x", size=14), "Reject", variant="soft", color_scheme="red",
                  on_click=InboxState.review_post(line.post_id, False)),
    )


def hide_actions(line: FlagLine) -> rx.Component:
    """Any post alone (an opening one keeps its replies up), or an opening post's whole thread."""
    return rx.fragment(
        rx.button(rx.cond(line.hidden, "Show post", "Hide post"), variant="soft",
                  color_scheme="orange", on_click=InboxState.hide_post(line.post_id, ~line.hidden)),
        rx.cond(line.opening, rx.button(
            rx.cond(line.thread_hidden, "Show thread", "Hide thread"), variant="soft",
            color_scheme="orange",
            on_click=InboxState.hide_thread(line.thread_id, ~line.thread_hidden))),
        rx.cond((line.flags != "") & ~line.hidden & ~line.thread_hidden, rx.button(
            "Leave up", variant="soft", color_scheme="gray",
            on_click=InboxState.dismiss_flags(line.post_id))),
    )


def flag_card(line: FlagLine) -> rx.Component:
    what = rx.cond(line.opening, "Thread: ", "Reply in: ") + line.thread_title
    return rx.card(rx.el.article(rx.vstack(
        rx.hstack(
            _state_badge(line),
            rx.text(line.where, size="1", color_scheme="gray"),
            spacing="2", wrap="wrap", align="center",
        ),
        rx.heading(what, size="3", as_="h3"),
        rx.text("Written by ", line.author, size="2", color_scheme="gray"),
        rx.cond(line.flags != "", rx.text(line.flags, size="2", color_scheme="red")),
        rx.html(line.body_html, class_name="markdown"),
        rx.hstack(
            rx.cond(line.held, review_actions(line), hide_actions(line)),
            rx.link("Open the lesson", href=line.href, size="2"),
            spacing="4", align="center", wrap="wrap",
        ),
        spacing="2", width="100%",
    ), aria_label=rx.cond(line.held, "Waiting for review: ", "Moderation: ")
        + rx.cond(line.opening, "thread by ", "reply by ") + line.author), width="100%")


def moderation() -> rx.Component:
    return rx.el.section(rx.vstack(
        rx.heading("Waiting for review, flagged and hidden posts", size="5", as_="h2",
                   id="moderation-heading"),
        rx.cond(
            InboxState.flagged,
            rx.vstack(rx.foreach(InboxState.flagged, flag_card), spacing="3", width="100%"),
            rx.text("Nothing to review. Learners can flag a post that needs a look.", size="2",
                    color_scheme="gray"),
        ),
        spacing="3", width="100%",
    ), aria_labelledby="moderation-heading", style={"width": "100%", "margin_top": "24px"})


def inbox_page() -> rx.Component:
    return admin_page(
        "Questions", "Unanswered questions from your courses' lessons, oldest first, new learners' "
        "posts waiting for review, and posts learners flagged.",
        filters(),
        rx.cond(
            InboxState.rows,
            rx.vstack(rx.foreach(InboxState.rows, question_card), spacing="3", width="100%"),
            rx.cond(InboxState.loading, rx.fragment(), empty_state(
                "inbox", "No questions waiting",
                "When a learner asks a question under one of your lessons, it appears here.")),
        ),
        rx.cond(InboxState.loading, rx.fragment(), moderation()),
    )
