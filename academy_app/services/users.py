"""Account administration (admins only): change roles, deactivate; read the audit log.

An admin never changes their own role or access, and at least one active admin always remains.
Two admins demoting each other at once would each see the other still there, so every change
first locks the active admins' rows (_lock_active_admins) and decides on what it reads under the
lock: the second admin waits for the first, then finds themselves demoted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, delete, select

from academy_app.models import AuditEntry, LoginSession, Role, User, utcnow
from academy_app.services import audit
from academy_app.services.errors import Conflict, Invalid, NotFound, PermissionDenied
from academy_app.services.permissions import require_admin

MAX_ROWS = 200
AUDIT_PREVIEW_CHARS = 2000
LAST_ADMIN = "At least one active admin must remain: make another admin first"


@dataclass(frozen=True)
class AuditRow:
    id: int
    actor: str
    action: str
    entity: str
    before: str
    after: str
    created_at: datetime


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
    if not active:
        session.exec(delete(LoginSession).where(col(LoginSession.user_id) == user.id))
    return user


def audit_log(session: Session, actor: User | None, action: str = "") -> list[AuditRow]:
    require_admin(actor)
    statement = (select(AuditEntry, User.full_name)
                 .outerjoin(User, col(User.id) == AuditEntry.actor_id)
                 .order_by(col(AuditEntry.created_at).desc(), col(AuditEntry.id).desc())
                 .limit(MAX_ROWS))
    if action:
        statement = statement.where(col(AuditEntry.action).startswith(action[:60]))
    return [AuditRow(id=e.id, actor=name or "(deleted user)", action=e.action,
                     entity=f"{e.entity_type} #{e.entity_id}", before=_preview(e.before),
                     after=_preview(e.after),
                     created_at=e.created_at)
            for e, name in session.exec(statement)]


def _preview(text: str) -> str:
    """The start of a before/after value: a lesson body can be 100 kB, the log page shows 200 rows."""
    return text if len(text) <= AUDIT_PREVIEW_CHARS else text[:AUDIT_PREVIEW_CHARS] + " …(cut)"


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
