"""Certificates: issued once per learner and course on completion, drawn by a task, checked by anyone.

Completing a course writes the `Certificate` row in the same transaction (the unique key keeps it to
one however often or concurrently the last lesson is marked); after commit a task draws the PDF.
The task marks the file ready with one conditional UPDATE and tells the learner in the same
transaction, so a task that runs twice (redelivered after its worker died, or re-queued by the
sweeper) draws the same file again and tells nobody twice.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlmodel import Session, col, select

from academy_app.db import after_commit, insert_or_get
from academy_app.infra import bus
from academy_app.infra.pdf import CertificateText, render_certificate
from academy_app.infra.queue import enqueue
from academy_app.infra.storage import write_atomically
from academy_app.models import (
    Certificate,
    Course,
    Enrollment,
    EnrollmentStatus,
    Role,
    User,
    as_utc,
    utcnow,
)
from academy_app.services import audit, certificate_rule
from academy_app.services.accounts import require_user
from academy_app.services.errors import Conflict, Invalid, NotFound
from academy_app.services.notifications import notify
from academy_app.services.permissions import require_admin
from academy_app.settings import get_settings

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base 32: no I, L, O or U to misread
CODE_LENGTH = 16
MAX_REASON = 500
MAX_ROWS = 200
SWEEP_BATCH = 200
GIVE_UP_AFTER = timedelta(days=1)
DRAW_CERTIFICATE_TASK = "tasks.certificates.draw_certificate"  # tasks/certificates.py, queued by name
# LinkedIn's documented "Add to profile" address: its form opens with these fields filled in.
LINKEDIN_ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"
ORGANIZATION_NAME = "Academy"


class VerificationStatus(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Verification:
    status: VerificationStatus
    code: str = ""  # as shown, XXXX-XXXX-XXXX-XXXX
    student_name: str = ""
    course_title: str = ""
    instructor_name: str = ""
    issued_at: datetime | None = None
    revoked_at: datetime | None = None  # the reason stays private: the learner and admins see it


@dataclass(frozen=True)
class CertificateRow:
    id: int
    code: str  # as shown
    student_name: str
    student_email: str
    course_title: str
    issued_at: datetime
    ready: bool
    revoked: bool
    revoked_reason: str
    verify_url: str  # absolute: to copy and share
    linkedin_url: str


def display_code(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalize_code(raw: str) -> str | None:
    """A typed or scanned code in its stored form, forgiving dashes, spaces, case and the letters
    Crockford base 32 leaves out (O for 0, I and L for 1); None if it cannot be a code."""
    code = re.sub(r"[\s-]", "", str(raw or "")[:64]).upper().translate(str.maketrans("OIL", "011"))
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return code


def verify_url(code: str) -> str:
    return get_settings().absolute_url(f"/verify/{display_code(code)}")


def linkedin_add_url(course_title: str, issued_at: datetime, code: str) -> str:
    """LinkedIn's add-to-profile form, filled in with this certificate and its verify page."""
    issued = as_utc(issued_at)
    return LINKEDIN_ADD_TO_PROFILE + "?" + urlencode({
        "startTask": "CERTIFICATION_NAME", "name": course_title,
        "organizationName": ORGANIZATION_NAME, "issueYear": issued.year,
        "issueMonth": issued.month, "certUrl": verify_url(code), "certId": display_code(code)})


def pdf_path(code: str) -> Path:
    return get_settings().media_root / "certificates" / f"{code}.pdf"


def issue(session: Session, enrollment: Enrollment) -> Certificate | None:
    """The certificate for a completed enrollment: the existing one, or a new one whose PDF is
    drawn after commit when the certificate rule (services/certificate_rule.py) says it is earned;
    None when it is not (yet). Called in the transaction that completes the course or passes a
    quiz, and by the nightly sweep: no path issues a certificate without the rule."""
    if enrollment.status is not EnrollmentStatus.COMPLETED:
        raise Conflict("A certificate needs the course completed")
    existing = _certificate_of(session, enrollment.user_id, enrollment.course_id)
    if existing is not None:
        return existing
    if not certificate_rule.evaluate(session, enrollment.user_id, enrollment.course_id).eligible:
        return None
    student = session.get(User, enrollment.user_id)
    course, instructor = session.exec(
        select(Course, User).join(User, col(User.id) == Course.instructor_id)
        .where(Course.id == enrollment.course_id)).one()
    certificate = Certificate(code=_new_code(), user_id=student.id, course_id=course.id,
                              student_name=student.full_name, course_title=course.title,
                              instructor_name=instructor.full_name)
    certificate, created = insert_or_get(
        session, certificate,
        lambda: _certificate_of(session, enrollment.user_id, enrollment.course_id))
    if not created:
        return certificate  # another transaction issued it first (two tabs finishing the course)
    certificate_id = certificate.id
    after_commit(session, lambda: draw_later([certificate_id]))
    return certificate


