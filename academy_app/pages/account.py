"""/signup and /login."""

from __future__ import annotations

import reflex as rx

from academy_app.components.layout import labelled, page
from academy_app.state.account import AccountFormState


def text_field(label: str, name: str, *, kind: str = "text", autocomplete: str = "",
               hint: str = "") -> rx.Component:
    error = AccountFormState.errors.get(name, "")
    return labelled(label, name, rx.input(
        id=name, name=name, type=kind, auto_complete=autocomplete, size="3", width="100%",
        aria_invalid=rx.cond(error != "", "true", "false"), aria_describedby=f"{name}-error",
        on_focus=AccountFormState.clear_error(name)), error, hint)


def auth_page(title: str, subtitle: str, fields: list[rx.Component], submit: str,
              on_submit: rx.EventHandler, footer: rx.Component) -> rx.Component:
    form = rx.form(
        rx.vstack(*fields, rx.button(submit, type="submit", size="3", width="100%"), spacing="4",
                  width="100%"),
        on_submit=on_submit,
        reset_on_submit=False,
        width="100%",
    )
    return page(
        rx.center(
            rx.card(
                rx.vstack(
                    rx.heading(title, size="7", as_="h1"),
                    rx.text(subtitle, color_scheme="gray"),
                    form,
                    footer,
                    spacing="4",
                    width="100%",
                ),
                width="100%",
                max_width="440px",
                padding="32px",
            ),
            width="100%",
        )
    )


def signup_page() -> rx.Component:
    return auth_page(
        "Create your account", "Start learning in less than a minute.",
        [
            text_field("Full name", "full_name", autocomplete="name"),
            text_field("Email", "email", kind="email", autocomplete="email"),
            text_field("Password", "password", kind="password", autocomplete="new-password",
                       hint="At least 10 characters, and not your email address."),
        ],
        "Sign up", AccountFormState.signup,
        rx.text("Already have an account? ", rx.link("Log in", href="/login", underline="always"),
                size="2"),
    )


def login_page() -> rx.Component:
    return auth_page(
        "Welcome back", "Log in to continue learning.",
        [
            rx.cond(AccountFormState.form_error != "",
                    rx.callout(AccountFormState.form_error, icon="triangle-alert",
                               color_scheme="red", role="alert", width="100%")),
            text_field("Email", "email", kind="email", autocomplete="email"),
            text_field("Password", "password", kind="password", autocomplete="current-password"),
        ],
        "Log in", AccountFormState.login,
        rx.text("New to Academy? ",
                rx.link("Create an account", href="/signup", underline="always"), size="2"),
    )
