"""Staff create coupons: validated, owned, audited, and usable at once."""

from __future__ import annotations

import pytest
from sqlmodel import select

from academy_app.admin.coupons import coupon_page
from academy_app.admin.kit import service as kit
from academy_app.admin.kit.state import cell_text
from academy_app.models import Coupon, DiscountKind, Role, User
from academy_app.services import coupons, payments
from academy_app.services.coupons import CouponForm
from academy_app.services.errors import Conflict, Invalid, PermissionDenied
from tests.factories import make_course, make_user, race


def listed(db, actor: User) -> list[str]:
    """The codes the workspace's coupon list shows `actor`."""
    return [row.code for row in kit.list_records(db, actor, coupon_page.resource).rows]


@pytest.fixture
def course(db, instructor):
    return make_course(db, instructor, price_cents=5000)


def test_an_instructor_makes_a_coupon_for_their_course_and_it_works(db, instructor, course):
    coupon = coupons.create_coupon(db, instructor, CouponForm(
        code=" spring25 ", kind="percent", value="25", course=str(course.id), expires_on="2099-12-31",
        max_uses="10"))
    db.commit()
    assert (coupon.code, coupon.kind, coupon.value, coupon.max_uses) == (
        "SPRING25", DiscountKind.PERCENT, 25, 10)
    assert payments.quote(db, instructor, course.id, "spring25").total_cents == 3750
    assert listed(db, instructor) == ["SPRING25"]


@pytest.mark.parametrize(("form", "field"), [
    (CouponForm(code="x"), "code"),
    (CouponForm(code="OK-CODE", kind="percent", value="150"), "value"),
    (CouponForm(code="OK-CODE", kind="fixed", value="-3"), "value"),
    (CouponForm(code="OK-CODE", kind="bogus", value="3"), "kind"),
    (CouponForm(code="OK-CODE", value="10", expires_on="31/12/2026"), "expires_on"),
    (CouponForm(code="OK-CODE", value="10", max_uses="0"), "max_uses"),
    (CouponForm(code="OK-CODE", value="10", max_uses="²"), "max_uses"),
    (CouponForm(code="OK-CODE", value="٥٠"), "value"),
])
def test_bad_coupon_input_names_the_field(db, form, field):
    admin = make_user(db, Role.ADMIN)
    with pytest.raises(Invalid) as refused:
        coupons.create_coupon(db, admin, form)
    assert field in refused.value.errors


def test_only_admins_make_site_wide_coupons_and_nobody_touches_anothers_course(db, instructor,
                                                                               course, student):
    with pytest.raises(Invalid, match="Choose the course"):
        coupons.create_coupon(db, instructor, CouponForm(code="ALLCOURSES", value="10"))
    with pytest.raises(PermissionDenied):
        coupons.create_coupon(db, make_user(db, Role.INSTRUCTOR),
                              CouponForm(code="THEIRS", value="10", course=str(course.id)))
    with pytest.raises(PermissionDenied):
        coupons.create_coupon(db, student, CouponForm(code="MINE", value="10", course=str(course.id)))
    admin = make_user(db, Role.ADMIN)
    coupons.create_coupon(db, admin, CouponForm(code="ALLCOURSES", value="10"))
    assert listed(db, admin) == ["ALLCOURSES"]


def test_a_fixed_amount_takes_its_courses_currency_or_a_chosen_one(db, instructor, course):
    own = coupons.create_coupon(db, instructor, CouponForm(code="TENOFF", kind="fixed", value="10",
                                                           course=str(course.id), currency="GBP"))
    assert (own.value, own.currency) == (1000, course.currency)
    admin = make_user(db, Role.ADMIN)
    with pytest.raises(Invalid) as refused:
        coupons.create_coupon(db, admin, CouponForm(code="EVERYWHERE", kind="fixed", value="5"))
    assert "currency" in refused.value.errors
    site_wide = coupons.create_coupon(db, admin, CouponForm(code="EVERYWHERE", kind="fixed",
                                                            value="5", currency="EUR"))
    assert site_wide.currency == "EUR"


