"""/study-groups — the study groups of the courses the learner takes."""

from __future__ import annotations

import reflex as rx

from academy_app.components.layout import empty_state, link_button, page, page_header
from academy_app.state.study_groups import LearnerGroupsState, StudyGroupLine


def group_card(group: StudyGroupLine) -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading(group.name, size="4", as_="h2"),
        rx.text(group.course, size="2", color_scheme="gray"),
        rx.text(group.description, size="2"),
        rx.hstack(
            rx.badge(rx.icon("users", size=12), group.seats, color_scheme="gray"),
            rx.spacer(),
            rx.cond(group.meeting_url != "", rx.link(
                "Join the call", href=group.meeting_url, is_external=True, size="2",
                aria_label="Join the call of " + group.name)),
            width="100%", align="center",
        ),
        spacing="2", width="100%",
    ), width="100%")


def study_groups_page() -> rx.Component:
    return page(
        page_header("Study groups", "Learn together: the groups of the courses you take."),
        rx.cond(
            LearnerGroupsState.rows,
            rx.grid(rx.foreach(LearnerGroupsState.rows, group_card),
                    columns=rx.breakpoints(initial="1", sm="2", lg="3"), spacing="4",
                    width="100%"),
            rx.cond(LearnerGroupsState.loading, rx.fragment(), empty_state(
                "users", "No study groups yet",
                "When an instructor opens a group for one of your courses, it appears here.",
                link_button("Browse courses", "/courses"))),
        ),
    )
