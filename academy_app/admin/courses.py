"""/admin/courses — the courses an instructor runs (all of them for an admin)."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from academy_app.admin.layout import StaffState, admin_page, data_table
from academy_app.components.layout import empty_state, link_button
from academy_app.db import session_scope
from academy_app.services import authoring
from academy_app.state.rows import price_label


@dataclass
class StaffCourseRow:
    id: int = 0
    title: str = ""
    slug: str = ""
    published: bool = False
    price: str = ""
    instructor: str = ""
    lessons: int = 0
    learners: int = 0
    pending_payments: int = 0

    @classmethod
    def of(cls, course: authoring.StaffCourse) -> StaffCourseRow:
        return cls(id=course.id, title=course.title, slug=course.slug,
                   published=course.is_published,
                   price=price_label(course.price_cents, course.currency),
                   instructor=course.instructor, lessons=course.lessons, learners=course.learners,
                   pending_payments=course.pending_payments)


class CourseListState(StaffState):
    rows: list[StaffCourseRow] = []
    loading: bool = True

    @rx.event
    def load(self):  # noqa: ANN201
        with session_scope() as session:
            staff, away = self._staff_or_redirect(session)
            if away:
                return away
            self.rows = [StaffCourseRow.of(c) for c in authoring.staff_courses(session, staff)]
        self.loading = False
        return None


def course_row(row: StaffCourseRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(
            rx.link(row.title, href="/admin/courses/" + row.id.to_string(), weight="medium"),
            rx.text("/courses/" + row.slug, size="1", color_scheme="gray"), spacing="0")),
        rx.table.cell(rx.cond(row.published, rx.badge("Published", color_scheme="green"),
                              rx.badge("Draft", color_scheme="gray"))),
        rx.table.cell(row.price),
        rx.table.cell(row.lessons),
        rx.table.cell(row.learners),
        rx.table.cell(rx.cond(row.pending_payments > 0,
                              rx.link(rx.badge(row.pending_payments.to_string() + " waiting",
                                               color_scheme="amber"), href="/admin/payments"),
                              rx.text("—", color_scheme="gray"))),
        rx.table.cell(row.instructor),
        align="center",
    )


def courses_page() -> rx.Component:
    return admin_page(
        "Courses",
        "Create courses, organise their lessons and publish them when they are ready.",
        rx.hstack(rx.spacer(), link_button(
            rx.hstack(rx.icon("plus", size=16), rx.text("New course"), spacing="1",
                      align="center"), "/admin/courses/new"), width="100%"),
        data_table(CourseListState.rows, course_row,
                   ["Course", "Status", "Price", "Lessons", "Learners", "Payments", "Instructor"],
                   empty_state("book-plus", "No courses yet",
                               "Create your first course: give it a title, add lessons, then "
                               "publish it.", link_button("New course", "/admin/courses/new")),
                   loading=CourseListState.loading),
    )
