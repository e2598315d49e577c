"""/admin/certificates — every certificate issued: find one, revoke it with a reason, reinstate it.

The rules (admins only, a reason the learner reads, the learner told, the audit entry) are in
`services/certificates.py`; the kit lists and asks.
"""

from academy_app.admin import kit
from academy_app.models import Certificate
from academy_app.services import certificates


def status(certificate: Certificate) -> str:
    return "Revoked" if certificate.revoked_at is not None else \
        "Valid" if certificate.file_ready_at is not None else "Being prepared"


certificate_page = kit.register(
    Certificate, "Certificates", route="/admin/certificates",
    subtitle="Every certificate issued. Revoking one shows it as revoked to anyone who verifies it.",
    listing=kit.Listing(sort="-issued_at", label="the certificate of {student_name}", columns=(
        kit.Column("student_name", "Learner", note="user_id.email"),
        kit.Column("course_title", "Course"),
        kit.Column("code", format=lambda c: certificates.display_code(c.code), nowrap=True,
                   link=lambda c: f"/verify/{certificates.display_code(c.code)}"),
        kit.Column("issued_at", "Issued"),
        kit.Column("status", format=status, note="revoked_reason", badge={
            "Valid": "green", "Being prepared": "amber", "Revoked": "red"})),
        search=("student_name", "course_title", "user_id.email", certificates.code_matches),
        filters=(kit.Filter("revoked_at", "Status", choices=(("valid", "Valid"), ("revoked", "Revoked")),
                            where=certificates.status_is),),
        empty=("award", "No certificates", "Certificates appear here as learners complete courses.")),
    permissions=kit.Permissions(kit.ADMINS, delete=()),
    actions=(kit.Action("revoke", "Revoke", service=certificates.revoke, color="red",
                        when=lambda c: c.revoked_at is None, placeholder="e.g. Issued in error",
                        reason="The verification page will show it as revoked. The learner is "
                               "told, with your reason; the public page does not show the reason.",
                        done="Certificate revoked: its verification page now says so"),
             kit.Action("reinstate", "Reinstate", service=certificates.reinstate,
                        when=lambda c: c.revoked_at is not None, done="Certificate reinstated")),
)
