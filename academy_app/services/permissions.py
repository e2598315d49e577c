"""Who may do what. Every staff service calls one of these before it reads or writes anything, and
the states ask the same rule which pages a user may open (AuthState._read_as)."""

from __future__ import annotations

from academy_app.models import Course, Role, User
from academy_app.services.accounts import require_user
from academy_app.services.errors import PermissionDenied

Roles = tuple[Role, ...]
ANY_ROLE: Roles = tuple(Role)  # anyone logged in
STAFF: Roles = (Role.INSTRUCTOR, Role.ADMIN)
ADMINS: Roles = (Role.ADMIN,)


def has_role(user: User | None, roles: Roles) -> bool:
    return user is not None and user.role in roles


def refusal(roles: Roles, doing: str = "do this") -> str:
    """What someone without `roles` is told."""
    named = {STAFF: "instructors and admins", ADMINS: "admins"}.get(roles)
    return f"Only {named} can {doing}" if named else f"You are not allowed to {doing}"


def require_role(actor: User | None, roles: Roles) -> User:
    user = require_user(actor)
    if user.role not in roles:
        raise PermissionDenied(refusal(roles))
    return user


def is_staff(user: User | None) -> bool:
    return has_role(user, STAFF)


def require_staff(actor: User | None) -> User:
    return require_role(actor, STAFF)


def require_admin(actor: User | None) -> User:
    return require_role(actor, ADMINS)


def require_course_staff(actor: User | None, course: Course) -> User:
    """The course's own instructor, or an admin."""
    user = require_staff(actor)
    if user.role is not Role.ADMIN and course.instructor_id != user.id:
        raise PermissionDenied("You can only manage your own courses")
    return user
