"""/admin/coupons — discount codes for an instructor's courses (or every course, for admins)."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from academy_app.admin.layout import StaffState, admin_page, data_table
from academy_app.components.layout import empty_state, labelled
from academy_app.db import session_scope
from academy_app.models import Role
from academy_app.services import authoring, coupons
from academy_app.services.errors import Invalid, ServiceError
from academy_app.state.rows import price_label

FORM_FIELDS = ("code", "kind", "value", "currency", "course", "expires_on", "max_uses")
EMPTY_FORM = {"code": "", "kind": "percent", "value": "", "currency": "USD", "course": "",
              "expires_on": "", "max_uses": ""}
ALL_COURSES = "all"  # the select's value for "every course" (a select item cannot be empty)


@dataclass
class CouponLine:
    code: str = ""
    discount: str = ""
    course: str = ""
    expires: str = ""
    uses: str = ""


class CouponState(StaffState):
    rows: list[CouponLine] = []
    courses: list[list[str]] = []  # [id, title] of the courses the caller may make coupons for
    can_make_site_wide: bool = False
    form: dict[str, str] = EMPTY_FORM
    errors: dict[str, str] = {}
    # Set when a coupon was just created from the form: the second click of a double click then
    # finds the form emptied and must not answer with "required" errors.
    _just_created: bool = False

    @rx.event
    def load(self):  # noqa: ANN201
        with session_scope() as session:
            staff, away = self._staff_or_redirect(session)
            if away:
                return away
            self.courses = [[str(c.id), c.title] for c in authoring.staff_courses(session, staff)]
            self.can_make_site_wide = staff.role is Role.ADMIN
            self.rows = [CouponLine(
                code=c.code,
                discount=(f"{c.value}%" if c.kind == "percent"
                          else f"{price_label(c.value, c.currency)} off"),
                course=c.course,
                expires=c.expires_at.strftime("%d %b %Y") if c.expires_at else "Never",
                uses=f"{c.uses} / {c.max_uses}" if c.max_uses else f"{c.uses} / unlimited")
                for c in coupons.staff_coupons(session, staff)]
        return None

    @rx.event
    def set_field(self, name: str, value: str) -> None:
        if name in FORM_FIELDS and isinstance(value, str):
            self.form = {**self.form, name: value[:60]}
            self.errors = {k: v for k, v in self.errors.items() if k != name}
            self._just_created = False

    @rx.event
    def create(self):  # noqa: ANN201
        if self._just_created:
            return None
        values = {name: self.form.get(name, "") for name in FORM_FIELDS}
        if values["course"] == ALL_COURSES:
            values["course"] = ""
        try:
            with session_scope() as session:
                coupon = coupons.create_coupon(session, self._actor(session),
                                               coupons.CouponForm(**values))
                code = coupon.code
        except Invalid as exc:
            self.errors = exc.errors
            return None
        except ServiceError as exc:
            return self._refuse("create_coupon", exc)
        self.form, self.errors, self._just_created = dict(EMPTY_FORM), {}, True
        return [rx.toast.success(f"Coupon {code} created"), CouponState.load]


def _input(label: str, name: str, **props) -> rx.Component:
    return labelled(label, f"coupon-{name}", rx.input(
        id=f"coupon-{name}", value=CouponState.form.get(name, ""), width="100%",
        on_change=lambda value: CouponState.set_field(name, value),
        aria_describedby=f"coupon-{name}-error", **props), CouponState.errors.get(name, ""))


def _select(label: str, name: str, *items: rx.Component) -> rx.Component:
    return labelled(label, f"coupon-{name}", rx.select.root(
        rx.select.trigger(id=f"coupon-{name}", aria_label=label, width="100%",
                          placeholder="Choose…"),
        rx.select.content(*items),
        value=CouponState.form.get(name, ""),
        on_change=lambda value: CouponState.set_field(name, value),
    ), CouponState.errors.get(name, ""))


def new_coupon_form() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("New coupon", size="4", as_="h2"),
        rx.grid(
            _input("Code", "code", placeholder="SPRING25"),
            _select("Discount type", "kind", rx.select.item("Percentage", value="percent"),
                    rx.select.item("Fixed amount", value="fixed")),
            _input("Discount", "value", placeholder="25 (percent) or 10.00 (amount)",
                   inputmode="decimal"),
            _select("Course", "course",
                    rx.cond(CouponState.can_make_site_wide,
                            rx.select.item("All courses", value=ALL_COURSES)),
                    rx.foreach(CouponState.courses, lambda c: rx.select.item(c[1], value=c[0]))),
            rx.cond(
                (CouponState.form["kind"] == "fixed") & (CouponState.form["course"] == ALL_COURSES),
                _select("Currency", "currency",
                        *[rx.select.item(c, value=c) for c in authoring.CURRENCIES]),
            ),
            _input("Last valid day", "expires_on", type="date"),
            _input("Maximum uses", "max_uses", placeholder="Leave empty for no limit",
                   inputmode="numeric"),
            columns=rx.breakpoints(initial="1", sm="2", md="3"),
            spacing="4",
            width="100%",
        ),
        rx.hstack(rx.spacer(), rx.button("Create coupon", on_click=CouponState.create),
                  width="100%"),
        spacing="3",
        width="100%",
    ), width="100%")


def coupon_line(line: CouponLine) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.code(line.code)),
        rx.table.cell(line.discount),
        rx.table.cell(line.course),
        rx.table.cell(line.expires),
        rx.table.cell(line.uses),
        align="center",
    )


def coupons_page() -> rx.Component:
    return admin_page(
        "Coupons",
        "Discount codes learners enter at the payment step. A 100% coupon enrols at once.",
        new_coupon_form(),
        data_table(CouponState.rows, coupon_line,
                   ["Code", "Discount", "Course", "Expires", "Used"],
                   empty_state("ticket-percent", "No coupons yet",
                               "Create a code above and share it with your learners.")),
    )
