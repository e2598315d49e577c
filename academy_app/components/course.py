"""Course pieces shared by the home page, the catalog and the dashboard."""

from __future__ import annotations

import reflex as rx
from reflex.vars import FunctionStringVar

from academy_app.components.layout import skeleton_block
from academy_app.services import covers
from academy_app.state.rows import CourseCardRow, LessonRow, TextPart

CARD_GRID_COLUMNS = rx.breakpoints(initial="1", sm="2", md="3")


# How wide a card's cover is drawn, for the browser to pick a file from a srcset: three cards a
# row from md (about 400 px each in the 1,280 px column), two from sm, one below.
CARD_PICTURE_SIZES = "(min-width: 1024px) 400px, (min-width: 768px) 50vw, 100vw"


def cover(background: rx.Var | str, height: str = "", label: rx.Var | str = "",
          picture: rx.Var | str = "", pictures: rx.Var | str = "",
          alt: rx.Var | str = "") -> rx.Component:
    """A course's cover: its uploaded picture (card size), or a calm gradient with the category.
    Without `height` it is 16:9, the picture's own shape; the <img> carries its width and height,
    so the page keeps its place while it loads."""
    shape = {"height": height} if height else {"aspect_ratio": "16 / 9"}
    plain = rx.center(
        rx.icon("book-open", size=36, color="rgba(255,255,255,0.85)"),
        rx.cond(label != "", rx.text(label, color="white", weight="bold", size="2",
                                     position="absolute", bottom="10px", left="14px")),
        background=background,
        width="100%",
        position="relative",
        aria_hidden="true",
        **shape,
    )
    if isinstance(picture, str) and not picture:
        return plain
    return rx.cond(picture != "", rx.image(
        src=picture, src_set=pictures, sizes=CARD_PICTURE_SIZES, alt=alt, loading="lazy",
        decoding="async",
        custom_attrs={"width": str(covers.CARD.width), "height": str(covers.CARD.height)},
        display="block", width="100%", object_fit="cover", background=background,
        **({"height": height} if height else {"height": "auto"}),
    ), plain)


def price_badge(price: rx.Var) -> rx.Component:
    return rx.badge(price, color_scheme=rx.cond(price == "Free", "green", "indigo"), size="2",
                    variant="soft")


def title_part(part: TextPart) -> rx.Component:
    """A piece of a card's title; a catalog search's match is marked (as text: no markup)."""
    return rx.cond(part.match, rx.el.mark(part.text, class_name="search-match"),
                   rx.text.span(part.text))


def stars(rating: rx.Var | str, reviews: rx.Var | str, label: rx.Var | str,
          size: str = "2") -> rx.Component:
    """★ 4.5 (12): an average rating, read out whole by a screen reader ("Rated 4.5 out of 5 in
    12 reviews") instead of as a glyph and two numbers."""
    return rx.hstack(
        rx.icon("star", size=14, fill=rx.color("amber", 9), color=rx.color("amber", 9),
                aria_hidden="true"),
        rx.text(rating, size=size, weight="bold", aria_hidden="true"),
        rx.text(reviews, size=size, color_scheme="gray", aria_hidden="true"),
        rx.text(label, class_name="visually-hidden"),
        align="center",
        spacing="1",
    )


def course_card(course: CourseCardRow) -> rx.Component:
    return rx.link(
        rx.card(
            rx.inset(cover(course.cover, label=course.category, picture=course.picture,
                           pictures=course.pictures, alt=course.picture_alt),
                     side="top", pb="current"),
            rx.vstack(
                rx.hstack(rx.badge(course.level, variant="outline", color_scheme="gray"),
                          rx.spacer(), price_badge(course.price), width="100%"),
                rx.heading(rx.foreach(course.title_parts, title_part), size="4", as_="h3"),
                rx.text(course.subtitle, size="2", color_scheme="gray", line_clamp=2),
                rx.cond(course.rating != "",
                        stars(course.rating, course.reviews, course.rating_label)),
                rx.spacer(),
                rx.hstack(rx.icon("user", size=14), rx.text(course.instructor, size="2"),
                          rx.spacer(), rx.text(course.lessons, size="1", color_scheme="gray"),
                          align="center", width="100%", spacing="1"),
                spacing="2",
                # Takes what the cover leaves of the card's height (not height: 100%, which came
                # on top of the cover and pushed the bottom row under the card's overflow:
                # hidden); its spacer sets the instructor row of each card on one line.
                flex_grow="1",
            ),
            display="flex",
            flex_direction="column",
            height="100%",
            _hover={"box_shadow": "0 10px 30px rgba(15, 23, 42, 0.12)",
                    "transform": "translateY(-2px)"},
            transition="all 0.15s ease",
        ),
        href="/courses/" + course.slug,
        underline="none",
        color="inherit",
        aria_label=course.title,
        # A block that fills its grid cell: the grid stretches each row's cards to its tallest.
        display="block",
        height="100%",
    )


