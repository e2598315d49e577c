"""The navbar bell: a count badge and a popover with the latest notifications."""

from __future__ import annotations

import reflex as rx

from academy_app.state.notifications import NotificationRow, NotificationState


def unread_dot(item: NotificationRow) -> rx.Component:
    return rx.cond(item.unread, rx.box(width="8px", height="8px", border_radius="50%",
                                       background=rx.color("accent", 9), aria_label="Unread",
                                       role="img", flex_shrink="0"))


def notification_item(item: NotificationRow) -> rx.Component:
    content = rx.vstack(
        rx.hstack(unread_dot(item), rx.text(item.title, size="2", weight="medium"),
                  align="center", spacing="2"),
        rx.cond(item.body != "", rx.text(item.body, size="1", color_scheme="gray")),
        rx.text(item.when, size="1", color_scheme="gray"),
        spacing="1",
        padding="8px",
        border_radius="8px",
        width="100%",
        _hover={"background": rx.color("gray", 3)},
    )
    return rx.cond(item.link != "", rx.link(content, href=item.link, underline="none",
                                            color="inherit", width="100%"), content)


def notification_bell() -> rx.Component:
    return rx.box(
        rx.popover.root(
            rx.popover.trigger(
                rx.icon_button(rx.icon("bell", size=18), variant="ghost", color_scheme="gray",
                               aria_label=NotificationState.bell_label)),
            rx.popover.content(
                rx.vstack(
                    rx.hstack(rx.text("Notifications", weight="bold"), rx.spacer(),
                              rx.button("Mark all as read", size="1", variant="ghost",
                                        on_click=NotificationState.mark_all_read,
                                        disabled=NotificationState.unread == 0),
                              width="100%", align="center"),
                    rx.cond(~NotificationState.list_loaded,
                            rx.text("Loading…", size="2", color_scheme="gray"),
                            rx.cond(NotificationState.items.length() > 0,
                                    rx.vstack(rx.foreach(NotificationState.items, notification_item),
                                              spacing="1", width="100%", max_height="360px",
                                              overflow_y="auto"),
                                    rx.text("Nothing yet. Updates about your courses appear here.",
                                            size="2", color_scheme="gray"))),
                    rx.popover.close(rx.link("See all notifications", href="/notifications",
                                             size="2", underline="always", align_self="center")),
                    spacing="2",
                    width="320px",
                ),
                aria_label="Notifications",
            ),
            on_open_change=NotificationState.show_list,
        ),
        # The count is drawn over the button but lets clicks through to it; the button's name
        # carries the number for screen readers.
        rx.cond(NotificationState.unread > 0, rx.badge(
            NotificationState.unread, color_scheme="red", variant="solid", radius="full",
            position="absolute", top="-6px", right="-8px", aria_hidden="true",
            pointer_events="none")),
        position="relative",
    )
