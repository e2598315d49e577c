"""/admin/users and /admin/audit — accounts and the record of every staff action (admins only)."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from academy_app.admin.layout import StaffState, admin_page, as_id, data_table
from academy_app.components.layout import empty_state
from academy_app.db import session_scope
from academy_app.models import Role, as_utc
from academy_app.services import users

ROLES = [("student", "Student"), ("instructor", "Instructor"), ("admin", "Admin")]


@dataclass
class UserRow:
    id: int = 0
    name: str = ""
    email: str = ""
    role: str = ""
    active: bool = True
    joined: str = ""


@dataclass
class AuditLine:
    id: int = 0
    actor: str = ""
    action: str = ""
    entity: str = ""
    before: str = ""
    after: str = ""
    when: str = ""


def _when(moment) -> str:  # noqa: ANN001
    return as_utc(moment).strftime("%d %b %Y, %H:%M UTC")


class UserAdminState(StaffState):
    rows: list[UserRow] = []
    query: str = ""
    role_filter: str = "all"
    loading: bool = True

    @rx.event
    def load(self):  # noqa: ANN201
        with session_scope() as session:
            actor, away = self._staff_or_redirect(session, admin_only=True)
            if away:
                return away
            role = Role(self.role_filter) if self.role_filter in Role._value2member_map_ else None
            self.rows = [UserRow(id=u.id, name=u.full_name, email=u.email, role=u.role.value,
                                 active=u.is_active, joined=_when(u.created_at))
                         for u in users.search_users(session, actor, self.query, role)]
        self.loading = False
        return None

    @rx.event
    def search(self, text: str):  # noqa: ANN201
        self.query = text[:100] if isinstance(text, str) else ""
        return UserAdminState.load

    @rx.event
    def set_role_filter(self, value: str):  # noqa: ANN201
        self.role_filter = value if value in ("all", *Role._value2member_map_) else "all"
        return UserAdminState.load

    @rx.event
    def change_role(self, user_id: int, role: str):  # noqa: ANN201
        return self._act("change_role", lambda s, a: users.change_role(
            s, a, as_id(user_id), role if isinstance(role, str) else ""), "Role changed",
            UserAdminState.load)

    @rx.event
    def set_active(self, user_id: int, active: bool):  # noqa: ANN201
        return self._act("set_active", lambda s, a: users.set_active(
            s, a, as_id(user_id), active is True),
            "Account reactivated" if active is True else "Account deactivated and logged out",
            UserAdminState.load)


class AuditLogState(StaffState):
    rows: list[AuditLine] = []
    loading: bool = True

    @rx.event
    def load(self):  # noqa: ANN201
        with session_scope() as session:
            actor, away = self._staff_or_redirect(session, admin_only=True)
            if away:
                return away
            self.rows = [AuditLine(id=r.id, actor=r.actor, action=r.action, entity=r.entity,
                                   before=r.before, after=r.after, when=_when(r.created_at))
                         for r in users.audit_log(session, actor)]
        self.loading = False
        return None


def user_row(row: UserRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(rx.text(row.name, weight="medium"),
                                           rx.text(row.email, size="1", color_scheme="gray"),
                                           spacing="0")),
        rx.table.cell(rx.select.root(
            rx.select.trigger(aria_label="Role of " + row.name),
            rx.select.content(*[rx.select.item(text, value=value) for value, text in ROLES]),
            value=row.role,
            on_change=lambda role: UserAdminState.change_role(row.id, role),
            size="1",
        )),
        rx.table.cell(rx.cond(row.active, rx.badge("Active", color_scheme="green"),
                              rx.badge("Deactivated", color_scheme="red"))),
        rx.table.cell(rx.text(row.joined, size="2")),
        rx.table.cell(rx.cond(
            row.active,
            rx.button("Deactivate", size="1", variant="soft", color_scheme="red",
                      aria_label="Deactivate " + row.name,
                      on_click=UserAdminState.set_active(row.id, False)),
            rx.button("Reactivate", size="1", variant="soft",
                      aria_label="Reactivate " + row.name,
                      on_click=UserAdminState.set_active(row.id, True)),
        )),
        align="center",
    )


def users_page() -> rx.Component:
    return admin_page(
        "Users",
        "Find people, change what they may do, and deactivate accounts. A deactivated account "
        "is logged out everywhere at once.",
        rx.hstack(
            rx.debounce_input(rx.input(
                rx.input.slot(rx.icon("search", size=16)), value=UserAdminState.query,
                on_change=UserAdminState.search, placeholder="Search by name or email",
                aria_label="Search users", type="search", width="320px"), debounce_timeout=250),
            rx.select.root(
                rx.select.trigger(aria_label="Show role"),
                rx.select.content(rx.select.item("All roles", value="all"),
                                  *[rx.select.item(text, value=value) for value, text in ROLES]),
                value=UserAdminState.role_filter,
                on_change=UserAdminState.set_role_filter,
            ),
            spacing="3",
            wrap="wrap",
        ),
        data_table(UserAdminState.rows, user_row,
                   ["Person", "Role", "Status", "Joined", "Access"],
                   empty_state("users", "Nobody matches", "Try another name or email."),
                   loading=UserAdminState.loading),
    )


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
