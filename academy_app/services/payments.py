"""Paid enrollment: coupons, submitting a payment, and staff approving or rejecting it.

Every state change that two people (or two clicks) could race for is one conditional UPDATE whose row
count says who won: approving a pending payment, rejecting it, taking a coupon use. That holds on
PostgreSQL and SQLite alike, without relying on row locks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select, update

from academy_app.infra import bus, receipts
from academy_app.models import (
    Coupon,
    CouponRedemption,
    Course,
    DiscountKind,
    Enrollment,
    EnrollmentStatus,
    Payment,
    PaymentStatus,
    User,
    as_utc,
    utcnow,
)
from academy_app.services import audit
from academy_app.services.accounts import require_user
from academy_app.services.enrollment import LEARNING_STATUSES, enrollment_for
from academy_app.services.errors import Conflict, Invalid, NotFound, PermissionDenied
from academy_app.services.notifications import notify
from academy_app.services.permissions import require_course_staff, require_staff

MIN_REFERENCE, MAX_REFERENCE = 3, 120
MIN_REASON, MAX_REASON = 3, 500


@dataclass(frozen=True)
class Receipt:
    data: bytes
    filename: str = ""


@dataclass(frozen=True)
class Quote:
    price_cents: int
    discount_cents: int
    currency: str
    coupon_code: str = ""

    @property
    def total_cents(self) -> int:
        return self.price_cents - self.discount_cents


def normalize_code(code: str) -> str:
    return "".join(str(code or "").split()).upper()[:40]


def quote(session: Session, course_id: int, coupon_code: str = "") -> Quote:
    """The price of a paid course with a coupon applied. Raises Invalid(coupon=…) for a bad code."""
    course = _paid_course(session, course_id)
    coupon = _usable_coupon(session, coupon_code, course) if normalize_code(coupon_code) else None
    return _quote(course, coupon)


def submit_payment(session: Session, actor: User | None, course_id: int, *, reference: str,
                   receipt: Receipt | None = None, coupon_code: str = "",
                   expected_total_cents: int | None = None) -> Payment:
    """Record the learner's payment for review, or enrol at once when a coupon makes it free.

    `expected_total_cents` is the total the learner was shown: if the price or the coupon changed
    since, nothing is recorded and Invalid(total=…) says so. Safe to repeat: while a payment is
    pending, submitting again returns it unchanged.
    """
    user = require_user(actor)
    course = _paid_course(session, course_id)
    current = enrollment_for(session, user.id, course.id)
    if current is not None and current.status in LEARNING_STATUSES:
        raise Conflict("You are already enrolled in this course")
    if (pending := _pending_payment(session, user.id, course.id)) is not None:
        return pending

    errors: dict[str, str] = {}
    coupon = None
    if normalize_code(coupon_code):
        try:
            coupon = _usable_coupon(session, coupon_code, course)
        except Invalid as exc:
            errors.update(exc.errors)
    total = _quote(course, coupon).total_cents
    if expected_total_cents is not None and expected_total_cents != total and not errors:
        raise Invalid({"total": "The price changed while you were paying. Check the new total "
                                "and submit again."})
    reference = " ".join(str(reference or "").split())
    kind = None
    if total > 0:
        if not MIN_REFERENCE <= len(reference) <= MAX_REFERENCE:
            errors["reference"] = (f"Enter the reference of your transfer ({MIN_REFERENCE} to "
                                   f"{MAX_REFERENCE} characters)")
        if receipt is not None:
            if len(receipt.data) > receipts.MAX_RECEIPT_BYTES:
                errors["receipt"] = "The receipt is larger than 5 MB"
            elif (kind := receipts.sniff(receipt.data)) is None:
                errors["receipt"] = "Attach the receipt as a PNG, JPEG or PDF file"
    if errors:
        raise Invalid(errors)

    now = utcnow()
    payment = Payment(
        user_id=user.id, course_id=course.id, amount_cents=total, currency=course.currency,
        reference=reference[:MAX_REFERENCE], coupon_id=coupon.id if coupon else None,
        status=PaymentStatus.PENDING if total else PaymentStatus.APPROVED,
        reviewed_at=None if total else now,
    )
    try:
        with session.begin_nested():
            session.add(payment)
            session.flush()
            if coupon is not None:
                _take_coupon_use(session, coupon, user, payment)
    except IntegrityError:
        # The twin of a double click inserted the pending payment first (partial unique index).
        if (pending := _pending_payment(session, user.id, course.id)) is not None:
            return pending
        raise
    if kind is not None and receipt is not None:
        payment.receipt_file = receipts.store(receipt.data, kind)
        payment.receipt_type = kind.content_type
        session.add(payment)
    _set_enrollment(session, user.id, course.id,
                    EnrollmentStatus.PENDING_PAYMENT if total else EnrollmentStatus.ACTIVE)
    bus.changed(session, "payment")  # open review lists (admin/payments.py) show it
    if total:
        notify(session, user.id, "payment.received", f"Payment received: {course.title}",
               f"Reference {payment.reference}. You will be enrolled as soon as it is approved.",
               f"/courses/{course.slug}")
    else:
        notify(session, user.id, "enrollment.active", f"You're enrolled in {course.title}",
               "Your coupon covered the full price.", f"/courses/{course.slug}")
    return payment


def approve_payment(session: Session, actor: User | None, payment_id: int) -> Payment:
    """Approve a pending payment and activate the enrollment. A second approval is refused."""
    payment, course, staff = _payment_for_staff(session, actor, payment_id)
    _decide(session, payment, PaymentStatus.APPROVED, staff)
    _set_enrollment(session, payment.user_id, course.id, EnrollmentStatus.ACTIVE)
    audit.record(session, staff, "payment.approve", payment, {"status": "pending"},
                 {"status": "approved"})
    notify(session, payment.user_id, "payment.approved", f"Payment approved: {course.title}",
           "Your enrollment is active. Enjoy the course!", f"/courses/{course.slug}")
    return payment


def reject_payment(session: Session, actor: User | None, payment_id: int, reason: str) -> Payment:
    """Reject a pending payment with a reason the learner sees; the coupon use is given back."""
    payment, course, staff = _payment_for_staff(session, actor, payment_id)
    reason = " ".join(str(reason or "").split())
    if not MIN_REASON <= len(reason) <= MAX_REASON:
        raise Invalid({"reason": f"Give the learner a reason ({MIN_REASON} to {MAX_REASON} "
                                 "characters)"})
    _decide(session, payment, PaymentStatus.REJECTED, staff, reason=reason)
    enrollment = enrollment_for(session, payment.user_id, course.id)
    if enrollment is not None and enrollment.status is EnrollmentStatus.PENDING_PAYMENT:
        _set_enrollment(session, payment.user_id, course.id, EnrollmentStatus.CANCELLED)
    if payment.coupon_id is not None:
        _give_back_coupon_use(session, payment)
    audit.record(session, staff, "payment.reject", payment, {"status": "pending"},
                 {"status": "rejected", "reason": reason})
    notify(session, payment.user_id, "payment.rejected", f"Payment not accepted: {course.title}",
           reason, f"/courses/{course.slug}")
    return payment


def latest_payment(session: Session, user_id: int, course_id: int) -> Payment | None:
    return session.exec(
        select(Payment).where(Payment.user_id == user_id, Payment.course_id == course_id)
        .order_by(col(Payment.created_at).desc(), col(Payment.id).desc())
    ).first()


def reused_references(session: Session, rows: Sequence[Payment]) -> dict[int, str]:
    """For the review list: what it says of each payment whose transfer reference other payments
    (not rejected) give too, case aside. One transfer must not pay for two enrollments, so the
    reviewer sees the reuse before approving. One query for the page's rows."""
    references = {p.reference.lower() for p in rows if p.reference}
    same_reference = sa.func.lower(col(Payment.reference))
    uses = dict(session.exec(
        select(same_reference, sa.func.count())
        .where(Payment.status != PaymentStatus.REJECTED, same_reference.in_(references))
        .group_by(same_reference).having(sa.func.count() > 1)).all()) if references else {}
    warnings = {}
    for payment in rows:
        others = uses.get(payment.reference.lower(), 0) - (
            payment.status is not PaymentStatus.REJECTED)
        if others > 0:
            warnings[payment.id] = f"Same reference on {others} other payment" + \
                ("s" if others > 1 else "")
    return warnings


