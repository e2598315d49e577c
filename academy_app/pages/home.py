"""/ — what Academy is, and the most popular courses."""

from __future__ import annotations

import reflex as rx

from academy_app.components.course import card_grid, card_grid_skeleton
from academy_app.components.layout import link_button, page
from academy_app.state.catalog import HomeState

STEPS = [
    ("search", "Find your course", "Browse by topic and level, free or paid."),
    ("play", "Learn at your pace", "Short lessons, video and text, on any device."),
    ("award", "Earn a certificate", "Finish every lesson and share a verifiable certificate."),
]


def hero() -> rx.Component:
    return rx.vstack(
        rx.badge("New courses every month", variant="soft", size="2", radius="full"),
        rx.heading("Learn skills that matter, at your own pace", as_="h1", size="9",
                   weight="bold", max_width="760px", line_height="1.1"),
        rx.text("Practical courses from working instructors. Track your progress live and pick "
                "up right where you left off.", size="5", color_scheme="gray", max_width="620px"),
        rx.hstack(
            link_button("Browse courses", "/courses", size="3"),
            rx.cond(~HomeState.is_authenticated,
                    link_button("Sign up free", "/signup", size="3", variant="outline")),
            spacing="3",
            padding_top="8px",
        ),
        spacing="4",
        padding_y=["32px", "64px"],
    )


def step(icon: str, title: str, text: str) -> rx.Component:
    return rx.card(rx.hstack(
        rx.center(rx.icon(icon, size=20), background=rx.color("accent", 3),
                  color=rx.color("accent", 11), border_radius="12px", min_width="44px",
                  height="44px"),
        # h2: straight under the page's h1, no level skipped (Lighthouse's heading order audit).
        rx.vstack(rx.heading(title, size="3", as_="h2"), rx.text(text, size="2",
                                                                  color_scheme="gray"),
                  spacing="1"),
        spacing="3",
    ))


def home_page() -> rx.Component:
    return page(
        hero(),
        rx.grid(*[step(*s) for s in STEPS], columns=rx.breakpoints(initial="1", sm="3"), spacing="4",
                margin_bottom="64px"),
        rx.hstack(rx.heading("Popular courses", size="6", as_="h2"), rx.spacer(),
                  rx.link("See all courses", href="/courses"), align="end", margin_bottom="16px"),
        rx.cond(HomeState.loading, card_grid_skeleton(), card_grid(HomeState.featured)),
    )
