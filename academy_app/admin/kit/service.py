"""The admin kit's service: list, read, create, change, delete and act on the rows of a declared
table, as one actor.

Plain functions of (session, actor, resource, …), like every service: each one checks the actor's
role for the operation and, for a non-admin, that the row is theirs (`Permissions`), before
it reads or writes anything, whatever the browser sent. Every change is written to the audit log in
the same transaction and, once committed, announced on the live bus so that open lists of the
resource reload (`bus.changed`). Lists page by keyset — (sort value, id) after the last row shown —
so the 4,000th page costs what the first does.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from academy_app.admin.kit.resource import Action, FieldSpec, Resource, label_attribute
from academy_app.db import after_keyset, keyset_cursor, read_keyset_cursor
from academy_app.infra import bus
from academy_app.models import Role, User, utcnow
from academy_app.services import audit, permissions
from academy_app.services.accounts import require_user
from academy_app.services.errors import Conflict, Invalid, NotFound, PermissionDenied
from academy_app.text import id_in, whole_number

COUNT_CAP = 10_000  # a list counts its rows up to here, then says "10,000+"
MAX_CHOICES = 1_000  # options a select offers at most
MAX_TEXT = 5_000  # what is read of any one submitted value
_NOT_AUDITED = {"created_at", "updated_at"}
_INT = re.compile(r"-?[0-9]{1,15}")
_DECIMAL = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,6})?")
MESSAGES = {
    "string_too_long": "Use at most {max_length} characters",
    "string_too_short": "Use at least {min_length} characters",
    "greater_than_equal": "Enter {ge} or more",
    "less_than_equal": "Enter {le} or less",
    "greater_than": "Enter more than {gt}",
    "less_than": "Enter less than {lt}",
}


@dataclass(frozen=True)
class ListQuery:
    search: str = ""
    filters: Mapping[str, str] = field(default_factory=dict)
    sort: str = ""  # a column name, "-" first for descending; "" = the declared order
    after: str = ""  # the cursor of the row the page starts after (ListPage.next_cursor)


@dataclass(frozen=True)
class RowRights:
    edit: bool
    delete: bool
    actions: tuple[str, ...]


@dataclass(frozen=True)
class ListPage:
    rows: list[Any]
    total: int  # at most COUNT_CAP + 1
    next_cursor: str  # "" on the last page
    # What the rows do not hold themselves, per column (a foreign key's label, "user_id.email",
    # a computed count) and per row id.
    extra: dict[str, dict[int, Any]]
    names: dict[int, str]  # what names each row in buttons ("payment of Sam Student")
    rights: dict[int, RowRights]
    sort: str  # the order applied


def plain_text(value: object, limit: int = MAX_TEXT) -> str:
    """Submitted text as the database can take it: NUL (PostgreSQL refuses it) and lone
    surrogates (no encoding has them) dropped, at most `limit` characters."""
    text = value if isinstance(value, str) else "" if value is None else str(value)
    return text[:limit].replace("\x00", "").encode("utf-8", "ignore").decode("utf-8")


# --- who may do what ---------------------------------------------------------------------------

def may(actor: User | None, resource: Resource, operation: str) -> bool:
    return actor is not None and resource.permissions.allows(actor, operation)


def require(actor: User | None, resource: Resource, operation: str) -> User:
    user = require_user(actor)
    if not resource.permissions.allows(user, operation):
        raise PermissionDenied(permissions.refusal(resource.permissions.who(operation)))
    return user


def _is_admin(user: User) -> bool:
    return user.role is Role.ADMIN


def _require_owner(session: Session, user: User, resource: Resource, row: Any) -> None:
    owner = resource.permissions.owner
    if owner is not None and not _is_admin(user) and not owner.owns(session, user, row):
        raise PermissionDenied(owner.message)


def get_record(session: Session, actor: User | None, resource: Resource, row_id: int,
               operation: str = "edit") -> Any:
    """The row, if `actor` may do `operation` to it; NotFound or PermissionDenied otherwise."""
    user = require(actor, resource, operation)
    row = session.get(resource.model, row_id) if isinstance(row_id, int) and row_id > 0 else None
    if row is None:
        raise NotFound(resource.singular, row_id)
    _require_owner(session, user, resource, row)
    return row


def row_label(session: Session, actor: User | None, resource: Resource, row_id: int,
              operation: str = "edit") -> str:
    """What names the row in a confirmation ("Python Circle"), if `actor` may do `operation`."""
    row = get_record(session, actor, resource, row_id, operation)
    return _names(resource, [row], _related(session, resource, [row], resource.label_paths))[row.id]


def rights(actor: User, resource: Resource, row: Any, owned: bool = True) -> RowRights:
    """What the list offers on a row it shows: nothing on a row a non-admin sees but does not own
    (`Ownership.visible`)."""
    edit = owned and may(actor, resource, "edit")
    return RowRights(edit=edit and resource.editable,
                     delete=owned and may(actor, resource, "delete") and resource.deletable,
                     actions=tuple(a.name for a in resource.actions if edit and a.applies_to(row)))


# --- lists -------------------------------------------------------------------------------------

def list_records(session: Session, actor: User | None, resource: Resource,
                 query: ListQuery = ListQuery()) -> ListPage:
    user = require(actor, resource, "view")
    model, id_column, owner = resource.model, col(resource.model.id), resource.permissions.owner
    listing = resource.listing
    conditions = _search(resource, query.search) + _filters(resource, query.filters)
    rows_statement = select(model).where(*conditions)
    ids_statement = select(id_column).where(*conditions)
    scoped = owner is not None and not _is_admin(user)
    if scoped:
        rows_statement = owner.visible(rows_statement, model, user)
        ids_statement = owner.visible(ids_statement, model, user)
    sort = query.sort if query.sort and query.sort.removeprefix("-") in (
        *resource.sortable, listing.sort.removeprefix("-")) else listing.sort
    descending, sort_column = sort.startswith("-"), resource.column(sort.removeprefix("-"))
    after = read_keyset_cursor(query.after, sort_column)
    if after is not None:
        rows_statement = rows_statement.where(after_keyset(sort_column, id_column, after,
                                                           descending))
    order = (sort_column.desc(), id_column.desc()) if descending else \
        (sort_column.asc(), id_column.asc())
    rows = list(session.exec(rows_statement.order_by(*order).limit(listing.per_page + 1)))
    more = len(rows) > listing.per_page
    rows = rows[:listing.per_page]
    # A first page that is not full has counted itself: a search matching a few rows scans the
    # table once, not twice.
    total = len(rows) if after is None and not more else session.exec(select(func.count())
        .select_from(ids_statement.limit(COUNT_CAP + 1).subquery())).one()
    next_cursor = keyset_cursor(getattr(rows[-1], sort_column.name), rows[-1].id) \
        if more else ""
    extra = _related(session, resource, rows, [c.name for c in resource.shown if c.format is None]
                     + resource.label_paths)
    extra |= {c.name: dict(c.compute(session, rows)) if rows else {}
              for c in resource.shown if c.compute is not None}
    owned = owner.owned_among(session, user, rows) if scoped else {row.id for row in rows}
    return ListPage(rows=rows, total=total, next_cursor=next_cursor, extra=extra,
                    names=_names(resource, rows, extra),
                    rights={row.id: rights(user, resource, row, row.id in owned) for row in rows},
                    sort=sort)


def _search(resource: Resource, text: str) -> list[Any]:
    """Any of the search's fields containing the text; "fk.field" looks in the rows the foreign
    key points at (`fk IN (SELECT id … WHERE field ILIKE …)`: the list's own query and its keyset
    stay as they are); a function of the text adds its own condition."""
    text = plain_text(text, 100).strip()
    if not text or not resource.listing.search:
        return []
    pattern = "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"
    matches = []
    for given in resource.listing.search:
        if callable(given):
            if (condition := given(text)) is not None:
                matches.append(condition)
        elif (related := resource.related_target(given) if "." in given else None) is not None:
            fk, target, name = related
            matches.append(col(getattr(resource.model, fk)).in_(select(col(target.id)).where(
                col(getattr(target, name)).ilike(pattern, escape="\\"))))
        else:
            matches.append(col(getattr(resource.model, given)).ilike(pattern, escape="\\"))
    return [sa.or_(*matches)] if matches else [sa.false()]


def _filters(resource: Resource, values: Mapping[str, str]) -> list[Any]:
    """Equality on each declared filter with a value it can hold; anything else is no filter."""
    conditions = []
    for name, declared in resource.filters.items():
        raw = values.get(name, "") if isinstance(values, Mapping) else ""
        raw = plain_text(raw, 200) if isinstance(raw, str) else ""
        if declared.where is not None:
            if raw in dict(declared.choices):
                conditions.append(declared.where(raw))
            continue
        value = _filter_value(resource, name, raw)
        if value is not None:
            conditions.append(col(getattr(resource.model, name)) == value)
    return conditions


def _filter_value(resource: Resource, name: str, raw: str) -> Any:
    if raw in ("", "all"):
        return None
    python_type = resource.table.c[name].type.python_type
    if python_type is bool:
        return {"true": True, "false": False}.get(raw)
    if python_type is int:
        return whole_number(raw) or None
    enum_type = getattr(resource.table.c[name].type, "enum_class", None)
    if enum_type is not None:
        return enum_type(raw) if raw in {m.value for m in enum_type} else None
    return raw


def _related(session: Session, resource: Resource, rows: list[Any],
             paths: list[str]) -> dict[str, dict[int, Any]]:
    """What `paths` read in the rows foreign keys point at ("user_id.email", a bare foreign key:
    its row's label), per row id: one query per foreign key, for the page's rows only."""
    wanted: dict[str, dict[str, str]] = {}  # foreign key -> path -> the target's field
    for path in dict.fromkeys(paths):
        if (related := resource.related_target(path)) is not None:
            wanted.setdefault(related[0], {})[path] = related[2]
    extra: dict[str, dict[int, Any]] = {}
    for fk, fields in wanted.items():
        target = resource.target_of(fk)
        ids = {getattr(row, fk) for row in rows} - {None}
        names = list(dict.fromkeys(fields.values()))
        found = {values[0]: dict(zip(names, values[1:], strict=True)) for values in session.exec(
            select(col(target.id), *(col(getattr(target, n)) for n in names))
            .where(col(target.id).in_(ids)))} if ids else {}
        for path, name in fields.items():
            extra[path] = {row.id: found[getattr(row, fk)][name] for row in rows
                           if getattr(row, fk) in found}
    return extra


def _names(resource: Resource, rows: list[Any], extra: dict[str, dict[int, Any]]
           ) -> dict[int, str]:
    return {row.id: resource.row_label({path: extra[path].get(row.id, "") if path in extra
                                        else getattr(row, path) for path in resource.label_paths})
            for row in rows}


def choices(session: Session, actor: User | None, resource: Resource
            ) -> dict[str, list[tuple[str, str]]]:
    """The options of every select the page shows (filters and form), as `actor` may pick them:
    an instructor's course select lists their own courses only."""
    user = require(actor, resource, "view")
    options: dict[str, list[tuple[str, str]]] = {}
    for name in dict.fromkeys((*resource.filters, *resource.fields,
                               *(a.choose for a in resource.actions if a.choose))):
        spec = resource.fields.get(name)
        declared = resource.filters.get(name)
        if declared is not None and declared.choices:
            options[name] = [(str(v), str(t)) for v, t in declared.choices]
        elif spec is not None and spec.choices is not None:
            given = spec.choices
            options[name] = [(str(v), str(t)) for v, t in
                             (given(session, user) if callable(given) else given)]
        elif (target := resource.target_of(name)) is not None:
            label = col(getattr(target, label_attribute(target)))
            statement = select(col(target.id), label).order_by(label).limit(MAX_CHOICES)
            owner = resource.permissions.owner
            if owner is not None and owner.field == name and not _is_admin(user):
                statement = owner.scope_choices(statement, target, user)
            options[name] = [(str(i), str(t)) for i, t in session.exec(statement)]
        elif name not in resource.table.c:
            continue
        elif (enum_type := getattr(resource.table.c[name].type, "enum_class", None)) is not None:
            options[name] = [(m.value, m.value.replace("_", " ").capitalize()) for m in enum_type]
        elif resource.table.c[name].type.python_type is bool:
            options[name] = [("true", "Yes"), ("false", "No")]
    return options


# --- the form ----------------------------------------------------------------------------------

def form_values(session: Session, actor: User | None, resource: Resource,
                row_id: int) -> dict[str, str]:
    """The edit form of a row, as text, if `actor` may edit it."""
    row = get_record(session, actor, resource, row_id, "edit")
    return {name: as_text(getattr(row, name)) for name in resource.fields}


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, datetime | date):
        return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()
    return str(value)


