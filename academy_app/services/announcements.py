"""Course updates: the course's staff tells every enrolled learner something, once."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import Session, col, select

from academy_app.models import AuditEntry, Course, Enrollment, User, utcnow
from academy_app.services import audit
from academy_app.services.enrollment import LEARNING_STATUSES
from academy_app.services.errors import Conflict, Invalid, NotFound
from academy_app.services.notifications import notify_many
from academy_app.services.permissions import require_course_staff, require_staff

MIN_TITLE, MAX_TITLE = 3, 120
MAX_MESSAGE = 1000
REPEAT_WINDOW = timedelta(minutes=1)  # the same update again within this is a double click


def broadcast_update(session: Session, actor: User | None, course_id: int, title: str,
                     message: str) -> int:
    """Notify every learner of the course (active or completed); returns how many.

    Learners online get it live (the bus delivers each notification after commit); the others find
    it in their notifications on their next visit.
    """
    # Locking the course row makes two simultaneous sends of one update queue up, so the second
    # sees the first in the audit log (SQLite's BEGIN IMMEDIATE serialises them anyway).
    course = session.exec(select(Course).where(Course.id == course_id).with_for_update()).first()
    if course is None:
        require_staff(actor)
        raise NotFound("course", course_id)
    staff = require_course_staff(actor, course)
    title, message = " ".join(str(title or "").split()), str(message or "").strip()
    errors = {}
    if not MIN_TITLE <= len(title) <= MAX_TITLE:
        errors["title"] = f"Give the update a title ({MIN_TITLE} to {MAX_TITLE} characters)"
    if len(message) > MAX_MESSAGE:
        errors["message"] = f"Keep the message under {MAX_MESSAGE} characters"
    if errors:
        raise Invalid(errors)
    sent = {"title": title, "message": message}
    if _sent_just_now(session, course.id, sent):
        raise Conflict("This update was sent a moment ago")
    learners = session.exec(select(Enrollment.user_id).where(
        Enrollment.course_id == course.id, col(Enrollment.status).in_(LEARNING_STATUSES))).all()
    notify_many(session, learners, "course.update", f"{course.title}: {title}", message,
                f"/courses/{course.slug}")
    audit.record(session, staff, "course.broadcast", course, after={**sent, "learners": len(learners)})
    return len(learners)


def _sent_just_now(session: Session, course_id: int, sent: dict[str, str]) -> bool:
    recent = session.exec(select(AuditEntry.after).where(
        AuditEntry.action == "course.broadcast", AuditEntry.entity_type == Course.__tablename__,
        AuditEntry.entity_id == course_id, AuditEntry.created_at >= utcnow() - REPEAT_WINDOW))
    return any({k: v for k, v in json.loads(after).items() if k in sent} == sent for after in recent)
