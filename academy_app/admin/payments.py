"""/admin/payments — the queue of submitted payments, with approve and reject."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from academy_app.admin.layout import StaffState, admin_page, as_id, data_table, reason_dialog
from academy_app.components.layout import empty_state
from academy_app.db import session_scope
from academy_app.models import PaymentStatus, as_utc
from academy_app.services import payments
from academy_app.services.errors import Invalid, ServiceError
from academy_app.state.rows import price_label

STATUS_FILTERS = [("pending", "Waiting for review"), ("approved", "Approved"),
                  ("rejected", "Rejected"), ("all", "All payments")]


@dataclass
class PaymentRow:
    id: int = 0
    learner: str = ""
    email: str = ""
    course: str = ""
    amount: str = ""
    reference: str = ""
    reference_warning: str = ""
    submitted: str = ""
    receipt_href: str = ""
    receipt_is_pdf: bool = False
    status: str = ""
    reason: str = ""
    reviewer: str = ""

    @classmethod
    def of(cls, item: payments.QueueItem) -> PaymentRow:
        return cls(id=item.id, learner=item.learner, email=item.learner_email, course=item.course,
                   amount=price_label(item.amount_cents, item.currency), reference=item.reference,
                   reference_warning=(f"Same reference on {item.reference_reused} other payment"
                                      f"{'s' if item.reference_reused > 1 else ''}"
                                      if item.reference_reused else ""),
                   submitted=as_utc(item.created_at).strftime("%d %b %Y, %H:%M UTC"),
                   receipt_href=f"/receipts/{item.id}" if item.has_receipt else "",
                   receipt_is_pdf=item.receipt_type == "application/pdf", status=item.status,
                   reason=item.reason, reviewer=item.reviewer)


class PaymentQueueState(StaffState):
    rows: list[PaymentRow] = []
    status_filter: str = "pending"
    loading: bool = True
    reject_id: int = 0
    reject_reason: str = ""
    reject_error: str = ""

    @rx.event
    def load(self):  # noqa: ANN201
        with session_scope() as session:
            staff, away = self._staff_or_redirect(session)
            if away:
                return away
            status = (None if self.status_filter == "all"
                      else PaymentStatus(self.status_filter))
            self.rows = [PaymentRow.of(item)
                         for item in payments.payment_queue(session, staff, status)]
        self.loading = False
        return None

    @rx.event
    def set_status_filter(self, value: str):  # noqa: ANN201
        if isinstance(value, str) and value in dict(STATUS_FILTERS):
            self.status_filter = value
        return PaymentQueueState.load

    @rx.event
    def approve(self, payment_id: int):  # noqa: ANN201
        return self._act("approve", lambda session, actor: payments.approve_payment(
            session, actor, as_id(payment_id)), "Payment approved: the learner can start now",
            PaymentQueueState.load)

    @rx.event
    def open_reject(self, payment_id: int) -> None:
        self.reject_id, self.reject_reason, self.reject_error = as_id(payment_id), "", ""

    @rx.event
    def set_reject_reason(self, value: str) -> None:
        self.reject_reason = value[:600] if isinstance(value, str) else ""

    @rx.event
    def cancel_reject(self) -> None:
        self.reject_id = 0

    @rx.event
    def confirm_reject(self):  # noqa: ANN201
        try:
            with session_scope() as session:
                payments.reject_payment(session, self._actor(session), self.reject_id,
                                        self.reject_reason)
        except Invalid as exc:
            self.reject_error = exc.errors.get("reason", exc.message)
            return None
        except ServiceError as exc:
            self.reject_id = 0
            return [self._refuse("reject", exc), PaymentQueueState.load]
        self.reject_id = 0
        return [rx.toast.success("Payment rejected: the learner has been told why"),
                PaymentQueueState.load]


def status_badge(status: rx.Var) -> rx.Component:
    return rx.match(
        status,
        ("pending", rx.badge("Waiting", color_scheme="amber")),
        ("approved", rx.badge("Approved", color_scheme="green")),
        ("rejected", rx.badge("Rejected", color_scheme="red")),
        rx.badge(status),
    )


def receipt_preview(row: PaymentRow) -> rx.Component:
    return rx.cond(
        row.receipt_href != "",
        rx.dialog.root(
            rx.dialog.trigger(rx.button(rx.icon("file-search", size=14), "Receipt", size="1",
                                        variant="soft", color_scheme="gray",
                                        aria_label="Preview receipt of " + row.learner)),
            rx.dialog.content(
                rx.dialog.title("Receipt from " + row.learner),
                rx.dialog.description(row.course + " · " + row.amount + " · " + row.reference),
                rx.box(
                    rx.cond(row.receipt_is_pdf,
                            rx.el.iframe(src=row.receipt_href, title="Receipt",
                                         width="100%", height="480px"),
                            rx.image(src=row.receipt_href, alt="Receipt image",
                                     max_height="480px", margin="0 auto")),
                    padding_y="12px",
                ),
                rx.hstack(
                    rx.link("Open in a new tab", href=row.receipt_href, is_external=True),
                    rx.spacer(),
                    rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                    width="100%",
                ),
                max_width="720px",
            ),
        ),
        rx.text("No receipt", size="1", color_scheme="gray"),
    )


def review_actions(row: PaymentRow) -> rx.Component:
    return rx.cond(
        row.status == "pending",
        rx.hstack(
            rx.button("Approve", size="1", color_scheme="green",
                      on_click=PaymentQueueState.approve(row.id),
                      aria_label="Approve payment of " + row.learner),
            rx.button("Reject", size="1", color_scheme="red", variant="soft",
                      on_click=PaymentQueueState.open_reject(row.id),
                      aria_label="Reject payment of " + row.learner),
            spacing="2",
        ),
        rx.vstack(
            rx.text(row.reviewer, size="1", color_scheme="gray"),
            rx.cond(row.reason != "", rx.text(row.reason, size="1", color_scheme="gray")),
            spacing="0",
        ),
    )


def payment_row(row: PaymentRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(rx.text(row.learner, weight="medium"),
                                rx.text(row.email, size="1", color_scheme="gray"), spacing="0")),
        rx.table.cell(row.course),
        rx.table.cell(rx.text(row.amount, weight="medium")),
        rx.table.cell(rx.vstack(
            rx.code(row.reference),
            rx.cond(row.reference_warning != "",
                    rx.badge(rx.icon("copy", size=12), row.reference_warning, color_scheme="amber")),
            spacing="1")),
        rx.table.cell(rx.text(row.submitted, size="2")),
        rx.table.cell(receipt_preview(row)),
        rx.table.cell(status_badge(row.status)),
        rx.table.cell(review_actions(row)),
        align="center",
    )


def reject_dialog() -> rx.Component:
    return reason_dialog(
        "Reject payment", "Tell the learner why. They will see this message and can pay again.",
        "reject-reason", open_=PaymentQueueState.reject_id > 0,
        reason=PaymentQueueState.reject_reason, error=PaymentQueueState.reject_error,
        on_reason=PaymentQueueState.set_reject_reason, on_cancel=PaymentQueueState.cancel_reject,
        confirm_label="Reject payment", on_confirm=PaymentQueueState.confirm_reject,
        placeholder="e.g. No transfer with this reference has arrived")


def payments_page() -> rx.Component:
    return admin_page(
        "Payments",
        "Check each transfer against your bank statement, then approve or reject it.",
        rx.hstack(
            rx.select.root(
                rx.select.trigger(aria_label="Show payments"),
                rx.select.content(*[rx.select.item(text, value=value)
                                    for value, text in STATUS_FILTERS]),
                value=PaymentQueueState.status_filter,
                on_change=PaymentQueueState.set_status_filter,
            ),
            rx.spacer(),
            rx.text(f"{PaymentQueueState.rows.length()} shown", size="2", color_scheme="gray",
                    role="status"),
            width="100%",
            align="center",
        ),
        data_table(PaymentQueueState.rows, payment_row,
                   ["Learner", "Course", "Amount", "Reference", "Submitted", "Receipt", "Status",
                    "Review"],
                   empty_state("inbox", "Nothing to review",
                               "Payments that learners submit for your courses appear here."),
                   loading=PaymentQueueState.loading),
        reject_dialog(),
    )
