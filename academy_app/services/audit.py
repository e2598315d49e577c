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


def describe_change(before: str, after: str, limit: int = 400) -> str:
    """An entry's before/after JSON as a reader wants it: "title: Old → New; price_cents: 0 → 4990"
    for what changed, "title: New" for what was created, "title: Old (removed)" for a delete.
    Long values (a lesson body) are cut; the entry itself keeps them whole."""
    old, new = _as_dict(before), _as_dict(after)
    parts = []
    for name in sorted(old.keys() | new.keys()):
        if name not in new:
            if old[name] not in _EMPTY:
                parts.append(f"{name}: {_short(old[name])} (removed)")
        elif name not in old:
            if new[name] not in _EMPTY:  # a new row's unset fields say nothing
                parts.append(f"{name}: {_short(new[name])}")
        elif old[name] != new[name]:
            parts.append(f"{name}: {_short(old[name])} → {_short(new[name])}")
    text = "; ".join(parts) or "(no field changed)"
    return text if len(text) <= limit else text[:limit - 1] + "…"


_EMPTY = ("", None, [], {})


def _as_dict(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {"value": text}
    return value if isinstance(value, dict) else {"value": value}


def _short(value: Any, width: int = 60) -> str:
    text = "empty" if value in _EMPTY else " ".join(str(value).split())
    return text if len(text) <= width else text[:width - 1] + "…"
