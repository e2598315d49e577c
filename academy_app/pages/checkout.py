"""The payment step on a paid course's page."""

from __future__ import annotations

import reflex as rx

from academy_app.components.layout import labelled
from academy_app.infra.receipts import MAX_RECEIPT_BYTES
from academy_app.settings import get_settings
from academy_app.state.checkout import RECEIPT_UPLOAD_ID, CheckoutState
from academy_app.state.course import CourseState

RECEIPT_TYPES = {"image/png": [".png"], "image/jpeg": [".jpg", ".jpeg"],
                 "application/pdf": [".pdf"]}


def _labelled(label: str, field_id: str, control: rx.Component, hint: str = "") -> rx.Component:
    return labelled(label, field_id, control, CheckoutState.errors.get(field_id, ""), hint)


def coupon_field() -> rx.Component:
    return _labelled("Coupon code", "coupon", rx.hstack(
        rx.input(id="coupon", value=CheckoutState.coupon_code,
                 on_change=CheckoutState.set_coupon_code, placeholder="Optional", width="100%",
                 aria_describedby="coupon-error"),
        rx.button("Apply", variant="soft", on_click=CheckoutState.apply_coupon, type="button"),
        width="100%",
    ))


def price_summary() -> rx.Component:
    return rx.vstack(
        rx.cond(
            CheckoutState.discount != "",
            rx.hstack(rx.text(f"Coupon {CheckoutState.applied_coupon}", size="2"), rx.spacer(),
                      rx.text(CheckoutState.discount, size="2", color_scheme="green"),
                      width="100%"),
        ),
        rx.hstack(rx.text("To pay", weight="bold"), rx.spacer(),
                  rx.text(CheckoutState.total, weight="bold"), width="100%"),
        rx.cond(CheckoutState.errors.contains("total"),
                rx.callout(CheckoutState.errors["total"], icon="triangle-alert", color_scheme="amber",
                           role="alert", width="100%")),
        width="100%",
        spacing="1",
    )


def receipt_field() -> rx.Component:
    return _labelled("Receipt", "receipt", rx.vstack(
        rx.upload.root(
            rx.button(rx.icon("paperclip", size=14), "Attach receipt", variant="outline",
                      type="button"),
            id=RECEIPT_UPLOAD_ID,
            accept=RECEIPT_TYPES,
            max_files=1,
            max_size=MAX_RECEIPT_BYTES,
            multiple=False,
            no_drag=True,
            # The rejected File objects stay in the browser: sent along, a big one would be
            # pushed through the socket in full and drop the connection.
            on_drop_rejected=lambda _rejected: CheckoutState.reject_receipt(),
        ),
        rx.foreach(rx.selected_files(RECEIPT_UPLOAD_ID),
                   lambda name: rx.text(name, size="2", color_scheme="gray")),
        width="100%",
    ), hint="Optional: PNG, JPEG or PDF, up to 5 MB.")


def checkout_form() -> rx.Component:
    return rx.vstack(
        rx.text(get_settings().payment_instructions, size="2"),
        coupon_field(),
        price_summary(),
        _labelled("Payment reference", "reference", rx.input(
            id="reference", value=CheckoutState.reference, on_change=CheckoutState.set_reference,
            placeholder="e.g. TRX-2024-0001", width="100%", aria_describedby="reference-error",
            aria_invalid=rx.cond(CheckoutState.errors.contains("reference"), "true", "false"))),
        receipt_field(),
        rx.button("Submit payment", size="3", width="100%",
                  on_click=CheckoutState.submit_payment(rx.upload_files(upload_id=RECEIPT_UPLOAD_ID))),
        rx.button("Cancel", variant="ghost", color_scheme="gray", width="100%",
                  on_click=CheckoutState.close_checkout),
        spacing="3",
        width="100%",
    )


def paid_enrollment() -> rx.Component:
    return rx.cond(
        CourseState.payment_status == "pending",
        rx.callout(
            rx.vstack(
                rx.text("Payment submitted: ", rx.text.strong(CourseState.payment_amount),
                        " to pay (reference ", rx.text.strong(CourseState.payment_reference),
                        "). You will be enrolled as soon as it is approved."),
                rx.link("View your order", href=CourseState.payment_href, underline="always"),
                spacing="2", align="start"),
            icon="hourglass", color_scheme="amber", high_contrast=True, width="100%",
            role="status"),
        rx.vstack(
            rx.cond(CourseState.payment_status == "rejected",
                    rx.callout(rx.text("Your last payment was not accepted: ",
                                       CourseState.payment_reason),
                               icon="circle-alert", color_scheme="red", width="100%",
                               role="alert")),
            rx.cond(CheckoutState.checkout_open, checkout_form(),
                    rx.button("Enroll", on_click=CheckoutState.open_checkout, size="3",
                              width="100%")),
            width="100%",
        ),
    )
