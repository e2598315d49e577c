"""/signup, /login, /password/forgot and /password/reset/[token]."""

from __future__ import annotations

import reflex as rx

from academy_app.components.layout import labelled, link_button, page
from academy_app.state.account import AccountFormState, PasswordFormState

PASSWORD_HINT = "At least 10 characters, not a common password, and not your email address."


def text_field(label: str, name: str, *, kind: str = "text", autocomplete: str = "",
               hint: str = "") -> rx.Component:
    error = AccountFormState.errors.get(name, "")
    return labelled(label, name, rx.input(
        id=name, name=name, type=kind, auto_complete=autocomplete, size="3", width="100%",
        aria_invalid=rx.cond(error != "", "true", "false"), aria_describedby=f"{name}-error",
        on_focus=AccountFormState.clear_error(name)), error, hint)


def form_error() -> rx.Component:
    """A problem with the form as a whole (a rate limit, wrong credentials), above its fields."""
    return rx.cond(AccountFormState.form_error != "",
                   rx.callout(AccountFormState.form_error, icon="triangle-alert",
                              color_scheme="red", role="alert", width="100%"))


def auth_form(fields: list[rx.Component], submit: str, on_submit: rx.EventHandler) -> rx.Component:
    return rx.form(
        rx.vstack(*fields, rx.button(submit, type="submit", size="3", width="100%"), spacing="4",
                  width="100%"),
        on_submit=on_submit,
        reset_on_submit=False,
        width="100%",
    )


def auth_card(*children: rx.Component) -> rx.Component:
    return page(
        rx.center(
            rx.card(
                rx.vstack(*children, spacing="4", width="100%"),
                width="100%",
                max_width="440px",
                padding="32px",
            ),
            width="100%",
        )
    )


def auth_page(title: str, subtitle: str, fields: list[rx.Component], submit: str,
              on_submit: rx.EventHandler, footer: rx.Component) -> rx.Component:
    return auth_card(
        rx.heading(title, size="7", as_="h1"),
        rx.text(subtitle, color_scheme="gray"),
        auth_form(fields, submit, on_submit),
        footer,
    )


def signup_page() -> rx.Component:
    return auth_page(
        "Create your account", "Start learning in less than a minute.",
        [
            form_error(),
            text_field("Full name", "full_name", autocomplete="name"),
            text_field("Email", "email", kind="email", autocomplete="email"),
            text_field("Password", "password", kind="password", autocomplete="new-password",
                       hint=PASSWORD_HINT),
        ],
        "Sign up", AccountFormState.signup,
        rx.text("Already have an account? ", rx.link("Log in", href="/login", underline="always"),
                size="2"),
    )


def login_page() -> rx.Component:
    return auth_page(
        "Welcome back", "Log in to continue learning.",
        [
            rx.cond(AccountFormState.notice != "",
                    rx.callout(AccountFormState.notice, icon="circle-check", color_scheme="green",
                               role="status", width="100%")),
            form_error(),
            text_field("Email", "email", kind="email", autocomplete="email"),
            text_field("Password", "password", kind="password", autocomplete="current-password"),
            rx.link("Forgot password?", href="/password/forgot", size="2", underline="always",
                    align_self="end"),
        ],
        "Log in", AccountFormState.login,
        rx.text("New to Academy? ",
                rx.link("Create an account", href="/signup", underline="always"), size="2"),
    )


def forgot_password_page() -> rx.Component:
    return auth_card(
        rx.heading("Forgot your password?", size="7", as_="h1"),
        rx.cond(
            PasswordFormState.sent_to != "",
            rx.vstack(
                rx.callout(
                    rx.text("If an account exists for ", rx.text.strong(PasswordFormState.sent_to),
                            ", we have sent it a link to choose a new password. The link works "
                            "once, for one hour."),
                    icon="mail-check", color_scheme="green", role="status", width="100%"),
                rx.text("Nothing after a few minutes? Check your spam folder, or try again.",
                        size="2", color_scheme="gray"),
                rx.button("Try another address", variant="soft", on_click=PasswordFormState.open_forgot),
                spacing="3", width="100%",
            ),
            rx.vstack(
                rx.text("Enter the email address of your account and we will send you a link to "
                        "choose a new password.", color_scheme="gray"),
                auth_form([form_error(),
                           text_field("Email", "email", kind="email", autocomplete="email")],
                          "Send me a link", PasswordFormState.request_link),
                spacing="4", width="100%",
            ),
        ),
        rx.text("Remembered it? ", rx.link("Back to log in", href="/login", underline="always"),
                size="2"),
    )


def link_card(checked: rx.Var, valid: rx.Var, usable: rx.Component, spent: str, retry: str,
              retry_href: str) -> rx.Component:
    """The page a mailed one-time link opens: a spinner while it is checked, then what it offers
    (`usable`), or why it no longer works (`spent`) and where to get another."""
    return auth_card(
        rx.cond(
            ~checked,
            rx.center(rx.spinner(aria_label="Checking the link"), width="100%", padding="24px"),
            rx.cond(
                valid,
                usable,
                rx.vstack(
                    rx.heading("This link no longer works", size="7", as_="h1"),
                    rx.text(spent, color_scheme="gray"),
                    link_button(retry, retry_href, size="3"),
                    spacing="4", width="100%",
                ),
            ),
        ),
    )


def reset_password_page() -> rx.Component:
    return link_card(
        PasswordFormState.link_checked, PasswordFormState.link_valid,
        rx.vstack(
            rx.heading("Choose a new password", size="7", as_="h1"),
            rx.text("Every device logged in to your account will be logged out.",
                    color_scheme="gray"),
            auth_form([text_field("New password", "password", kind="password",
                                  autocomplete="new-password", hint=PASSWORD_HINT)],
                      "Set new password", PasswordFormState.set_new_password),
            spacing="4", width="100%",
        ),
        "A reset link works once, for one hour, and only the latest one you asked for.",
        "Ask for a new link", "/password/forgot",
    )
