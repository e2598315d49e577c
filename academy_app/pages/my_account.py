"""/account — the logged-in person's account: the password, and where they are logged in."""

from __future__ import annotations

import reflex as rx

from academy_app.components.layout import link_button, page, page_header, skeleton_block
from academy_app.pages.orders import status_badge
from academy_app.state.account import MyAccountState
from academy_app.state.rows import OrderRow


def section(title: str, *children: rx.Component) -> rx.Component:
    return rx.card(rx.vstack(rx.heading(title, size="4", as_="h2"), *children, spacing="3",
                             align="start"), width="100%")


def purchase(order: OrderRow) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.link(order.number, href=order.href, weight="medium"),
            rx.text(order.course, size="2"),
            rx.text(order.submitted, size="1", color_scheme="gray"),
            spacing="1", align="start",
        ),
        rx.spacer(),
        rx.hstack(rx.text(order.amount, weight="medium"), status_badge(order), align="center",
                  spacing="3"),
        width="100%", align="center", wrap="wrap", gap="8px", padding_y="8px",
        border_top=f"1px solid {rx.color('gray', 4)}",
    )


def purchases() -> rx.Component:
    return rx.box(section(
        "Purchase history",
        rx.cond(MyAccountState.orders.length() > 0,
                rx.vstack(rx.text("Every payment you made, newest first. An approved order's "
                                  "page is its printable receipt.", color_scheme="gray"),
                          rx.foreach(MyAccountState.orders, purchase), spacing="1",
                          width="100%"),
                rx.text("No purchases yet. Paid courses you enrol in will be listed here.",
                        color_scheme="gray")),
    ), id="purchases", width="100%")


def account_page() -> rx.Component:
    return page(
        page_header("Your account", MyAccountState.email),
        rx.cond(
            MyAccountState.loading,
            rx.vstack(skeleton_block("120px"), skeleton_block("160px"), width="100%", spacing="4",
                      aria_busy="true", aria_label="Loading your account"),
            rx.vstack(
                section(
                    "Password",
                    rx.text("To choose a new password, ask for a link by email.",
                            color_scheme="gray"),
                    link_button("Change password by email", "/password/forgot", variant="soft"),
                ),
                section(
                    "Where you are logged in",
                    rx.text(MyAccountState.logins_label),
                    rx.text("Lost a phone, or logged in on a shared computer? Log out everywhere: "
                            "every browser and device, this one included, will ask for the "
                            "password again.", color_scheme="gray"),
                    rx.button("Log out everywhere", color_scheme="red", variant="soft",
                              on_click=MyAccountState.logout_everywhere),
                ),
                purchases(),
                spacing="4",
                width="100%",
            ),
        ),
        width="760px",
    )
