"""The page of a kit resource: search, filters, a sortable table with row buttons, paging, the
form (a dialog, or a card above the list) and the delete confirmation, on the workspace layout.

Every control has an accessible name built from the declaration: "Search study groups", "Filter by
course", "Edit Python Circle", "Delete Python Circle", "Next page"; tests find them by it.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable

import reflex as rx

from academy_app.admin.kit.resource import Action, Column, FieldSpec, Resource
from academy_app.admin.workspace import admin_page, data_table, reason_dialog
from academy_app.components.layout import empty_state, labelled, link_button


def page_for(resource: Resource, state: type[rx.State]) -> Callable[[], rx.Component]:
    def page() -> rx.Component:
        return admin_page(
            resource.title, resource.subtitle,
            inline_form(resource, state) if resource.form.inline else rx.fragment(),
            toolbar(resource, state),
            data_table(state.rows, lambda row: table_row(resource, state, row),
                       [header(resource, state, c) for c in resource.columns] +
                       (["Actions"] if has_row_buttons(resource) else []),
                       rx.cond(state.narrowed,
                               empty_state("search-x", "Nothing matches",
                                           "Try another search or filter."),
                               empty_state(*resource.listing.empty)),
                       loading=state.loading),
            pager(state),
            form_dialog(resource, state),
            delete_dialog(resource, state) if resource.deletable else rx.fragment(),
            *[reason_dialog_of(resource, state, a) for a in resource.actions if a.reason],
        )
    page.__name__ = f"{resource.name}_admin_page"
    return page


def toolbar(resource: Resource, state: type[rx.State]) -> rx.Component:
    controls: list[rx.Component] = []
    if resource.listing.search:
        what = resource.title.lower()
        controls.append(rx.debounce_input(rx.input(
            rx.input.slot(rx.icon("search", size=16)), value=state.query, on_change=state.search,
            type="search", placeholder=f"Search {what}", aria_label=f"Search {what}",
            width=["100%", "280px"]), debounce_timeout=250))
    for name, declared in resource.filters.items():
        label = declared.label or resource.label_of(name)
        controls.append(rx.select.root(
            rx.select.trigger(aria_label=f"Filter by {label.lower()}"),
            rx.select.content(
                rx.select.item(f"{label}: all", value="all"),
                rx.foreach(state.options[name], filter_item(label))),
            value=state.filters[name],
            on_change=lambda value, name=name: state.set_filter(name, value),
        ))
    new = rx.hstack(rx.icon("plus", size=16), f"New {resource.singular}", spacing="2",
                    align="center")
    if resource.form.new_page:
        controls += [rx.spacer(), rx.cond(state.can_create, link_button(new, resource.form.new_page))]
    elif not resource.form.inline:
        controls += [rx.spacer(), rx.cond(state.can_create, rx.button(
            new, on_click=state.open_create))]
    return rx.hstack(*controls, spacing="3", wrap="wrap", width="100%", align="center")


def filter_item(label: str) -> Callable[[rx.Var], rx.Component]:
    return lambda option: rx.select.item(label + ": " + option[1], value=option[0])


def header(resource: Resource, state: type[rx.State], column: Column) -> rx.Component:
    label = column.label or resource.label_of(column.name)
    if column.name not in resource.sortable:
        return rx.table.column_header_cell(label)
    up, down = state.sort == column.name, state.sort == "-" + column.name
    return rx.table.column_header_cell(
        rx.button(label, rx.cond(up, rx.icon("arrow-up", size=14),
                                 rx.cond(down, rx.icon("arrow-down", size=14),
                                         rx.icon("arrow-up-down", size=14, opacity="0.4"))),
                  variant="ghost", size="2", color_scheme="gray", high_contrast=True,
                  font_weight="bold", on_click=state.sort_by(column.name)),
        aria_sort=rx.cond(up, "ascending", rx.cond(down, "descending", "none")))


def has_row_buttons(resource: Resource) -> bool:
    return bool(resource.actions) or resource.editable or resource.deletable


def action_control(state: type[rx.State], action: Action, row: rx.Var) -> rx.Component:
    """A row action's button, or, for a choosing action, its select ("Role of Sam Student")."""
    if action.choose:
        control = rx.select.root(
            rx.select.trigger(aria_label=action.label + " of " + row.label),
            rx.select.content(rx.foreach(state.options[action.choose],
                                         lambda o: rx.select.item(o[1], value=o[0]))),
            value=row.chosen[action.name], size="1",
            on_change=lambda value: state.choose(action.name, row.id, value))
    else:
        control = rx.button(action.label, size="1", variant="soft",
                            color_scheme=action.color or None,
                            aria_label=action.label + " " + row.label,
                            on_click=state.run_action(action.name, row.id))
    return rx.cond(row.actions.contains(action.name), control)


