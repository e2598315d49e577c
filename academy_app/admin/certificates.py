"""/admin/certificates — every certificate issued: find one, revoke it with a reason, reinstate it."""

from __future__ import annotations

import reflex as rx

from academy_app.admin.layout import StaffState, admin_page, as_id, data_table, reason_dialog
from academy_app.components.layout import empty_state
from academy_app.db import session_scope
from academy_app.pages.certificates import certificate_status
from academy_app.services import certificates
from academy_app.services.errors import Invalid, ServiceError
from academy_app.state.certificates import CertificateLine

STATUS_FILTERS = [("all", "All certificates"), ("valid", "Valid"), ("revoked", "Revoked")]


class CertificateAdminState(StaffState):
    rows: list[CertificateLine] = []
    search: str = ""
    status_filter: str = "all"
    loading: bool = True
    revoke_id: int = 0
    revoke_reason: str = ""
    revoke_error: str = ""

    @rx.var
    def revoke_name(self) -> str:
        return next((f"{r.student}: {r.course}" for r in self.rows if r.id == self.revoke_id), "")

    @rx.event
    def load(self):  # noqa: ANN201
        with session_scope() as session:
            actor, away = self._staff_or_redirect(session, admin_only=True)
            if away:
                return away
            self.rows = [CertificateLine.of(row) for row in certificates.search(
                session, actor, self.search, self.status_filter)]
        self.loading = False
        return None

    @rx.event
    def set_search(self, value: str):  # noqa: ANN201
        self.search = value[:100] if isinstance(value, str) else ""
        return CertificateAdminState.load

    @rx.event
    def set_status_filter(self, value: str):  # noqa: ANN201
        self.status_filter = value if isinstance(value, str) and value in dict(STATUS_FILTERS) else "all"
        return CertificateAdminState.load

    @rx.event
    def open_revoke(self, certificate_id: int) -> None:
        self.revoke_id, self.revoke_reason, self.revoke_error = as_id(certificate_id), "", ""

    @rx.event
    def set_revoke_reason(self, value: str) -> None:
        self.revoke_reason = value[:600] if isinstance(value, str) else ""
        self.revoke_error = ""

    @rx.event
    def cancel_revoke(self) -> None:
        self.revoke_id = 0

    @rx.event
    def confirm_revoke(self):  # noqa: ANN201
        if not self.revoke_id:
            return None  # a second click after the dialog closed
        try:
            with session_scope() as session:
                certificates.revoke(session, self._actor(session), self.revoke_id,
                                    self.revoke_reason)
        except Invalid as exc:
            self.revoke_error = exc.errors.get("reason", exc.message)
            return None
        except ServiceError as exc:
            self.revoke_id = 0
            return [self._refuse("revoke_certificate", exc), CertificateAdminState.load]
        self.revoke_id = 0
        return [rx.toast.success("Certificate revoked: its verification page now says so"),
                CertificateAdminState.load]

    @rx.event
    def reinstate(self, certificate_id: int):  # noqa: ANN201
        return self._act("reinstate_certificate", lambda session, actor: certificates.reinstate(
            session, actor, as_id(certificate_id)), "Certificate reinstated",
            CertificateAdminState.load)


def certificate_row(line: CertificateLine) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(rx.text(line.student, weight="medium", size="2"),
                                           rx.text(line.email, size="1", color_scheme="gray"),
                                           spacing="0")),
        rx.table.cell(rx.text(line.course, size="2")),
        rx.table.cell(rx.link(rx.code(line.code), href=line.verify_href,
                              aria_label="Verification page of " + line.code)),
        rx.table.cell(rx.text(line.issued, size="2", white_space="nowrap")),
        rx.table.cell(rx.vstack(certificate_status(line.status),
                                rx.cond(line.reason != "",
                                        rx.text(line.reason, size="1", color_scheme="gray",
                                                max_width="260px")),
                                spacing="1")),
        rx.table.cell(rx.cond(
            line.status == "revoked",
            rx.button("Reinstate", size="1", variant="soft",
                      aria_label="Reinstate the certificate of " + line.student,
                      on_click=CertificateAdminState.reinstate(line.id)),
            rx.button("Revoke", size="1", variant="soft", color_scheme="red",
                      aria_label="Revoke the certificate of " + line.student,
                      on_click=CertificateAdminState.open_revoke(line.id)))),
        align="center",
    )


def revoke_dialog() -> rx.Component:
    return reason_dialog(
        "Revoke certificate",
        CertificateAdminState.revoke_name + ". The verification page will show it as revoked. "
        "The learner is told, with your reason; the public page does not show the reason.",
        "revoke-reason", open_=CertificateAdminState.revoke_id > 0,
        reason=CertificateAdminState.revoke_reason, error=CertificateAdminState.revoke_error,
        on_reason=CertificateAdminState.set_revoke_reason,
        on_cancel=CertificateAdminState.cancel_revoke, confirm_label="Revoke certificate",
        on_confirm=CertificateAdminState.confirm_revoke,
        placeholder="e.g. Issued in error")


def certificates_admin_page() -> rx.Component:
    return admin_page(
        "Certificates",
        "Every certificate issued. Revoking one shows it as revoked to anyone who verifies it.",
        rx.hstack(
            rx.debounce_input(rx.input(
                rx.input.slot(rx.icon("search", size=16)), value=CertificateAdminState.search,
                on_change=CertificateAdminState.set_search, type="search",
                placeholder="Name, email, course or code", aria_label="Search certificates",
                width=["100%", "320px"]), debounce_timeout=250),
            rx.select.root(
                rx.select.trigger(aria_label="Show certificates"),
                rx.select.content(*[rx.select.item(label, value=value)
                                    for value, label in STATUS_FILTERS]),
                value=CertificateAdminState.status_filter,
                on_change=CertificateAdminState.set_status_filter,
            ),
            spacing="3",
            wrap="wrap",
        ),
        data_table(CertificateAdminState.rows, certificate_row,
                   ["Learner", "Course", "Code", "Issued", "Status", ""],
                   empty_state("award", "No certificates",
                               "Certificates appear here as learners complete courses."),
                   loading=CertificateAdminState.loading),
        revoke_dialog(),
    )
