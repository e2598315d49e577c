"""What one workspace page of one table shows and allows: the declaration, and what it derives.

A `Resource` names a SQLModel table, its page's title and route, and four small parts: the list
(`Listing`: columns, order, search, filters), the form (`Form`), who may do what to which rows
(`Permissions`, with an `Ownership`), and the row actions (`Action`s). A column or a search may
name a field of the row a foreign key points at, as ``"user_id.email"``. Everything else comes
from the model: labels and hints from each field's `title` and `description`, the kind of input
from its type (enum and foreign key: a select; bool: a checkbox; long text: a text area), and the
checks from its constraints (`max_length`, `ge`/`le`, required, unique).

Plain Python, no Reflex: the kit's service (`service.py`) reads it, and so do its state and page.
"""

from __future__ import annotations

import enum
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cached_property
from typing import Any

import annotated_types
import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlmodel import Session, SQLModel, col, select

from academy_app.models import Course, Role, User
from academy_app.services.permissions import STAFF

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_.]*)\}")
LABEL_ATTRIBUTES = ("title", "name", "full_name", "code", "email")  # what names a row in a select
Choices = Sequence[tuple[str, str]] | Callable[[Session, User], Sequence[tuple[str, str]]]


@dataclass(frozen=True)
class Column:
    """A column of the list: a field, ``"fk.field"`` (a field of the row the foreign key `fk`
    points at, e.g. the learner's email), or a name of your own with `format` or `compute`."""

    name: str
    label: str = ""
    format: Callable[[Any], str] | None = None  # the row -> the cell's text
    empty: str = "—"  # what a NULL shows (a NULL foreign key: e.g. "All courses")
    # A value per row from other tables, for the page's rows at once (counts, say): one query
    # per page, not per row. `(session, rows) -> {row id: value}`.
    compute: Callable[[Session, list[Any]], Mapping[int, Any]] | None = None
    note: str | Column | None = None  # a second, smaller line under the cell (the email)
    badge: str | Mapping[str, str] = ""  # a colour for every cell, or per cell text
    link: Callable[[Any], str] | None = None  # the row -> where the cell links to ("" for none)
    # A cell the kit cannot draw: the page layer's `row -> component`, where row.cells, row.notes
    # and row.links hold what the kit read, by column name (row.cells["status"]).
    render: Callable[[Any], Any] | None = None
    nowrap: bool = False  # one line, however narrow the table: a date broken in three reads as three

    @property
    def related(self) -> tuple[str, str] | None:
        """("user_id", "email") for "user_id.email"; None for anything else."""
        fk, dot, name = self.name.partition(".")
        return (fk, name) if dot and self.compute is None else None

    @property
    def note_column(self) -> Column | None:
        """The note, as a column that shows nothing for NULL (no "—" under every cell)."""
        if self.note is None:
            return None
        return Column(self.note, empty="") if isinstance(self.note, str) else \
            replace(self.note, empty="")


@dataclass(frozen=True)
class Filter:
    """A select above the list. A foreign key, an enum or a bool offers its values; `choices`
    and `where` (value -> SQL condition) make a filter of your own, e.g. valid or revoked."""

    name: str
    label: str = ""
    default: str = "all"
    choices: Sequence[tuple[str, str]] = ()
    where: Callable[[str], Any] | None = None


@dataclass(frozen=True)
class Input:
    """A field of the form. Only `name` is needed for a model field; the rest overrides what the
    model says. A field that is not the model's (a custom `create` hook reads it) needs `kind`."""

    name: str
    label: str = ""
    kind: str = ""  # text | textarea | number | select | checkbox | date
    choices: Choices | None = None  # (value, label) pairs, or a function of (session, actor)
    placeholder: str = ""
    hint: str = ""
    default: str | None = None
    check: Callable[[Any], str | None] | None = None  # the parsed value -> an error, or None
    show_if: Mapping[str, str] = field(default_factory=dict)  # shown while these fields equal these
    inputmode: str = ""


