"""/orders/[order_id] — an order the learner can come back to; once approved, its printable receipt."""

from __future__ import annotations

import reflex as rx

from academy_app.components.layout import link_button, page, page_header, skeleton_block
from academy_app.pages.errors import not_found_panel
from academy_app.state.orders import OrderState
from academy_app.state.rows import OrderRow

STATUS_COLORS = [("pending", "amber"), ("approved", "green"), ("rejected", "red")]


def status_badge(order: OrderRow) -> rx.Component:
    return rx.badge(order.status_label, size="2",
                    color_scheme=rx.match(order.status, *STATUS_COLORS, "gray"))


def _callout(text: str | rx.Component, icon: str, color: str) -> rx.Component:
    # High contrast: amber and green callout text on its tint is below 4.5:1 otherwise (axe).
    return rx.callout(text, icon=icon, color_scheme=color, high_contrast=True, role="status",
                      width="100%", class_name="no-print")


def status_callout() -> rx.Component:
    order = OrderState.order
    return rx.match(
        order.status,
        ("pending", _callout("We are checking your transfer. You will be enrolled as soon as it "
                             "is approved, and we will tell you here and by email.", "hourglass",
                             "amber")),
        ("approved", _callout("Approved: you are enrolled. This page is your receipt.",
                              "circle-check", "green")),
        ("rejected", _callout(rx.text("Not accepted: ", order.reason), "circle-alert", "red")),
        rx.fragment(),
    )


def item(label: str, value: rx.Var | rx.Component) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label, min_width="140px"),
                             rx.data_list.value(value, overflow_wrap="anywhere"))


def order_details() -> rx.Component:
    order = OrderState.order
    return rx.card(rx.vstack(
        rx.hstack(
            rx.heading(rx.cond(order.status == "approved", "Receipt", "Order summary"),
                       size="5", as_="h2"),
            rx.spacer(), status_badge(order), width="100%", align="center"),
        rx.data_list.root(
            item("Course", rx.link(order.course, href=order.course_href)),
            item(rx.cond(order.status == "approved", "Amount paid", "Amount to pay"),
                 rx.text(order.amount, weight="bold")),
            item("Coupon", rx.cond(order.coupon != "", order.coupon, "None")),
            item("Transfer reference", rx.cond(order.reference != "", order.reference, "—")),
            item("Status", order.status_label),
            rx.cond(order.status == "rejected", item("Reason", order.reason)),
            item("Submitted", order.submitted),
            rx.cond(order.reviewed != "", item("Reviewed", order.reviewed)),
            item("Billed to", rx.text(order.learner, " · ", order.email)),
            orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
            width="100%",
        ),
        rx.text("Academy · payments by bank transfer, reviewed by the course's staff.", size="1",
                color_scheme="gray"),
        spacing="4", width="100%",
    ), width="100%")


def actions() -> rx.Component:
    return rx.hstack(
        rx.cond(OrderState.order.status == "approved",
                rx.button(rx.icon("printer", size=16), "Print receipt",
                          on_click=rx.call_script("window.print()"))),
        link_button("Your purchases", "/account#purchases", variant="soft"),
        link_button("Go to the course", OrderState.order.course_href, variant="soft"),
        spacing="3", wrap="wrap", class_name="no-print",
    )


def order_page() -> rx.Component:
    return page(
        rx.cond(
            OrderState.not_found,
            not_found_panel("order"),
            rx.cond(
                OrderState.loading,
                rx.vstack(skeleton_block("2em", "40%"), skeleton_block("280px"), spacing="4",
                          width="100%", aria_busy="true", aria_label="Loading your order"),
                rx.fragment(
                    page_header(OrderState.order.number, OrderState.order.course),
                    rx.vstack(status_callout(), order_details(), actions(), spacing="4",
                              width="100%"),
                ),
            ),
        ),
        width="760px",
    )
