"""/notifications — every notification of the logged-in person, newest first, paged; one or all
marked read. The bell's state drives it, so what arrives live shows here too."""

from __future__ import annotations

import reflex as rx

from academy_app.components.layout import empty_state, link_button, page, page_header
from academy_app.components.notification_bell import unread_dot
from academy_app.state.notifications import NotificationRow, NotificationState


def _title(item: NotificationRow) -> rx.Component:
    text = rx.text(item.title, weight=rx.cond(item.unread, "bold", "medium"), size="3")
    return rx.cond(item.link != "", rx.link(text, href=item.link, underline="hover"), text)


def notification_row(item: NotificationRow) -> rx.Component:
    return rx.el.li(
        rx.flex(
            rx.vstack(
                rx.hstack(unread_dot(item), _title(item), align="center", spacing="2"),
                rx.cond(item.body != "", rx.text(item.body, size="2", color_scheme="gray",
                                                 overflow_wrap="anywhere")),
                rx.text(item.when, size="1", color_scheme="gray"),
                spacing="1", align="start", min_width="0", flex="1",
            ),
            rx.cond(item.unread, rx.button(
                "Mark as read", size="1", variant="soft", color_scheme="gray",
                aria_label="Mark as read: " + item.title,
                on_click=NotificationState.mark_read(item.id))),
            gap="12px", align="start", width="100%", wrap="wrap",
        ),
        padding="14px 16px",
        border_top=f"1px solid {rx.color('gray', 4)}",
        background=rx.cond(item.unread, rx.color("accent", 2), "transparent"),
        list_style="none",
    )


def notifications_page() -> rx.Component:
    return page(
        page_header(
            "Notifications",
            rx.cond(NotificationState.unread > 0, NotificationState.unread.to_string() + " unread",
                    "All read"),
            rx.button("Mark all as read", variant="soft", on_click=NotificationState.mark_all_read,
                      disabled=NotificationState.unread == 0),
        ),
        rx.cond(
            ~NotificationState.page_loaded,
            rx.center(rx.spinner(aria_label="Loading your notifications"), padding="48px",
                      width="100%"),
            rx.cond(
                NotificationState.page_items.length() > 0,
                rx.vstack(
                    rx.card(rx.el.ul(rx.foreach(NotificationState.page_items, notification_row),
                                     margin="0", padding="0", aria_label="Notifications"),
                            padding="0", width="100%", overflow="hidden"),
                    rx.cond(NotificationState.has_older,
                            rx.button("Show older notifications", variant="outline",
                                      on_click=NotificationState.show_older,
                                      align_self="center")),
                    spacing="4", width="100%",
                ),
                empty_state("bell", "No notifications yet",
                            "News about your courses, payments and discussions will appear here.",
                            link_button("Browse courses", "/courses")),
            ),
        ),
        width="760px",
    )