@dataclass(frozen=True)
class Action:
    """A control on each row (e.g. "Close"), offered where `when` holds (field values, or a test
    of the row), to those who may edit the row (the kit checks role and owner first).

    Either `run(session, actor, row)` changes the row, and the kit audits and announces it; or
    `service(session, actor, row_id, *argument)`, a domain service with its own rules and audit
    entry (approve a payment), which the kit only announces. `reason` (the prompt) asks for a
    reason first and passes it on; `choose` names an enum field: the control is a select of its
    values, and the picked one is passed on (a user's role)."""

    name: str
    label: str
    run: Callable[[Session, User, Any], object] | None = None
    when: Mapping[str, Any] | Callable[[Any], bool] = field(default_factory=dict)
    done: str = ""  # the toast; default "<Label>: done"
    service: Callable[..., object] | None = None
    reason: str = ""
    placeholder: str = ""  # of the reason's field
    choose: str = ""
    color: str = ""  # the button's colour scheme ("red" for what the affected person regrets)

    def applies_to(self, row: Any) -> bool:
        if callable(self.when):
            return bool(self.when(row))
        return all(getattr(row, name) == value for name, value in self.when.items())


def set_values(**values: Any) -> Callable[[Session, User, Any], None]:
    """An action that sets fields, e.g. ``set_values(is_open=False)``."""
    def run(_session: Session, _actor: User, row: Any) -> None:
        for name, value in values.items():
            setattr(row, name, value)
    return run


class Ownership:
    """Which rows a non-admin may see and change. Admins may touch every row."""

    field: str = ""
    message: str = "You can only manage your own rows"

    def scope(self, statement: Any, model: type[SQLModel], actor: User) -> Any:
        """`statement` narrowed to the rows `actor` owns."""
        raise NotImplementedError

    def owns(self, session: Session, actor: User, row: Any) -> bool:
        raise NotImplementedError

    def visible(self, statement: Any, model: type[SQLModel], actor: User) -> Any:
        """`statement` narrowed to the rows `actor`'s list shows: by default the rows they own;
        wider when others' rows matter to them (site-wide coupons apply to an instructor's
        courses), and the rows they do not own are shown read-only."""
        return self.scope(statement, model, actor)

    def owned_among(self, session: Session, actor: User, rows: Sequence[Any]) -> set[int]:
        """The ids of the listed `rows` (found by `visible`) that `actor` owns: every one,
        unless `visible` is wider than `scope`."""
        return {row.id for row in rows}

    def scope_choices(self, statement: Any, target: type[SQLModel], actor: User) -> Any:
        """The choices of the ownership field's select, narrowed to what `actor` may pick."""
        return statement


class ViaCourse(Ownership):
    """Rows belong to the instructor who teaches their course (the `field` foreign key)."""

    message = "You can only manage your own courses"

    def __init__(self, field: str = "course_id") -> None:
        self.field = field

    def scope(self, statement: Any, model: type[SQLModel], actor: User) -> Any:
        own_courses = select(Course.id).where(Course.instructor_id == actor.id)
        return statement.where(col(getattr(model, self.field)).in_(own_courses))

    def owns(self, session: Session, actor: User, row: Any) -> bool:
        course_id = getattr(row, self.field)
        course = session.get(Course, course_id) if course_id is not None else None
        return course is not None and course.instructor_id == actor.id

    def scope_choices(self, statement: Any, target: type[SQLModel], actor: User) -> Any:
        return statement.where(Course.instructor_id == actor.id)


class ByUser(Ownership):
    """Rows belong to the user their `field` names (e.g. the one who created them)."""

    message = "You can only manage what you created"

    def __init__(self, field: str = "created_by_id") -> None:
        self.field = field

    def scope(self, statement: Any, model: type[SQLModel], actor: User) -> Any:
        return statement.where(col(getattr(model, self.field)) == actor.id)

    def owns(self, session: Session, actor: User, row: Any) -> bool:
        return getattr(row, self.field) == actor.id

    def scope_choices(self, statement: Any, target: type[SQLModel], actor: User) -> Any:
        return statement.where(col(target.id) == actor.id)


@dataclass(frozen=True)
class Listing:
    """The list: its columns, its default order (``"-name"`` for descending: a NOT NULL column,
    not a foreign key), what the search box looks in (fields, ``"fk.field"``, or the typed text ->
    a SQL condition or None), the selects that filter it, what names a row in buttons and dialogs
    (fields in braces: ``"payment of {user_id.full_name}"``), its page size, and the (icon, title,
    text) it shows when there is no row."""

    columns: Sequence[str | Column]
    sort: str = "-id"
    search: Sequence[str | Callable[[str], Any]] = ()
    filters: Sequence[str | Filter] = ()
    label: str = ""  # "": the row's title, name, full_name, code or email, else the first column
    per_page: int = 25
    empty: tuple[str, str, str] = ("inbox", "Nothing here yet", "")


