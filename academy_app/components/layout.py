"""The frame every page shares: navbar, main region, footer, and small building blocks."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx
from reflex.components.core.banner import has_connection_errors
from reflex.vars import FunctionStringVar
from reflex_base.style import toggle_color_mode
from reflex_base.utils.imports import ImportVar
from reflex_base.vars import VarData

from academy_app.components.notification_bell import notification_bell
from academy_app.state.auth import AuthState

MAX_WIDTH = "1180px"

# Whether the app has taken this page over: Reflex's is_hydrated (the page's on_load handlers have
# run, so what they load is on the page) latched in the browser's memory for the life of the page.
# A client-side navigation or a reconnect sets is_hydrated back to false while it loads again; the
# latch keeps controls usable then (one turning disabled under the learner's hands would drop the
# focus mid-word, as the catalog's search changes the address on every word). Before the first load
# it is false in the served HTML and in React's first render alike, so hydration agrees with it.
_LATCHED = FunctionStringVar.create(
    "(hydrated) => (refs['academy_ready'] ||= hydrated)",
    _var_data=VarData(imports={"$/utils/state": [ImportVar(tag="refs")]}))
READY = _LATCHED.call(rx.State.is_hydrated).to(bool)


def icon_either(condition: rx.Var, when_true: str, when_false: str, **props) -> rx.Component:
    """One of two fixed icons. An icon whose name is a Var is lucide's DynamicIcon, which brings
    a table of every icon's module (36 KiB compressed, 237 KiB of script to run) to each page
    that shows it: the lesson page did, for its quiz result and discussion buttons."""
    return rx.cond(condition, rx.icon(when_true, **props), rx.icon(when_false, **props))


def link_button(label: str | rx.Component, href: str | rx.Var, **props) -> rx.Component:
    """A link that looks like a button: navigation stays a real link for keyboards and readers."""
    return rx.button(rx.link(label, href=href, underline="none"), as_child=True, **props)


def current(href: str, section: str = "") -> rx.Var:
    """The link's `aria-current`: "page" on its own page, "true" anywhere else in its `section` (a
    course page under Courses, any workspace page under Workspace), otherwise absent. styles.css
    draws the marker from the attribute, so what is announced and what is seen never disagree."""
    path = rx.State.router.url.path
    here = (path == href) | (path == href + "/")
    if not section:
        return rx.cond(here, "page", None)
    return rx.cond(here, "page", rx.cond(path.startswith(section), "true", None))


def _nav_link(label: str, href: str, section: str) -> rx.Component:
    return rx.link(label, href=href, underline="none", weight="medium", size="3",
                   white_space="nowrap", class_name="nav-link", aria_current=current(href, section))


def _drawer_link(label: str, href: str, section: str) -> rx.Component:
    # Dialog.Close around the link: following it also closes the drawer (the page under it changes).
    return rx.dialog.close(rx.link(label, href=href, underline="none", weight="medium", size="3",
                                   class_name="side-link", aria_current=current(href, section)))


def _main_links(link: Callable[[str, str, str], rx.Component]) -> list[rx.Component]:
    """The site's main links, drawn inline on wide screens and in the drawer on narrow ones."""
    return [
        link("Courses", "/courses", "/courses/"),
        rx.cond(AuthState.is_authenticated, link("My learning", "/dashboard", "")),
        rx.cond(AuthState.is_authenticated, link("Study groups", "/study-groups", "")),
        rx.cond(AuthState.is_staff, link("Workspace", "/admin/courses", "/admin/")),
    ]


def connection_status() -> rx.Component:
    """"Live" while the socket is up; "Reconnecting…" while Reflex retries. A reconnect re-runs the
    page's load handlers, so the page catches up from the database by itself."""
    def status(label: str, color: str) -> rx.Component:
        return rx.hstack(
            rx.box(width="8px", height="8px", border_radius="50%", background=rx.color(color, 9),
                   aria_hidden="true"),
            rx.text(label, size="1", color_scheme="gray"),
            align="center", spacing="1", role="status",
        )
    return rx.cond(has_connection_errors, status("Reconnecting…", "amber"),
                   rx.cond(rx.State.is_hydrated, status("Live", "green"),
                           status("Connecting…", "gray")))


WIDE = rx.breakpoints(initial="none", md="flex")  # inline links from 1024 px
NARROW = rx.breakpoints(initial="flex", md="none")  # the Menu button and its drawer below that


def content_column(width: str = MAX_WIDTH) -> dict[str, object]:
    """The props of a centred content column. Header, main and footer of one page share them, so
    their left edges line up at every width (the workspace passes its own wider `width`)."""
    return {"width": "100%", "max_width": width, "margin": "0 auto", "padding_x": ["16px", "32px"]}