def test_two_admins_creating_the_same_code_at_once_get_one_coupon(engine, db):
    admin = make_user(db, Role.ADMIN)
    errors = race(engine, 6, lambda session, _: coupons.create_coupon(
        session, session.get(User, admin.id), CouponForm(code="RACE", value="10")))
    assert len(errors) == 5 and all(isinstance(e, Invalid) and "already exists" in
                                    e.errors.get("code", "") for e in errors), errors[:3]
    assert listed(db, admin) == ["RACE"]


def test_ending_a_coupon_now_stops_it_for_the_next_learner(db, instructor, course):
    coupons.create_coupon(db, instructor, CouponForm(code="LEAKED", value="50",
                                                     course=str(course.id)))
    db.commit()
    coupon = kit.list_records(db, instructor, coupon_page.resource).rows[0]
    with pytest.raises(PermissionDenied):
        kit.run_action(db, make_user(db, Role.INSTRUCTOR), coupon_page.resource, "end", coupon.id)
    kit.run_action(db, instructor, coupon_page.resource, "end", coupon.id)
    db.commit()
    with pytest.raises(Invalid, match="not valid for this course"):
        payments.quote(db, make_user(db), course.id, "leaked")
    with pytest.raises(Conflict):  # offered only while the code runs
        kit.run_action(db, instructor, coupon_page.resource, "end", coupon.id)


def test_an_instructor_sees_the_codes_that_apply_to_their_courses_and_manages_their_own_only(
        db, instructor, course):
    """Site-wide codes change what the instructor's learners pay: listed, read-only, marked."""
    admin, other = make_user(db, Role.ADMIN), make_user(db, Role.INSTRUCTOR)
    coupons.create_coupon(db, instructor, CouponForm(code="MINE", value="10", course=str(course.id)))
    coupons.create_coupon(db, admin, CouponForm(code="EVERYWHERE", value="20"))
    coupons.create_coupon(db, other, CouponForm(code="THEIRS", value="30", course=str(
        make_course(db, other, price_cents=1000).id)))
    db.commit()
    page = kit.list_records(db, instructor, coupon_page.resource)
    by_code = {row.code: row for row in page.rows}
    assert sorted(by_code) == ["EVERYWHERE", "MINE"]
    assert page.rights[by_code["MINE"].id].actions == ("end",)
    site_wide = by_code["EVERYWHERE"]
    assert page.rights[site_wide.id] == kit.RowRights(edit=False, delete=False, actions=())
    note = next(c for c in coupon_page.resource.columns if c.name == "course_id").note_column
    assert [cell_text(note, row, page.extra) for row in (site_wide, by_code["MINE"])] == [
        "Site-wide (managed by admins)", ""]
    with pytest.raises(PermissionDenied):  # a crafted event for the read-only row
        kit.run_action(db, instructor, coupon_page.resource, "end", site_wide.id)
    assert sorted(listed(db, other)) == ["EVERYWHERE", "THEIRS"]
    admin_page = kit.list_records(db, admin, coupon_page.resource)
    assert all(admin_page.rights[row.id].actions == ("end",) for row in admin_page.rows)
    assert len(admin_page.rows) == 3


def test_the_rule_of_what_applies_to_an_instructors_courses(db, instructor, course):
    admin = make_user(db, Role.ADMIN)
    mine = coupons.create_coupon(db, instructor, CouponForm(code="MINE", value="10",
                                                            course=str(course.id)))
    site_wide = coupons.create_coupon(db, admin, CouponForm(code="EVERYWHERE", value="20"))
    elsewhere = coupons.create_coupon(db, admin, CouponForm(code="ELSEWHERE", value="20", course=str(
        make_course(db, make_user(db, Role.INSTRUCTOR), price_cents=1000).id)))
    applying = set(db.exec(select(Coupon.code).where(coupons.applying_to_courses_of(instructor))))
    assert applying == {"MINE", "EVERYWHERE"}
    assert [coupons.is_site_wide(c) for c in (mine, site_wide, elsewhere)] == [False, True, False]
