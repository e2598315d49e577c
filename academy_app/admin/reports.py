"""A course's learners (/admin/courses/[course_id]/learners) and analytics (/admin/analytics,
/admin/courses/[course_id]/analytics)."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from academy_app.admin.layout import StaffState, admin_page, data_table
from academy_app.components.course import progress_bar
from academy_app.components.layout import empty_state, link_button, stat_card
from academy_app.db import session_scope
from academy_app.services import authoring, reports
from academy_app.services.errors import ServiceError
from academy_app.state.rows import price_label
from academy_app.text import id_in

SORT_COLUMNS = [("name", "Learner"), ("status", "Status"), ("percent", "Progress"),
                ("activity", "Last activity")]
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

    def _open_course(self, session, staff) -> bool:  # noqa: ANN001
        try:
            course = authoring.course_for_editing(
                session, staff, _course_id_from_path(self.router.url.path))
        except ServiceError:
            self.reset()  # no figures of a course opened earlier in this tab may linger
            self.not_found, self.course_title, self.course_href = True, "", ""
            return False
        self._course_id, self.not_found = course.id, False
        self.course_title, self.course_href = course.title, f"/admin/courses/{course.id}"
        return True


class LearnersState(CourseReportState):
    rows: list[LearnerLine] = []
    query: str = ""
    sort: str = "name"
    descending: bool = False

    @rx.event
    def load(self):  # noqa: ANN201
        with session_scope() as session:
            staff, away = self._staff_or_redirect(session)
            if away:
                return away
            if not self._open_course(session, staff):
                return None
            self.rows = [LearnerLine(name=r.name, email=r.email,
                                     status=STATUS_LABELS.get(r.status, r.status),
                                     percent=r.percent,
                                     activity=r.last_activity.strftime("%d %b %Y, %H:%M UTC"))
                         for r in reports.course_learners(session, staff, self._course_id,
                                                          self.query, self.sort, self.descending)]
        return None

    @rx.event
    def search(self, text: str):  # noqa: ANN201
        self.query = text[:100] if isinstance(text, str) else ""
        return LearnersState.load

    @rx.event
    def sort_by(self, column: str):  # noqa: ANN201
        if column in reports.LEARNER_SORTS:
            self.descending = not self.descending if column == self.sort else column != "name"
            self.sort = column
        return LearnersState.load

    @rx.event
    def export_csv(self):  # noqa: ANN201
        try:
            with session_scope() as session:
                data = reports.learners_csv(session, self._actor(session), self._course_id)
        except ServiceError as exc:
            return self._refuse("export_csv", exc)
        return rx.download(data=data, filename=f"learners-{self._course_id}.csv")


class AnalyticsState(CourseReportState):
    # Chart rows: recharts takes plain dicts ({"day", "enrollments"} and {"lesson", "learners"}).
    days: list[dict[str, str | int]] = []
    funnel: list[dict[str, str | int]] = []
    revenue: str = ""
    learners: int = 0
    completed: int = 0
    scope: str = "all"  # "all" courses of the actor, or "course"

    @rx.event
    def load(self):  # noqa: ANN201
        with session_scope() as session:
            staff, away = self._staff_or_redirect(session)
            if away:
                return away
            if self.router.url.path.rstrip("/").endswith("/analytics") and \
                    self.router.url.path.startswith("/admin/courses/"):
                opened = self._open_course(session, staff)
                self.scope = "course"
                if not opened:
                    return None
                data = reports.course_analytics(session, staff, self._course_id)
            else:
                self.scope, self.course_title, self.not_found = "all", "", False
                data = reports.overall_analytics(session, staff)
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


def _course_header(state: type[CourseReportState]) -> rx.Component:
    return rx.hstack(rx.link("← " + state.course_title, href=state.course_href), width="100%")


def _course_missing() -> rx.Component:
    return rx.callout("This course does not exist, or it is not yours.", icon="circle-alert",
                      color_scheme="red", role="alert")


def learners_page() -> rx.Component:
    return admin_page(
        "Learners",
        "Who is taking this course and how far they are.",
        rx.cond(LearnersState.not_found,
                _course_missing(),
                rx.vstack(
                    _course_header(LearnersState),
                    rx.hstack(
                        rx.debounce_input(rx.input(
                            rx.input.slot(rx.icon("search", size=16)), value=LearnersState.query,
                            on_change=LearnersState.search, type="search", width="300px",
                            aria_label="Search learners", placeholder="Search by name or email"),
                            debounce_timeout=250),
                        rx.spacer(),
                        rx.button(rx.icon("download", size=14), "Export CSV", variant="soft",
                                  on_click=LearnersState.export_csv),
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
        rx.cond(AnalyticsState.not_found, _course_missing(), analytics_charts()),
    )


def analytics_charts() -> rx.Component:
    return rx.vstack(
        rx.cond(AnalyticsState.scope == "course", _course_header(AnalyticsState)),
        rx.grid(stat_card("Learners", AnalyticsState.learners),
                stat_card("Completed", AnalyticsState.completed),
                stat_card("Approved revenue", AnalyticsState.revenue),
                columns=rx.breakpoints(initial="1", sm="3"), spacing="4", width="100%"),
        rx.card(rx.vstack(
            rx.heading("Enrollments, last 30 days", size="4", as_="h2"),
            rx.recharts.bar_chart(
                rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
                rx.recharts.x_axis(data_key="day", font_size=11),
                rx.recharts.y_axis(allow_decimals=False, width=30, font_size=11),
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
            rx.recharts.bar_chart(
                rx.recharts.cartesian_grid(stroke_dasharray="3 3", horizontal=False),
                rx.recharts.x_axis(type_="number", allow_decimals=False, font_size=11),
                rx.recharts.y_axis(data_key="lesson", type_="category", width=180, font_size=11),
                rx.recharts.graphing_tooltip(),
                rx.recharts.bar(data_key="learners", fill=rx.color("green", 9), name="Learners",
                                radius=[0, 4, 4, 0]),
                data=AnalyticsState.funnel, layout="vertical", height=320, width="100%",
            ),
            width="100%",
        ), width="100%", role="figure", aria_label="Completion funnel by lesson")),
        rx.cond(AnalyticsState.scope == "all",
                rx.text("Open a course from ", rx.link("Courses", href="/admin/courses"),
                        " to see its completion funnel.", size="2", color_scheme="gray")),
        spacing="4",
        width="100%",
    )


def course_report_links(course_id: rx.Var) -> rx.Component:
    return rx.hstack(
        link_button("Learners", "/admin/courses/" + course_id.to_string() + "/learners",
                    variant="soft", size="2"),
        link_button("Course analytics", "/admin/courses/" + course_id.to_string() + "/analytics",
                    variant="soft", size="2"),
        spacing="2",
    )