def theme_toggle(labelled: bool = False) -> rx.Component:
    """The dark theme's on/off switch: a toggle button named "Dark theme", pressed while the page
    is dark. Until the first press the page follows the system's prefers-color-scheme; a press
    sets light or dark, which Reflex's ThemeProvider keeps in localStorage ("theme") and its head
    script applies before the first paint of every later page, so a reload never flashes the
    other theme. `labelled` writes the name out (in the drawer); the header shows the icon."""
    dark = rx.color_mode_cond("false", "true")
    icon = rx.color_mode_cond(rx.icon("moon", size=18), rx.icon("sun", size=18))
    if labelled:
        return rx.button(icon, "Dark theme", on_click=toggle_color_mode, aria_pressed=dark,
                         variant="soft", color_scheme="gray", size="2", justify_content="start")
    return rx.icon_button(icon, on_click=toggle_color_mode, aria_pressed=dark,
                          aria_label="Dark theme", variant="ghost", color_scheme="gray",
                          display=WIDE, flex_shrink="0")


def _account_link(name_display: str | rx.Breakpoints) -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.avatar(src=AuthState.user_avatar, fallback=AuthState.user_initials, size="2",
                      radius="full", aria_hidden="true"),
            rx.text(AuthState.user_name, size="2", weight="medium", display=name_display,
                    overflow_wrap="anywhere"),
            align="center",
            spacing="3",
            min_width="0",
        ),
        href="/account",
        underline="none",
        color=rx.color("gray", 12),
        aria_label=AuthState.user_name + ": your account",
        aria_current=current("/account"),
        min_width="0",
    )


def _log_out_button() -> rx.Component:
    return rx.button("Log out", on_click=AuthState.logout, variant="soft", color_scheme="gray",
                     size="2")


def _account_menu() -> rx.Component:
    """Status and bell at every width; the account link and Log out move into the drawer below md."""
    return rx.cond(
        AuthState.is_authenticated,
        rx.hstack(
            connection_status(),
            notification_bell(),
            rx.hstack(_account_link(rx.breakpoints(initial="none", lg="block")), _log_out_button(),
                      display=WIDE, align="center", spacing="3"),
            align="center",
            spacing="3",
            flex_shrink="0",
        ),
        rx.hstack(
            link_button("Log in", "/login", variant="ghost", size="2"),
            link_button("Sign up", "/signup", size="2"),
            align="center",
            spacing="3",
            flex_shrink="0",
        ),
    )


def _menu_drawer() -> rx.Component:
    """The narrow screen's navigation: a Menu button opening a Radix dialog drawn as a side drawer
    (styles.css, .nav-drawer). Radix gives it the dialog role, aria-expanded and aria-controls on
    the button, focus moved in and trapped, Escape to close and focus back on the button. (Reflex's
    rx.drawer wraps vaul, a package the frontend does not otherwise install.)"""
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(rx.icon("menu", size=18), "Menu", variant="soft", color_scheme="gray",
                      size="2", display=NARROW, flex_shrink="0"),
        ),
        rx.dialog.content(
            rx.hstack(
                rx.dialog.title("Menu", size="5", margin="0"),
                rx.dialog.close(rx.icon_button(rx.icon("x", size=18), variant="ghost",
                                               color_scheme="gray", aria_label="Close menu")),
                justify="between",
                align="center",
                width="100%",
            ),
            rx.dialog.description("Pages of Academy and your account", class_name="visually-hidden"),
            rx.el.nav(rx.vstack(*_main_links(_drawer_link), spacing="1", width="100%"),
                      aria_label="Main", width="100%"),
            theme_toggle(labelled=True),
            rx.cond(
                AuthState.is_authenticated,
                rx.vstack(rx.divider(), rx.dialog.close(_account_link("block")), _log_out_button(),
                          spacing="3", width="100%"),
            ),
            class_name="nav-drawer",
        ),
    )


