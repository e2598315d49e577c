"""/dashboard — My learning: every enrolled course with its progress."""

from __future__ import annotations

import reflex as rx

from academy_app.components.course import card_grid, cover, progress_bar
from academy_app.components.layout import (
    empty_state,
    link_button,
    page,
    page_header,
    skeleton_block,
    stat_card,
)
from academy_app.state.dashboard import DashboardState
from academy_app.state.rows import DashboardRow


def course_row(course: DashboardRow) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.box(cover(course.cover, height="110px", picture=course.picture),
                   width=["100%", "180px"], flex_shrink="0", border_radius="10px",
                   overflow="hidden"),
            rx.vstack(
                rx.hstack(
                    rx.link(rx.heading(course.title, size="4", as_="h2"),
                            href="/courses/" + course.slug, underline="none",
                            color=rx.color("gray", 12)),
                    rx.match(course.status,
                             ("completed", rx.badge("Completed", color_scheme="green",
                                                    variant="soft")),
                             ("pending_payment", rx.badge("Payment awaiting approval",
                                                          color_scheme="amber", variant="soft")),
                             rx.fragment()),
                    align="center",
                    wrap="wrap",
                ),
                rx.text(course.instructor, size="2", color_scheme="gray"),
                progress_bar(course.percent, "Progress in " + course.title),
                rx.hstack(rx.text(course.summary, size="2", color_scheme="gray"), rx.spacer(),
                          rx.text(f"{course.percent}%", weight="bold", size="2"), width="100%"),
                spacing="2",
                flex="1",
                width="100%",
            ),
            rx.vstack(
                # A long lesson title wraps inside the button instead of widening the page.
                link_button(course.action, course.resume_href, aria_label=course.action_label,
                            white_space="normal", height="auto", min_height="var(--space-6)",
                            padding_y="6px", text_align="center", max_width="100%"),
                rx.cond(course.certificate_href != "",
                        link_button(rx.hstack(rx.icon("award", size=16), "View certificate",
                                              align="center", spacing="2"),
                                    course.certificate_href, variant="soft",
                                    aria_label="View certificate of " + course.title)),
                align="stretch",
                justify="center",
                spacing="2",
                max_width=["100%", "240px"],
            ),
            direction=rx.breakpoints(initial="column", sm="row"),
            spacing="5",
            width="100%",
        ),
        width="100%",
    )


def suggestions() -> rx.Component:
    """A few catalog courses to start with, for a learner who has none yet."""
    return rx.el.section(
        rx.heading("Suggested for you", size="5", as_="h2", id="suggestions-heading",
                   margin_bottom="16px"),
        card_grid(DashboardState.suggestions),
        aria_labelledby="suggestions-heading",
        style={"width": "100%"},
    )


def dashboard_page() -> rx.Component:
    return page(
        page_header("My learning", "Pick up where you left off",
                    link_button(rx.hstack(rx.icon("award", size=16), "My certificates",
                                          align="center", spacing="2"),
                                "/certificates", variant="soft")),
        rx.cond(
            DashboardState.loading,
            rx.vstack(skeleton_block("130px"), skeleton_block("130px"), width="100%",
                      spacing="4", aria_busy="true", aria_label="Loading your courses"),
            rx.cond(
                DashboardState.courses.length() > 0,
                rx.vstack(
                    rx.grid(stat_card("Courses", DashboardState.courses.length(), size="7"),
                            stat_card("Completed", DashboardState.completed_count, size="7"),
                            columns="2", spacing="4", width=["100%", "360px"]),
                    rx.foreach(DashboardState.courses, course_row),
                    spacing="4",
                    width="100%",
                ),
                rx.vstack(
                    empty_state("book-open", "You are not enrolled in any course yet",
                                "Browse the catalog and enroll in a course to start learning.",
                                link_button("Browse courses", "/courses")),
                    rx.cond(DashboardState.suggestions.length() > 0, suggestions()),
                    spacing="6",
                    width="100%",
                ),
            ),
        ),
    )
