"""Coupons as staff manage them: instructors for their own courses, admins for any or all courses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from academy_app.models import Coupon, Course, DiscountKind, Role, User, as_utc, utcnow
from academy_app.services import audit
from academy_app.services.authoring import CURRENCIES, course_for_editing, parse_price
from academy_app.services.errors import Invalid
from academy_app.services.payments import normalize_code
from academy_app.services.permissions import require_staff
from academy_app.text import id_in, whole_number

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,39}$")
COUPON_FIELDS = ("code", "kind", "value", "currency", "course_id", "expires_at", "max_uses")


@dataclass(frozen=True)
class CouponForm:
    code: str
    kind: str = "percent"
    value: str = ""  # percent ("50") or an amount ("10.00")
    currency: str = ""  # for a fixed amount on every course; a course's own coupon takes its currency
    course: str = ""  # course id as text; empty = every course (admins only)
    expires_on: str = ""  # YYYY-MM-DD, last valid day (UTC); empty = never
    max_uses: str = ""  # empty = unlimited


def create_coupon(session: Session, actor: User | None, form: CouponForm) -> Coupon:
    staff = require_staff(actor)
    errors: dict[str, str] = {}
    code = normalize_code(form.code)
    if not CODE_PATTERN.match(code):
        errors["code"] = "Use 3 to 40 letters, digits, - or _, like SPRING25"
    elif session.exec(select(Coupon.id).where(Coupon.code == code)).first() is not None:
        errors["code"] = "This code already exists"
    course = None
    if str(form.course or "").strip():
        course = course_for_editing(session, staff, id_in(form.course))  # NotFound / Denied
    elif staff.role is not Role.ADMIN:  # only admins make coupons for every course
        errors["course"] = "Choose the course this coupon is for"
    value, currency = 0, ""
    if form.kind == DiscountKind.PERCENT:
        value = whole_number(form.value)
        if not 1 <= value <= 100:
            errors["value"] = "Enter a percentage from 1 to 100"
    elif form.kind == DiscountKind.FIXED:
        try:
            value = parse_price(form.value)
        except Invalid:
            value = 0
        if value <= 0:
            errors["value"] = "Enter an amount above 0, like 10 or 9.90"
        currency = course.currency if course is not None else form.currency
        if currency not in CURRENCIES:
            errors["currency"] = "Choose the currency of the amount"
    else:
        errors["kind"] = "Choose a percentage or a fixed amount"
    expires_at = None
    if str(form.expires_on or "").strip():
        try:
            last_day = date.fromisoformat(str(form.expires_on).strip())
            expires_at = datetime.combine(last_day, time.max, tzinfo=UTC)
        except ValueError:
            errors["expires_on"] = "Enter a date like 2026-12-31"
    max_uses = None
    if str(form.max_uses or "").strip():
        max_uses = whole_number(form.max_uses)
        if max_uses < 1:
            errors["max_uses"] = "Enter a whole number of uses, or leave it empty for no limit"
    if errors:
        raise Invalid(errors)
    coupon = Coupon(code=code, kind=DiscountKind(form.kind), value=value, currency=currency,
                    course_id=course.id if course else None, expires_at=expires_at,
                    max_uses=max_uses)
    try:
        with session.begin_nested():
            session.add(coupon)
            session.flush()
    except IntegrityError:  # another click or another admin created the same code a moment ago
        raise Invalid({"code": "This code already exists"}) from None
    audit.record(session, staff, "coupon.create", coupon, after=audit.snapshot(coupon, *COUPON_FIELDS))
    return coupon



ALL_COURSES = "all"  # the course select's value for "every course" (a select item cannot be empty)


def course_choices(session: Session, actor: User | None) -> list[tuple[str, str]]:
    """What a coupon may be for, as (value, label): the actor's own courses, and for an admin
    every course and "All courses" first."""
    staff = require_staff(actor)
    statement = select(Course.id, Course.title).order_by(col(Course.title))
    if staff.role is not Role.ADMIN:
        statement = statement.where(Course.instructor_id == staff.id)
    courses = [(str(course_id), title) for course_id, title in session.exec(statement)]
    return [(ALL_COURSES, "All courses"), *courses] if staff.role is Role.ADMIN else courses


def create_from_form(session: Session, actor: User | None, values: dict[str, str]) -> Coupon:
    """`create_coupon` from the workspace form's text values (the admin kit's create hook)."""
    fields = {name: str(values.get(name, "")) for name in CouponForm.__dataclass_fields__}
    if fields["course"] == ALL_COURSES:
        fields["course"] = ""
    return create_coupon(session, actor, CouponForm(**fields))


SITE_WIDE_NOTE = "Site-wide (managed by admins)"


def applying_to_courses_of(instructor: User) -> sa.ColumnElement[bool]:
    """The coupons learners can use on `instructor`'s courses (payments._usable_coupon's rule):
    the codes of their own courses, and the site-wide ones (no course) that only admins make.
    Their coupon list shows both: a site-wide code changes what their learners pay."""
    own_courses = select(Course.id).where(Course.instructor_id == instructor.id)
    return sa.or_(col(Coupon.course_id).is_(None), col(Coupon.course_id).in_(own_courses))


def is_site_wide(coupon: Coupon) -> bool:
    """For every course: only admins change it (an instructor sees it read-only)."""
    return coupon.course_id is None


def is_running(coupon: Coupon) -> bool:
    """Not past its last day (a coupon used up still runs: an instructor may raise its limit)."""
    return coupon.expires_at is None or as_utc(coupon.expires_at) > utcnow()


def end_now(_session: Session, _actor: User, coupon: Coupon) -> None:
    """Stop a code at once (e.g. one shared where it should not be): it expires now. Learners
    who already paid with it keep their price; the kit checks the actor owns the course."""
    coupon.expires_at = utcnow()
