"""The payment step of a paid course: coupon, transfer reference, receipt, submit."""

from __future__ import annotations

import reflex as rx
from sqlmodel import Session

from academy_app.infra.receipts import MAX_RECEIPT_BYTES
from academy_app.models import User
from academy_app.services import payments
from academy_app.services.errors import Invalid, TooManyAttempts
from academy_app.state.auth import Events
from academy_app.state.course import CourseState
from academy_app.state.rows import price_label

RECEIPT_UPLOAD_ID = "receipt"


class CheckoutState(CourseState):
    checkout_open: bool = False
    reference: str = ""
    coupon_code: str = ""
    applied_coupon: str = ""
    discount: str = ""
    total: str = ""
    errors: dict[str, str] = {}
    _quoted_total_cents: int | None = None  # the total on screen; the payment must match it

    @rx.event
    async def open_checkout(self) -> Events:
        course_id = self._course_id
        quote, refused = await self._act_as("open_checkout", lambda session, actor: payments.quote(
            session, actor, course_id), shown=())
        if refused or quote is None:
            return refused
        self._show_quote(quote)
        self.errors, self.coupon_code = {}, ""
        self.checkout_open = True
        return None

    def _show_quote(self, quote: payments.Quote) -> None:
        self.applied_coupon = quote.coupon_code
        self.discount = ("-" + price_label(quote.discount_cents, quote.currency)
                         if quote.discount_cents else "")
        self.total = price_label(quote.total_cents, quote.currency)
        self._quoted_total_cents = quote.total_cents

    @rx.event
    def close_checkout(self) -> None:
        self.checkout_open = False

    @rx.event
    def set_reference(self, value: str) -> None:
        self.reference = value[:200] if isinstance(value, str) else ""

    @rx.event
    def set_coupon_code(self, value: str) -> None:
        self.coupon_code = value[:40] if isinstance(value, str) else ""

    @rx.event
    def reject_receipt(self) -> None:
        """The browser refused the chosen file (type or size) before any upload."""
        self.errors = {**self.errors, "receipt": "Attach a PNG, JPEG or PDF file of at most 5 MB"}

    @rx.event
    async def apply_coupon(self) -> Events:
        self.errors = {k: v for k, v in self.errors.items() if k != "coupon"}
        course_id, code, client_ip = self._course_id, self.coupon_code, self.router.session.client_ip

        def price(session: Session, actor: User) -> tuple[payments.Quote, str]:
            """The price with the code, or without it and why (codes are not for anonymous
            probing: a visitor is sent to log in first)."""
            try:
                return payments.quote(session, actor, course_id, code, client_ip=client_ip), ""
            except (Invalid, TooManyAttempts) as exc:  # both are about the code: shown by it
                return payments.quote(session, actor, course_id), exc.message

        found, refused = await self._act_as("apply_coupon", price, shown=())
        if refused or found is None:
            return refused
        quote, problem = found
        if problem:
            self.errors = {**self.errors, "coupon": problem}
        self._show_quote(quote)
        return None

    @rx.event
    async def submit_payment(self, files: list[rx.UploadFile]) -> Events:
        """Upload handler: the receipt (if any) arrives with the click on "Submit payment"."""
        receipt = None
        # Only the upload endpoint brings files; the same handler named over the WebSocket brings
        # whatever the client sent, which is no receipt.
        if isinstance(files, list) and files and isinstance(files[0], rx.UploadFile):
            # Read one byte past the limit: enough to know it is too big without reading it all.
            data = await files[0].read(MAX_RECEIPT_BYTES + 1)
            receipt = payments.Receipt(data=data, filename=files[0].name or "")
        self.errors = {}
        if payments.normalize_code(self.coupon_code) != self.applied_coupon:
            # Only what the learner saw applied counts: a typed code changes the total only via
            # "Apply", so nobody pays a price they were not shown.
            self.errors = {"coupon": "Press Apply to use this code, or clear the field"}
            return None
        course_id, reference, code = self._course_id, self.reference, self.applied_coupon
        expected, client_ip = self._quoted_total_cents, self.router.session.client_ip
        try:
            free, refused = await self._act_as("submit_payment", lambda session, actor: (
                payments.submit_payment(session, actor, course_id, reference=reference,
                                        receipt=receipt, coupon_code=code,
                                        expected_total_cents=expected, client_ip=client_ip)
                .amount_cents == 0), shown=(Invalid, TooManyAttempts))
        except Invalid as exc:
            self.errors = exc.errors
            if "total" in exc.errors:
                return CheckoutState.apply_coupon
            return rx.clear_selected_files(RECEIPT_UPLOAD_ID) if "receipt" in exc.errors else None
        except TooManyAttempts as exc:  # only the coupon is limited here
            self.errors = {"coupon": exc.message}
            return None
        if refused:
            return refused
        self.checkout_open = False
        message = ("Your coupon covered the course: you're enrolled!" if free else
                   "Payment submitted. You'll be enrolled as soon as it is approved.")
        return [rx.toast.success(message), rx.clear_selected_files(RECEIPT_UPLOAD_ID),
                CourseState.load]
