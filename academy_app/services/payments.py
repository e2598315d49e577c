"""Paid enrollment: coupons, submitting a payment, and staff approving or rejecting it.

Every state change that two people (or two clicks) could race for is one conditional UPDATE whose row
count says who won: approving a pending payment, rejecting it, taking a coupon use. That holds on
PostgreSQL and SQLite alike, without relying on row locks.

Coupon codes are secrets worth guessing, so checking one is built against that: every unusable code
gets the same answer, and wrong codes are rate-limited per user and per client IP (_checked_coupon).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select, update

from academy_app.db import after_transaction, insert_or_get, session_scope
from academy_app.infra import bus, receipts
from academy_app.infra.ratelimit import limiter
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
from academy_app.services.enrollment import LEARNING_STATUSES, enrollment_for, ensure_enrollment
from academy_app.services.errors import (
    Conflict,
    Invalid,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
)
from academy_app.services.notifications import notify
from academy_app.services.permissions import require_course_staff, require_staff
from academy_app.settings import get_settings

log = logging.getLogger(__name__)
MIN_REFERENCE, MAX_REFERENCE = 3, 120
MIN_REASON, MAX_REASON = 3, 500
# The one answer to every code that cannot be used, whatever the reason: unknown, for another course
# or currency, expired, used up. A more helpful reason would tell a guesser the code exists.
NOT_VALID = "This coupon code is not valid for this course"
WRONG_CODES_WINDOW = 3600  # seconds: the setting is wrong codes per hour


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


def quote(session: Session, actor: User | None, course_id: int, coupon_code: str = "", *,
          client_ip: str | None = None) -> Quote:
    """The price of a paid course, with the coupon applied if `coupon_code` is given.

    Only a logged-in `actor` may check a code, and a wrong one counts against the limit on wrong
    codes (see _checked_coupon): Invalid(coupon=…) for a code that cannot be used, TooManyAttempts
    past the limit.
    """
    course = _paid_course(session, course_id)
    if not normalize_code(coupon_code):
        return _quote(course, None)
    return _quote(course, _checked_coupon(session, require_user(actor), coupon_code, course,
                                          client_ip))


def submit_payment(session: Session, actor: User | None, course_id: int, *, reference: str,
                   receipt: Receipt | None = None, coupon_code: str = "",
                   expected_total_cents: int | None = None,
                   client_ip: str | None = None) -> Payment:
    """Record the learner's payment for review, or enrol at once when a coupon makes it free.

    `expected_total_cents` is the total the learner was shown: if the price or the coupon changed
    since, nothing is recorded and Invalid(total=…) says so. The coupon is checked as `quote`
    checks it (TooManyAttempts past the limit on wrong codes). Safe to repeat: while a payment is
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
            coupon = _checked_coupon(session, user, coupon_code, course, client_ip)
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
    payment, created = insert_or_get(
        session, payment, lambda: _pending_payment(session, user.id, course.id),
        alongside=None if coupon is None else lambda row: _take_coupon_use(session, coupon, user, row))
    if not created:
        return payment  # the twin of a double click inserted it first (partial unique index)
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
        # Staff are told of work waiting for them: without this the instructor's bell stays at 0
        # until they happen to open the review list. Not emailed (emails.EMAILED_KINDS): the bell
        # and the list are where a reviewer works, and a mail per submission would be noise.
        notify(session, course.instructor_id, "payment.submitted",
               f"Payment to review: {course.title}",
               f"{user.full_name} paid with reference {payment.reference}.", "/admin/payments")
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
    payment, _course = _payment_seen_by(session, actor, payment_id, "receipt")
    path = receipts.path_of(payment.receipt_file)
    if path is None:
        raise NotFound("receipt", payment_id)
    return path, payment.receipt_type


@dataclass(frozen=True)
class Order:
    """A payment as its learner reads it afterwards: the order page, the purchase history and the
    printable receipt of an approved one."""

    id: int
    course_title: str
    course_slug: str
    learner_name: str
    learner_email: str
    amount_cents: int
    currency: str
    coupon_code: str  # "" without a coupon (or when the coupon was deleted since)
    reference: str
    status: PaymentStatus
    reason: str
    submitted_at: datetime
    reviewed_at: datetime | None
    has_receipt_file: bool


def order_for(session: Session, actor: User | None, payment_id: int) -> Order:
    """One order, for the learner who paid, the course's staff and admins. Anyone else gets the
    NotFound a missing order gets: an order number tells nobody else that it exists."""
    payment, _course = _payment_seen_by(session, actor, payment_id, "order")
    return _orders(session, col(Payment.id) == payment.id)[0]


def orders_of(session: Session, actor: User | None) -> list[Order]:
    """The actor's own payments, newest first: the purchase history of their account page."""
    user = require_user(actor)
    return _orders(session, col(Payment.user_id) == user.id)


