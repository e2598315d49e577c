"""/admin/coupons — discount codes for an instructor's courses (or every course, for admins)."""

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, SQLModel

from academy_app.admin import kit
from academy_app.models import Coupon, DiscountKind, User
from academy_app.services import authoring, coupons
from academy_app.state.rows import price_label


def discount(coupon: Coupon) -> str:
    return f"{coupon.value}%" if coupon.kind is DiscountKind.PERCENT else \
        f"{price_label(coupon.value, coupon.currency)} off"


class CourseCoupons(kit.ViaCourse):
    """An instructor manages the coupons of their courses, and sees (read-only) the site-wide
    ones that apply to their courses too (services/coupons.py has the rule)."""

    def visible(self, statement: Any, model: type[SQLModel], actor: User) -> Any:
        return statement.where(coupons.applying_to_courses_of(actor))

    def owned_among(self, session: Session, actor: User, rows: Sequence[Any]) -> set[int]:
        # What `visible` found is theirs unless it is site-wide.
        return {coupon.id for coupon in rows if not coupons.is_site_wide(coupon)}


coupon_page = kit.register(
    Coupon, "Coupons", route="/admin/coupons",
    subtitle="Discount codes learners enter at the payment step. A 100% coupon enrols at once.",
    listing=kit.Listing(sort="-created_at", search=("code",), columns=(
        "code", kit.Column("value", "Discount", format=discount),
        kit.Column("course_id", "Course", empty="All courses", note=kit.Column(
            "site_wide", format=lambda c: coupons.SITE_WIDE_NOTE if coupons.is_site_wide(c) else "",
            badge="gray")),
        kit.Column("expires_at", "Expires", empty="Never"),
        kit.Column("uses", "Used", format=lambda c: f"{c.uses} / {c.max_uses or 'unlimited'}")),
        empty=("ticket-percent", "No coupons yet", "Create a code above and share it with your learners.")),
    form=kit.Form(create=coupons.create_from_form, inline=True, fields=(
        kit.Input("code", placeholder="SPRING25"),
        kit.Input("kind", "Discount type", default="percent",
                  choices=[("percent", "Percentage"), ("fixed", "Fixed amount")]),
        kit.Input("value", "Discount", placeholder="25 (percent) or 10.00 (amount)", inputmode="decimal"),
        kit.Input("course", "Course", choices=coupons.course_choices),
        kit.Input("currency", "Currency", default="USD", show_if={"kind": "fixed", "course": "all"},
                  choices=[(c, c) for c in authoring.CURRENCIES]),
        kit.Input("expires_on", "Last valid day", kind="date"),
        kit.Input("max_uses", "Maximum uses", placeholder="Leave empty for no limit",
                  inputmode="numeric"))),
    permissions=kit.Permissions(delete=(), owner=CourseCoupons("course_id")),
    actions=(kit.Action("end", "End now", coupons.end_now, when=coupons.is_running, color="red",
                        done="Coupon ended: it no longer applies"),),
)