def receipt_for(session: Session, actor: User | None, payment_id: int) -> tuple[Path, str]:
    """The receipt file, for the learner who paid and the course's staff; NotFound for anyone else."""
    user = require_user(actor)
    row = session.exec(select(Payment, Course).join(Course, col(Course.id) == Payment.course_id)
                       .where(Payment.id == payment_id)).first()
    if row is None:
        raise NotFound("receipt", payment_id)
    payment, course = row
    if payment.user_id != user.id:
        try:
            require_course_staff(user, course)
        except PermissionDenied:
            raise NotFound("receipt", payment_id) from None
    path = receipts.path_of(payment.receipt_file)
    if path is None:
        raise NotFound("receipt", payment_id)
    return path, payment.receipt_type


def _paid_course(session: Session, course_id: int) -> Course:
    course = session.get(Course, course_id)
    if course is None or not course.is_published:
        raise NotFound("course", course_id)
    if course.is_free:
        raise Conflict("This course is free: enroll directly")
    return course


def _quote(course: Course, coupon: Coupon | None) -> Quote:
    discount = 0
    if coupon is not None:
        discount = (course.price_cents * min(coupon.value, 100) // 100
                    if coupon.kind is DiscountKind.PERCENT else coupon.value)
    return Quote(price_cents=course.price_cents, discount_cents=min(discount, course.price_cents),
                 currency=course.currency, coupon_code=coupon.code if coupon else "")


