"""The payment step of a paid course: coupon, transfer reference, receipt, submit."""

from __future__ import annotations

import reflex as rx

from academy_app.db import session_scope
from academy_app.infra.receipts import MAX_RECEIPT_BYTES
from academy_app.services import payments
from academy_app.services.errors import Invalid, ServiceError
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

    @rx.event
    def open_checkout(self):  # noqa: ANN201
        with session_scope() as session:
            if self._actor(session) is None:
                return self._login_redirect()
        self.errors, self.applied_coupon, self.discount = {}, "", ""
        self.total = self.price
        self.checkout_open = True
        return None

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
    def apply_coupon(self):  # noqa: ANN201
        self.errors = {k: v for k, v in self.errors.items() if k != "coupon"}
        try:
            with session_scope() as session:
                if self._actor(session) is None:  # codes are not for anonymous probing
                    return self._login_redirect()
                quote = payments.quote(session, self._course_id, self.coupon_code)
        except Invalid as exc:
            self.errors = {**self.errors, **exc.errors}
            self.applied_coupon, self.discount, self.total = "", "", self.price
            return None
        except ServiceError as exc:
            return self._refuse("apply_coupon", exc)
        self.applied_coupon = quote.coupon_code
        self.discount = ("-" + price_label(quote.discount_cents, quote.currency)
                         if quote.discount_cents else "")
        self.total = price_label(quote.total_cents, quote.currency)
        return None

    @rx.event
    async def submit_payment(self, files: list[rx.UploadFile]):  # noqa: ANN201
        """Upload handler: the receipt (if any) arrives with the click on "Submit payment"."""
        receipt = None
        if files:
            # Read one byte past the limit: enough to know it is too big without reading it all.
            data = await files[0].read(MAX_RECEIPT_BYTES + 1)
            receipt = payments.Receipt(data=data, filename=files[0].name or "")
        self.errors = {}
        try:
            with session_scope() as session:
                actor = self._actor(session)
                if actor is None:
                    return self._login_redirect()
                payment = payments.submit_payment(session, actor, self._course_id,
                                                  reference=self.reference, receipt=receipt,
                                                  coupon_code=self.applied_coupon or self.coupon_code)
                free = payment.amount_cents == 0
        except Invalid as exc:
            self.errors = exc.errors
            return rx.clear_selected_files(RECEIPT_UPLOAD_ID) if "receipt" in exc.errors else None
        except ServiceError as exc:
            return self._refuse("submit_payment", exc)
        self.checkout_open = False
        message = ("Your coupon covered the course: you're enrolled!" if free else
                   "Payment submitted. You'll be enrolled as soon as it is approved.")
        return [rx.toast.success(message), rx.clear_selected_files(RECEIPT_UPLOAD_ID),
                CourseState.load]
