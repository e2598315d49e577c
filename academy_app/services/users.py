"""Account administration (admins only): change roles, deactivate (the audit log is a kit page:
admin/audit.py).

An admin never changes their own role or access, and at least one active admin always remains.
Two admins demoting each other at once would each see the other still there, so every change
first locks the active admins' rows (_lock_active_admins) and decides on what it reads under the
lock: the second admin waits for the first, then finds themselves demoted.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from academy_app.models import Role, User, utcnow
from academy_app.services import accounts, audit
from academy_app.services.errors import Conflict, Invalid, NotFound, PermissionDenied
from academy_app.services.permissions import require_admin

LAST_ADMIN = "At least one active admin must remain: make another admin first"


def change_role(session: Session, actor: User | None, user_id: int, role: str) -> User:
    admin = require_admin(actor)
    if role not in Role._value2member_map_:
        raise Invalid({"role": "Choose student, instructor or admin"})
    user = _other_user(session, admin, user_id, "change your own role",
                       removes_admin=role != Role.ADMIN.value)
    if user.role.value != role:
        before = {"role": user.role.value}
        user.role, user.updated_at = Role(role), utcnow()
        session.add(user)
        audit.record(session, admin, "user.role", user, before, {"role": role})
    return user


def set_active(session: Session, actor: User | None, user_id: int, active: bool) -> User:
    """Deactivating also ends every login session of the user: logged out everywhere at once."""
    admin = require_admin(actor)
    user = _other_user(session, admin, user_id, "deactivate yourself", removes_admin=not active)
    if user.is_active != active:
        user.is_active, user.updated_at = active, utcnow()
        session.add(user)
        audit.record(session, admin, "user.activate" if active else "user.deactivate", user,
                     {"is_active": not active}, {"is_active": active})
    if not active:  # logged out everywhere, and forgotten by every worker (infra/identities.py)
        accounts.end_all_sessions(session, user)
    return user


def _other_user(session: Session, admin: User, user_id: int, what: str, *,
                removes_admin: bool) -> User:
    """The user to change: never the admin themselves, and never the last active admin when the
    change `removes_admin` (a demotion, a deactivation). Decided on rows read under the admins'
    lock, so a change another admin committed meanwhile counts."""
    admins = _lock_active_admins(session)
    user = session.get(User, user_id, populate_existing=True)
    if user is None:
        raise NotFound("user", user_id)
    if user.id == admin.id:
        raise Conflict(f"You cannot {what}: ask another admin")
    if removes_admin and admins == {user.id}:
        raise Conflict(LAST_ADMIN)
    if admin.id not in admins:  # demoted or deactivated by another admin since this request began
        raise PermissionDenied("You are no longer an active admin")
    return user


def _lock_active_admins(session: Session) -> set[int]:
    """The ids of the active admins, their rows locked until the transaction ends.

    On PostgreSQL, FOR UPDATE makes a concurrent change wait, and the rows it then reads are the
    committed ones: an admin demoted meanwhile is no longer among them. Locking in id order keeps
    two such changes from deadlocking. SQLite has no row locks and needs none: every transaction
    begins IMMEDIATE (db.make_engine), so admin changes already run one after another.
    """
    return set(session.exec(
        select(User.id).where(User.role == Role.ADMIN, col(User.is_active).is_(True))
        .order_by(col(User.id)).with_for_update()))
