"""Who may do what. Every staff service calls one of these before it reads or writes anything."""

from __future__ import annotations

from academy_app.models import Course, Role, User
from academy_app.services.accounts import require_user
from academy_app.services.errors import PermissionDenied

STAFF_ROLES = (Role.INSTRUCTOR, Role.ADMIN)


def is_staff(user: User | None) -> bool:
    return user is not None and user.role in STAFF_ROLES


def require_staff(actor: User | None) -> User:
    user = require_user(actor)
    if user.role not in STAFF_ROLES:
        raise PermissionDenied("Only instructors and admins can do this")
    return user


def require_admin(actor: User | None) -> User:
    user = require_user(actor)
    if user.role is not Role.ADMIN:
        raise PermissionDenied("Only admins can do this")
    return user


def require_course_staff(actor: User | None, course: Course) -> User:
    """The course's own instructor, or an admin."""
    user = require_staff(actor)
    if user.role is not Role.ADMIN and course.instructor_id != user.id:
        raise PermissionDenied("You can only manage your own courses")
    return user