def _orders(session: Session, where: sa.ColumnElement[bool]) -> list[Order]:
    """The orders matching `where`, with their course, learner and coupon: one statement."""
    rows = session.exec(
        select(Payment, Course.title, Course.slug, User.full_name, User.email, Coupon.code)
        .join(Course, col(Course.id) == Payment.course_id)
        .join(User, col(User.id) == Payment.user_id)
        .outerjoin(Coupon, col(Coupon.id) == Payment.coupon_id)
        .where(where)
        .order_by(col(Payment.created_at).desc(), col(Payment.id).desc()))
    return [Order(id=p.id, course_title=title, course_slug=slug, learner_name=name,
                  learner_email=email, amount_cents=p.amount_cents, currency=p.currency,
                  coupon_code=code or "", reference=p.reference, status=p.status, reason=p.reason,
                  submitted_at=p.created_at, reviewed_at=p.reviewed_at,
                  has_receipt_file=bool(p.receipt_file))
            for p, title, slug, name, email, code in rows]


def _payment_seen_by(session: Session, actor: User | None, payment_id: int,
                     what: str) -> tuple[Payment, Course]:
    """The payment and its course, if `actor` paid it or is its course's staff (an admin is);
    NotFound(`what`) otherwise, as for a payment that does not exist."""
    user = require_user(actor)
    row = session.exec(select(Payment, Course).join(Course, col(Course.id) == Payment.course_id)
                       .where(Payment.id == payment_id)).first()
    if row is None:
        raise NotFound(what, payment_id)
    payment, course = row
    if payment.user_id != user.id:
        try:
            require_course_staff(user, course)
        except PermissionDenied:
            raise NotFound(what, payment_id) from None
    return payment, course


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


def _checked_coupon(session: Session, user: User, code: str, course: Course,
                    client_ip: str | None) -> Coupon:
    """The coupon `code` names, if `user` may use it on `course` now; else Invalid(coupon=NOT_VALID).

    Codes must not be guessable at WebSocket speed: `wrong_coupon_codes_per_hour` wrong codes per
    user and per client IP (when there is one: a web request), after which every code is refused,
    valid or not, with TooManyAttempts. Only wrong codes count, so learners sharing an address (a
    classroom) can all use the code they were given; a guesser's tries are nearly all wrong.
    """
    limit = get_settings().wrong_coupon_codes_per_hour
    keys = {"user": f"coupon:wrong:user:{user.id}"}
    if client_ip is not None:
        keys["ip"] = f"coupon:wrong:ip:{client_ip}"
    for kind, key in keys.items():
        decision = limiter().check(key, limit, WRONG_CODES_WINDOW)
        if not decision.allowed:
            _report_burst(session, user.id, kind, key, client_ip)
            raise TooManyAttempts.in_minutes("Too many wrong coupon codes", decision.retry_after)
    coupon = _usable_coupon(session, code, course)
    if coupon is None:
        for key in keys.values():
            limiter().hit(key, limit, WRONG_CODES_WINDOW)
        raise Invalid({"coupon": NOT_VALID})
    return coupon


def _report_burst(session: Session, user_id: int, kind: str, key: str,
                  client_ip: str | None) -> None:
    """Log and audit a burst of refusals once, not once per refused request: only the first refusal
    within the hour takes the single slot of a marker window."""
    if not limiter().hit(f"{key}:reported", 1, WRONG_CODES_WINDOW).allowed:
        return
    log.warning("too many wrong coupon codes (limit per %s) from user %s at %s: every code is "
                "refused for a while", kind, user_id, client_ip)
    engine = session.get_bind()
    # The refusal rolls the caller's transaction back: the entry is written in one of its own.
    after_transaction(session, lambda: _audit_burst(engine, user_id, kind, client_ip))


def _audit_burst(engine: sa.Engine, user_id: int, kind: str, client_ip: str | None) -> None:
    with session_scope(engine) as session:
        user = session.get(User, user_id)
        audit.record(session, user, "coupon.too_many_wrong", user,
                     after={"limit": kind, "client_ip": client_ip})


def _usable_coupon(session: Session, code: str, course: Course) -> Coupon | None:
    coupon = session.exec(select(Coupon).where(Coupon.code == normalize_code(code))).first()
    if (coupon is None
            or (coupon.course_id is not None and coupon.course_id != course.id)
            or (coupon.kind is DiscountKind.FIXED and coupon.currency != course.currency)
            or (coupon.expires_at is not None and as_utc(coupon.expires_at) <= utcnow())
            or (coupon.max_uses is not None and coupon.uses >= coupon.max_uses)):
        return None
    return coupon


def _take_coupon_use(session: Session, coupon: Coupon, user: User, payment: Payment) -> None:
    """Count one use if any is left: the WHERE clause makes the last use go to exactly one buyer."""
    taken = session.execute(
        update(Coupon)
        .where(col(Coupon.id) == coupon.id,
               sa.or_(col(Coupon.max_uses).is_(None), col(Coupon.uses) < col(Coupon.max_uses)))
        .values(uses=col(Coupon.uses) + 1)
    ).rowcount
    if taken != 1:  # another buyer took the last use since the check: the same answer as the check's
        raise Invalid({"coupon": NOT_VALID})
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
    enrollment, created = ensure_enrollment(session, user_id, course_id, status)
    if not created and enrollment.status is not EnrollmentStatus.COMPLETED:
        enrollment.status = status
        enrollment.updated_at = utcnow()
        session.add(enrollment)
    return enrollment
