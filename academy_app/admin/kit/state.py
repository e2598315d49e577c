"""The Reflex state of a kit page: thin, like every state here.

`KitState` is a state mixin: each declared resource gets its own state class (`state_for`), a
subclass of `StaffState` with its own copy of these vars and handlers, so two kit pages never share
rows. Handlers read and bound their input, call the kit's service as the caller
(`AuthState._read_as` / `_act_as`, off the event loop) and set what the page shows; every rule and
permission is in `service.py`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar, TypeVar

import reflex as rx
from sqlmodel import Session

from academy_app.admin.kit import service
from academy_app.admin.kit.resource import Column, Resource
from academy_app.infra.presence import watchers
from academy_app.models import User, as_utc
from academy_app.services.errors import Invalid, ServiceError
from academy_app.state.auth import Events
from academy_app.state.staff import StaffState
from academy_app.text import as_id

T = TypeVar("T")

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


@dataclass
class Listing:
    """One page of the list as its read (in a worker thread) brings it back to the state."""

    rows: list[KitRow] = field(default_factory=list)
    options: dict[str, list[list[str]]] = field(default_factory=dict)
    sort: str = ""
    cursor: str = ""
    previous: list[str] = field(default_factory=list)
    offset: int = 0
    next_cursor: str = ""
    total: int | None = None  # None: the service refused the read
    can_create: bool = False


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
    async def load(self) -> Events:
        """on_load: the list as it is now (a reconnect runs it again and keeps search and page)."""
        resource = self._resource
        listing, away = await self._read_as(self._lister(), roles=resource.permissions.who("view"))
        if away:
            return away
        self._show(listing)
        watchers.watch(resource.name, self.router.session.client_token, type(self), resource.route)
        return None

    @rx.event
    async def refresh(self) -> None:
        """Reload the rows only (what a change made elsewhere triggers): a form being typed or an
        open dialog stays as it is."""
        await self._reload()

    @rx.event
    async def search(self, text: str) -> None:
        self.query = service.plain_text(text, 100) if isinstance(text, str) else ""
        await self._first_page()

    @rx.event
    async def set_filter(self, name: str, value: str) -> None:
        if isinstance(name, str) and name in self._resource.filters and isinstance(value, str):
            self.filters = {**self.filters, name: service.plain_text(value, 40)}
            await self._first_page()

    @rx.event
    async def sort_by(self, name: str) -> None:
        if name in self._resource.sortable:
            current = self.sort or self._resource.listing.sort
            self.sort = f"-{name}" if current == name else name
            await self._first_page()

    @rx.event
    async def next_page(self) -> None:
        if self._next:
            self._previous = [*self._previous, self._cursor]
            self._cursor = self._next
            self._offset += self._resource.listing.per_page
            await self._reload()

    @rx.event
    async def previous_page(self) -> None:
        if self._previous:
            self._cursor, self._previous = self._previous[-1], self._previous[:-1]
            self._offset = max(0, self._offset - self._resource.listing.per_page)
            await self._reload()

    async def _first_page(self) -> None:
        self._cursor, self._previous, self._offset = "", [], 0
        await self._reload()

    async def _reload(self) -> None:
        listing, _ = await self._read_as(self._lister(), roles=None)
        self._show(listing)

    def _lister(self) -> Callable[[Session, User | None], Listing | None]:
        """The read of the list as this tab asks for it, for `_read_as` (its thread touches no
        state): None for a caller who may not view the list."""
        resource, per_page = self._resource, self._resource.listing.per_page
        query = service.ListQuery(search=self.query, filters=dict(self.filters), sort=self.sort,
                                  after=self._cursor)
        previous, offset = list(self._previous), self._offset

        def read(session: Session, actor: User | None) -> Listing | None:
            if not service.may(actor, resource, "view"):
                return None
            try:
                page = service.list_records(session, actor, resource, query)
                cursor, back, at = query.after, previous, offset
                if not page.rows and back:  # this page emptied (rows deleted): step back
                    cursor, back, at = back[-1], back[:-1], max(0, offset - per_page)
                    page = service.list_records(session, actor, resource,
                                                replace(query, after=cursor))
                options = {name: [list(pair) for pair in pairs]
                           for name, pairs in service.choices(session, actor, resource).items()}
            except ServiceError:
                return Listing()
            return Listing(rows=[KitRow(
                id=row.id, label=page.names[row.id],
                cells={c.name: cell_text(c, row, page.extra) for c in resource.columns},
                notes={c.name: cell_text(c.note_column, row, page.extra)
                       for c in resource.columns if c.note_column is not None},
                links={c.name: c.link(row) for c in resource.columns if c.link is not None},
                chosen={a.name: service.as_text(getattr(row, a.choose))
                        for a in resource.actions if a.choose},
                can_edit=page.rights[row.id].edit, can_delete=page.rights[row.id].delete,
                actions=list(page.rights[row.id].actions)) for row in page.rows],
                options=options, sort=page.sort, cursor=cursor, previous=back, offset=at,
                next_cursor=page.next_cursor, total=page.total,
                can_create=bool(resource.creatable or resource.form.new_page)
                and service.may(actor, resource, "create"))

        return read

    def _show(self, listing: Listing | None) -> None:
        if listing is None:  # the caller may not view the list (any longer)
            self.rows = []
            return
        self.loading = False
        if listing.total is None:  # the read was refused
            self.rows = []
            return
        resource = self._resource
        self.rows, self.options, self.sort = listing.rows, listing.options, listing.sort
        self._cursor, self._previous, self._offset = listing.cursor, listing.previous, listing.offset
        self._next = listing.next_cursor
        self.has_next, self.has_previous = bool(listing.next_cursor), bool(listing.previous)
        total = (f"{service.COUNT_CAP:,}+" if listing.total > service.COUNT_CAP
                 else f"{listing.total:,}")
        self.summary = (f"{listing.offset + 1:,}–{listing.offset + len(listing.rows):,} of {total}"
                        if listing.rows else "")
        self.can_create = listing.can_create
        self.narrowed = bool(self.query.strip()) or any(
            self.filters.get(name, declared.default) not in ("", declared.default)
            for name, declared in resource.filters.items())

    async def _read(self, operation: str, read: Callable[[Session, User], T]
                    ) -> tuple[T | None, Events]:
        """What `read` gives the caller, or (None, the refusal: logged, told, the list reloaded)."""
        name = f"{self._resource.name}.{operation}"
        try:
            found, refused = await self._act_as(name, read)
        except Invalid as exc:
            found, refused = None, [self._refuse(name, exc)]
        return found, [*refused, type(self).refresh] if refused else None

    # --- the form ------------------------------------------------------------------------------

    @rx.event
    def open_create(self) -> None:
        if not self._resource.creatable:
            return
        self.form, self.errors, self.editing = self._resource.blank_form(), {}, 0
        self.form_open, self._just_saved = True, False

    @rx.event
    async def open_edit(self, row_id: int) -> Events:
        resource = self._resource
        if not resource.editable:
            return None
        values, refused = await self._read("open_edit", lambda session, actor: service.form_values(
            session, actor, resource, as_id(row_id)))
        if refused or values is None:
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
    async def save(self) -> Events:
        resource = self._resource
        if self._just_saved or not (self.form_open or resource.form.inline):
            return None
        values = {name: self.form.get(name, "") for name in resource.fields}
        editing = self.editing if self.form_open else 0
        operation, opened = ("update" if editing else "create"), dict(self._opened)
        try:
            _, refused = await self._act_as(f"{resource.name}.{operation}", lambda session, actor: (
                service.update_record(session, actor, resource, editing, values, opened=opened)
                if editing else service.create_record(session, actor, resource, values)))
        except Invalid as exc:
            self.errors = exc.errors
            return None
        self.close_form()
        if refused:
            return [*refused, type(self).refresh]
        self._just_saved = True
        done = f"{resource.singular.capitalize()} {'saved' if editing else 'created'}"
        return [rx.toast.success(done), type(self).refresh]

    # --- delete and row actions ----------------------------------------------------------------

    @rx.event
    async def ask_delete(self, row_id: int) -> Events:
        resource = self._resource
        if not resource.deletable:
            return None
        label, refused = await self._read("ask_delete", lambda session, actor: service.row_label(
            session, actor, resource, as_id(row_id), "delete"))
        if refused or label is None:
            return refused
        self.deleting, self.deleting_label = as_id(row_id), label
        return None

    @rx.event
    def cancel_delete(self) -> None:
        self.deleting, self.deleting_label = 0, ""

    @rx.event
    async def confirm_delete(self) -> Events:
        resource, row_id = self._resource, self.deleting
        if not row_id:
            return None  # a second click after the dialog closed
        self.cancel_delete()
        return await self._act(f"{resource.name}.delete", lambda session, actor: service.delete_record(
            session, actor, resource, row_id), f"{resource.singular.capitalize()} deleted",
            type(self).refresh)

    @rx.event
    async def run_action(self, name: str, row_id: int) -> Events:
        """Run a row action; one that asks for a reason opens its dialog instead (after checking
        that the caller may act on the row at all)."""
        resource = self._resource
        action = next((a for a in resource.actions if a.name == name), None)
        if action is None or action.choose:
            return None
        if action.reason:
            label, refused = await self._read(action.name, lambda session, actor: service.row_label(
                session, actor, resource, as_id(row_id)))
            if refused or label is None:
                return refused
            self.asking, self.asking_row = action.name, as_id(row_id)
            self.asking_label = label[:1].upper() + label[1:]  # "Payment of Sam Student"
            self.reason, self.reason_error = "", ""
            return None
        return await self._run(action.name, as_id(row_id))

    @rx.event
    async def choose(self, name: str, row_id: int, value: str) -> Events:
        """A choosing action (a select in the row) picked `value`."""
        action = next((a for a in self._resource.actions if a.name == name and a.choose), None)
        if action is None or not isinstance(value, str):
            return None
        return await self._run(action.name, as_id(row_id), value)

    @rx.event
    def set_reason(self, text: str) -> None:
        self.reason = service.plain_text(text, 2_000) if isinstance(text, str) else ""
        self.reason_error = ""

    @rx.event
    def cancel_reason(self) -> None:
        self.asking, self.asking_row, self.asking_label = "", 0, ""

    @rx.event
    async def confirm_reason(self) -> Events:
        if not self.asking_row:
            return None  # a second click after the dialog closed
        resource, name, row_id, reason = self._resource, self.asking, self.asking_row, self.reason
        try:
            _, refused = await self._act_as(f"{resource.name}.{name}", lambda session, actor:
                                            service.run_action(session, actor, resource, name,
                                                               row_id, reason))
        except Invalid as exc:
            self.reason_error = exc.errors.get("reason", exc.message)
            return None
        self.cancel_reason()
        if refused:
            return [*refused, type(self).refresh]
        action = next(a for a in resource.actions if a.name == name)
        return [rx.toast.success(action.done or f"{action.label}: done"), type(self).refresh]

    async def _run(self, name: str, row_id: int, argument: str = "") -> Events:
        resource = self._resource
        action = next(a for a in resource.actions if a.name == name)
        return await self._act(f"{resource.name}.{name}", lambda session, actor: service.run_action(
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
