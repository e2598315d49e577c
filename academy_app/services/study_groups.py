"""Study groups as learners see them: the open groups of the courses they are enrolled in.

Staff manage the groups on the workspace page the admin kit builds (admin/study_groups.py); this
module is the learner's side, and the first walkthrough of docs/extending.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from academy_app.models import Course, Enrollment, EnrollmentStatus, StudyGroup, User
from academy_app.services.accounts import require_user

LEARNING = (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)


@dataclass(frozen=True)
class GroupCard:
    id: int
    name: str
    course: str
    description: str
    capacity: int
    meeting_url: str


def for_learner(session: Session, actor: User | None) -> list[GroupCard]:
    """The open groups of the courses `actor` learns (or has finished), by course and name. The
    meeting link is for enrolled learners only: no public page reads it."""
    learner = require_user(actor)
    statement = (
        select(StudyGroup, Course.title)
        .join(Course, col(Course.id) == StudyGroup.course_id)
        .join(Enrollment, col(Enrollment.course_id) == StudyGroup.course_id)
        .where(Enrollment.user_id == learner.id, col(Enrollment.status).in_(LEARNING),
               col(StudyGroup.is_open))
        .order_by(col(Course.title), col(StudyGroup.name))
    )
    return [GroupCard(id=group.id, name=group.name, course=title, description=group.description,
                      capacity=group.capacity, meeting_url=_safe_link(group.meeting_url))
            for group, title in session.exec(statement)]


def _safe_link(url: str) -> str:
    """The link goes into an href: only https:// ones, whatever wrote the row."""
    return url if url.startswith("https://") else ""
