"""/account — the logged-in person's account: name and picture, email address, which emails
arrive, the password, where they are logged in, and what they bought; and /account/email/[token],
the link that confirms a new email address."""

from __future__ import annotations

import reflex as rx

from academy_app.components.layout import labelled, link_button, page, page_header, skeleton_block
from academy_app.pages.account import link_card
from academy_app.pages.orders import status_badge
from academy_app.services.email_preferences import Switch
from academy_app.services.profile import MAX_AVATAR_BYTES
from academy_app.state.account import AVATAR_UPLOAD_ID, EmailChangeState, MyAccountState
from academy_app.state.rows import OrderRow

AVATAR_TYPES = {"image/jpeg": [".jpg", ".jpeg"], "image/png": [".png"], "image/webp": [".webp"]}


def section(title: str, *children: rx.Component, **props) -> rx.Component:
    return rx.card(rx.vstack(rx.heading(title, size="4", as_="h2"), *children, spacing="3",
                             align="start", width="100%"), width="100%", **props)


def field(label: str, name: str, error_key: str, *, kind: str = "text", autocomplete: str = "",
          default: rx.Var | str = "") -> rx.Component:
    error = MyAccountState.errors.get(error_key, "")
    return labelled(label, name, rx.input(
        id=name, name=name, type=kind, auto_complete=autocomplete, default_value=default,
        size="3", width="100%", aria_invalid=rx.cond(error != "", "true", "false"),
        aria_describedby=f"{name}-error", on_focus=MyAccountState.clear_error(error_key)), error)


def form(*children: rx.Component, on_submit: rx.EventHandler) -> rx.Component:
    return rx.form(rx.vstack(*children, spacing="3", width="100%", align="start"),
                   on_submit=on_submit, reset_on_submit=False, width="100%")


def avatar_editor() -> rx.Component:
    error = MyAccountState.errors.get("avatar", "")
    return rx.flex(
        rx.avatar(src=MyAccountState.avatar, fallback=MyAccountState.user_initials, size="7",
                  radius="full", custom_attrs={"alt": "Your picture"}),
        rx.vstack(
            rx.hstack(
                # The dropzone's file input takes no props of its own: a label around it names it
                # after the button.
                rx.el.label(rx.upload.root(
                    rx.button(rx.icon("image-up", size=16), "Upload a picture", variant="soft",
                              type="button"),
                    id=AVATAR_UPLOAD_ID, accept=AVATAR_TYPES, max_files=1,
                    max_size=MAX_AVATAR_BYTES, multiple=False, no_drag=True,
                    on_drop=MyAccountState.upload_avatar(rx.upload_files(upload_id=AVATAR_UPLOAD_ID)),
                    on_drop_rejected=lambda _rejected: MyAccountState.reject_avatar(),
                )),
                rx.cond(MyAccountState.avatar != "",
                        rx.button("Remove picture", variant="ghost", color_scheme="gray",
                                  on_click=MyAccountState.remove_avatar)),
                spacing="3", wrap="wrap", align="center",
            ),
            rx.text("JPEG, PNG or WebP, up to 5 MB. It is cropped to a square; nothing else of the "
                    "file (camera, place) is kept.", size="1", color_scheme="gray"),
            rx.cond(error != "", rx.text(error, color_scheme="red", size="2", role="alert")),
            spacing="2", align="start",
        ),
        gap="20px", align="center", wrap="wrap", width="100%",
    )


def profile_section() -> rx.Component:
    return section(
        "Profile",
        rx.text("Your picture and name show in the header and beside your discussion posts "
                "(other learners see neither on a post you make anonymously); your name also on "
                "certificates issued from now on.", color_scheme="gray"),
        avatar_editor(),
        form(field("Display name", "full_name", "full_name", autocomplete="name",
                   default=MyAccountState.full_name),
             rx.button("Save name", type="submit"),
             on_submit=MyAccountState.save_name),
    )


def email_section() -> rx.Component:
    return section(
        "Email address",
        rx.text("Academy writes to ", rx.text.strong(MyAccountState.email),
                ". You log in with it."),
        rx.cond(
            MyAccountState.email_sent_to != "",
            rx.vstack(
                rx.callout(
                    rx.text("We sent a link to ", rx.text.strong(MyAccountState.email_sent_to),
                            ". Your address changes when you open it, within 24 hours; until then "
                            "nothing changes. Your current address got a notice."),
                    icon="mail-check", color_scheme="green", role="status", width="100%"),
                rx.button("Use another address", variant="soft",
                          on_click=MyAccountState.change_email_again),
                spacing="3", width="100%", align="start",
            ),
            form(field("New email address", "new_email", "email", kind="email",
                       autocomplete="email"),
                 field("Current password", "password", "password", kind="password",
                       autocomplete="current-password"),
                 rx.button("Send confirmation link", type="submit"),
                 on_submit=MyAccountState.request_email_change),
        ),
    )


