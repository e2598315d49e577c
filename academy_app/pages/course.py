"""/courses/[slug] — what the course teaches, its syllabus, and enroll / continue."""

from __future__ import annotations

import reflex as rx

from academy_app.components.course import cover, locked_lesson, progress_bar
from academy_app.components.layout import link_button, page, side_card, skeleton_block
from academy_app.pages.checkout import paid_enrollment
from academy_app.pages.errors import not_found_panel
from academy_app.pages.reviews import rating_summary, reviews_section
from academy_app.services import covers
from academy_app.state.course import CourseState
from academy_app.state.rows import LessonRow, ModuleRow


def lesson_icon(lesson: LessonRow) -> rx.Component:
    return rx.cond(
        lesson.done,
        rx.icon("circle-check", size=18, color=rx.color("green", 10), aria_label="Completed"),
        rx.cond(lesson.kind == "video",
                rx.icon("circle-play", size=18, color=rx.color("gray", 10), aria_label="Video"),
                rx.icon("file-text", size=18, color=rx.color("gray", 10), aria_label="Reading")),
    )


def syllabus_lesson(lesson: LessonRow) -> rx.Component:
    title = rx.cond(CourseState.is_enrolled, rx.link(lesson.title, href=lesson.href),
                    rx.text(lesson.title))
    return rx.cond(
        lesson.locked,
        rx.hstack(locked_lesson(lesson), rx.spacer(),
                  rx.text(lesson.duration, size="2", color_scheme="gray"),
                  align="center", width="100%", padding_y="8px", spacing="3"),
        rx.hstack(lesson_icon(lesson), title, rx.spacer(),
                  rx.text(lesson.duration, size="2", color_scheme="gray"),
                  align="center", width="100%", padding_y="8px", spacing="3"))


def cohort_choice() -> rx.Component:
    """A course run in cohorts: which one to enrol in (or, enrolled without one, to join)."""
    return rx.vstack(
        rx.el.label("Cohort", html_for="cohort-choice", style={"font_weight": "500",
                                                                "font_size": "14px"}),
        rx.select.root(
            rx.select.trigger(placeholder="Choose a cohort", id="cohort-choice", width="100%",
                              aria_label="Cohort"),
            rx.select.content(rx.foreach(CourseState.cohorts, lambda cohort: rx.select.item(
                cohort.label, value=cohort.id, disabled=cohort.full))),
            value=CourseState.chosen_cohort,
            on_change=CourseState.choose_cohort,
        ),
        rx.cond(CourseState.cohort_error != "",
                rx.callout(CourseState.cohort_error, icon="triangle-alert", color_scheme="red",
                           size="1", width="100%", role="alert")),
        spacing="2",
        width="100%",
    )


def syllabus_module(module: ModuleRow) -> rx.Component:
    return rx.card(
        rx.heading(module.title, size="4", as_="h3", margin_bottom="8px"),
        rx.foreach(module.lessons, syllabus_lesson),
        width="100%",
    )


def certificate_status() -> rx.Component:
    """What the certificate still needs (every lesson, every graded quiz passed, the grade)."""
    return rx.cond(
        CourseState.certificate_earned,
        rx.callout("You have earned the certificate of this course.", icon="award",
                   color_scheme="green", size="1", width="100%"),
        rx.el.section(
            rx.text("Still needed for the certificate", size="2", weight="bold"),
            rx.el.ul(rx.foreach(CourseState.certificate_missing,
                                lambda missing: rx.el.li(rx.text(missing, size="2"))),
                     style={"margin": "4px 0 0", "padding_left": "18px", "list_style": "disc"}),
            aria_label="Still needed for the certificate", width="100%",
        ),
    )