def _usable_coupon(session: Session, code: str, course: Course) -> Coupon:
    coupon = session.exec(select(Coupon).where(Coupon.code == normalize_code(code))).first()
    if coupon is None or (coupon.course_id is not None and coupon.course_id != course.id):
        raise Invalid({"coupon": "This coupon code is not valid for this course"})
    if coupon.kind is DiscountKind.FIXED and coupon.currency != course.currency:
        raise Invalid({"coupon": f"This coupon is for prices in {coupon.currency}"})
    if coupon.expires_at is not None and as_utc(coupon.expires_at) <= utcnow():
        raise Invalid({"coupon": "This coupon has expired"})
    if coupon.max_uses is not None and coupon.uses >= coupon.max_uses:
        raise Invalid({"coupon": "This coupon has been used up"})
    return coupon


def _take_coupon_use(session: Session, coupon: Coupon, user: User, payment: Payment) -> None:
    """Count one use if any is left: the WHERE clause makes the last use go to exactly one buyer."""
    taken = session.execute(
        update(Coupon)
        .where(col(Coupon.id) == coupon.id,
               sa.or_(col(Coupon.max_uses).is_(None), col(Coupon.uses) < col(Coupon.max_uses)))
        .values(uses=col(Coupon.uses) + 1)
    ).rowcount
    if taken != 1:
        raise Invalid({"coupon": "This coupon has been used up"})
    try:
        with session.begin_nested():
            session.add(CouponRedemption(coupon_id=coupon.id, user_id=user.id,
                                         payment_id=payment.id))
    except IntegrityError:
        raise Invalid({"coupon": "You have already used this coupon"}) from None


def _give_back_coupon_use(session: Session, payment: Payment) -> None:
    session.execute(update(Coupon).where(col(Coupon.id) == payment.coupon_id, col(Coupon.uses) > 0)
                    .values(uses=col(Coupon.uses) - 1))
    session.execute(sa.delete(CouponRedemption).where(
        col(CouponRedemption.payment_id) == payment.id))


def _pending_payment(session: Session, user_id: int, course_id: int) -> Payment | None:
    return session.exec(select(Payment).where(
        Payment.user_id == user_id, Payment.course_id == course_id,
        Payment.status == PaymentStatus.PENDING)).first()


def _payment_for_staff(session: Session, actor: User | None,
                       payment_id: int) -> tuple[Payment, Course, User]:
    row = session.exec(select(Payment, Course).join(Course, col(Course.id) == Payment.course_id)
                       .where(Payment.id == payment_id)).first()
    if row is None:
        require_staff(actor)  # a student probing ids learns nothing either way
        raise NotFound("payment", payment_id)
    payment, course = row
    return payment, course, require_course_staff(actor, course)


def _decide(session: Session, payment: Payment, status: PaymentStatus, staff: User,
            reason: str = "") -> None:
    """Move a pending payment to its final status, once. The loser of a race gets a Conflict."""
    decided = session.execute(
        update(Payment)
        .where(col(Payment.id) == payment.id, col(Payment.status) == PaymentStatus.PENDING)
        .values(status=status, reviewer_id=staff.id, reviewed_at=utcnow(), reason=reason)
    ).rowcount
    session.refresh(payment)
    if decided != 1:
        raise Conflict(f"This payment was already {payment.status.value}")


def _set_enrollment(session: Session, user_id: int, course_id: int,
                    status: EnrollmentStatus) -> Enrollment:
    bus.refresh(session, user_id)  # the learner's open course page and dashboard show the change
    enrollment = enrollment_for(session, user_id, course_id)
    if enrollment is None:
        enrollment = Enrollment(user_id=user_id, course_id=course_id, status=status)
        try:
            with session.begin_nested():
                session.add(enrollment)
            return enrollment
        except IntegrityError:
            enrollment = enrollment_for(session, user_id, course_id)
    if enrollment.status is not EnrollmentStatus.COMPLETED:
        enrollment.status = status
        enrollment.updated_at = utcnow()
        session.add(enrollment)
    return enrollment