def cell(column: Column, row: rx.Var, header: bool = False) -> rx.Component:
    """A cell: its text (a badge, a link), and the smaller line under it when declared."""
    if column.render is not None:
        return column.render(row)
    text = row.cells[column.name]
    if column.badge:
        shown = rx.cond(text == column.empty, rx.text(text, color_scheme="gray"), rx.badge(
            text, color_scheme=column.badge if isinstance(column.badge, str) else
            rx.match(text, *column.badge.items(), "gray")))
    else:
        shown = rx.text(text, weight="medium" if header else None,
                        white_space="nowrap" if column.nowrap else None)
    if column.link is not None:  # an empty cell links nowhere
        href = row.links[column.name]
        shown = rx.cond((href != "") & (text != column.empty), rx.link(shown, href=href), shown)
    note = column.note_column
    if note is None:
        return shown
    text = row.notes[column.name]
    under = rx.badge(text, color_scheme=note.badge, white_space="normal") if isinstance(
        note.badge, str) and note.badge else rx.text(text, size="1", color_scheme="gray",
                                                      max_width="320px")
    return rx.vstack(shown, rx.cond(text != "", under), spacing="1")


def table_row(resource: Resource, state: type[rx.State], row: rx.Var) -> rx.Component:
    buttons = [action_control(state, action, row) for action in resource.actions]
    if resource.editable:
        buttons.append(rx.cond(row.can_edit, rx.button(
            "Edit", size="1", variant="soft", aria_label="Edit " + row.label,
            on_click=state.open_edit(row.id))))
    if resource.deletable:
        buttons.append(rx.cond(row.can_delete, rx.button(
            "Delete", size="1", variant="soft", color_scheme="red",
            aria_label="Delete " + row.label, on_click=state.ask_delete(row.id))))
    first, *others = resource.columns
    return rx.table.row(
        rx.table.row_header_cell(cell(first, row, header=True)),
        *[rx.table.cell(cell(column, row)) for column in others],
        *([rx.table.cell(rx.hstack(*buttons, spacing="2", wrap="wrap"))] if buttons else []),
        align="center",
    )


def pager(state: type[rx.State]) -> rx.Component:
    return rx.cond(state.rows.length() > 0, rx.hstack(
        rx.text(state.summary, size="2", color_scheme="gray", role="status"),
        rx.spacer(),
        rx.button(rx.icon("chevron-left", size=16), "Previous", variant="soft", size="1",
                  aria_label="Previous page", disabled=~state.has_previous,
                  on_click=state.previous_page),
        rx.button("Next", rx.icon("chevron-right", size=16), variant="soft", size="1",
                  aria_label="Next page", disabled=~state.has_next, on_click=state.next_page),
        width="100%", align="center", spacing="2",
    ))