def call_to_action() -> rx.Component:
    """Price and Enroll / Continue: first in the page's order, so on a phone it sits right under
    the course's title instead of after the whole syllabus; from md up the grid places it in the
    right-hand column, where it stays in view (side_card)."""
    return side_card(
        rx.heading(CourseState.price, size="7", as_="p"),
        rx.cond(
            CourseState.is_enrolled,
            rx.vstack(
                progress_bar(CourseState.percent, "Course progress"),
                rx.text(f"{CourseState.percent}% complete", size="2", color_scheme="gray"),
                rx.cond(CourseState.my_cohort != "",
                        rx.text("Your cohort: ", rx.text.strong(CourseState.my_cohort), size="2")),
                rx.cond((CourseState.cohorts.length() > 0) & (CourseState.my_cohort == ""),
                        rx.vstack(cohort_choice(),
                                  rx.button("Join cohort", on_click=CourseState.enroll,
                                            width="100%"),
                                  width="100%")),
                link_button("Continue learning", CourseState.resume_href, size="3", width="100%"),
                certificate_status(),
                width="100%",
            ),
            rx.cond(
                CourseState.is_free,
                rx.vstack(
                    rx.cond(CourseState.cohorts.length() > 0, cohort_choice()),
                    rx.button("Enroll", on_click=CourseState.enroll, size="3", width="100%"),
                    width="100%",
                ),
                paid_enrollment(),
            ),
        ),
        rx.divider(),
        rx.hstack(rx.icon("list-checks", size=16),
                  rx.text(f"{CourseState.lesson_count} lessons", size="2"), spacing="2"),
        rx.hstack(rx.icon("signal", size=16), rx.text(CourseState.level, size="2"), spacing="2"),
        rx.hstack(rx.icon("infinity", size=16), rx.text("Learn at your own pace", size="2"),
                  spacing="2"),
        grid_area="cta",
    )


def course_summary() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.badge(CourseState.category, size="2"),
                  rx.badge(CourseState.level, variant="outline", size="2")),
        rx.heading(CourseState.title, as_="h1", size="8"),
        rx.text(CourseState.subtitle, size="4", color_scheme="gray"),
        rx.text("Taught by ", rx.text.strong(CourseState.instructor), size="3"),
        rating_summary(),
        padding="24px",
        spacing="3",
    )


def course_picture() -> rx.Component:
    """The uploaded cover beside the summary (above it on a phone), at its 16:9 shape from the
    first paint; the first thing seen, so it is fetched at once rather than lazily."""
    return rx.image(
        src=CourseState.picture, alt=CourseState.picture_alt, decoding="async",
        custom_attrs={"width": str(covers.PAGE.width), "height": str(covers.PAGE.height),
                      "fetchPriority": "high"},
        display="block", width="100%", height="auto", object_fit="cover",
        background=CourseState.cover,
    )


def course_hero() -> rx.Component:
    return rx.cond(
        CourseState.picture != "",
        rx.grid(
            rx.box(course_picture(), order=rx.breakpoints(initial="0", md="1")),
            course_summary(),
            grid_template_columns=rx.breakpoints(initial="minmax(0, 1fr)",
                                                 md="minmax(0, 1fr) minmax(0, 1fr)"),
            align_items="center",
        ),
        rx.fragment(cover(CourseState.cover, height="120px"), course_summary()),
    )


def course_body() -> rx.Component:
    return rx.vstack(
        rx.box(
            course_hero(),
            background=rx.color("gray", 1),
            border_radius="16px",
            overflow="hidden",
            border=f"1px solid {rx.color('gray', 4)}",
            width="100%",
        ),
        rx.grid(
            call_to_action(),
            rx.vstack(
                rx.heading("About this course", size="5", as_="h2"),
                rx.html(CourseState.description_html, class_name="markdown"),
                rx.heading("Syllabus", size="5", as_="h2", padding_top="16px"),
                rx.foreach(CourseState.modules, syllabus_module),
                reviews_section(),
                spacing="3",
                width="100%",
                grid_area="main",
            ),
            # minmax(0, …): a long word or code line in the description wraps or scrolls in its
            # own box instead of widening the column past the screen.
            grid_template_columns=rx.breakpoints(initial="minmax(0, 1fr)",
                                                 md="minmax(0, 3fr) minmax(0, 1.2fr)"),
            grid_template_areas=rx.breakpoints(initial='"cta" "main"', md='"main cta"'),
            spacing="6",
            width="100%",
            align_items="start",
        ),
        spacing="6",
        width="100%",
    )


def course_skeleton() -> rx.Component:
    return rx.vstack(skeleton_block("220px"), skeleton_block("2em", "60%"),
                     skeleton_block("1em", "80%"), skeleton_block("300px"), spacing="4",
                     width="100%", aria_busy="true", aria_label="Loading course")


def course_page() -> rx.Component:
    return page(
        rx.cond(
            CourseState.not_found,
            not_found_panel("course"),
            rx.cond(CourseState.loading, course_skeleton(), course_body()),
        )
    )
