"""/unsubscribe/[token] — one kind of email off, or back on, from the link in such an email."""

from __future__ import annotations

import reflex as rx

from academy_app.components.layout import empty_state, link_button, page, page_header
from academy_app.state.reminders import ReminderLinkState


def unsubscribe_page() -> rx.Component:
    return page(
        page_header("Emails from Academy"),
        rx.cond(
            ReminderLinkState.loading,
            rx.spinner(aria_label="Loading"),
            rx.cond(
                ReminderLinkState.valid,
                rx.card(rx.vstack(
                    rx.cond(
                        ReminderLinkState.enabled,
                        rx.text("Academy sends these emails to ", rx.text.strong(
                            ReminderLinkState.email), ": ", ReminderLinkState.topics, "."),
                        rx.callout("No more of these emails to " + ReminderLinkState.email + ": "
                                   + ReminderLinkState.topics + ".",
                                   icon="bell-off", color_scheme="green", role="status",
                                   width="100%"),
                    ),
                    rx.text("You still see everything under the bell when you log in, and emails "
                            "about your account and certificates still arrive. Every kind of "
                            "email can be chosen on ",
                            rx.link("your account page", href="/account#emails",
                                    underline="always"), ".", size="2", color_scheme="gray"),
                    rx.cond(
                        ReminderLinkState.enabled,
                        rx.button("Stop these emails", color_scheme="red",
                                  on_click=ReminderLinkState.set_enabled(False)),
                        rx.button("Turn them back on", variant="soft",
                                  on_click=ReminderLinkState.set_enabled(True)),
                    ),
                    spacing="4", align="start",
                ), max_width="560px"),
                empty_state("link-2-off", "This link is not valid",
                            "Use the link from the latest email, as it came.",
                            link_button("Go to Academy", "/")),
            ),
        ),
        width="760px",
    )