def email_switch(switch: Switch) -> rx.Component:
    control_id = "email-" + switch.topic
    return rx.flex(
        rx.vstack(
            rx.el.label(switch.label, html_for=control_id, style={"font_weight": "500"}),
            rx.text(switch.description, size="2", color_scheme="gray", id=control_id + "-hint"),
            spacing="1", align="start", flex="1", min_width="0",
        ),
        rx.switch(id=control_id, checked=switch.email, aria_describedby=control_id + "-hint",
                  on_change=lambda on: MyAccountState.set_email_topic(switch.topic, on)),
        gap="16px", align="center", width="100%", padding_y="8px",
        border_top=f"1px solid {rx.color('gray', 4)}",
    )


def emails_section() -> rx.Component:
    return section(
        "Emails",
        rx.text("Choose what also comes by email. Everything shows under the bell either way, and "
                "emails about your account and certificates always arrive.", color_scheme="gray"),
        rx.box(rx.foreach(MyAccountState.switches, email_switch), width="100%"),
        id="emails",
    )


def purchase(order: OrderRow) -> rx.Component:
    return rx.flex(
        rx.vstack(
            rx.link(order.number, href=order.href, weight="medium"),
            rx.text(order.course, size="2"),
            rx.text(order.submitted, size="1", color_scheme="gray"),
            spacing="1", align="start",
        ),
        rx.spacer(),
        rx.hstack(rx.text(order.amount, weight="medium"), status_badge(order), align="center",
                  spacing="3"),
        width="100%", align="center", wrap="wrap", gap="8px", padding_y="8px",
        border_top=f"1px solid {rx.color('gray', 4)}",
    )


def purchases() -> rx.Component:
    return rx.box(section(
        "Purchase history",
        rx.cond(MyAccountState.orders.length() > 0,
                rx.vstack(rx.text("Every payment you made, newest first. An approved order's "
                                  "page is its printable receipt.", color_scheme="gray"),
                          rx.foreach(MyAccountState.orders, purchase), spacing="1",
                          width="100%"),
                rx.text("No purchases yet. Paid courses you enrol in will be listed here.",
                        color_scheme="gray")),
    ), id="purchases", width="100%")


def account_page() -> rx.Component:
    return page(
        page_header("Your account", MyAccountState.email),
        rx.cond(
            MyAccountState.loading,
            rx.vstack(skeleton_block("120px"), skeleton_block("160px"), width="100%", spacing="4",
                      aria_busy="true", aria_label="Loading your account"),
            rx.vstack(
                profile_section(),
                email_section(),
                emails_section(),
                section(
                    "Password",
                    rx.text("To choose a new password, ask for a link by email.",
                            color_scheme="gray"),
                    link_button("Change password by email", "/password/forgot", variant="soft"),
                ),
                section(
                    "Where you are logged in",
                    rx.text(MyAccountState.logins_label),
                    rx.text("Lost a phone, or logged in on a shared computer? Log out everywhere: "
                            "every browser and device, this one included, will ask for the "
                            "password again.", color_scheme="gray"),
                    rx.button("Log out everywhere", color_scheme="red", variant="soft",
                              on_click=MyAccountState.logout_everywhere),
                ),
                purchases(),
                spacing="4",
                width="100%",
            ),
        ),
        width="760px",
    )


def confirm_email_page() -> rx.Component:
    return link_card(
        EmailChangeState.link_checked, EmailChangeState.link_valid | EmailChangeState.done,
        rx.cond(
            EmailChangeState.done,
            rx.vstack(
                rx.heading("Your email address is changed", size="7", as_="h1"),
                rx.callout("Academy now writes to " + EmailChangeState.new_email + ". Log in "
                           "with this address from now on.", icon="circle-check",
                           color_scheme="green", role="status", width="100%"),
                link_button("Go to your account", "/account", size="3"),
                spacing="4", width="100%",
            ),
            rx.vstack(
                rx.heading("Confirm your new email address", size="7", as_="h1"),
                rx.text("Your Academy account will use ",
                        rx.text.strong(EmailChangeState.new_email),
                        " for log-in and every email.", color_scheme="gray"),
                rx.cond(EmailChangeState.problem != "",
                        rx.callout(EmailChangeState.problem, icon="triangle-alert",
                                   color_scheme="red", role="alert", width="100%")),
                rx.button("Use this address", size="3", width="100%",
                          on_click=EmailChangeState.confirm),
                spacing="4", width="100%",
            ),
        ),
        "A confirmation link works once, for 24 hours, and only the latest one you asked for.",
        "Go to your account", "/account",
    )
