"""Paid enrollment: submitting, coupons, approving and rejecting, and the races between them."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from sqlmodel import Session, func, select

from academy_app.admin.kit import service as kit_service
from academy_app.admin.kit.service import ListQuery
from academy_app.admin.kit.state import cell_text
from academy_app.admin.payments import payment_page
from academy_app.db import session_scope
from academy_app.models import (
    AuditEntry,
    Coupon,
    CouponRedemption,
    DiscountKind,
    EmailLog,
    EmailStatus,
    EnrollmentStatus,
    Notification,
    Payment,
    PaymentStatus,
    Role,
    User,
    as_utc,
    utcnow,
)
from academy_app.services import payments
from academy_app.services.enrollment import enrollment_for
from academy_app.services.errors import (
    Conflict,
    Invalid,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
)
from academy_app.services.payments import Receipt
from academy_app.settings import get_settings
from tests.factories import make_course, make_user, race

PAYMENTS = payment_page.resource
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
PDF = b"%PDF-1.7\n" + b"\0" * 64


@pytest.fixture
def course(db, instructor):
    return make_course(db, instructor, title="Data Science", slug="data-science", price_cents=4900)


def make_coupon(db, code="SAVE", kind=DiscountKind.PERCENT, value=50, **fields) -> Coupon:
    fields.setdefault("currency", "USD" if kind is DiscountKind.FIXED else "")
    coupon = Coupon(code=code, kind=kind, value=value, **fields)
    db.add(coupon)
    db.commit()
    return coupon


def submit(db, student, course, **kwargs) -> Payment:
    kwargs.setdefault("reference", "BANK-123456")
    payment = payments.submit_payment(db, student, course.id, **kwargs)
    db.commit()
    return payment


def count(db, model, *where) -> int:
    return db.exec(select(func.count()).select_from(model).where(*where)).one()


def test_submitting_a_payment_leaves_the_enrollment_pending(db, student, course):
    payment = submit(db, student, course, receipt=Receipt(PNG, "receipt.png"))
    assert (payment.status, payment.amount_cents, payment.reference) == (
        PaymentStatus.PENDING, 4900, "BANK-123456")
    assert payment.receipt_type == "image/png"
    assert (get_settings().media_root / "receipts" / payment.receipt_file).read_bytes() == PNG
    assert enrollment_for(db, student.id, course.id).status is EnrollmentStatus.PENDING_PAYMENT


def test_submitting_twice_keeps_one_pending_payment(db, student, course):
    first = submit(db, student, course)
    second = submit(db, student, course, reference="SOMETHING-ELSE")
    assert first.id == second.id
    assert count(db, Payment) == 1


def staff_notifications(db, user) -> list[Notification]:
    return list(db.exec(select(Notification).where(Notification.user_id == user.id,
                                                   Notification.kind == "payment.submitted")))


def test_the_instructor_is_told_once_of_a_payment_waiting_for_review(db, student, instructor,
                                                                     course):
    submit(db, student, course)
    submit(db, student, course, reference="SOMETHING-ELSE")  # returns the pending one
    [notice] = staff_notifications(db, instructor)
    assert "Data Science" in notice.title and notice.link == "/admin/payments"
    assert student.full_name in notice.body and "BANK-123456" in notice.body
    assert staff_notifications(db, student) == []
    # The bell and the review list are the reviewer's place: this kind is not emailed.
    assert count(db, EmailLog, EmailLog.user_id == instructor.id) == 0


def test_a_free_coupon_enrolment_leaves_the_instructor_nothing_to_review(db, student, instructor,
                                                                        course):
    make_coupon(db, "FREEPASS", value=100)
    submit(db, student, course, reference="", coupon_code="FREEPASS")
    assert count(db, Notification, Notification.user_id == instructor.id) == 0


@pytest.mark.parametrize(("receipt", "message"), [
    (Receipt(b"MZ\x90\x00 not an image", "receipt.png"), "PNG, JPEG or PDF"),
    (Receipt(b"<svg onload=alert(1)>", "receipt.pdf"), "PNG, JPEG or PDF"),
    (Receipt(PNG + b"\0" * (5 * 1024 * 1024), "big.png"), "larger than 5 MB"),
])
def test_bad_receipts_are_refused_and_nothing_is_stored(db, student, course, receipt, message):
    with pytest.raises(Invalid) as refused:
        payments.submit_payment(db, student, course.id, reference="BANK-1", receipt=receipt)
    assert message in refused.value.errors["receipt"]
    db.rollback()
    assert count(db, Payment) == 0
    assert not list((get_settings().media_root / "receipts").glob("*"))


@pytest.mark.parametrize("reference", ["", "  ", "ab", "x" * 121])
def test_a_payment_needs_a_reference(db, student, course, reference):
    with pytest.raises(Invalid) as refused:
        payments.submit_payment(db, student, course.id, reference=reference)
    assert "reference" in refused.value.errors


def test_free_unknown_and_already_joined_courses_take_no_payment(db, student, instructor, course):
    free = make_course(db, instructor)
    with pytest.raises(Conflict):
        payments.submit_payment(db, student, free.id, reference="BANK-1")
    with pytest.raises(NotFound):
        payments.submit_payment(db, student, 999_999, reference="BANK-1")
    payment = submit(db, student, course)
    payments.approve_payment(db, instructor, payment.id)
    db.commit()
    with pytest.raises(Conflict):
        payments.submit_payment(db, student, course.id, reference="BANK-2")


def test_approval_activates_the_enrollment_notifies_and_audits(db, student, instructor, course):
    payment = submit(db, student, course, receipt=Receipt(PDF))
    payments.approve_payment(db, instructor, payment.id)
    db.commit()
    db.refresh(payment)
    assert (payment.status, payment.reviewer_id) == (PaymentStatus.APPROVED, instructor.id)
    assert enrollment_for(db, student.id, course.id).status is EnrollmentStatus.ACTIVE
    assert sorted(db.exec(select(Notification.kind).where(Notification.user_id == student.id))) == [
        "payment.approved", "payment.received"]
    assert sorted(db.exec(select(EmailLog.kind).where(EmailLog.status == EmailStatus.SENT))) == [
        "payment.approved", "payment.received"]
    entry = db.exec(select(AuditEntry)).one()
    assert (entry.actor_id, entry.action, entry.entity_id) == (instructor.id, "payment.approve",
                                                               payment.id)
    assert '"approved"' in entry.after and '"pending"' in entry.before


def test_second_approval_and_approve_after_reject_are_refused_clearly(db, student, instructor,
                                                                     course):
    payment = submit(db, student, course)
    payments.approve_payment(db, instructor, payment.id)
    db.commit()
    with pytest.raises(Conflict, match="already approved"):
        payments.approve_payment(db, instructor, payment.id)
    db.rollback()
    with pytest.raises(Conflict, match="already approved"):
        payments.reject_payment(db, instructor, payment.id, "Too late to reject")


def test_rejection_needs_a_reason_and_cancels_the_pending_enrollment(db, student, instructor,
                                                                     course):
    payment = submit(db, student, course)
    with pytest.raises(Invalid):
        payments.reject_payment(db, instructor, payment.id, "  ")
    db.rollback()
    payments.reject_payment(db, instructor, payment.id, "No transfer with this reference arrived")
    db.commit()
    db.refresh(payment)
    assert (payment.status, payment.reason) == (PaymentStatus.REJECTED,
                                                "No transfer with this reference arrived")
    assert enrollment_for(db, student.id, course.id).status is EnrollmentStatus.CANCELLED
    again = submit(db, student, course, reference="BANK-999999")  # the learner may try again
    assert again.id != payment.id and again.status is PaymentStatus.PENDING


def test_only_the_courses_staff_can_review_its_payments(db, student, instructor, course):
    payment = submit(db, student, course)
    other_instructor = make_user(db, Role.INSTRUCTOR)
    admin = make_user(db, Role.ADMIN)
    for outsider in (student, other_instructor):
        with pytest.raises(PermissionDenied):
            payments.approve_payment(db, outsider, payment.id)
        with pytest.raises(PermissionDenied):
            payments.reject_payment(db, outsider, payment.id, "Not my course")
        for action, reason in (("approve", ""), ("reject", "Not my course")):
            with pytest.raises(PermissionDenied):  # through the review page, too
                kit_service.run_action(db, outsider, PAYMENTS, action, payment.id, reason)
    with pytest.raises(PermissionDenied):
        kit_service.list_records(db, student, PAYMENTS)
    assert kit_service.list_records(db, other_instructor, PAYMENTS).rows == []
    assert [p.id for p in kit_service.list_records(db, instructor, PAYMENTS).rows] == [payment.id]
    assert [p.id for p in kit_service.list_records(db, admin, PAYMENTS).rows] == [payment.id]
    db.refresh(payment)
    assert payment.status is PaymentStatus.PENDING


def test_receipts_are_readable_by_the_payer_and_course_staff_only(db, student, instructor, course):
    payment = submit(db, student, course, receipt=Receipt(PNG))
    for allowed in (student, instructor):
        path, content_type = payments.receipt_for(db, allowed, payment.id)
        assert path.read_bytes() == PNG and content_type == "image/png"
    for outsider in (make_user(db), make_user(db, Role.INSTRUCTOR)):
        with pytest.raises(NotFound):
            payments.receipt_for(db, outsider, payment.id)


def test_coupons_discount_by_percent_or_amount(db, student, course):
    make_coupon(db, "HALF", DiscountKind.PERCENT, 50)
    make_coupon(db, "TENOFF", DiscountKind.FIXED, 1000)
    make_coupon(db, "HUGE", DiscountKind.FIXED, 999_999)
    assert payments.quote(db, student, course.id, "half").total_cents == 2450
    assert payments.quote(db, student, course.id, " tenoff ").total_cents == 3900
    assert payments.quote(db, student, course.id, "HUGE").total_cents == 0


NOT_VALID = "This coupon code is not valid for this course"


@pytest.mark.parametrize("make", [
    lambda db, other: None,
    lambda db, other: make_coupon(db, "GUESS", course_id=other.id),
    lambda db, other: make_coupon(db, "GUESS", expires_at=utcnow() - timedelta(minutes=1)),
    lambda db, other: make_coupon(db, "GUESS", max_uses=1, uses=1),
    lambda db, other: make_coupon(db, "GUESS", DiscountKind.FIXED, 1000, currency="EUR"),
], ids=["unknown", "for another course", "expired", "used up", "for another currency"])
def test_every_unusable_code_gets_one_answer_so_a_refusal_never_tells_a_code_exists(
        db, student, instructor, course, make):
    make(db, make_course(db, instructor, price_cents=1000))
    with pytest.raises(Invalid) as quoted:
        payments.quote(db, student, course.id, "guess")
    with pytest.raises(Invalid) as submitted:
        payments.submit_payment(db, student, course.id, reference="BANK-1", coupon_code="guess")
    assert quoted.value.errors == submitted.value.errors == {"coupon": NOT_VALID}
    assert count(db, Payment) == 0


def apply_code(user, course, code, client_ip="203.0.113.7") -> str:
    """Apply a code as the checkout does: one transaction, ended whatever the answer; returns the
    coupon applied, or the refusal."""
    try:
        with session_scope() as session:
            return payments.quote(session, user, course.id, code, client_ip=client_ip).coupon_code
    except (Invalid, TooManyAttempts) as exc:
        return exc.message


@pytest.fixture
def few_wrong_codes(monkeypatch) -> int:
    monkeypatch.setattr(get_settings(), "wrong_coupon_codes_per_hour", 3)
    return 3


def test_after_too_many_wrong_codes_even_a_valid_one_is_refused_for_the_user_and_the_address(
        db, student, course, few_wrong_codes):
    make_coupon(db, "HALF")
    neighbour = make_user(db)  # another account, same address (or the same guesser's second one)
    assert [apply_code(student, course, f"GUESS{n}") for n in range(few_wrong_codes)] == \
        [NOT_VALID] * few_wrong_codes
    assert apply_code(student, course, "HALF").startswith("Too many wrong coupon codes: try again")
    assert apply_code(student, course, "HALF", client_ip="198.51.100.9").startswith("Too many")
    assert apply_code(neighbour, course, "HALF").startswith("Too many")
    with pytest.raises(TooManyAttempts), session_scope() as session:  # paying checks the code too
        payments.submit_payment(session, student, course.id, reference="BANK-1", coupon_code="HALF")
    assert apply_code(neighbour, course, "HALF", client_ip="198.51.100.9") == "HALF"


def test_valid_codes_do_not_count_against_the_limit(db, student, course, few_wrong_codes):
    make_coupon(db, "HALF")
    assert all(apply_code(make_user(db), course, "HALF") == "HALF" for _ in range(10))


def test_a_burst_of_refusals_is_audited_and_logged_once(db, student, course, few_wrong_codes,
                                                        caplog):
    make_coupon(db, "HALF")
    with caplog.at_level(logging.WARNING, logger="academy_app.services.payments"):
        answers = [apply_code(student, course, f"GUESS{n}") for n in range(few_wrong_codes + 5)]
    assert sum(answer.startswith("Too many") for answer in answers) == 5
    entries = db.exec(select(AuditEntry).where(AuditEntry.action == "coupon.too_many_wrong")).all()
    assert [(e.actor_id, e.entity_type, e.entity_id) for e in entries] == [
        (student.id, "users", student.id)]
    assert json.loads(entries[0].after) == {"limit": "user", "client_ip": "203.0.113.7"}
    assert len([r for r in caplog.records if "wrong coupon codes" in r.getMessage()]) == 1


def test_a_full_discount_enrols_at_once(db, student, course):
    coupon = make_coupon(db, "FREEPASS", value=100)
    payment = submit(db, student, course, reference="", coupon_code="freepass")
    assert (payment.status, payment.amount_cents) == (PaymentStatus.APPROVED, 0)
    assert enrollment_for(db, student.id, course.id).status is EnrollmentStatus.ACTIVE
    db.refresh(coupon)
    assert coupon.uses == 1


def test_a_learner_uses_a_coupon_once_and_a_rejection_gives_the_use_back(db, student, instructor,
                                                                         course):
    coupon = make_coupon(db, "HALF", max_uses=10)
    payment = submit(db, student, course, coupon_code="HALF")
    assert payment.amount_cents == 2450
    payments.reject_payment(db, instructor, payment.id, "Amount did not arrive")
    db.commit()
    db.refresh(coupon)
    assert coupon.uses == 0 and count(db, CouponRedemption) == 0
    submit(db, student, course, coupon_code="HALF")
    other = make_course(db, instructor, price_cents=2000)
    coupon.course_id = None
    db.add(coupon)
    db.commit()
    with pytest.raises(Invalid, match="already used"):
        payments.submit_payment(db, student, other.id, reference="BANK-7", coupon_code="HALF")


def test_twenty_concurrent_approvals_activate_once(engine, db, student, instructor, course):
    payment = submit(db, student, course)
    errors = race(engine, 20, lambda session, _: payments.approve_payment(
        session, session.get(User, instructor.id), payment.id))
    assert len(errors) == 19 and all(isinstance(e, Conflict) for e in errors), errors[:3]
    assert count(db, AuditEntry, AuditEntry.action == "payment.approve") == 1
    assert count(db, Notification, Notification.kind == "payment.approved") == 1


def test_approve_racing_reject_changes_the_state_once(engine, db, student, instructor, course):
    payment = submit(db, student, course)

    def decide(session: Session, index: int) -> None:
        staff = session.get(User, instructor.id)
        if index % 2:
            payments.approve_payment(session, staff, payment.id)
        else:
            payments.reject_payment(session, staff, payment.id, "Rejected in the race")

    errors = race(engine, 10, decide)
    assert len(errors) == 9 and all(isinstance(e, Conflict) for e in errors), errors[:3]
    assert count(db, AuditEntry) == 1


def test_twenty_learners_racing_for_five_coupon_uses(engine, db, instructor, course):
    coupon = make_coupon(db, "FIVE", max_uses=5)
    learners = [make_user(db) for _ in range(20)]
    errors = race(engine, 20, lambda session, i: payments.submit_payment(
        session, session.get(User, learners[i].id), course.id, reference=f"BANK-{i:04}",
        coupon_code="FIVE"))
    # A loser finds the code used up at the check or at the taking: the same answer either way.
    assert len(errors) == 15 and all(isinstance(e, Invalid) and e.errors == {"coupon": NOT_VALID}
                                     for e in errors), errors[:3]
    db.refresh(coupon)
    assert coupon.uses == 5
    assert count(db, CouponRedemption) == 5
    assert count(db, Payment) == 5


def test_a_payment_is_refused_when_the_total_shown_is_no_longer_the_price(db, student, course):
    shown = payments.quote(db, student, course.id).total_cents
    course.price_cents += 1000
    db.add(course)
    db.commit()
    with pytest.raises(Invalid) as refused:
        payments.submit_payment(db, student, course.id, reference="BANK-1",
                                expected_total_cents=shown)
    assert "price changed" in refused.value.errors["total"]
    assert count(db, Payment) == 0
    payment = payments.submit_payment(db, student, course.id, reference="BANK-1",
                                      expected_total_cents=shown + 1000)
    assert payment.amount_cents == shown + 1000


def test_the_queue_flags_a_transfer_reference_given_for_several_payments(db, instructor, course):
    first, second, third = (make_user(db) for _ in range(3))
    submit(db, first, course, reference="TRX-42")
    submit(db, second, course, reference="trx-42")
    submit(db, third, course, reference="TRX-43")
    rows = kit_service.list_records(db, instructor, PAYMENTS).rows
    assert {p.user_id: payments.reused_references(db, rows).get(p.id) for p in rows} == {
        first.id: "Same reference on 1 other payment",
        second.id: "Same reference on 1 other payment", third.id: None}


def test_the_review_list_shows_the_learner_and_course_and_finds_them(db, instructor, course):
    learner = make_user(db, name="Grace Hopper", email="grace@navy.example")
    payment = submit(db, learner, course, reference="TRX-1906")
    submit(db, make_user(db, name="Alan Turing"), course, reference="TRX-1912")
    listed = kit_service.list_records(db, instructor, PAYMENTS, ListQuery(search="navy.example"))
    assert [p.id for p in listed.rows] == [payment.id]
    assert [cell_text(c, payment, listed.extra) for c in PAYMENTS.columns[:5]] == [
        "Grace Hopper", "Data Science", "$49", "TRX-1906",
        as_utc(payment.created_at).strftime("%d %b %Y")]
    assert cell_text(PAYMENTS.columns[0].note_column, payment, listed.extra) == \
        "grace@navy.example"
    assert listed.names == {payment.id: "payment of Grace Hopper"}
    for text in ("data sci", "trx-19", "Turing"):
        assert kit_service.list_records(db, instructor, PAYMENTS, ListQuery(search=text)).total
    payments.approve_payment(db, instructor, payment.id)
    db.commit()
    status = {"status": "pending"}  # what the page starts with: the queue
    assert kit_service.list_records(db, instructor, PAYMENTS, ListQuery(filters=status)).total == 1


def test_the_review_page_decides_through_the_payment_service(db, student, instructor, course):
    """Approve and reject on the page are the service's: its checks, one audit entry each, the
    enrollment and the learner's notification; a reject without a reason is refused."""
    approved, rejected = submit(db, student, course), submit(db, make_user(db), course)
    kit_service.run_action(db, instructor, PAYMENTS, "approve", approved.id)
    with pytest.raises(Invalid) as refused:
        kit_service.run_action(db, instructor, PAYMENTS, "reject", rejected.id, " ")
    assert "reason" in refused.value.errors
    kit_service.run_action(db, instructor, PAYMENTS, "reject", rejected.id, "No such transfer")
    db.commit()
    assert enrollment_for(db, student.id, course.id).status is EnrollmentStatus.ACTIVE
    db.refresh(rejected)
    assert (rejected.status, rejected.reason) == (PaymentStatus.REJECTED, "No such transfer")
    assert db.exec(select(AuditEntry.action).order_by(AuditEntry.id)).all() == [
        "payment.approve", "payment.reject"]
    with pytest.raises(Conflict):  # offered on pending payments only
        kit_service.run_action(db, instructor, PAYMENTS, "reject", approved.id, "Changed my mind")