@dataclass(frozen=True)
class Form:
    """The create and edit form: its fields (model fields by name, or `Input`s). No field: rows
    are not made here (payments), or are made on `new_page` (the course editor), which "New …"
    links to. `create(session, actor, values) -> row` is a domain service to create with instead
    of the kit (it owns its rules, so the rows are not edited here); `inline` shows the create form
    as a card above the list instead of a dialog."""

    fields: Sequence[str | Input] = ()
    create: Callable[[Session, User | None, dict[str, str]], Any] | None = None
    inline: bool = False
    new_page: str = ""
    editable: bool = True


@dataclass(frozen=True)
class Permissions:
    """Which roles may list (`view`), create, edit (and run actions on) and delete rows: `roles`,
    unless the operation names its own (``delete=()``: nobody deletes, and rows offer no Delete);
    and which rows a non-admin may touch (`owner`; None: every row). Admins may touch every row."""

    roles: tuple[Role, ...] = STAFF
    view: tuple[Role, ...] | None = None
    create: tuple[Role, ...] | None = None
    edit: tuple[Role, ...] | None = None
    delete: tuple[Role, ...] | None = None
    owner: Ownership | None = None

    def who(self, operation: str) -> tuple[Role, ...]:
        """The roles that may do `operation` ("view", "create", "edit" or "delete")."""
        own = getattr(self, operation)
        return self.roles if own is None else own

    def allows(self, actor: User, operation: str) -> bool:
        return actor.role in self.who(operation)


def via_course(field: str = "course_id") -> Ownership:
    return ViaCourse(field)


def by_user(field: str = "created_by_id") -> Ownership:
    return ByUser(field)


def https_link(value: object) -> str | None:
    """A check for link fields: empty, or an https:// address without spaces."""
    if value and not re.fullmatch(r"https://[^\s\"'<>]+\.[^\s\"'<>]+", str(value)):
        return "Enter a link that starts with https://"
    return None


@dataclass(frozen=True)
class FieldSpec:
    """One form field, as the kit understands it once the model and the declaration are read."""

    name: str
    label: str
    kind: str
    hint: str = ""
    placeholder: str = ""
    required: bool = False
    default: str = ""  # as the form holds it: text
    python_type: Any = str
    nullable: bool = False
    max_length: int | None = None
    adapter: TypeAdapter | None = None  # the field's type with its constraints, for checking
    target: type[SQLModel] | None = None  # a foreign key's table
    enum_type: type[enum.Enum] | None = None
    unique: bool = False
    choices: Choices | None = None
    check: Callable[[Any], str | None] | None = None
    show_if: Mapping[str, str] = field(default_factory=dict)
    inputmode: str = ""
    on_model: bool = True


def singular_of(plural: str) -> str:
    """"study groups" -> "study group", "categories" -> "category" (say `singular=` otherwise)."""
    return plural[:-3] + "y" if plural.endswith("ies") else plural.removesuffix("s")


def humanize(name: str) -> str:
    name = name.removesuffix("_id").removesuffix("_at").replace("_", " ").strip()
    return name[:1].upper() + name[1:]


def label_attribute(model: type[SQLModel]) -> str:
    return next((name for name in LABEL_ATTRIBUTES if name in model.model_fields), "id")


def model_for_table(table: str) -> type[SQLModel] | None:
    for mapper in SQLModel._sa_registry.mappers:
        if getattr(mapper.class_, "__tablename__", None) == table:
            return mapper.class_
    return None


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return members[0], True
    return annotation, False


def _constraints(metadata: list[Any]) -> list[Any]:
    """The pydantic/annotated-types constraints of a field (SQLModel's column options left out)."""
    return [m for m in metadata if isinstance(m, annotated_types.BaseMetadata)]


