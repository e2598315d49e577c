"""The audit log: one row per staff action, written in the same transaction as the action, and one
per burst of refused attempts that looks like guessing (coupon codes: services/payments.py)."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, SQLModel

from academy_app.models import AuditEntry, User


def snapshot(row: SQLModel, *fields: str) -> dict[str, Any]:
    """The named fields of a row as JSON-safe values, for the before/after columns."""
    return {name: _jsonable(getattr(row, name)) for name in fields}


def record(session: Session, actor: User, action: str, row: SQLModel,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> None:
    session.add(AuditEntry(actor_id=actor.id, action=action, entity_type=type(row).__tablename__,
                           entity_id=getattr(row, "id", None),
                           before=json.dumps(before or {}, sort_keys=True),
                           after=json.dumps(after or {}, sort_keys=True)))


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
