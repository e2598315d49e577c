"""/learn/[slug]/[lesson] — the lesson, the syllabus with checkmarks, and moving on."""

from __future__ import annotations

import reflex as rx

from academy_app.components.course import due_label, lock_reason, locked_lesson, progress_bar
from academy_app.components.layout import link_button, page, side_card, skeleton_block
from academy_app.pages.discussions import discussion_section
from academy_app.pages.quiz import quiz_panel
from academy_app.state.learn import LearnState
from academy_app.state.rows import LessonRow, ModuleRow


def sidebar_lesson(lesson: LessonRow) -> rx.Component:
    return rx.cond(lesson.locked,
                   locked_lesson(lesson, padding_x="12px", padding_y="8px"),
                   open_sidebar_lesson(lesson))


def open_sidebar_lesson(lesson: LessonRow) -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.cond(LearnState.completed_ids.contains(lesson.id),
                    rx.icon("circle-check", size=18, color=rx.color("green", 10),
                            aria_label="Completed"),
                    rx.icon("circle", size=18, color=rx.color("gray", 8),
                            aria_label="Not completed")),
            rx.vstack(rx.text(lesson.title, size="2",
                              weight=rx.cond(lesson.current, "bold", "regular")),
                      due_label(lesson.due_at, lesson.closed), spacing="0"),
            align="center",
            spacing="2",
            padding_x="12px",
            padding_y="8px",
            border_radius="8px",
            background=rx.cond(lesson.current, rx.color("accent", 3), "transparent"),
            _hover={"background": rx.color("accent", 2)},
        ),
        href=lesson.href,
        underline="none",
        color=rx.color("gray", 12),
        aria_current=rx.cond(lesson.current, "page", "false"),
    )


def sidebar_module(module: ModuleRow) -> rx.Component:
    return rx.vstack(
        rx.text(module.title, size="1", weight="bold", color_scheme="gray",
                text_transform="uppercase", letter_spacing="0.04em", padding_x="12px"),
        rx.foreach(module.lessons, sidebar_lesson),
        spacing="1",
        width="100%",
    )


def sidebar() -> rx.Component:
    return side_card(
        rx.link(LearnState.course_title, href="/courses/" + LearnState.course_slug, weight="bold",
                size="3"),
        progress_bar(LearnState.percent, "Course progress"),
        rx.text(f"{LearnState.done} of {LearnState.total} lessons · {LearnState.percent}%",
                size="2", color_scheme="gray"),
        rx.el.nav(rx.vstack(rx.foreach(LearnState.modules, sidebar_module), spacing="4"),
                  aria_label="Syllabus", width="100%"),
    )


def lesson_actions() -> rx.Component:
    return rx.flex(
        rx.cond(LearnState.previous_href != "",
                link_button("Previous lesson", LearnState.previous_href, variant="soft",
                            color_scheme="gray")),
        rx.spacer(),
        rx.cond(
            LearnState.is_enrolled & (LearnState.lesson_kind != "quiz"),  # passing completes it
            # One button whose label turns over, not two swapped: focus stays on it when pressed
            # (a keyboard user is not sent back to the top of the page).
            rx.button(
                rx.cond(LearnState.is_completed, rx.icon("check", size=16),
                        rx.icon("circle-check", size=16)),
                rx.cond(LearnState.is_completed, "Mark as not complete", "Mark as complete"),
                variant=rx.cond(LearnState.is_completed, "outline", "solid"),
                color_scheme="green", on_click=LearnState.set_completed(~LearnState.is_completed)),
        ),
        rx.cond(LearnState.next_href != "",
                rx.button("Next lesson", rx.icon("arrow-right", size=16),
                          on_click=rx.redirect(LearnState.next_href))),
        rx.cond(LearnState.next_locked.locked,
                rx.hstack(rx.icon("lock", size=16, aria_label="Locked"),
                          rx.text("Next: ", LearnState.next_locked.title, " · ",
                                  lock_reason(LearnState.next_locked), size="2"),
                          align="center", spacing="2", color=rx.color("gray", 11))),
        # A phone stacks them, full width: in a row that wraps, "Next lesson" fell alone to the
        # left of a second line under "Mark as complete" on the right.
        direction=rx.breakpoints(initial="column", sm="row"),
        align=rx.breakpoints(initial="stretch", sm="center"),
        spacing="3",
        wrap="wrap",
        width="100%",
        padding_top="16px",
        border_top=f"1px solid {rx.color('gray', 4)}",
    )


def completion_banner() -> rx.Component:
    return rx.cond(
        LearnState.course_complete,
        rx.callout("You have completed every lesson of this course. Well done!",
                   icon="party-popper", color_scheme="green", width="100%", role="status"),
    )


def lesson_video() -> rx.Component:
    """A 16:9 frame from the first paint (no black strip while the video loads), with captions
    and, under it, their transcript for those who read rather than watch."""
    video = rx.el.video(
        rx.cond(LearnState.captions_src != "",
                rx.el.track(kind="captions", src=LearnState.captions_src, src_lang="en",
                            label="Captions", default=True)),
        src=LearnState.video_url, poster=LearnState.poster_url, controls=True,
        preload="metadata", plays_inline=True, aria_label="Lesson video",
        style={"position": "absolute", "inset": "0", "width": "100%", "height": "100%",
               "object_fit": "contain", "background": "#000"},
    )
    return rx.vstack(
        rx.box(video, position="relative", width="100%", aspect_ratio="16 / 9",
               border_radius="12px", overflow="hidden", background="#000"),
        rx.cond(LearnState.transcript.length() > 0, rx.el.details(
            rx.el.summary("Transcript", style={"cursor": "pointer", "font_weight": "500"}),
            rx.el.ol(rx.foreach(LearnState.transcript, lambda line: rx.el.li(
                rx.text(line.at, as_="span", size="1", color_scheme="gray",
                        font_variant_numeric="tabular-nums", min_width="3.5em"),
                rx.text(line.text, as_="span", size="2"),
                style={"display": "flex", "gap": "12px", "padding": "2px 0"})),
                style={"list_style": "none", "padding": "8px 0 0", "margin": "0",
                       "max_height": "320px", "overflow_y": "auto"},
                aria_label="Transcript of the video"),
            width="100%")),
        spacing="2",
        width="100%",
    )


def lesson_content() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.badge(rx.match(LearnState.lesson_kind, ("video", "Video lesson"), ("quiz", "Quiz"),
                              "Reading"), variant="soft"),
            rx.heading(LearnState.lesson_title, as_="h1", size="7"),
            rx.cond((LearnState.lesson_kind == "video") & (LearnState.video_url != ""),
                    lesson_video()),
            rx.html(LearnState.body_html, class_name="markdown"),
            quiz_panel(),
            completion_banner(),
            lesson_actions(),
            spacing="4",
            width="100%",
        ),
        width="100%",
        padding="24px",
    )


def learn_skeleton() -> rx.Component:
    return rx.grid(skeleton_block("400px"), skeleton_block("400px"),
                   columns=rx.breakpoints(initial="1", md="1fr 2.4fr"), spacing="6", width="100%",
                   aria_busy="true", aria_label="Loading lesson")


def learn_page() -> rx.Component:
    return page(
        rx.cond(
            LearnState.loading,
            learn_skeleton(),
            rx.grid(sidebar(), rx.vstack(lesson_content(), discussion_section(), spacing="6",
                                         width="100%"), columns=rx.breakpoints(initial="1", md="1fr 2.4fr"),
                    spacing="6",
                    width="100%", align_items="start"),
        )
    )
