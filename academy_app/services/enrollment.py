"""Enrollment: who may learn which course."""

from __future__ import annotations

from sqlmodel import Session, select

from academy_app.db import insert_or_get
from academy_app.infra import bus
from academy_app.models import Course, Enrollment, EnrollmentStatus, User, utcnow
from academy_app.services.accounts import require_user
from academy_app.services.catalog import is_course_staff
from academy_app.services.errors import Conflict, NotFound, PermissionDenied
from academy_app.services.learner_records import Membership
from academy_app.services.notifications import notify

LEARNING_STATUSES = (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)


def enrollment_for(session: Session, user_id: int, course_id: int) -> Enrollment | None:
    return session.exec(
        select(Enrollment).where(Enrollment.user_id == user_id, Enrollment.course_id == course_id)
    ).first()


def enroll_free(session: Session, actor: User | None, course_id: int) -> Enrollment:
    """Enroll the actor in a free, published course. Calling it again returns the same enrollment."""
    user = require_user(actor)
    course = session.get(Course, course_id)
    if course is None or not course.is_published:
        raise NotFound("course", course_id)
    if not course.is_free:
        raise Conflict("This course is paid: complete the payment step to enroll")
    enrollment, created = ensure_enrollment(session, user.id, course.id, EnrollmentStatus.ACTIVE)
    if created:
        bus.refresh(session, user.id)
        notify(session, user.id, "enrollment.active", f"You're enrolled in {course.title}",
               "Start with the first lesson whenever you like.", f"/courses/{course.slug}")
    elif enrollment.status is EnrollmentStatus.CANCELLED:
        enrollment.status = EnrollmentStatus.ACTIVE
        enrollment.updated_at = utcnow()
        session.add(enrollment)
        bus.refresh(session, user.id)
    return enrollment


def ensure_enrollment(session: Session, user_id: int, course_id: int,
                      status: EnrollmentStatus) -> tuple[Enrollment, bool]:
    """The learner's enrollment in the course, or a new one with `status`: (it, whether it is new).

    The one place an enrollment is created, free or paid. Concurrent callers (a double click's twin
    request) all get the one row the unique key keeps; an existing one is the caller's to update.
    """
    existing = enrollment_for(session, user_id, course_id)
    if existing is not None:
        return existing, False
    return insert_or_get(session, Enrollment(user_id=user_id, course_id=course_id, status=status),
                         lambda: enrollment_for(session, user_id, course_id))


def require_learning_access(actor: User | None, course: Course,
                            enrollment: Membership | None) -> Membership | None:
    """The enrollment (the actor's in this course, as already read) that lets the actor open
    lessons; course staff may preview without one."""
    user = require_user(actor)
    if enrollment is not None and enrollment.status in LEARNING_STATUSES:
        return enrollment
    if is_course_staff(user, course):
        return None
    raise PermissionDenied("Enroll in this course to open its lessons")
