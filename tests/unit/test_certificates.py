"""Certificates: issued once on completion, drawn by the task, verifiable by anyone, revocable by
admins; and a PDF that draws every script a learner's name may be written in."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pypdfium2
import pytest
import zxingcpp
from sqlmodel import func, select

from academy_app.admin.certificates import certificate_page
from academy_app.admin.kit import service as kit_service
from academy_app.admin.kit.service import ListQuery
from academy_app.admin.kit.state import cell_text
from academy_app.infra import pdf
from academy_app.models import (
    AuditEntry,
    Certificate,
    EmailLog,
    Enrollment,
    EnrollmentStatus,
    LessonProgress,
    Notification,
    Role,
    User,
)
from academy_app.services import certificates, enrollment, progress
from academy_app.services.catalog import course_outline
from academy_app.services.certificates import VerificationStatus
from academy_app.services.errors import Conflict, Invalid, NotAuthenticated, NotFound, PermissionDenied
from tasks.certificates import draw_certificate
from tests.factories import make_course, make_user, race

CERTIFICATES = certificate_page.resource


@pytest.fixture
def course(db, instructor):
    return make_course(db, instructor, title="Data Science: From Zero", slug="data-science",
                       lessons_per_module=(1, 1))


@pytest.fixture
def admin(db):
    return make_user(db, Role.ADMIN, name="Ada Admin")


def complete(db, learner, course) -> None:
    enrollment.enroll_free(db, learner, course.id)
    db.commit()
    for lesson in course_outline(db, course.slug, learner).lessons:
        progress.set_lesson_completion(db, learner, lesson.id, True)
        db.commit()  # the task runs after this commit, in its own session


def certificate_of(db, learner) -> Certificate:
    db.expire_all()
    certificate = db.exec(select(Certificate).where(Certificate.user_id == learner.id)).one()
    db.commit()  # SQLite: a read transaction here would hold the write lock a task needs
    return certificate


def count(db, model, **where) -> int:
    statement = select(func.count()).select_from(model)
    for name, value in where.items():
        statement = statement.where(getattr(model, name) == value)
    result = db.exec(statement).one()
    db.commit()  # as in certificate_of
    return result


def test_completing_a_course_issues_one_certificate_draws_it_and_tells_the_learner_once(
        db, student, course, instructor, outbox):
    complete(db, student, course)
    certificate = certificate_of(db, student)
    assert (certificate.student_name, certificate.course_title, certificate.instructor_name) == (
        student.full_name, "Data Science: From Zero", instructor.full_name)
    assert certificate.file_ready_at is not None
    assert certificates.pdf_path(certificate.code).read_bytes().startswith(b"%PDF")
    assert count(db, Notification, user_id=student.id, kind="certificate.issued") == 1
    [email] = db.exec(select(EmailLog).where(EmailLog.kind == "certificate.issued")).all()
    assert email.to_address == student.email and "Data Science: From Zero" in email.subject
    assert len(list(outbox.glob("*.eml"))) == 2  # the enrollment's email and this one


def test_undoing_and_redoing_the_last_lesson_keeps_the_one_certificate(db, student, course):
    complete(db, student, course)
    first = certificate_of(db, student)
    last = course_outline(db, course.slug, student).lessons[-1].id
    progress.set_lesson_completion(db, student, last, False)
    db.commit()
    assert certificates.verify(db, first.code).status is VerificationStatus.VALID
    progress.set_lesson_completion(db, student, last, True)
    db.commit()
    assert certificate_of(db, student).id == first.id
    assert count(db, Certificate, user_id=student.id) == 1
    assert count(db, Notification, user_id=student.id, kind="certificate.issued") == 1


def test_two_tabs_finishing_the_course_at_once_issue_one_certificate(engine, db, student, course):
    enrollment.enroll_free(db, student, course.id)
    db.commit()
    lessons = [lesson.id for lesson in course_outline(db, course.slug, student).lessons]
    student_id = student.id
    db.rollback()  # SQLite: our read transaction holds the write lock (BEGIN IMMEDIATE)
    errors = race(engine, 2, lambda session, i: progress.set_lesson_completion(
        session, session.get(User, student_id), lessons[i], True))
    assert errors == []
    assert count(db, Certificate, user_id=student.id) == 1
    assert count(db, Notification, user_id=student.id, kind="certificate.issued") == 1


def test_the_draw_task_run_again_draws_the_same_file_and_tells_nobody_twice(db, student, course,
                                                                              outbox):
    complete(db, student, course)
    certificate = certificate_of(db, student)
    first_ready = certificate.file_ready_at
    assert draw_certificate.apply(args=[certificate.id]).get() == "drawn again"
    assert certificate_of(db, student).file_ready_at == first_ready
    assert count(db, Notification, user_id=student.id, kind="certificate.issued") == 1
    assert count(db, EmailLog, kind="certificate.issued") == 1
    assert draw_certificate.apply(args=[987654]).get() == "gone"


def test_a_certificate_revoked_before_it_was_drawn_is_drawn_without_telling_ready(
        db, student, admin, course):
    complete(db, student, course)
    certificate = certificate_of(db, student)
    certificate.file_ready_at = None  # as if the draw task had not run yet
    db.add(certificate)
    certificates.revoke(db, admin, certificate.id, "Issued in error")
    db.commit()
    assert draw_certificate.apply(args=[certificate.id]).get() == "drawn"
    assert certificate_of(db, student).file_ready_at is not None
    assert count(db, Notification, user_id=student.id, kind="certificate.issued") == 1  # the first


def test_a_pdf_missing_on_this_host_is_drawn_again_for_the_download(db, student, course):
    complete(db, student, course)
    certificate = certificate_of(db, student)
    certificates.pdf_path(certificate.code).unlink()  # drawn by a worker on another host
    path, _ = certificates.download(db, student, certificate.code)
    text = pypdfium2.PdfDocument(path.read_bytes())[0].get_textpage().get_text_range()
    assert student.full_name in text


def test_anyone_can_verify_a_code_however_it_is_typed(db, student, course):
    complete(db, student, course)
    code = certificate_of(db, student).code
    shown = certificates.display_code(code)
    for typed in (code, shown, shown.lower(), f"  {shown.replace('-', ' ')} ",
                  code.replace("0", "O").replace("1", "l")):
        result = certificates.verify(db, typed)
        assert (result.status, result.code, result.student_name) == (
            VerificationStatus.VALID, shown, student.full_name), typed
    for bogus in ("", "ABCD", "Z" * 16, "<script>alert(1)</script>", "U" * 16, "x" * 5000):
        assert certificates.verify(db, bogus) == certificates.Verification(VerificationStatus.UNKNOWN)


def test_only_admins_revoke_with_a_reason_the_learner_sees(db, student, instructor, admin, course):
    complete(db, student, course)
    certificate = certificate_of(db, student)
    for outsider in (student, instructor):
        with pytest.raises(PermissionDenied):
            certificates.revoke(db, outsider, certificate.id, "because")
    with pytest.raises(NotAuthenticated):
        certificates.revoke(db, None, certificate.id, "because")
    with pytest.raises(Invalid) as no_reason:
        certificates.revoke(db, admin, certificate.id, "   ")
    assert "reason" in no_reason.value.errors
    with pytest.raises(Invalid):
        certificates.revoke(db, admin, certificate.id, "x" * 501)
    with pytest.raises(NotFound):
        certificates.revoke(db, admin, 987654, "because")

    certificates.revoke(db, admin, certificate.id, "Plagiarised final project")
    db.commit()
    result = certificates.verify(db, certificate.code)
    assert result.status is VerificationStatus.REVOKED and result.revoked_at is not None
    assert "Plagiarised" not in repr(result)  # the public page never learns the reason
    [mine] = certificates.for_learner(db, student)
    assert mine.revoked_reason == "Plagiarised final project"
    with pytest.raises(Conflict):
        certificates.revoke(db, admin, certificate.id, "again")
    [entry] = db.exec(select(AuditEntry).where(AuditEntry.action == "certificate.revoke")).all()
    assert (entry.actor_id, entry.entity_id) == (admin.id, certificate.id)
    assert json.loads(entry.after)["reason"] == "Plagiarised final project"
    assert count(db, Notification, user_id=student.id, kind="certificate.revoked") == 1

    certificates.reinstate(db, admin, certificate.id)
    db.commit()
    assert certificates.verify(db, certificate.code).status is VerificationStatus.VALID
    with pytest.raises(Conflict):
        certificates.reinstate(db, admin, certificate.id)


def test_a_pdf_is_the_learners_or_an_admins_to_download_and_never_a_revoked_one(
        db, student, admin, course):
    complete(db, student, course)
    certificate = certificate_of(db, student)
    code = certificates.display_code(certificate.code)
    path, name = certificates.download(db, student, code)
    assert path == certificates.pdf_path(certificate.code)
    assert name == f"certificate-data-science-from-zero-{code}.pdf"
    assert certificates.download(db, admin, code)[0] == path
    stranger = make_user(db)
    with pytest.raises(NotFound):
        certificates.download(db, stranger, code)
    with pytest.raises(NotAuthenticated):
        certificates.download(db, None, code)
    certificates.revoke(db, admin, certificate.id, "Issued in error")
    db.commit()
    with pytest.raises(Conflict):
        certificates.download(db, student, code)


def test_learners_see_their_own_certificates_and_admins_search_all(db, student, admin, course):
    complete(db, student, course)
    other = make_user(db, name="Zoë Ångström")
    complete(db, other, course)
    [mine] = certificates.for_learner(db, student)
    assert (mine.course_title, mine.ready, mine.revoked) == ("Data Science: From Zero", True, False)

    def found(text: str = "", status: str = "all") -> list[str]:
        return [c.student_name for c in kit_service.list_records(db, admin, CERTIFICATES, ListQuery(
            search=text, filters={"revoked_at": status})).rows]

    assert found("zoë") == ["Zoë Ångström"]
    assert found(mine.code.lower()) == found(mine.code.replace("-", " ")) == [student.full_name]
    assert len(found("Data Science")) == 2
    assert found(other.email.upper()) == ["Zoë Ångström"]  # the learner's email, from users
    kit_service.run_action(db, admin, CERTIFICATES, "revoke", mine.id, "Issued in error")
    db.commit()
    assert found(status="revoked") == [student.full_name]
    assert found(status="valid") == ["Zoë Ångström"]
    for outsider in (student, make_user(db, Role.INSTRUCTOR)):
        with pytest.raises(PermissionDenied):
            kit_service.list_records(db, outsider, CERTIFICATES)


def test_the_admin_page_revokes_with_a_reason_and_reinstates_through_the_service(
        db, student, admin, instructor, course):
    complete(db, student, course)
    certificate = certificate_of(db, student)
    for outsider in (student, instructor):  # the course's own instructor, too: admins only
        with pytest.raises(PermissionDenied):
            kit_service.run_action(db, outsider, CERTIFICATES, "revoke", certificate.id, "Fraud")
    with pytest.raises(Invalid) as refused:
        kit_service.run_action(db, admin, CERTIFICATES, "revoke", certificate.id, "  ")
    assert refused.value.errors["reason"] == "Say why it is revoked: the verification page shows it"
    kit_service.run_action(db, admin, CERTIFICATES, "revoke", certificate.id, "Issued in error")
    db.commit()
    listed = kit_service.list_records(db, admin, CERTIFICATES)
    assert listed.rights[certificate.id].actions == ("reinstate",)
    assert listed.names[certificate.id] == f"the certificate of {student.full_name}"
    status = CERTIFICATES.columns[-1]
    assert (cell_text(status, certificate, listed.extra),
            cell_text(status.note_column, certificate, listed.extra)) == ("Revoked",
                                                                          "Issued in error")
    kit_service.run_action(db, admin, CERTIFICATES, "reinstate", certificate.id)
    db.commit()
    assert db.exec(select(AuditEntry.action).order_by(AuditEntry.id)).all() == [
        "certificate.revoke", "certificate.reinstate"]  # the service's entries, once each
    assert [n.kind for n in db.exec(select(Notification).where(
        Notification.kind == "certificate.revoked"))] == ["certificate.revoked"]


def test_the_sweeper_finds_lost_draws_and_completions_without_a_certificate(db, student, course):
    unfinished = make_user(db)
    for learner in (unfinished, student):
        enrollment.enroll_free(db, learner, course.id)
        db.commit()
        row = db.exec(select(Enrollment).where(Enrollment.user_id == learner.id)).one()
        row.status = EnrollmentStatus.COMPLETED  # completed before certificates existed
        db.add(row)
    for lesson in course_outline(db, course.slug, student).lessons:
        db.add(LessonProgress(user_id=student.id, lesson_id=lesson.id))
    db.commit()
    # The certificate rule turns down an enrollment marked completed with lessons left to do.
    assert certificates.issue_missing(db) == (1, None)
    assert db.exec(select(Certificate.user_id)).all() == [student.id]
    db.commit()
    certificate = certificate_of(db, student)
    assert certificate.file_ready_at is not None  # issuing queued the draw
    assert certificates.issue_missing(db) == (0, None)
    certificate.file_ready_at = None  # as if the draw task had been lost
    certificate.issued_at -= timedelta(minutes=11)
    db.add(certificate)
    db.commit()
    assert certificates.undrawn(db, timedelta(minutes=10)) == [certificate.id]
    assert certificates.drawing_count(db) == 1
    assert certificates.undrawn(db, timedelta(minutes=20)) == []


NAMES = ["Zoë Ångström", "李小龙", "محمد", "Παναγιώτης Οικονόμου", "Анна Каренина", "김민준",
         "שרה לוי"]


@pytest.mark.parametrize("name", NAMES)
def test_every_character_of_a_name_is_drawn_in_a_font_that_has_it(name):
    for font, chars in pdf.font_runs(name, pdf.BOLD):
        glyphs = pdf.pdfmetrics.getFont(font).face.charToGlyph
        assert all(ord(c) in glyphs for c in chars), (font, chars)


def test_the_pdf_carries_names_in_every_script_and_a_qr_code_that_scans_to_the_verify_page():
    url = "https://academy.example/verify/ABCD-2345-EFGH-6789"
    for name in NAMES:
        data = pdf.render_certificate(pdf.CertificateText(
            student_name=name, course_title="Data Science: From Zero", instructor_name="李老师",
            issued_on=date(2026, 11, 29), code="ABCD-2345-EFGH-6789", verify_url=url))
        page = pypdfium2.PdfDocument(data)[0]
        text = page.get_textpage().get_text_range()
        assert name in text and "李老师" in text and "29 November 2026" in text, name
        image = page.render(scale=2).to_pil()
        assert [code.text for code in zxingcpp.read_barcodes(image)] == [url]


def test_the_linkedin_link_adds_the_certificate_to_a_profile_with_its_verify_page(monkeypatch):
    monkeypatch.setattr(certificates.get_settings(), "public_url", "https://academy.example")
    url = certificates.linkedin_add_url("Data Science: From Zero & More", datetime(2026, 3, 9, 23, 30,
                                        tzinfo=UTC), "ABCD2345EFGH6789")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.linkedin.com", "/profile/add")
    assert dict(parse_qsl(parts.query, strict_parsing=True)) == {
        "startTask": "CERTIFICATION_NAME", "name": "Data Science: From Zero & More",
        "organizationName": "Academy", "issueYear": "2026", "issueMonth": "3",
        "certUrl": "https://academy.example/verify/ABCD-2345-EFGH-6789",
        "certId": "ABCD-2345-EFGH-6789"}