def test_the_learner_reads_their_order_with_the_discounted_amount_and_its_review(
        db, student, instructor, course):
    make_coupon(db, "HALF", value=50)
    payment = submit(db, student, course, coupon_code="half", reference="TRX-ORDER-1")
    order = payments.order_for(db, student, payment.id)
    assert (order.course_title, order.amount_cents, order.coupon_code, order.reference,
            order.status, order.reviewed_at) == (
        "Data Science", 2450, "HALF", "TRX-ORDER-1", PaymentStatus.PENDING, None)
    assert (order.learner_name, order.learner_email) == (student.full_name, student.email)
    payments.approve_payment(db, instructor, payment.id)
    db.commit()
    order = payments.order_for(db, student, payment.id)
    assert order.status is PaymentStatus.APPROVED and order.reviewed_at is not None


def test_an_order_is_seen_by_its_learner_its_course_staff_and_admins_only(
        db, student, instructor, course):
    payment = submit(db, student, course)
    for allowed in (student, instructor, make_user(db, Role.ADMIN)):
        assert payments.order_for(db, allowed, payment.id).id == payment.id
    missing = payment.id + 1000
    for outsider in (make_user(db), make_user(db, Role.INSTRUCTOR)):
        with pytest.raises(NotFound) as refused:
            payments.order_for(db, outsider, payment.id)
        with pytest.raises(NotFound) as absent:  # the same answer as a missing order
            payments.order_for(db, outsider, missing)
        assert refused.value.message == absent.value.message == "Order not found"
    with pytest.raises(NotAuthenticated):
        payments.order_for(db, None, payment.id)


def test_the_purchase_history_lists_every_payment_of_the_learner_only_newest_first(
        db, student, instructor, course):
    first = submit(db, student, course, reference="TRX-FIRST")
    payments.reject_payment(db, instructor, first.id, "No such transfer")
    db.commit()
    second = submit(db, student, course, reference="TRX-SECOND")
    submit(db, make_user(db), course, reference="TRX-SOMEONE-ELSE")
    history = payments.orders_of(db, student)
    assert [(o.id, o.status) for o in history] == [
        (second.id, PaymentStatus.PENDING), (first.id, PaymentStatus.REJECTED)]
    assert history[1].reason == "No such transfer"
    with pytest.raises(NotAuthenticated):
        payments.orders_of(db, None)
