"""/admin/payments — the queue of submitted payments: approve, or reject with a reason.

Every rule (who may review which payment, one decision per payment, the enrollment, the learner's
notification, the coupon use given back) is in `services/payments.py`; the kit lists and asks.
"""

from __future__ import annotations

import reflex as rx

from academy_app.admin import kit
from academy_app.models import Payment, PaymentStatus
from academy_app.services import payments
from academy_app.state.rows import price_label


def receipt_preview(row: rx.Var) -> rx.Component:
    """The receipt in a dialog (an image, or a PDF in a frame), to check against the bank."""
    cells, href = row.cells, row.links["receipt_type"]
    return rx.cond(href != "", rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("file-search", size=14), "Receipt", size="1",
                                    variant="soft", color_scheme="gray",
                                    aria_label="Preview receipt of " + cells["user_id"])),
        rx.dialog.content(
            rx.dialog.title("Receipt from " + cells["user_id"]),
            rx.dialog.description(cells["course_id"] + " · " + cells["amount_cents"] + " · " +
                                  cells["reference"]),
            rx.box(rx.cond(cells["receipt_type"] == "application/pdf",
                           rx.el.iframe(src=href, title="Receipt", width="100%", height="480px"),
                           rx.image(src=href, alt="Receipt image", max_height="480px",
                                    margin="0 auto")), padding_y="12px"),
            rx.hstack(rx.link("Open in a new tab", href=href, is_external=True), rx.spacer(),
                      rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                      width="100%"),
            max_width="720px")),
        rx.text("No receipt", size="1", color_scheme="gray"))


pending = {"status": PaymentStatus.PENDING}
payment_page = kit.register(
    Payment, "Payments", route="/admin/payments",
    subtitle="Check each transfer against your bank statement, then approve or reject it.",
    listing=kit.Listing(sort="-created_at", label="payment of {user_id.full_name}", columns=(
        kit.Column("user_id", "Learner", note="user_id.email"), "course_id",
        kit.Column("amount_cents", "Amount", format=lambda p: price_label(p.amount_cents, p.currency)),
        kit.Column("reference", note=kit.Column("reused", compute=payments.reused_references,
                                                badge="amber")),
        kit.Column("created_at", "Submitted"),
        kit.Column("receipt_type", "Receipt", render=receipt_preview,
                   link=lambda p: f"/receipts/{p.id}" if p.receipt_file else ""),
        kit.Column("status", badge={"Pending": "amber", "Approved": "green", "Rejected": "red"},
                   note="reason"),
        kit.Column("reviewer_id", "Reviewed by")),
        search=("reference", "user_id.full_name", "user_id.email", "course_id.title"),
        filters=(kit.Filter("status", default="pending"), "course_id"),
        empty=("inbox", "Nothing to review",
               "Payments that learners submit for your courses appear here.")),
    permissions=kit.Permissions(delete=(), owner=kit.via_course("course_id")),
    actions=(kit.Action("approve", "Approve", service=payments.approve_payment, when=pending,
                        color="green", done="Payment approved: the learner can start now"),
             kit.Action("reject", "Reject", service=payments.reject_payment, when=pending,
                        color="red", done="Payment rejected: the learner has been told why",
                        reason="Tell the learner why. They will see this message and can pay again.",
                        placeholder="e.g. No transfer with this reference has arrived")),
)