def card_grid(courses: rx.Var) -> rx.Component:
    return rx.grid(rx.foreach(courses, course_card), columns=CARD_GRID_COLUMNS, spacing="5",
                   width="100%", align_items="stretch")


# The element the served HTML fills with the catalog's first cards (api/served_html.py).
SERVED_CARDS = "first-paint-cards"


def served_cards() -> rx.Component:
    """Where the served HTML of the catalog puts its first page of cards, drawn by the server, so
    the page's largest paint need not wait for the app and the WebSocket. React renders this
    element with dangerouslySetInnerHTML, whose content it takes as it finds it when it hydrates
    and never looks into again; the app's own cards replace it once they arrive. Empty (drawn by
    the app itself, or for an address with a search), it takes no room and the skeleton beside it
    shows instead (styles.css)."""
    return rx.html("", class_name=SERVED_CARDS)


def card_grid_skeleton(count: int = 3) -> rx.Component:
    return rx.grid(
        *[rx.card(rx.vstack(skeleton_block("120px"), skeleton_block("1.2em", "70%"),
                            skeleton_block("0.9em"), skeleton_block("0.9em", "50%"), spacing="3"))
          for _ in range(count)],
        columns=CARD_GRID_COLUMNS,
        spacing="5",
        width="100%",
        aria_busy="true",
        aria_label="Loading courses",
    )


def progress_bar(percent: rx.Var, label: rx.Var | str) -> rx.Component:
    """Radix Progress: role=progressbar with aria-valuenow, named for the course it measures."""
    return rx.progress(value=percent, max=100, aria_label=label, size="2", width="100%")


# "Opens Tue 9 Dec, 09:00", "Due Fri 12 Dec, 17:00": words and a UTC instant worded by the
# browser in its own time zone: the learner reads the time on their own clock (the server's words
# use the course's zone).
_IN_BROWSER = FunctionStringVar.create(
    "((words, iso) => words + ' ' + new Intl.DateTimeFormat('en-GB', {weekday: 'short', "
    "day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23'})"
    ".format(new Date(iso)))")


def in_browser_zone(words: rx.Var | str, iso: rx.Var) -> rx.Var:
    """`words` then the instant `iso` (ISO 8601, UTC) on the browser's clock."""
    return _IN_BROWSER.call(words, iso).to(str)


def lock_reason(lesson: LessonRow) -> rx.Var:
    """Why a locked lesson is locked, or when it opens in the browser's zone."""
    return rx.cond(lesson.opens_at != "", in_browser_zone("Opens", lesson.opens_at),
                   lesson.lock_reason)


def due_label(due_at: rx.Var, closed: rx.Var, **props: object) -> rx.Component:
    """"Due …" or "Closed on …" for a quiz that closes, in the browser's zone; nothing else."""
    return rx.cond(due_at != "", rx.text(
        in_browser_zone(rx.cond(closed, "Closed on", "Due"), due_at), size="1",
        color=rx.cond(closed, rx.color("red", 11), rx.color("gray", 11)), **props))


def locked_lesson(lesson: LessonRow, **props: object) -> rx.Component:
    """A lesson the learner cannot open yet: a lock, its title and why (no link to follow)."""
    return rx.hstack(
        rx.icon("lock", size=18, color=rx.color("gray", 10), aria_label="Locked", flex_shrink="0"),
        rx.vstack(rx.text(lesson.title, size="2", color=rx.color("gray", 11)),
                  rx.text(lock_reason(lesson), size="1", color=rx.color("gray", 11)),
                  due_label(lesson.due_at, lesson.closed),
                  spacing="0"),
        align="center",
        spacing="2",
        aria_label=f"{lesson.title}, locked",
        **props,
    )
