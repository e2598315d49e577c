"""The learner's certificates, and the public page where anyone checks one."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx
from sqlmodel import Session

from academy_app.infra.credential_check import MAX_BYTES, NotValid
from academy_app.models import User, as_utc
from academy_app.services import certificates, credentials
from academy_app.services.certificates import CertificateRow, VerificationStatus
from academy_app.state.auth import AuthState, Events

DATE_FORMAT = "%-d %B %Y"
CREDENTIAL_UPLOAD_ID = "credential-file"


@dataclass
class CertificateLine:
    id: int = 0
    code: str = ""
    student: str = ""
    email: str = ""
    course: str = ""
    issued: str = ""
    # "ready", "drawing" (the PDF is being made) or "revoked"
    status: str = ""
    reason: str = ""
    download_href: str = ""
    verify_href: str = ""
    verify_url: str = ""  # absolute, for the copy-link button
    linkedin_href: str = ""
    credential_href: str = ""  # the signed Open Badges credential, as a file
    badge_href: str = ""  # the same, baked into the badge image

    @classmethod
    def of(cls, row: CertificateRow) -> CertificateLine:
        status = "revoked" if row.revoked else "ready" if row.ready else "drawing"
        return cls(id=row.id, code=row.code, student=row.student_name, email=row.student_email,
                   course=row.course_title, issued=as_utc(row.issued_at).strftime(DATE_FORMAT),
                   status=status, reason=row.revoked_reason,
                   download_href=f"/downloads/certificates/{row.code}.pdf",
                   verify_href=f"/verify/{row.code}", verify_url=row.verify_url,
                   linkedin_href=row.linkedin_url,
                   credential_href=credential_download_href(row.code),
                   badge_href=credential_download_href(row.code, "png"))


def credential_download_href(code: str, kind: str = "json") -> str:
    """The signed credential as a file: its JSON, or the badge image it is baked into ("png")."""
    return f"/credentials/{code}.{kind}?download"


class CertificatesState(AuthState):
    loading: bool = True
    rows: list[CertificateLine] = []

    @rx.event
    async def load(self) -> Events:
        rows, away = await self._read_as(certificates.for_learner)
        if away:
            return away
        self.rows = [CertificateLine.of(row) for row in rows or []]
        self.loading = False
        return None


class VerifyState(AuthState):
    """Public: no login needed to check a certificate."""

    typed_code: str = ""
    error: str = ""
    checked: bool = False  # a code was given in the address and looked up
    status: str = ""  # valid, revoked or unknown
    shown_code: str = ""
    student: str = ""
    course: str = ""
    instructor: str = ""
    issued: str = ""
    revoked_on: str = ""
    credential_href: str = ""
    file_verdict: str = ""  # what checking an uploaded credential file found
    file_valid: bool = False

    @rx.event
    async def load(self) -> None:
        path = self.router.url.path.rstrip("/")
        raw = path.rsplit("/", 1)[-1] if path.count("/") >= 2 else ""
        self.checked, self.error = bool(raw), ""
        if not raw:
            self.typed_code = ""
            return
        result, _ = await self._read_as(lambda session, _viewer: certificates.verify(session, raw),
                                        roles=None)  # anyone may verify
        if result is None:
            return
        self.status = result.status.value
        self.typed_code = result.code or raw[:32]
        self.shown_code, self.student = result.code, result.student_name
        self.credential_href = credential_download_href(result.code) if result.code else ""
        self.course = result.course_title
        self.instructor = result.instructor_name
        self.issued = as_utc(result.issued_at).strftime(DATE_FORMAT) if result.issued_at else ""
        self.revoked_on = (as_utc(result.revoked_at).strftime(DATE_FORMAT)
                           if result.status is VerificationStatus.REVOKED else "")

    @rx.event
    def reject_file(self) -> None:
        """The browser refused the chosen file (type or size) before any upload."""
        self.file_verdict = f"Choose a .json or .png file of at most {MAX_BYTES // 1_000_000} MB"
        self.file_valid = False

    @rx.event
    async def check_file(self, files: list[rx.UploadFile]) -> Events:
        """Upload handler: an Open Badges credential (JSON or baked PNG) checked as a verifier
        would, signature, key, dates and revocation."""
        # Only the upload endpoint brings files; the same handler named over the WebSocket
        # brings whatever the client sent, which is no file.
        if not (isinstance(files, list) and files and isinstance(files[0], rx.UploadFile)):
            self.file_verdict, self.file_valid = "Choose a credential file first", False
            return None
        data = await files[0].read(MAX_BYTES + 1)  # one byte past: enough to say it is too big

        def run(session: Session, _viewer: User | None) -> tuple[bool, str]:
            try:
                return True, credentials.check_file(session, data)
            except NotValid as reason:
                return False, f"Not valid because {reason}."

        result, _ = await self._read_as(run, roles=None)  # anyone may verify
        if result is not None:
            self.file_valid, verdict = result
            self.file_verdict = f"This credential is {verdict}" if self.file_valid else verdict
        return rx.clear_selected_files(CREDENTIAL_UPLOAD_ID)

    @rx.event
    def set_typed_code(self, value: str) -> None:
        self.typed_code = value[:64] if isinstance(value, str) else ""

    @rx.event
    def check(self, _form: dict | None = None) -> Events:
        if not self.typed_code.strip():
            self.error = "Enter the code printed under the certificate's QR code"
            return None
        self.error = ""
        code = certificates.normalize_code(self.typed_code)
        shown = certificates.display_code(code) if code else "".join(
            c for c in self.typed_code if c.isalnum() or c == "-")[:32] or "unknown"
        return rx.redirect(f"/verify/{shown}")