class Resource:
    """The declaration of one workspace page, and what the kit reads from it and the model: see
    the module docstring and docs/extending.md."""

    def __init__(self, model: type[SQLModel], title: str, *, route: str, listing: Listing,
                 form: Form = Form(), permissions: Permissions = Permissions(),
                 actions: Sequence[Action] = (), subtitle: str = "", singular: str = "") -> None:
        self.model = model
        self.title = title
        self.route = route
        self.subtitle = subtitle
        self.singular = singular or singular_of(title.lower())
        table = model.__tablename__
        self.name = singular_of(table) if isinstance(table, str) else model.__name__.lower()
        self.listing = listing
        self.form = form
        self.permissions = permissions
        self.actions = list(actions)
        self.columns = [self._dated(c if isinstance(c, Column) else Column(c))
                        for c in listing.columns]
        self.filters = {f.name: f for f in (f if isinstance(f, Filter) else Filter(f)
                                            for f in listing.filters)}
        self.inputs = [i if isinstance(i, Input) else Input(i) for i in form.fields]
        self.creatable = bool(self.inputs)
        # A custom create hook owns its rules: create only.
        self.editable = form.editable and form.create is None and self.creatable
        self.deletable = bool(permissions.who("delete"))
        self._check()

    # --- what the model says ----------------------------------------------------------------

    @property
    def table(self) -> sa.Table:
        return self.model.__table__

    @cached_property
    def fields(self) -> dict[str, FieldSpec]:
        return {i.name: self._field_spec(i) for i in self.inputs}

    def column(self, name: str) -> sa.Column:
        return self.table.c[name]

    def target_of(self, name: str) -> type[SQLModel] | None:
        """The table a foreign-key column points at."""
        if name not in self.table.c:
            return None
        keys = list(self.table.c[name].foreign_keys)
        return model_for_table(keys[0].column.table.name) if keys else None

    def _dated(self, column: Column) -> Column:
        """A date field's column kept on one line: "06 Dec 2026" stood on three in a phone's
        table (Joined, Updated, Issued)."""
        info = self.model.model_fields.get(column.name)
        if info is None or _unwrap_optional(info.annotation)[0] not in (date, datetime):
            return column
        return replace(column, nowrap=True)

    def label_of(self, name: str) -> str:
        info = self.model.model_fields.get(name)
        return (info.title if info is not None and info.title else None) or \
            humanize(name.rpartition(".")[2])

    def related_target(self, path: str) -> tuple[str, type[SQLModel], str] | None:
        """(foreign key, its table, the field shown) for "fk.field", or for a bare foreign key
        (it shows its row's label: a course's title); None for anything else."""
        fk, dot, name = path.partition(".")
        target = self.target_of(fk)
        if target is None:
            return None
        return fk, target, name if dot else label_attribute(target)

    @property
    def shown(self) -> list[Column]:
        """Every column the list reads: the declared ones and their notes."""
        return [*self.columns, *(c.note_column for c in self.columns if c.note is not None)]

    @property
    def label_paths(self) -> list[str]:
        return _PLACEHOLDER.findall(self.label_template)

    @property
    def label_template(self) -> str:
        """What names a row in buttons and dialogs: "{name}", or e.g. "payment of
        {user_id.full_name}" for "Approve payment of Sam Student"."""
        return self.listing.label or "{" + self.label_field + "}"

    def row_label(self, values: Mapping[str, Any]) -> str:
        return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), "")), self.label_template)

    @property
    def sortable(self) -> list[str]:
        """Columns the list may be ordered by (its headers become buttons): NOT NULL, not foreign
        keys, so a keyset (value, id) pages through them without gaps, and leading an index, so
        the 2,000th page of 100,000 rows is read in index order like the first. The listing's
        `sort` is always allowed; give it an index too when the table will be large."""
        keys = [*self.table.indexes, *(c for c in self.table.constraints
                                       if isinstance(c, sa.UniqueConstraint))]
        indexed = {"id"} | {next(iter(key.columns)).name for key in keys if key.columns}
        return [c.name for c in self.columns if c.format is None and c.name in indexed
                and self._keyset_safe(c.name)]

    def _keyset_safe(self, name: str) -> bool:
        return name in self.table.c and not self.table.c[name].nullable and \
            not self.table.c[name].foreign_keys

    @property
    def label_field(self) -> str:
        """The field that names a row in buttons and dialogs ("Edit Python Circle")."""
        return label_attribute(self.model) if label_attribute(self.model) != "id" else \
            self.columns[0].name

    def blank_form(self) -> dict[str, str]:
        return {name: spec.default for name, spec in self.fields.items()}

    def _field_spec(self, given: Input) -> FieldSpec:
        info = self.model.model_fields.get(given.name)
        if info is None:  # a form-only field (a custom create hook reads it)
            return FieldSpec(name=given.name, label=given.label or humanize(given.name),
                             kind=given.kind or ("select" if given.choices else "text"),
                             hint=given.hint, placeholder=given.placeholder,
                             default=given.default or "", choices=given.choices,
                             check=given.check, show_if=given.show_if, inputmode=given.inputmode,
                             on_model=False)
        python_type, optional = _unwrap_optional(info.annotation)
        column = self.table.c[given.name]
        constraints = _constraints(info.metadata)
        max_length = next((m.max_length for m in constraints
                           if isinstance(m, annotated_types.MaxLen)), None)
        target = self.target_of(given.name)
        enum_type = python_type if isinstance(python_type, type) and issubclass(
            python_type, enum.Enum) else None
        if given.kind:
            kind = given.kind
        elif target is not None or enum_type is not None or given.choices:
            kind = "select"
        elif python_type is bool:
            kind = "checkbox"
        elif python_type in (int, float):
            kind = "number"
        elif python_type in (date, datetime):
            kind = "date"
        elif isinstance(column.type, sa.Text):  # unbounded text; a bounded str is one line
            kind = "textarea"
        else:
            kind = "text"
        default = info.get_default(call_default_factory=False) if not info.is_required() else None
        if isinstance(default, enum.Enum):
            default = default.value
        if isinstance(default, bool):
            default = "true" if default else "false"
        return FieldSpec(
            name=given.name, label=given.label or self.label_of(given.name), kind=kind,
            hint=given.hint or info.description or "", placeholder=given.placeholder,
            required=info.is_required() and python_type is not bool,
            default=given.default if given.default is not None else
            ("" if default is None else str(default)),
            python_type=python_type, nullable=optional or bool(column.nullable),
            max_length=max_length,
            adapter=TypeAdapter(typing.Annotated[python_type, *constraints]) if constraints
            else TypeAdapter(python_type),
            target=target, enum_type=enum_type, unique=bool(column.unique),
            choices=given.choices, check=given.check, show_if=given.show_if,
            inputmode=given.inputmode or ("decimal" if python_type is float else
                                          "numeric" if python_type is int else ""))

    def _check(self) -> None:
        """Refuse a declaration that names what the model does not have, at import time."""
        names = set(self.model.model_fields)

        def known(path: str) -> bool:
            if path in names:
                return True
            related = self.related_target(path) if "." in path else None
            return related is not None and related[2] in related[1].model_fields

        for column in self.shown:
            if not known(column.name) and column.format is None and column.compute is None:
                raise ValueError(f"{self.title}: no field {column.name!r} on {self.model.__name__}")
        if len({c.name for c in self.columns}) < len(self.columns):  # a row's cells are by name
            raise ValueError(f"{self.title}: two columns are named alike")
        sort = self.listing.sort.removeprefix("-")
        paths = [s for s in self.listing.search if isinstance(s, str)]
        for name in (*paths, *self.filters, *self.label_paths, sort):
            if not known(name):
                raise ValueError(f"{self.title}: no field {name!r} on {self.model.__name__}")
        if not self._keyset_safe(sort):
            raise ValueError(f"{self.title}: sort by a NOT NULL column that is not a foreign key")
        for given in self.inputs:
            if given.name not in names and self.form.create is None:
                raise ValueError(f"{self.title}: form field {given.name!r} is not on the model; "
                                 "only a custom create hook can read it")
        owner = self.permissions.owner
        if owner is not None and owner.field not in names:
            raise ValueError(f"{self.title}: ownership field {owner.field!r} not on the model")
        for action in self.actions:
            if (action.run is None) == (action.service is None):
                raise ValueError(f"{self.title}: action {action.name!r} needs a run or a service")
            if action.choose and action.choose not in self.table.c:
                raise ValueError(f"{self.title}: action {action.name!r} chooses no field")