def form_field(resource: Resource, state: type[rx.State], spec: FieldSpec) -> rx.Component:
    field_id = f"{resource.name}-{spec.name}"
    value = state.form[spec.name]

    def change(new_value: rx.Var) -> rx.event.EventSpec:
        return state.set_field(spec.name, new_value)

    if spec.kind == "checkbox":
        control = rx.checkbox(spec.label, id=field_id, checked=value == "true", on_change=change)
        shown = rx.vstack(control, rx.cond(spec.hint != "", rx.text(spec.hint, size="1",
                                                                    color_scheme="gray")),
                          spacing="1", width="100%")
    else:
        if spec.kind == "select":
            control = rx.select.root(
                rx.select.trigger(id=field_id, aria_label=spec.label, placeholder="Choose…",
                                  width="100%"),
                rx.select.content(rx.foreach(state.options[spec.name],
                                             lambda o: rx.select.item(o[1], value=o[0]))),
                value=value, on_change=change)
        elif spec.kind == "textarea":
            control = rx.text_area(id=field_id, value=value, on_change=change, rows="3",
                                   width="100%", placeholder=spec.placeholder,
                                   aria_describedby=f"{field_id}-error")
        else:
            control = rx.input(id=field_id, value=value, on_change=change, width="100%",
                               type="date" if spec.kind == "date" else "text",
                               placeholder=spec.placeholder, aria_describedby=f"{field_id}-error",
                               **({"input_mode": spec.inputmode} if spec.inputmode else {}))
        shown = labelled(spec.label, field_id, control, state.errors.get(spec.name, ""),
                         hint=spec.hint)
    if spec.show_if:
        return rx.cond(functools.reduce(operator.and_, [state.form[name] == wanted for name, wanted
                                                        in spec.show_if.items()]), shown)
    return shown


def inline_form(resource: Resource, state: type[rx.State]) -> rx.Component:
    return rx.cond(state.can_create & ~state.form_open, rx.card(rx.vstack(
        rx.heading(f"New {resource.singular}", size="4", as_="h2"),
        rx.grid(*[form_field(resource, state, spec) for spec in resource.fields.values()],
                columns=rx.breakpoints(initial="1", sm="2", md="3"), spacing="4", width="100%"),
        rx.hstack(rx.spacer(), rx.button(f"Create {resource.singular}", on_click=state.save),
                  width="100%"),
        spacing="3", width="100%",
    ), width="100%"))


def form_dialog(resource: Resource, state: type[rx.State]) -> rx.Component:
    if (resource.form.inline or not resource.creatable) and not resource.editable:
        return rx.fragment()  # the card above the list creates, or nothing does; nothing is edited
    editing = state.editing > 0
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(editing, f"Edit {resource.singular}",
                                    f"New {resource.singular}")),
            rx.dialog.description(rx.cond(editing, "Change what needs changing, then save.",
                                          f"Fill in the {resource.singular}, then create it."),
                                  size="2", color_scheme="gray"),
            rx.vstack(*[form_field(resource, state, spec) for spec in resource.fields.values()],
                      spacing="3", padding_y="12px", width="100%"),
            rx.hstack(
                rx.spacer(),
                rx.button("Cancel", variant="soft", color_scheme="gray", on_click=state.close_form),
                rx.button(rx.cond(editing, "Save changes", f"Create {resource.singular}"),
                          on_click=state.save),
                width="100%",
            ),
            max_width="560px",
        ),
        open=state.form_open,
        on_open_change=lambda is_open: rx.cond(is_open, rx.noop(), state.close_form()),
    )


def delete_dialog(resource: Resource, state: type[rx.State]) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(f"Delete {resource.singular}"),
            rx.alert_dialog.description(
                "“" + state.deleting_label + "” will be deleted. This cannot be undone.",
                size="2"),
            rx.hstack(
                rx.spacer(),
                rx.button("Cancel", variant="soft", color_scheme="gray",
                          on_click=state.cancel_delete),
                rx.button("Delete", color_scheme="red", on_click=state.confirm_delete),
                width="100%", padding_top="12px",
            ),
        ),
        open=state.deleting > 0,
        on_open_change=lambda is_open: rx.cond(is_open, rx.noop(), state.cancel_delete()),
    )


def reason_dialog_of(resource: Resource, state: type[rx.State], action: Action) -> rx.Component:
    """The dialog of an action that asks for a reason ("Reject payment"): the affected person
    reads the reason."""
    title = f"{action.label} {resource.singular}"
    return reason_dialog(
        title, state.asking_label + ". " + action.reason, f"{resource.name}-{action.name}-reason",
        open_=state.asking == action.name, reason=state.reason, error=state.reason_error,
        on_reason=state.set_reason, on_cancel=state.cancel_reason, confirm_label=title,
        on_confirm=state.confirm_reason, placeholder=action.placeholder)