def draw_later(certificate_ids: list[int]) -> None:
    for certificate_id in certificate_ids:
        enqueue(DRAW_CERTIFICATE_TASK, certificate_id)


def text_for(session: Session, certificate_id: int) -> tuple[str, CertificateText] | None:
    """What the PDF says, and the code that names its file; None if the certificate is gone."""
    certificate = session.get(Certificate, certificate_id)
    if certificate is None:
        return None
    return certificate.code, CertificateText(
        student_name=certificate.student_name, course_title=certificate.course_title,
        instructor_name=certificate.instructor_name, issued_on=as_utc(certificate.issued_at).date(),
        code=display_code(certificate.code), verify_url=verify_url(certificate.code))


def mark_ready(session: Session, certificate_id: int) -> bool:
    """Record that the PDF is on disk and tell the learner (unless it was revoked meanwhile): once,
    whoever gets here first. True for that first one."""
    ready = session.execute(
        sa.update(Certificate).where(col(Certificate.id) == certificate_id,
                                     col(Certificate.file_ready_at).is_(None))
        .values(file_ready_at=utcnow())).rowcount == 1
    certificate = session.get(Certificate, certificate_id) if ready else None
    if certificate is not None:
        bus.refresh(session, certificate.user_id)  # an open certificates page shows it ready
    if certificate is not None and certificate.revoked_at is None:  # revoked before it was drawn
        notify(session, certificate.user_id, "certificate.issued",
               f"Your certificate for {certificate.course_title} is ready",
               "Download it as a PDF, or share its verification link with anyone.",
               "/certificates")
    return ready


def for_learner(session: Session, actor: User | None) -> list[CertificateRow]:
    user = require_user(actor)
    return _rows(session, select(Certificate, User.email)
                 .join(User, col(User.id) == Certificate.user_id)
                 .where(Certificate.user_id == user.id))


def codes_by_course(session: Session, actor: User | None) -> dict[int, str]:
    """The learner's certificates that stand (not revoked), as codes by course id: the
    dashboard links each completed course to its certificate."""
    user = require_user(actor)
    return dict(session.exec(select(Certificate.course_id, Certificate.code).where(
        Certificate.user_id == user.id, col(Certificate.revoked_at).is_(None))).all())


def download(session: Session, actor: User | None, raw_code: str) -> tuple[Path, str]:
    """The PDF's path and a file name for it: its learner's or an admin's to download."""
    user = require_user(actor)
    code = normalize_code(raw_code)
    certificate = _by_code(session, code) if code else None
    if certificate is None or (certificate.user_id != user.id and user.role is not Role.ADMIN):
        raise NotFound("certificate", raw_code)  # someone else's is not even said to exist
    if certificate.revoked_at is not None:
        raise Conflict("This certificate was revoked")
    path = pdf_path(certificate.code)
    if certificate.file_ready_at is None:
        raise Conflict("This certificate is still being drawn: try again in a minute")
    if not path.exists():  # drawn by a worker on another host without shared media: draw it here
        _, text = text_for(session, certificate.id)
        write_atomically(path, render_certificate(text))
    slug = re.sub(r"[^a-z0-9]+", "-", certificate.course_title.lower()).strip("-")[:60] or "course"
    return path, f"certificate-{slug}-{display_code(certificate.code)}.pdf"


def verify(session: Session, raw_code: str) -> Verification:
    """Public: anyone holding a code may check it. Unknown and malformed codes look the same."""
    code = normalize_code(raw_code)
    certificate = _by_code(session, code) if code else None
    if certificate is None:
        return Verification(status=VerificationStatus.UNKNOWN)
    revoked = certificate.revoked_at is not None
    return Verification(
        status=VerificationStatus.REVOKED if revoked else VerificationStatus.VALID,
        code=display_code(certificate.code), student_name=certificate.student_name,
        course_title=certificate.course_title, instructor_name=certificate.instructor_name,
        issued_at=certificate.issued_at, revoked_at=certificate.revoked_at)


def code_matches(text: str) -> sa.ColumnElement[bool] | None:
    """For the admin list's search: a typed code in any of its forms (dashes, case, O for 0)
    finds its certificate; None when the text cannot be a code."""
    code = normalize_code(text)
    return col(Certificate.code) == code if code else None


def status_is(status: str) -> sa.ColumnElement[bool]:
    """For the admin list's filter: "revoked" certificates, or "valid" ones (not revoked)."""
    revoked_at = col(Certificate.revoked_at)
    return revoked_at.is_not(None) if status == "revoked" else revoked_at.is_(None)


