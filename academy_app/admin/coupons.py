"""/admin/coupons — discount codes for an instructor's courses (or every course, for admins)."""

from academy_app.admin import kit
from academy_app.models import Coupon, DiscountKind
from academy_app.services import authoring, coupons
from academy_app.state.rows import price_label


def discount(coupon: Coupon) -> str:
    return f"{coupon.value}%" if coupon.kind is DiscountKind.PERCENT else \
        f"{price_label(coupon.value, coupon.currency)} off"


coupon_page = kit.register(
    Coupon, "Coupons", route="/admin/coupons",
    subtitle="Discount codes learners enter at the payment step. A 100% coupon enrols at once.",
    listing=kit.Listing(sort="-created_at", search=("code",), columns=(
        "code", kit.Column("value", "Discount", format=discount),
        kit.Column("course_id", "Course", empty="All courses"),
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
    permissions=kit.Permissions(delete=(), owner=kit.via_course("course_id")),
    actions=(kit.Action("end", "End now", coupons.end_now, when=coupons.is_running, color="red",
                        done="Coupon ended: it no longer applies"),),
)
