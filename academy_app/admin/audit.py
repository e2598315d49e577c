"""/admin/audit — the record of every staff action (admins only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import reflex as rx

from academy_app.admin.workspace import admin_page, data_table
from academy_app.components.layout import empty_state
from academy_app.models import as_utc
from academy_app.services import users
from academy_app.services.permissions import ADMINS
from academy_app.state.auth import Refusal
from academy_app.state.staff import StaffState


@dataclass
class AuditLine:
    id: int = 0
    actor: str = ""
    action: str = ""
    entity: str = ""
    before: str = ""
    after: str = ""
    when: str = ""


def _when(moment: datetime) -> str:
    return as_utc(moment).strftime("%d %b %Y, %H:%M UTC")


class AuditLogState(StaffState):
    rows: list[AuditLine] = []
    loading: bool = True

    @rx.event
    async def load(self) -> Refusal | None:
        rows, away = await self._read_as(users.audit_log, roles=ADMINS)
        if away:
            return away
        self.rows = [AuditLine(id=r.id, actor=r.actor, action=r.action, entity=r.entity,
                               before=r.before, after=r.after, when=_when(r.created_at))
                     for r in rows]
        self.loading = False
        return None


def audit_row(row: AuditLine) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.when, size="2")),
        rx.table.cell(row.actor),
        rx.table.cell(rx.code(row.action)),
        rx.table.cell(row.entity),
        rx.table.cell(rx.code(row.before, size="1", white_space="pre-wrap",
                              word_break="break-all")),
        rx.table.cell(rx.code(row.after, size="1", white_space="pre-wrap",
                              word_break="break-all")),
        align="center",
    )


def audit_page() -> rx.Component:
    return admin_page(
        "Audit log",
        "Every staff action: who did what, when, and the record before and after.",
        data_table(AuditLogState.rows, audit_row,
                   ["When", "Who", "Action", "Record", "Before", "After"],
                   empty_state("scroll-text", "Nothing recorded yet",
                               "Staff actions appear here as they happen."),
                   loading=AuditLogState.loading),
    )
