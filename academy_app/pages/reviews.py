"""The course page's Reviews section: the average, the learner's form, every review and its reply."""

from __future__ import annotations

import reflex as rx

from academy_app.components.course import stars
from academy_app.components.layout import labelled
from academy_app.components.people import face
from academy_app.services.reviews import MAX_BODY, MIN_BODY
from academy_app.state.reviews import STAR_LABELS, ReviewLine, ReviewState


def rating_summary() -> rx.Component:
    """★ 4.5 (12 reviews) under the course's title; "No reviews yet" before the first."""
    return rx.cond(
        ReviewState.average != "",
        rx.link(stars(ReviewState.average, "(" + ReviewState.count_label + ")",
                      ReviewState.summary_label, size="3"),
                href="#reviews", underline="none", color="inherit"),
        rx.text("No reviews yet", size="2", color_scheme="gray"),
    )


def star_row(rating: rx.Var, size: int = 16) -> rx.Component:
    """Five stars, the first `rating` filled: drawn for the eye; the text beside says it."""
    return rx.hstack(
        *[rx.icon("star", size=size, color=rx.color("amber", 9),
                  fill=rx.cond(rating >= n, rx.color("amber", 9), "none"))
          for n in range(1, 6)],
        spacing="0",
        aria_hidden="true",
    )


def star_choice() -> rx.Component:
    """A radio group: Tab reaches it, arrows move between "1 star" … "5 stars", Space picks."""
    return rx.radio_cards.root(
        *[rx.radio_cards.item(
            rx.vstack(star_row(rx.Var.create(n), size=14), rx.text(label, size="2"),
                      align="center", spacing="1"),
            value=str(n))
          for n, label in STAR_LABELS.items()],
        value=ReviewState.rating,
        on_value_change=ReviewState.set_rating,
        columns=rx.breakpoints(initial="3", sm="5"),
        gap="2",
        size="1",
        width="100%",
        aria_label="Your rating",
        aria_describedby="review-rating-error",
        aria_invalid=rx.cond(ReviewState.errors.contains("rating"), "true", "false"),
    )


def review_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(rx.cond(ReviewState.has_own, "Edit your review", "Rate this course"),
                       size="4", as_="h3"),
            rx.el.fieldset(
                rx.el.legend("Your rating", style={"font_weight": "500", "font_size": "14px",
                                                   "margin_bottom": "6px"}),
                star_choice(),
                rx.cond(ReviewState.errors.contains("rating"),
                        rx.text(ReviewState.errors["rating"], id="review-rating-error",
                                color_scheme="red", size="2", role="alert")),
                style={"border": "none", "padding": "0", "margin": "0", "width": "100%",
                       "min_width": "0"},
            ),
            labelled("Your review", "review-body", rx.text_area(
                id="review-body", value=ReviewState.body, on_change=ReviewState.set_body,
                rows="4", width="100%", aria_describedby="review-body-error",
                aria_invalid=rx.cond(ReviewState.errors.contains("body"), "true", "false"),
                color_scheme=rx.cond(ReviewState.errors.contains("body"), "red", "gray")),
                ReviewState.errors.get("body", ""),
                hint=f"What did you learn, and who is it for? {MIN_BODY} to {MAX_BODY:,} "
                     "characters."),
            rx.hstack(
                rx.spacer(),
                rx.button("Cancel", variant="soft", color_scheme="gray",
                          on_click=ReviewState.cancel_editing),
                rx.button(rx.cond(ReviewState.has_own, "Save review", "Post review"),
                          on_click=ReviewState.save_review),
                width="100%",
                spacing="2",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def learner_panel() -> rx.Component:
    """What the viewer may do: write or edit their review, or why they cannot yet."""
    return rx.cond(
        ReviewState.editing,
        review_form(),
        rx.cond(
            ReviewState.can_review,
            rx.button(rx.cond(ReviewState.has_own, "Edit your review", "Write a review"),
                      variant="soft", on_click=ReviewState.start_editing),
            rx.cond(ReviewState.hint != "",
                    rx.text(ReviewState.hint, size="2", color_scheme="gray")),
        ),
    )


def reply_form(line: ReviewLine) -> rx.Component:
    return rx.vstack(
        labelled("Your reply", "review-reply", rx.text_area(
            id="review-reply", value=ReviewState.reply_text,
            on_change=ReviewState.set_reply_text, rows="3", width="100%",
            aria_describedby="review-reply-error",
            aria_invalid=rx.cond(ReviewState.reply_error != "", "true", "false"),
            color_scheme=rx.cond(ReviewState.reply_error != "", "red", "gray")),
            ReviewState.reply_error),
        rx.hstack(rx.spacer(),
                  rx.button("Cancel", variant="soft", color_scheme="gray", size="2",
                            on_click=ReviewState.cancel_reply),
                  rx.button("Post reply", size="2", on_click=ReviewState.save_reply,
                            aria_label="Post reply to " + line.author),
                  width="100%", spacing="2"),
        width="100%",
        spacing="2",
    )


def review_item(line: ReviewLine) -> rx.Component:
    return rx.el.article(
        rx.vstack(
            rx.hstack(
                face(line.author, line.avatar, line.initials),
                rx.text(line.author, weight="bold", size="3"),
                rx.cond(line.mine, rx.badge("Your review", variant="soft", size="1")),
                rx.spacer(),
                rx.text(line.date, size="1", color_scheme="gray"),
                align="center", width="100%", wrap="wrap",
            ),
            rx.hstack(star_row(line.rating), rx.text(line.stars_label, class_name="visually-hidden")),
            rx.text(line.body, size="2", white_space="pre-wrap"),
            rx.cond(
                line.reply != "",
                rx.box(
                    rx.text("Reply from ", rx.text.strong(line.reply_author), size="2"),
                    rx.text(line.reply, size="2", white_space="pre-wrap"),
                    padding="10px 14px",
                    border_left=f"3px solid {rx.color('accent', 8)}",
                    background=rx.color("gray", 2),
                    border_radius="6px",
                    width="100%",
                ),
            ),
            rx.cond(
                ReviewState.can_reply,
                rx.cond(
                    ReviewState.reply_to == line.id,
                    reply_form(line),
                    rx.button(rx.cond(line.reply != "", "Edit reply", "Reply"), variant="ghost",
                              size="1", on_click=ReviewState.open_reply(line.id),
                              aria_label=rx.cond(line.reply != "", "Edit reply to ",
                                                 "Reply to ") + line.author),
                ),
            ),
            spacing="2",
            width="100%",
        ),
        aria_label="Review by " + line.author,
        style={"padding": "14px 0", "border_top": f"1px solid {rx.color('gray', 4)}",
               "width": "100%"},
    )


def reviews_section() -> rx.Component:
    return rx.el.section(
        rx.vstack(
            rx.hstack(
                rx.heading("Reviews", size="5", as_="h2", id="reviews-heading"),
                rating_summary(),
                align="center", spacing="4", wrap="wrap",
            ),
            learner_panel(),
            rx.foreach(ReviewState.lines, review_item),
            spacing="3",
            width="100%",
        ),
        id="reviews",
        aria_labelledby="reviews-heading",
        style={"width": "100%", "padding_top": "16px", "scroll_margin_top": "90px"},
    )
