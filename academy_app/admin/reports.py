"""A course's learners (/admin/courses/[course_id]/learners) and analytics (/admin/analytics,
/admin/courses/[course_id]/analytics)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import reflex as rx
from sqlmodel import Session

from academy_app.admin.workspace import admin_page, data_table
from academy_app.components.course import progress_bar
from academy_app.components.layout import empty_state, link_button, stat_card
from academy_app.models import Course, User
from academy_app.services import authoring, reports
from academy_app.services.errors import ServiceError
from academy_app.services.permissions import STAFF
from academy_app.state.auth import Refusal
from academy_app.state.rows import price_label
from academy_app.state.staff import StaffState
from academy_app.text import id_in

SORT_COLUMNS = [("name", "Learner"), ("status", "Status"), ("percent", "Progress"),
                ("activity", "Last activity")]
R = TypeVar("R")
STATUS_LABELS = {"active": "Learning", "completed": "Completed",
                 "pending_payment": "Awaiting payment", "cancelled": "Cancelled"}


@dataclass
class LearnerLine:
    name: str = ""
    email: str = ""
    status: str = ""
    percent: int = 0
    activity: str = ""


def _course_id_from_path(path: str) -> int:
    """/admin/courses/<id>/learners → id (0 when the path carries none)."""
    parts = path.strip("/").split("/")
    return id_in(parts[2]) if len(parts) >= 4 else 0


class CourseReportState(StaffState):
    """Shared by the learners and analytics pages of one course."""

    course_title: str = ""
    course_href: str = ""
    not_found: bool = False
    _course_id: int = 0

    async def _read_course(self, report: Callable[[Session, User, int], R]
                           ) -> tuple[R | None, Refusal | None]:
        """`report` of the course in the address, read as its staff; a course the caller may not
        edit (or none) shows "not found", and no figures of one opened earlier in this tab linger."""
        course_id = _course_id_from_path(self.router.url.path)

        def read(session: Session, staff: User) -> tuple[Course, R] | None:
            try:
                course = authoring.course_for_editing(session, staff, course_id)
            except ServiceError:
                return None
            return course, report(session, staff, course.id)

        found, away = await self._read_as(read, roles=STAFF)
        if away:
            return None, away
        if found is None:
            self.reset()
            self.not_found, self.course_title, self.course_href = True, "", ""
            return None, None
        course, data = found
        self._course_id, self.not_found = course.id, False
        self.course_title, self.course_href = course.title, f"/admin/courses/{course.id}"
        return data, None


class LearnersState(CourseReportState):
    rows: list[LearnerLine] = []
    query: str = ""
    sort: str = "name"
    descending: bool = False

    @rx.event
    async def load(self) -> Refusal | None:
        query, sort, descending = self.query, self.sort, self.descending
        rows, away = await self._read_course(lambda session, staff, course_id: reports.course_learners(
            session, staff, course_id, query, sort, descending))
        if away:
            return away
        if rows is not None:
            self.rows = [LearnerLine(name=r.name, email=r.email,
                                     status=STATUS_LABELS.get(r.status, r.status),
                                     percent=r.percent,
                                     activity=r.last_activity.strftime("%d %b %Y, %H:%M UTC"))
                         for r in rows]
        return None

    @rx.event
    def search(self, text: str) -> rx.event.EventHandler:
        self.query = text[:100] if isinstance(text, str) else ""
        return LearnersState.load

    @rx.event
    def sort_by(self, column: str) -> rx.event.EventHandler:
        if column in reports.LEARNER_SORTS:
            self.descending = not self.descending if column == self.sort else column != "name"
            self.sort = column
        return LearnersState.load

    @rx.event
    async def export_csv(self) -> Refusal | rx.event.EventSpec:
        course_id = self._course_id
        data, refused = await self._act_as(
            "export_csv", lambda session, staff: reports.learners_csv(session, staff, course_id))
        return refused or rx.download(data=data, filename=f"learners-{course_id}.csv")


# The axes' labels at 12 px: `font_size` on an axis styles its wrapper, not its tick labels, which
# recharts then drew at the page's 16 px (a lesson's title ran off a phone's chart).
AXIS_TICK = {"fontSize": 12}


class AnalyticsState(CourseReportState):
    # Chart rows: recharts takes plain dicts ({"day", "enrollments"} and {"lesson", "learners"}).
    days: list[dict[str, str | int]] = []
    funnel: list[dict[str, str | int]] = []
    revenue: str = ""
    learners: int = 0
    completed: int = 0
    scope: str = "all"  # "all" courses of the actor, or "course"

    @rx.event
    async def load(self) -> Refusal | None:
        path = self.router.url.path.rstrip("/")
        if path.endswith("/analytics") and path.startswith("/admin/courses/"):
            data, away = await self._read_course(reports.course_analytics)
            self.scope = "course"
        else:
            data, away = await self._read_as(reports.overall_analytics, roles=STAFF)
            self.scope, self.course_title, self.not_found = "all", "", False
        if away or data is None:
            return away
        self.days = [{"day": day.strftime("%d %b"), "enrollments": n}
                     for day, n in data.enrollments_by_day]
        self.funnel = [{"lesson": step.lesson, "learners": step.learners} for step in data.funnel]
        self.revenue = " + ".join(price_label(cents, currency)
                                  for currency, cents in sorted(data.revenue_cents.items())) or "$0"
        self.learners, self.completed = data.learners, data.completed
        return None


def sort_header(column: str, label: str) -> rx.Component:
    active = LearnersState.sort == column
    return rx.table.column_header_cell(
        rx.button(label, rx.cond(active, rx.icon(rx.cond(LearnersState.descending, "arrow-down",
                                                         "arrow-up"), size=12)),
                  variant="ghost", size="1", on_click=LearnersState.sort_by(column),
                  aria_label=f"Sort by {label.lower()}"),
        aria_sort=rx.cond(active, rx.cond(LearnersState.descending, "descending", "ascending"),
                          "none"),
    )


def learner_line(row: LearnerLine) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(rx.text(row.name, weight="medium"),
                                           rx.text(row.email, size="1", color_scheme="gray"),
                                           spacing="0")),
        rx.table.cell(row.status),
        rx.table.cell(rx.hstack(progress_bar(row.percent, "Progress of " + row.name),
                                rx.text(row.percent.to_string() + "%", size="2"),
                                align="center", min_width="160px")),
        rx.table.cell(rx.text(row.activity, size="2")),
        align="center",
    )


def course_header(state: type[CourseReportState]) -> rx.Component:
    return rx.hstack(rx.link("← " + state.course_title, href=state.course_href), width="100%")


def course_missing() -> rx.Component:
    return rx.callout("This course does not exist, or it is not yours.", icon="circle-alert",
                      color_scheme="red", role="alert")


def learners_page() -> rx.Component:
    return admin_page(
        "Learners",
        "Who is taking this course and how far they are.",
        rx.cond(LearnersState.not_found,
                course_missing(),
                rx.vstack(
                    course_header(LearnersState),
                    rx.hstack(
                        rx.debounce_input(rx.input(
                            rx.input.slot(rx.icon("search", size=16)), value=LearnersState.query,
                            on_change=LearnersState.search, type="search",
                            width=["100%", "300px"], aria_label="Search learners",
                            placeholder="Search by name or email"),
                            debounce_timeout=250),
                        rx.spacer(),
                        rx.button(rx.icon("download", size=14), "Export CSV", variant="soft",
                                  on_click=LearnersState.export_csv),
                        # A phone puts Export CSV under a full-width search, whose hint showed
                        # cut off ("Search by name or emai") squeezed beside it.
                        wrap="wrap",
                        width="100%",
                    ),
                    data_table(LearnersState.rows, learner_line,
                               [sort_header(c, label) for c, label in SORT_COLUMNS],
                               empty_state("users", "No learners yet",
                                           "Learners appear here as soon as they enroll.")),
                    spacing="4",
                    width="100%",
                )),
    )


def analytics_page() -> rx.Component:
    return admin_page(
        "Analytics",
        "Enrollments, completion and revenue for your courses.",
        rx.cond(AnalyticsState.not_found, course_missing(), analytics_charts()),
    )


def analytics_charts() -> rx.Component:
    return rx.vstack(
        rx.cond(AnalyticsState.scope == "course", course_header(AnalyticsState)),
        rx.grid(stat_card("Learners", AnalyticsState.learners),
                stat_card("Completed", AnalyticsState.completed),
                stat_card("Approved revenue", AnalyticsState.revenue),
                columns=rx.breakpoints(initial="1", sm="3"), spacing="4", width="100%"),
        rx.card(rx.vstack(
            rx.heading("Enrollments, last 30 days", size="4", as_="h2"),
            rx.recharts.bar_chart(
                rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
                rx.recharts.x_axis(data_key="day", tick=AXIS_TICK),
                rx.recharts.y_axis(allow_decimals=False, width=30, tick=AXIS_TICK),
                rx.recharts.graphing_tooltip(),
                rx.recharts.bar(data_key="enrollments", fill=rx.color("accent", 9),
                                name="Enrollments", radius=[4, 4, 0, 0]),
                data=AnalyticsState.days, height=260, width="100%",
            ),
            width="100%",
        ), width="100%", role="figure", aria_label="Enrollments over the last 30 days"),
        rx.cond(AnalyticsState.scope == "course", rx.card(rx.vstack(
            rx.heading("Completion by lesson", size="4", as_="h2"),
            rx.text("How many learners completed each lesson, in course order.", size="2",
                    color_scheme="gray"),
            # A phone's card is ~300 px: a 180 px label column left the bars a sliver. There the
            # labels get 110 px and wrap (recharts breaks a tick's words to the axis width), and
            # each lesson a taller band to wrap in.
            rx.box(funnel_chart(label_width=180, band=0), width="100%",
                   display=rx.breakpoints(initial="none", sm="block")),
            rx.box(funnel_chart(label_width=110, band=48), width="100%",
                   display=rx.breakpoints(initial="block", sm="none")),
            width="100%",
        ), width="100%", role="figure", aria_label="Completion funnel by lesson")),
        rx.cond(AnalyticsState.scope == "all",
                rx.text("Open a course from ", rx.link("Courses", href="/admin/courses"),
                        " to see its completion funnel.", size="2", color_scheme="gray")),
        spacing="4",
        width="100%",
    )


def funnel_chart(label_width: int, band: int) -> rx.Component:
    """Completion by lesson as horizontal bars, lesson titles in a `label_width` column; with
    `band`, that many pixels a lesson (else 320 px in all)."""
    height = AnalyticsState.funnel.length() * band + 40 if band else 320
    return rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", horizontal=False),
        rx.recharts.x_axis(type_="number", allow_decimals=False, tick=AXIS_TICK),
        rx.recharts.y_axis(data_key="lesson", type_="category", width=label_width, tick=AXIS_TICK),
        rx.recharts.graphing_tooltip(),
        rx.recharts.bar(data_key="learners", fill=rx.color("green", 9), name="Learners",
                        radius=[0, 4, 4, 0]),
        data=AnalyticsState.funnel, layout="vertical", height=height, width="100%",
    )


def course_report_links(course_id: rx.Var) -> rx.Component:
    return rx.hstack(
        link_button("Learners", "/admin/courses/" + course_id.to_string() + "/learners",
                    variant="soft", size="2"),
        link_button("Course analytics", "/admin/courses/" + course_id.to_string() + "/analytics",
                    variant="soft", size="2"),
        link_button("Question bank", "/admin/courses/" + course_id.to_string() + "/questions",
                    variant="soft", size="2"),
        link_button("Pacing", "/admin/courses/" + course_id.to_string() + "/pacing",
                    variant="soft", size="2"),
        spacing="2",
        wrap="wrap",
    )