def clean(session: Session, resource: Resource, values: Mapping[str, Any],
          row: Any = None) -> dict[str, Any]:
    """The submitted form, checked field by field against the model (SQLModel tables do not
    validate on construction): typed values, or Invalid with one message per field."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, spec in resource.fields.items():
        try:
            cleaned[name] = _clean_field(session, resource, spec, values.get(name, spec.default),
                                         row)
        except _FieldError as exc:
            errors[name] = exc.message
    if errors:
        raise Invalid(errors)
    return cleaned


class _FieldError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _clean_field(session: Session, resource: Resource, spec: FieldSpec, raw: Any,
                 row: Any) -> Any:
    if spec.kind == "checkbox":
        return raw is True or raw == "true"
    text = plain_text(raw).strip()
    if not text:
        if spec.required:
            raise _FieldError(f"{'Choose' if spec.kind == 'select' else 'Enter'} the "
                              f"{spec.label.lower()}")
        if spec.nullable:
            return None
        info = resource.model.model_fields[spec.name]
        return info.get_default(call_default_factory=True)
    value = _parse(session, spec, text)
    if spec.adapter is not None:
        try:
            value = spec.adapter.validate_python(value)
        except ValidationError as exc:
            error = exc.errors()[0]
            raise _FieldError(MESSAGES.get(error["type"], error["msg"]).format(
                **error.get("ctx", {}))) from None
    if spec.check is not None and (message := spec.check(value)):
        raise _FieldError(message)
    if spec.unique:
        column = col(getattr(resource.model, spec.name))
        taken = select(col(resource.model.id)).where(column == value)
        if row is not None and row.id is not None:
            taken = taken.where(col(resource.model.id) != row.id)
        if session.exec(taken.limit(1)).first() is not None:
            raise _FieldError(f"This {spec.label.lower()} is already taken")
    return value


def _parse(session: Session, spec: FieldSpec, text: str) -> Any:
    if spec.target is not None:
        target_id = id_in(text)
        if not target_id or session.get(spec.target, target_id) is None:
            raise _FieldError(f"Choose a {spec.label.lower()} from the list")
        return target_id
    if spec.enum_type is not None:
        if text not in {m.value for m in spec.enum_type}:
            raise _FieldError("Choose one of the options")
        return spec.enum_type(text)
    if spec.python_type is int:
        if not _INT.fullmatch(text):
            raise _FieldError("Enter a whole number, like 12")
        return int(text)
    if spec.python_type is float:
        if not _DECIMAL.fullmatch(text):
            raise _FieldError("Enter a number, like 9.5")
        return float(text)
    if spec.python_type in (date, datetime):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise _FieldError("Enter a date like 2026-12-31") from None
        return datetime.combine(day, time.min, tzinfo=UTC) if spec.python_type is datetime \
            else day
    return text


# --- changes -----------------------------------------------------------------------------------

def _columns(resource: Resource) -> list[str]:
    return [c.name for c in resource.table.columns if c.name not in _NOT_AUDITED]


def create_record(session: Session, actor: User | None, resource: Resource,
                  values: Mapping[str, Any]) -> Any:
    user = require(actor, resource, "create")
    if not resource.creatable:
        raise PermissionDenied(f"A {resource.singular} cannot be created here")
    if resource.form.create is not None:  # a domain service: it checks, writes and audits itself
        submitted = {name: plain_text(values.get(name, spec.default))
                     for name, spec in resource.fields.items()}
        row = resource.form.create(session, user, submitted)
        bus.changed(session, resource.name)
        return row
    row = resource.model(**clean(session, resource, values))
    if "created_by_id" in resource.model.model_fields:
        row.created_by_id = user.id
    _require_owner(session, user, resource, row)
    _flush(session, resource, row, add=True)
    audit.record(session, user, f"{resource.name}.create", row,
                 after=audit.snapshot(row, *_columns(resource)))
    bus.changed(session, resource.name)
    return row


def update_record(session: Session, actor: User | None, resource: Resource, row_id: int,
                  values: Mapping[str, Any], opened: Mapping[str, str] | None = None) -> Any:
    """Save the edit form. With `opened` (the form as it was read when the editor opened it),
    two people editing one row do not undo each other: only the fields this editor changed are
    written, so another's change to a field they left alone stays; a field both changed, to
    different values, is a Conflict naming it, and nothing is written."""
    if not resource.editable:
        raise PermissionDenied(f"A {resource.singular} cannot be changed here")
    row = get_record(session, actor, resource, row_id, "edit")
    user = require_user(actor)
    cleaned = clean(session, resource, values, row)
    if opened is not None:
        session.refresh(row, with_for_update=True)  # no other save between this check and ours
        now = {name: as_text(getattr(row, name)) for name in resource.fields}
        mine = {name for name in cleaned if as_text(cleaned[name]) != opened.get(name)}
        both = [resource.fields[name].label for name in mine
                if now[name] != opened.get(name) and now[name] != as_text(cleaned[name])]
        if both:
            raise Conflict(f"Someone else changed {', '.join(both)} of this {resource.singular} "
                           "while you were editing it. Open it again to see their change, "
                           "then make yours.")
        cleaned = {name: value for name, value in cleaned.items() if name in mine}
    return _change(session, user, resource, row, f"{resource.name}.update",
                   lambda: [setattr(row, name, value) for name, value in cleaned.items()])


def run_action(session: Session, actor: User | None, resource: Resource, action_name: str,
               row_id: int, argument: str = "") -> tuple[Any, Action]:
    """Run a row action, if `actor` may edit the row and it applies to it. `argument` is the
    reason of an action that asks for one, or the value a choosing action picked."""
    action = next((a for a in resource.actions if a.name == action_name), None)
    if action is None:
        raise NotFound("action", action_name)
    row = get_record(session, actor, resource, row_id, "edit")
    if not action.applies_to(row):
        raise Conflict(f"{action.label} does not apply to this {resource.singular} any more")
    user = require_user(actor)
    if action.service is not None:  # a domain service: it checks, writes and audits itself
        given = [plain_text(argument, 2_000)] if action.reason or action.choose else []
        action.service(session, user, row.id, *given)
        bus.changed(session, resource.name)
    else:
        _change(session, user, resource, row, f"{resource.name}.{action.name}",
                lambda: action.run(session, user, row))
    return row, action


def _change(session: Session, user: User, resource: Resource, row: Any, name: str,
            apply: Any) -> Any:
    """Apply a change to a row the actor may edit: still theirs afterwards, audited with what it
    changed, announced. A change that changes nothing writes nothing."""
    fields = _columns(resource)
    before = audit.snapshot(row, *fields)
    apply()
    after = audit.snapshot(row, *fields)
    changed = [f for f in fields if before[f] != after[f]]
    if not changed:
        return row
    _require_owner(session, user, resource, row)  # e.g. moved to another instructor's course
    if "updated_at" in resource.model.model_fields:
        row.updated_at = utcnow()
    _flush(session, resource, row)
    audit.record(session, user, name, row, before={f: before[f] for f in changed},
                 after={f: after[f] for f in changed})
    bus.changed(session, resource.name)
    return row


def delete_record(session: Session, actor: User | None, resource: Resource,
                  row_id: int) -> dict[str, Any]:
    if not resource.deletable:
        raise PermissionDenied(f"A {resource.singular} cannot be deleted here")
    row = get_record(session, actor, resource, row_id, "delete")
    user = require_user(actor)
    before = audit.snapshot(row, "id", *_columns(resource))
    try:
        with session.begin_nested():
            session.delete(row)
            session.flush()
    except IntegrityError:
        raise Conflict(f"This {resource.singular} is still in use and cannot be deleted") \
            from None
    audit.record(session, user, f"{resource.name}.delete", row, before=before)
    bus.changed(session, resource.name)
    return before


def _flush(session: Session, resource: Resource, row: Any, *, add: bool = False) -> None:
    """Write the row now, so a unique value taken a moment ago by someone else is a message on
    its field, not an error page."""
    try:
        with session.begin_nested():
            if add:
                session.add(row)
            session.flush()
    except IntegrityError:
        unique = [name for name, spec in resource.fields.items() if spec.unique]
        if unique:
            raise Invalid({name: f"This {resource.fields[name].label.lower()} is already taken"
                           for name in unique}) from None
        raise Conflict(f"This {resource.singular} could not be saved: it conflicts with "
                       "another row") from None
