"""The workspace frame: navbar, a side menu of workspace pages, and the content."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import reflex as rx

from academy_app.components.layout import (
    content_column,
    current,
    footer,
    labelled,
    navbar,
    until_ready,
)
from academy_app.state.auth import AuthState

log = logging.getLogger(__name__)

# Wider than the public pages' column, for tables; the header and footer take the same column, so
# the side menu's left edge sits under the logo.
WORKSPACE_WIDTH = "1320px"
TITLE_ID = "workspace-title"

WORKSPACE_PAGES = [
    ("Courses", "/admin/courses", "book-open"),
    ("Payments", "/admin/payments", "wallet"),
    ("Coupons", "/admin/coupons", "ticket-percent"),
    ("Study groups", "/admin/study-groups", "users-round"),
    ("Questions", "/admin/discussions", "message-circle-question"),
    ("Analytics", "/admin/analytics", "chart-column"),
]
ADMIN_PAGES = [
    ("Users", "/admin/users", "users"),
    ("Certificates", "/admin/certificates", "award"),
    ("Audit log", "/admin/audit", "scroll-text"),
    ("Jobs", "/admin/jobs", "list-checks"),
]


def data_table(rows: rx.Var, render: Callable[[rx.Var], rx.Component],
               headers: Sequence[str | rx.Component], empty: rx.Component,
               loading: rx.Var | bool = False, label: str = "") -> rx.Component:
    """The workspace's table, or `empty` when no row (nothing while the first load runs, so the
    empty state never flashes). A table wider than a phone scrolls inside its own region, named
    `label` (by default the page's title) and focusable so keys scroll it, never the page."""
    cells = [h if isinstance(h, rx.Component) else rx.table.column_header_cell(h) for h in headers]
    name = {"aria_label": label} if label else {"aria_labelledby": TITLE_ID}
    return rx.cond(
        rx.Var.create(rows).length() > 0,
        rx.card(rx.table.root(rx.table.header(rx.table.row(*cells)),
                              rx.table.body(rx.foreach(rows, render)), width="100%"),
                width="100%", role="region", tab_index=0, class_name="table-region", **name),
        rx.cond(loading, rx.fragment(), empty),
    )


def _menu_link(label: str, href: str, icon: str) -> rx.Component:
    return rx.link(rx.icon(icon, size=16), rx.text(label, size="2"), href=href, underline="none",
                   weight="medium", class_name="side-link", white_space="nowrap",
                   aria_current=current(href, href + "/"))


def _menu_item(label: str, href: str, icon: str) -> rx.Component:
    # The item is the link itself (as_child): Enter on it follows the link, as a click does.
    return rx.menu.item(_menu_link(label, href, icon), as_child=True)


def _pages(entry: Callable[[str, str, str], rx.Component]) -> list[rx.Component]:
    """The workspace's pages, each drawn by `entry`; the admin's only for admins."""
    return [*[entry(*page) for page in WORKSPACE_PAGES],
            rx.cond(AuthState.user_role == "admin",
                    rx.fragment(*[entry(*page) for page in ADMIN_PAGES]))]


def _section_name() -> rx.Var:
    """The workspace page this one is in ("Courses" for a course's editor), "" for none."""
    path = rx.State.router.url.path
    name: rx.Var = rx.Var.create("")
    for label, href, _icon in reversed(WORKSPACE_PAGES + ADMIN_PAGES):
        name = rx.cond(path.startswith(href), label, name)
    return name


def _side_menu() -> rx.Component:
    """The workspace's pages: a column beside the content from md up. Below md, one button naming
    the page you are on opens them as a menu (Radix: arrows, Enter, Escape, focus back on the
    button), so a phone sees the page's content at once instead of rows of links above it."""
    return rx.fragment(
        rx.el.nav(
            rx.text("Workspace", size="1", weight="bold", color_scheme="gray",
                    text_transform="uppercase", padding_x="12px", width="100%"),
            *_pages(_menu_link),
            aria_label="Workspace",
            display=rx.breakpoints(initial="none", md="flex"),
            flex_direction="column",
            gap="4px",
            width="200px",
            flex_shrink="0",
        ),
        rx.el.nav(
            rx.menu.root(
                rx.menu.trigger(rx.button(
                    rx.icon("layout-grid", size=16),
                    rx.text("Workspace", weight="bold"),
                    rx.cond(_section_name() != "", rx.text("· " + _section_name())),
                    rx.icon("chevron-down", size=16),
                    variant="surface", color_scheme="gray", size="2")),
                # Soft: the item under the focus on a light tint, its text keeping the side
                # menu's colour (the solid variant's blue under dark text failed contrast).
                rx.menu.content(*_pages(_menu_item), align="start", variant="soft"),
                # Not modal: a modal menu hides the rest of the page with aria-hidden while its
                # links stay focusable, which axe refuses (aria-hidden-focus). Tab or a click
                # outside closes it all the same.
                modal=False,
            ),
            aria_label="Workspace",
            display=rx.breakpoints(initial="block", md="none"),
        ),
    )


def admin_page(title: str, subtitle: str, *children: rx.Component) -> rx.Component:
    return rx.box(
        until_ready(
            navbar(WORKSPACE_WIDTH),
            rx.flex(
                _side_menu(),
                rx.el.main(
                    rx.vstack(
                        rx.heading(title, size="7", as_="h1", id=TITLE_ID),
                        rx.text(subtitle, color_scheme="gray"),
                        *children,
                        spacing="4",
                        width="100%",
                    ),
                    flex="1",
                    min_width="0",
                ),
                direction=rx.breakpoints(initial="column", md="row"),
                spacing="6",
                padding_y="32px",
                **content_column(WORKSPACE_WIDTH),
            ),
            footer(WORKSPACE_WIDTH),
        ),
        display="flex",
        flex_direction="column",
        min_height="100vh",
        background=rx.color("gray", 2),
    )


def reason_dialog(title: str, description: str | rx.Var, field_id: str, *, open_: rx.Var,
                  reason: rx.Var, error: rx.Var, on_reason: rx.EventHandler,
                  on_cancel: rx.EventHandler, confirm_label: str, on_confirm: rx.EventHandler,
                  placeholder: str) -> rx.Component:
    """A destructive action that needs a reason the affected person will read (reject a payment,
    revoke a certificate): the reason's field with its error, Cancel, and the red action."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(title),
            rx.dialog.description(description),
            rx.vstack(
                labelled("Reason", field_id, rx.text_area(
                    id=field_id, value=reason, on_change=on_reason, rows="3", width="100%",
                    placeholder=placeholder, aria_describedby=f"{field_id}-error"), error),
                rx.hstack(
                    rx.spacer(),
                    rx.button("Cancel", variant="soft", color_scheme="gray", on_click=on_cancel),
                    rx.button(confirm_label, color_scheme="red", on_click=on_confirm),
                    width="100%",
                ),
                spacing="3",
                padding_top="12px",
            ),
        ),
        open=open_,
        on_open_change=lambda is_open: rx.cond(is_open, rx.noop(), on_cancel()),
    )
