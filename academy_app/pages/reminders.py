"""/unsubscribe/[token] — reminder emails off, or back on, from the link in a reminder."""

from __future__ import annotations

import reflex as rx

from academy_app.components.layout import empty_state, link_button, page, page_header
from academy_app.state.reminders import ReminderLinkState


def unsubscribe_page() -> rx.Component:
    return page(
        page_header("Reminder emails"),
        rx.cond(
            ReminderLinkState.loading,
            rx.spinner(aria_label="Loading"),
            rx.cond(
                ReminderLinkState.valid,
                rx.card(rx.vstack(
                    rx.cond(
                        ReminderLinkState.enabled,
                        rx.text("Academy sends a reminder to ", rx.text.strong(
                            ReminderLinkState.email), " when a course has waited a week for you."),
                        rx.callout("No more reminder emails to " + ReminderLinkState.email + ".",
                                   icon="bell-off", color_scheme="green", role="status",
                                   width="100%"),
                    ),
                    rx.text("Emails about your enrollments, payments and certificates still "
                            "arrive.", size="2", color_scheme="gray"),
                    rx.cond(
                        ReminderLinkState.enabled,
                        rx.button("Stop reminder emails", color_scheme="red",
                                  on_click=ReminderLinkState.set_enabled(False)),
                        rx.button("Turn reminders back on", variant="soft",
                                  on_click=ReminderLinkState.set_enabled(True)),
                    ),
                    spacing="4", align="start",
                ), max_width="560px"),
                empty_state("link-2-off", "This link is not valid",
                            "Use the link from the latest reminder email, as it came.",
                            link_button("Go to Academy", "/")),
            ),
        ),
        width="760px",
    )
