"""The not-found page, for unknown URLs and unknown courses alike."""

from __future__ import annotations

import reflex as rx

from academy_app.components.layout import empty_state, link_button, page


def not_found_panel(what: str = "page") -> rx.Component:
    return empty_state(
        "compass",
        f"{what.capitalize()} not found",
        f"The {what} you are looking for does not exist or is no longer available.",
        link_button("Browse courses", "/courses"),
    )


def not_found_page() -> rx.Component:
    return page(not_found_panel())