def revoke(session: Session, actor: User | None, certificate_id: int, reason: str) -> Certificate:
    admin = require_admin(actor)
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise Invalid({"reason": "Say why it is revoked: the verification page shows it"})
    if len(reason) > MAX_REASON:
        raise Invalid({"reason": f"Keep the reason under {MAX_REASON} characters"})
    certificate = _locked(session, certificate_id)
    if certificate.revoked_at is not None:
        raise Conflict("This certificate is already revoked")
    certificate.revoked_at, certificate.revoked_reason, certificate.revoked_by = (
        utcnow(), reason, admin.id)
    session.add(certificate)
    audit.record(session, admin, "certificate.revoke", certificate, {"revoked": False},
                 {"revoked": True, "reason": reason})
    bus.refresh(session, certificate.user_id)
    notify(session, certificate.user_id, "certificate.revoked",
           f"Your certificate for {certificate.course_title} was revoked", reason, "/certificates")
    return certificate


def reinstate(session: Session, actor: User | None, certificate_id: int) -> Certificate:
    admin = require_admin(actor)
    certificate = _locked(session, certificate_id)
    if certificate.revoked_at is None:
        raise Conflict("This certificate is not revoked")
    before = {"revoked": True, "reason": certificate.revoked_reason}
    certificate.revoked_at, certificate.revoked_reason, certificate.revoked_by = None, "", None
    session.add(certificate)
    audit.record(session, admin, "certificate.reinstate", certificate, before, {"revoked": False})
    bus.refresh(session, certificate.user_id)
    return certificate


def undrawn(session: Session, older_than: timedelta) -> list[int]:
    """Certificates still without a PDF long after they were issued: their task was lost (the
    broker was down at commit, say). Drawing is idempotent, so queueing them again is safe. After
    `GIVE_UP_AFTER` they are left alone (a draw that fails every time is not retried forever);
    the jobs page still counts them."""
    now = utcnow()
    return list(session.exec(
        select(Certificate.id).where(col(Certificate.file_ready_at).is_(None),
                                     Certificate.issued_at <= now - older_than,
                                     Certificate.issued_at > now - GIVE_UP_AFTER)
        .order_by(col(Certificate.id)).limit(SWEEP_BATCH)))


def drawing_count(session: Session) -> int:
    """Certificates issued whose PDF is not drawn yet (the jobs page shows it)."""
    return session.exec(select(sa.func.count()).select_from(Certificate)
                        .where(col(Certificate.file_ready_at).is_(None))).one()


def issue_missing(session: Session, after_id: int = 0) -> tuple[int, int | None]:
    """Issue the certificates earned by completed enrollments that have none (completed before
    certificates existed, or before a regrade): up to SWEEP_BATCH enrollments after `after_id`.
    Returns how many were issued and where the next batch starts (None when done): enrollments
    the certificate rule turns down stay without one and are stepped over, not read again."""
    enrollments = session.exec(
        select(Enrollment).outerjoin(Certificate, sa.and_(
            col(Certificate.user_id) == Enrollment.user_id,
            col(Certificate.course_id) == Enrollment.course_id))
        .where(Enrollment.status == EnrollmentStatus.COMPLETED, col(Certificate.id).is_(None),
               col(Enrollment.id) > after_id)
        .order_by(col(Enrollment.id)).limit(SWEEP_BATCH)).all()
    issued = sum(issue(session, enrollment) is not None for enrollment in enrollments)
    return issued, enrollments[-1].id if len(enrollments) == SWEEP_BATCH else None


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _certificate_of(session: Session, user_id: int, course_id: int) -> Certificate | None:
    return session.exec(select(Certificate).where(Certificate.user_id == user_id,
                                                  Certificate.course_id == course_id)).first()


def _by_code(session: Session, code: str) -> Certificate | None:
    return session.exec(select(Certificate).where(Certificate.code == code)).first()


def _locked(session: Session, certificate_id: int) -> Certificate:
    certificate = session.exec(select(Certificate).where(Certificate.id == certificate_id)
                               .with_for_update()).first()
    if certificate is None:
        raise NotFound("certificate", certificate_id)
    return certificate


def _rows(session: Session, statement: sa.Select[tuple[Certificate, str]]) -> list[CertificateRow]:
    statement = statement.order_by(col(Certificate.issued_at).desc(),
                                   col(Certificate.id).desc()).limit(MAX_ROWS)
    return [CertificateRow(id=c.id, code=display_code(c.code), student_name=c.student_name,
                           student_email=email, course_title=c.course_title, issued_at=c.issued_at,
                           ready=c.file_ready_at is not None, revoked=c.revoked_at is not None,
                           revoked_reason=c.revoked_reason, verify_url=verify_url(c.code),
                           linkedin_url=linkedin_add_url(c.course_title, c.issued_at, c.code))
            for c, email in session.exec(statement)]