def navbar(width: str = MAX_WIDTH) -> rx.Component:
    return rx.el.header(
        rx.hstack(
            rx.link(
                rx.hstack(
                    rx.center(rx.icon("graduation-cap", size=20, color="var(--accent-contrast)"),
                              background=rx.color("accent", 9), border_radius="10px",
                              width="34px", height="34px"),
                    rx.text("Academy", size="5", weight="bold", display=["none", "block"]),
                    align="center",
                    spacing="2",
                ),
                href="/",
                underline="none",
                color=rx.color("gray", 12),
                aria_label="Academy home",
                flex_shrink="0",
            ),
            rx.el.nav(
                rx.hstack(*_main_links(_nav_link), spacing="5", align="center", height="100%"),
                aria_label="Main",
                padding_left="24px",
                display=WIDE,
                align_self="stretch",
            ),
            rx.spacer(),
            theme_toggle(),
            _account_menu(),
            _menu_drawer(),
            align="center",
            padding_y="12px",
            spacing="4",
            **content_column(width),
        ),
        position="sticky",
        top="0",
        z_index="10",
        background=rx.color("gray", 1, alpha=True),
        backdrop_filter="blur(12px)",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def footer(width: str = MAX_WIDTH) -> rx.Component:
    return rx.el.footer(
        rx.flex(
            rx.text("© Academy — learn something new every day.", size="2", color_scheme="gray"),
            rx.spacer(),
            rx.link("Browse courses", href="/courses", size="2", color_scheme="gray"),
            padding_y="24px",
            wrap="wrap",
            gap="2",
            **content_column(width),
        ),
        border_top=f"1px solid {rx.color('gray', 4)}",
        margin_top="auto",
    )


def until_ready(*children: rx.Component) -> rx.Component:
    """Every form control of a page's frame (fields, buttons, selects, switches) disabled until the
    app has taken the page over (READY). The served HTML paints before the app's scripts have run
    (api/served_html.py): what is typed into it then would be lost when the app takes over, and a
    form sent then would go to the server as a plain GET with its fields in the address. One
    fieldset does it for the whole frame, its box dissolved (styles.css) so the layout is the
    frame's; links stay links and work at once. Dialogs and toasts render outside it, and open only
    once the app runs anyway."""
    return rx.el.fieldset(*children, disabled=~READY, class_name="until-ready",
                          custom_attrs={"role": "none"})


def page(*children: rx.Component, width: str = MAX_WIDTH) -> rx.Component:
    return rx.box(
        until_ready(
            navbar(),
            rx.el.main(
                rx.box(*children, padding_y=["32px", "48px"], **content_column(width)),
                flex="1",
            ),
            footer(),
        ),
        display="flex",
        flex_direction="column",
        min_height="100vh",
        background=rx.color("gray", 2),
    )


def page_header(title: str | rx.Var, subtitle: str | rx.Var = "", *actions: rx.Component
                ) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.heading(title, size="8", weight="bold", as_="h1"),
            rx.cond(subtitle != "", rx.text(subtitle, size="4", color_scheme="gray")),
            spacing="2",
        ),
        rx.spacer(),
        *actions,
        direction=rx.breakpoints(initial="column", sm="row"),
        align=rx.breakpoints(initial="start", sm="end"),
        spacing="4",
        margin_bottom="32px",
        width="100%",
    )


def empty_state(icon: str, title: str, text: str, *actions: rx.Component) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.center(rx.icon(icon, size=28, color=rx.color("accent", 11)),
                      background=rx.color("accent", 3), border_radius="50%", width="64px",
                      height="64px"),
            rx.heading(title, size="5", as_="h2"),
            rx.text(text, color_scheme="gray", text_align="center", max_width="420px"),
            *actions,
            align="center",
            spacing="3",
        ),
        # Narrower padding on a phone: 64 px a side left the message a third of the screen wide.
        padding=rx.breakpoints(initial="40px 20px", sm="64px"),
        border=f"1px dashed {rx.color('gray', 6)}",
        border_radius="16px",
        background=rx.color("gray", 1),
        width="100%",
    )


def side_card(*children: rx.Component, **props) -> rx.Component:
    """The card beside a page's main column; it stays in view while the main column scrolls."""
    return rx.card(
        rx.vstack(*children, spacing="3", width="100%"),
        width="100%",
        position=["static", "static", "sticky"],
        top="90px",
        **props,
    )


def skeleton_block(height: str = "1em", width: str = "100%") -> rx.Component:
    return rx.skeleton(rx.box(height=height, width=width), loading=True)


def labelled(label: str, field_id: str, control: rx.Component, error: rx.Var,
             hint: str = "") -> rx.Component:
    """A form field: its label, the control, an optional hint, and its error right below it.

    The control should carry ``id=field_id`` and ``aria-describedby="<field_id>-error"``.
    """
    return rx.vstack(
        rx.el.label(label, html_for=field_id, style={"font_weight": "500", "font_size": "14px"}),
        control,
        rx.cond(hint != "", rx.text(hint, size="1", color_scheme="gray")),
        rx.cond(error, rx.text(error, id=f"{field_id}-error", color_scheme="red", size="2",
                               role="alert")),
        spacing="1",
        width="100%",
    )


def stat_card(label: str, value: rx.Var, size: str = "6") -> rx.Component:
    """A figure with its label: dashboards, analytics, jobs."""
    return rx.card(rx.vstack(rx.text(label, size="2", color_scheme="gray"),
                             rx.heading(value, size=size, as_="p"), spacing="1"), width="100%")
