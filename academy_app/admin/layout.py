"""The workspace frame: navbar, a side menu of workspace pages, and the content."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import reflex as rx
from sqlmodel import Session

from academy_app.components.layout import footer, navbar
from academy_app.models import Role, User
from academy_app.services.permissions import is_staff
from academy_app.state.auth import AuthState

log = logging.getLogger(__name__)

WORKSPACE_PAGES = [
    ("Courses", "/admin/courses", "book-open"),
    ("Payments", "/admin/payments", "wallet"),
    ("Coupons", "/admin/coupons", "ticket-percent"),
    ("Analytics", "/admin/analytics", "chart-column"),
]
ADMIN_PAGES = [
    ("Users", "/admin/users", "users"),
    ("Audit log", "/admin/audit", "scroll-text"),
    ("Jobs", "/admin/jobs", "list-checks"),
]


def as_id(value: object) -> int:
    """A crafted event may send anything: only a positive int is an id; anything else matches none."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


class StaffState(AuthState):
    """Base of every workspace page state. Display only: each service checks permission again."""

    def _staff_or_redirect(self, session: Session, *, admin_only: bool = False
                           ) -> tuple[User | None, list | None]:
        """The calling staff member (an admin, if asked), or the events that send anyone else away."""
        actor = self._actor(session)
        if actor is None:
            return None, [self._login_redirect()]
        allowed = actor.role is Role.ADMIN if admin_only else is_staff(actor)
        if not allowed:
            log.warning("refused workspace page %s for user %s", self.router.url.path, actor.id)
            who = "admins" if admin_only else "instructors and admins"
            return None, [rx.redirect("/"), rx.toast.error(f"Only {who} can open this page")]
        return actor, None


def data_table(rows: rx.Var, render: Callable[[rx.Var], rx.Component],
               headers: Sequence[str | rx.Component], empty: rx.Component,
               loading: rx.Var | bool = False) -> rx.Component:
    """The workspace's table: a card that scrolls sideways on a phone, or `empty` when no row
    (nothing while the first load runs, so the empty state never flashes)."""
    cells = [h if isinstance(h, rx.Component) else rx.table.column_header_cell(h) for h in headers]
    return rx.cond(
        rx.Var.create(rows).length() > 0,
        rx.card(rx.table.root(rx.table.header(rx.table.row(*cells)),
                              rx.table.body(rx.foreach(rows, render)), width="100%"),
                width="100%", overflow_x="auto"),
        rx.cond(loading, rx.fragment(), empty),
    )


def _menu_link(label: str, href: str, icon: str) -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon(icon, size=16), rx.text(label, size="2", weight="medium"), spacing="2",
                  align="center", padding_x="12px", padding_y="8px", border_radius="8px",
                  _hover={"background": rx.color("accent", 3)}),
        href=href, underline="none", color=rx.color("gray", 12),
    )


def admin_page(title: str, subtitle: str, *children: rx.Component) -> rx.Component:
    return rx.box(
        navbar(),
        rx.flex(
            rx.el.nav(
                rx.vstack(
                    rx.text("Workspace", size="1", weight="bold", color_scheme="gray",
                            text_transform="uppercase", padding_x="12px"),
                    *[_menu_link(*entry) for entry in WORKSPACE_PAGES],
                    rx.cond(AuthState.user_role == "admin",
                            rx.fragment(*[_menu_link(*entry) for entry in ADMIN_PAGES])),
                    spacing="1",
                ),
                aria_label="Workspace",
                min_width="200px",
                padding_top="8px",
            ),
            rx.el.main(
                rx.vstack(
                    rx.heading(title, size="7", as_="h1"),
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
            max_width="1320px",
            margin="0 auto",
            padding_x=["16px", "24px"],
            padding_y="32px",
            width="100%",
        ),
        footer(),
        display="flex",
        flex_direction="column",
        min_height="100vh",
        background=rx.color("gray", 2),
    )
