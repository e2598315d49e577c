"""Public certificate verification, as /verify on the site."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from academy_app.api.v1.deps import DbSession
from academy_app.api.v1.errors import problems
from academy_app.api.v1.schemas import CertificateOut
from academy_app.services import certificates
from academy_app.services.certificates import VerificationStatus
from academy_app.services.errors import NotFound

router = APIRouter(prefix="/certificates", tags=["certificates"])


@router.get("/{code}", response_model=CertificateOut, responses=problems(404))
def verify_certificate(code: Annotated[str, Path(max_length=64)],
                       session: DbSession) -> CertificateOut:
    """Anyone holding a code may check it (dashes, case and O/0, I/L/1 mix-ups forgiven). A
    revoked certificate says so, without the reason; unknown and malformed codes are both 404."""
    found = certificates.verify(session, code)
    if found.status is VerificationStatus.UNKNOWN or found.issued_at is None:
        raise NotFound("certificate", code)
    return CertificateOut(status=found.status.value, code=found.code,
                          student_name=found.student_name, course_title=found.course_title,
                          instructor_name=found.instructor_name, issued_at=found.issued_at,
                          revoked_at=found.revoked_at)
