"""The Reflex state of a kit page: thin, like every state here.

`KitState` is a state mixin: each declared resource gets its own state class (`state_for`), a
subclass of `StaffState` with its own copy of these vars and handlers, so two kit pages never share
rows. Handlers read and bound their input, resolve the caller from the session cookie, call the
kit's service and set what the page shows; every rule and permission is in `service.py`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar

import reflex as rx
from sqlmodel import Session

from academy_app.admin.kit import service
from academy_app.admin.kit.resource import ADMINS, Column, Resource
from academy_app.admin.layout import StaffState
from academy_app.db import session_scope
from academy_app.infra.presence import watchers
from academy_app.models import User, as_utc
from academy_app.services.errors import Invalid, ServiceError
from academy_app.text import as_id

MAX_FIELD = 5_000  # characters kept of one typed value


@dataclass
class KitRow:
    """A row as the list shows it: its cells' text by column name (page code reads
    ``row.cells["status"]``, never a position), and what the caller may do to it."""

    id: int = 0
    label: str = ""
    cells: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # the smaller line under a cell that has one
    links: dict[str, str] = field(default_factory=dict)  # where a linking cell goes, or ""
    chosen: dict[str, str] = field(default_factory=dict)  # choosing action -> the row's value
    can_edit: bool = False
    can_delete: bool = False
    actions: list[str] = field(default_factory=list)


def cell_text(column: Column, row: Any, extra: dict[str, dict[int, Any]]) -> str:
    """What a column shows for a row; `extra` is what the list read beside the rows."""
    if column.format is not None:
        return str(column.format(row))
    value = extra[column.name].get(row.id) if column.name in extra else getattr(row, column.name)
    if value is None:
        return column.empty
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return as_utc(value).strftime("%d %b %Y")
    if isinstance(value, Enum):
        return str(value.value).replace("_", " ").capitalize()
    return str(value)


class KitState(rx.State, mixin=True):
    rows: list[KitRow] = []
    summary: str = ""  # e.g. "26-50 of 1,204" (with an en dash)
    has_previous: bool = False
    has_next: bool = False
    loading: bool = True
    narrowed: bool = False  # a search or a filter is on (the empty list says "Nothing matches")
    query: str = ""
    filters: dict[str, str] = {}
    sort: str = ""
    options: dict[str, list[list[str]]] = {}  # [value, label] of each select, as the caller may pick
    can_create: bool = False
    form: dict[str, str] = {}
    errors: dict[str, str] = {}
    form_open: bool = False
    editing: int = 0  # the row the form edits; 0 while it creates one
    deleting: int = 0  # the row the delete dialog asks about
    deleting_label: str = ""
    # The action whose dialog asks for a reason, the row it is for, and the reason typed.
    asking: str = ""
    asking_row: int = 0
    asking_label: str = ""
    reason: str = ""
    reason_error: str = ""
    # Keyset paging: where this page starts, and where the pages before it started.
    _cursor: str = ""
    _previous: list[str] = []
    _next: str = ""
    _offset: int = 0
    # Set when the form was just saved: the second click of a double click finds the form reset
    # and must neither save again nor answer with "required" errors.
    _just_saved: bool = False
    _opened: dict[str, str] = {}  # the edit form as read when it was opened

    _resource: ClassVar[Resource]

    # --- the list ------------------------------------------------------------------------------

    @rx.event
    def load(self):  # noqa: ANN201
        """on_load: the list as it is now (a reconnect runs it again and keeps search and page)."""
        resource = self._resource
        with session_scope() as session:
            actor, away = self._staff_or_redirect(
                session, admin_only=resource.permissions.who("view") == ADMINS)
            if away:
                return away
            self._fill(session, actor)
        watchers.watch(resource.name, self.router.session.client_token, type(self), resource.route)
        return None

    @rx.event
    def refresh(self) -> None:
        """Reload the rows only (what a change made elsewhere triggers): a form being typed or an
        open dialog stays as it is."""
        with session_scope() as session:
            actor = self._actor(session)
            if not service.may(actor, self._resource, "view"):
                self.rows = []
                return
            self._fill(session, actor)

    @rx.event
    def search(self, text: str) -> None:
        self.query = service.plain_text(text, 100) if isinstance(text, str) else ""
        self._first_page()

    @rx.event
    def set_filter(self, name: str, value: str) -> None:
        if isinstance(name, str) and name in self._resource.filters and isinstance(value, str):
            self.filters = {**self.filters, name: service.plain_text(value, 40)}
            self._first_page()

    @rx.event
    def sort_by(self, name: str) -> None:
        if name in self._resource.sortable:
            current = self.sort or self._resource.listing.sort
            self.sort = f"-{name}" if current == name else name
            self._first_page()

    @rx.event
    def next_page(self) -> None:
        if self._next:
            self._previous = [*self._previous, self._cursor]
            self._cursor = self._next
            self._offset += self._resource.listing.per_page
            self.refresh()

    @rx.event
    def previous_page(self) -> None:
        if self._previous:
            self._cursor, self._previous = self._previous[-1], self._previous[:-1]
            self._offset = max(0, self._offset - self._resource.listing.per_page)
            self.refresh()

    def _first_page(self) -> None:
        self._cursor, self._previous, self._offset = "", [], 0
        self.refresh()

    def _fill(self, session: Session, actor: User | None) -> None:
        resource = self._resource
        try:
            page = service.list_records(session, actor, resource, service.ListQuery(
                search=self.query, filters=self.filters, sort=self.sort, after=self._cursor))
            if not page.rows and self._previous:  # this page emptied (rows deleted): step back
                self._cursor, self._previous = self._previous[-1], self._previous[:-1]
                self._offset = max(0, self._offset - resource.listing.per_page)
                page = service.list_records(session, actor, resource, service.ListQuery(
                    search=self.query, filters=self.filters, sort=self.sort, after=self._cursor))
            self.options = {name: [list(pair) for pair in pairs]
                            for name, pairs in service.choices(session, actor, resource).items()}
        except ServiceError:
            self.rows, self.loading = [], False
            return
        self.rows = [KitRow(
            id=row.id, label=page.names[row.id],
            cells={c.name: cell_text(c, row, page.extra) for c in resource.columns},
            notes={c.name: cell_text(c.note_column, row, page.extra)
                   for c in resource.columns if c.note_column is not None},
            links={c.name: c.link(row) for c in resource.columns if c.link is not None},
            chosen={a.name: service.as_text(getattr(row, a.choose))
                    for a in resource.actions if a.choose},
            can_edit=page.rights[row.id].edit, can_delete=page.rights[row.id].delete,
            actions=list(page.rights[row.id].actions)) for row in page.rows]
        self.sort = page.sort
        self._next = page.next_cursor
        self.has_next, self.has_previous = bool(page.next_cursor), bool(self._previous)
        total = f"{service.COUNT_CAP:,}+" if page.total > service.COUNT_CAP else f"{page.total:,}"
        self.summary = (f"{self._offset + 1:,}–{self._offset + len(page.rows):,} of {total}"
                        if page.rows else "")
        self.can_create = bool(resource.creatable or resource.form.new_page) and \
            service.may(actor, resource, "create")
        self.narrowed = bool(self.query.strip()) or any(
            self.filters.get(name, declared.default) not in ("", declared.default)
            for name, declared in resource.filters.items())
        self.loading = False

    def _read(self, operation: str, read: Callable[[Session, User | None], Any]
              ) -> tuple[Any, list | None]:
        """What `read` gives the caller, or (None, the refusal: logged, told, the list reloaded)."""
        try:
            with session_scope() as session:
                return read(session, self._actor(session)), None
        except ServiceError as exc:
            return None, [self._refuse(f"{self._resource.name}.{operation}", exc),
                          type(self).refresh]

    # --- the form ------------------------------------------------------------------------------

    @rx.event
    def open_create(self) -> None:
        if not self._resource.creatable:
            return
        self.form, self.errors, self.editing = self._resource.blank_form(), {}, 0
        self.form_open, self._just_saved = True, False

    @rx.event
    def open_edit(self, row_id: int):  # noqa: ANN201
        resource = self._resource
        if not resource.editable:
            return None
        values, refused = self._read("open_edit", lambda session, actor: service.form_values(
            session, actor, resource, as_id(row_id)))
        if refused:
            return refused
        self.form, self.errors, self.editing = values, {}, as_id(row_id)
        self._opened = values  # what the save compares with, so it undoes no one else's change
        self.form_open, self._just_saved = True, False
        return None

    @rx.event
    def set_field(self, name: str, value: str | bool) -> None:
        if isinstance(name, str) and name in self._resource.fields and \
                isinstance(value, str | bool):
            text = ("true" if value else "false") if isinstance(value, bool) else \
                service.plain_text(value, MAX_FIELD)
            self.form = {**self.form, name: text}
            self.errors = {k: v for k, v in self.errors.items() if k != name}
            self._just_saved = False

    @rx.event
    def close_form(self) -> None:
        self.form_open, self.editing, self.errors = False, 0, {}
        self.form = self._resource.blank_form()

    @rx.event
    def save(self):  # noqa: ANN201
        resource = self._resource
        if self._just_saved or not (self.form_open or resource.form.inline):
            return None
        values = {name: self.form.get(name, "") for name in resource.fields}
        editing = self.editing if self.form_open else 0
        operation = "update" if editing else "create"
        try:
            with session_scope() as session:
                actor = self._actor(session)
                if editing:
                    service.update_record(session, actor, resource, editing, values,
                                          opened=self._opened)
                else:
                    service.create_record(session, actor, resource, values)
        except Invalid as exc:
            self.errors = exc.errors
            return None
        except ServiceError as exc:
            self.close_form()
            return [self._refuse(f"{resource.name}.{operation}", exc), type(self).refresh]
        self.close_form()
        self._just_saved = True
        done = f"{resource.singular.capitalize()} {'saved' if editing else 'created'}"
        return [rx.toast.success(done), type(self).refresh]

    # --- delete and row actions ----------------------------------------------------------------

    @rx.event
    def ask_delete(self, row_id: int):  # noqa: ANN201
        resource = self._resource
        if not resource.deletable:
            return None
        label, refused = self._read("ask_delete", lambda session, actor: service.row_label(
            session, actor, resource, as_id(row_id), "delete"))
        if refused:
            return refused
        self.deleting, self.deleting_label = as_id(row_id), label
        return None

    @rx.event
    def cancel_delete(self) -> None:
        self.deleting, self.deleting_label = 0, ""

    @rx.event
    def confirm_delete(self):  # noqa: ANN201
        resource, row_id = self._resource, self.deleting
        if not row_id:
            return None  # a second click after the dialog closed
        self.cancel_delete()
        return self._act(f"{resource.name}.delete", lambda session, actor: service.delete_record(
            session, actor, resource, row_id), f"{resource.singular.capitalize()} deleted",
            type(self).refresh)

    @rx.event
    def run_action(self, name: str, row_id: int):  # noqa: ANN201
        """Run a row action; one that asks for a reason opens its dialog instead (after checking
        that the caller may act on the row at all)."""
        resource = self._resource
        action = next((a for a in resource.actions if a.name == name), None)
        if action is None or action.choose:
            return None
        if action.reason:
            label, refused = self._read(action.name, lambda session, actor: service.row_label(
                session, actor, resource, as_id(row_id)))
            if refused:
                return refused
            self.asking, self.asking_row = action.name, as_id(row_id)
            self.asking_label = label[:1].upper() + label[1:]  # "Payment of Sam Student"
            self.reason, self.reason_error = "", ""
            return None
        return self._run(action.name, as_id(row_id))

    @rx.event
    def choose(self, name: str, row_id: int, value: str):  # noqa: ANN201
        """A choosing action (a select in the row) picked `value`."""
        action = next((a for a in self._resource.actions if a.name == name and a.choose), None)
        if action is None or not isinstance(value, str):
            return None
        return self._run(action.name, as_id(row_id), value)

    @rx.event
    def set_reason(self, text: str) -> None:
        self.reason = service.plain_text(text, 2_000) if isinstance(text, str) else ""
        self.reason_error = ""

    @rx.event
    def cancel_reason(self) -> None:
        self.asking, self.asking_row, self.asking_label = "", 0, ""

    @rx.event
    def confirm_reason(self):  # noqa: ANN201
        if not self.asking_row:
            return None  # a second click after the dialog closed
        try:
            with session_scope() as session:
                service.run_action(session, self._actor(session), self._resource, self.asking,
                                   self.asking_row, self.reason)
        except Invalid as exc:
            self.reason_error = exc.errors.get("reason", exc.message)
            return None
        except ServiceError as exc:
            name = self.asking
            self.cancel_reason()
            return [self._refuse(f"{self._resource.name}.{name}", exc), type(self).refresh]
        action = next(a for a in self._resource.actions if a.name == self.asking)
        self.cancel_reason()
        return [rx.toast.success(action.done or f"{action.label}: done"), type(self).refresh]

    def _run(self, name: str, row_id: int, argument: str = "") -> list:
        resource = self._resource
        action = next(a for a in resource.actions if a.name == name)
        return self._act(f"{resource.name}.{name}", lambda session, actor: service.run_action(
            session, actor, resource, name, row_id, argument), action.done or
            f"{action.label}: done", type(self).refresh)


def state_for(resource: Resource) -> type[StaffState]:
    """The state class of a resource's page, e.g. ``StudyGroupKitState``, defined in this module
    (state is pickled by class name, so the class must be found here again)."""
    name = "".join(part.capitalize() for part in resource.name.split("_")) + "KitState"
    module = sys.modules[__name__]
    if hasattr(module, name):
        raise ValueError(f"A kit page for {resource.name!r} is declared twice")
    cls = type(name, (KitState, StaffState), {
        "__module__": __name__, "__qualname__": name,
        "__annotations__": {"_resource": ClassVar[Resource]}, "_resource": resource,
        # Every field and filter has a value from the start: the inputs are controlled.
        "form": resource.blank_form(),
        "filters": {name: declared.default for name, declared in resource.filters.items()},
        "options": {name: [] for name, spec in resource.fields.items() if spec.kind == "select"}
        | {name: [] for name in resource.filters}
        | {action.choose: [] for action in resource.actions if action.choose}})
    setattr(module, name, cls)
    return cls
