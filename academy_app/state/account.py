"""Sign-up, log-in and password-reset forms, the account page, and the link that confirms a new
email address."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import TypeVar

import reflex as rx
from sqlmodel import Session

from academy_app.models import User
from academy_app.services import accounts, email_preferences, payments, profile
from academy_app.services.errors import (
    AuthenticationFailed,
    Conflict,
    Invalid,
    NotFound,
    ServiceError,
    TooManyAttempts,
)
from academy_app.services.permissions import is_staff
from academy_app.state.auth import AuthState, Events, Refusal, safe_next_path
from academy_app.state.rows import OrderRow

log = logging.getLogger(__name__)
T = TypeVar("T")

# Where a log-in leads without a `next`: staff to the courses they run, learners to their own.
STAFF_HOME = "/admin/courses"
LEARNER_HOME = "/dashboard"

# What the log-in page says when another page sends the visitor there (`/login?notice=<key>`):
# good news, and what went wrong (shown as the form's error).
NOTICES = {
    "password-changed": "Your password is changed, and every device that was logged in is logged "
                        "out. Log in with your new password.",
    "logged-out-everywhere": "You are logged out on every device and browser.",
}
PROBLEMS = {
    "login-interrupted": "Your log-in did not finish (it waited too long, or the connection "
                         "dropped). Please log in again.",
}


def _field(form_data: object, name: str, limit: int = 512) -> str:
    """Read one form field from an untrusted payload: always a bounded string."""
    value = form_data.get(name, "") if isinstance(form_data, dict) else ""
    return value[:limit] if isinstance(value, str) else ""


class AccountFormState(AuthState):
    errors: dict[str, str] = {}
    form_error: str = ""
    notice: str = ""
    # Set once a log-in or sign-up succeeded: the page is on its way to reload, and a second
    # submit (a double click) must not run the form again meanwhile.
    _handed_over: bool = False

    def _next_path(self, staff: bool = False) -> str:
        """The page's safe `next`, else the home of the user's role."""
        return safe_next_path(self.router.url.query_parameters.get("next"),
                              default=STAFF_HOME if staff else LEARNER_HOME)

    @rx.event
    async def open_form(self) -> Events:
        """on_load: a logged-in visitor has nothing to do here."""
        key = self.router.url.query_parameters.get("notice", "")
        self.errors, self.notice, self.form_error = {}, NOTICES.get(key, ""), PROBLEMS.get(key, "")
        self._handed_over = False
        staff = await self._staff_or_visitor()
        return None if staff is None else rx.redirect(self._next_path(staff))

    async def _staff_or_visitor(self) -> bool | None:
        """None for a visitor; for a logged-in user, whether they are staff (their home)."""
        staff, _ = await self._read_as(
            lambda _session, user: None if user is None else is_staff(user), roles=None)
        return staff

    async def _logged_in(self) -> bool:
        return await self._staff_or_visitor() is not None

    @rx.event
    def clear_error(self, field: str) -> None:
        if isinstance(field, str) and field in self.errors:
            self.errors = {k: v for k, v in self.errors.items() if k != field}

    @rx.event
    async def signup(self, form_data: dict) -> Events:
        if self._handed_over:
            return None
        self.errors, self.form_error = {}, ""
        form = accounts.SignupForm(full_name=_field(form_data, "full_name", 200),
                                   email=_field(form_data, "email", 320),
                                   password=_field(form_data, "password", 1024))
        staff = await self._staff_or_visitor()
        if staff is not None:  # nothing to sign up for
            return rx.redirect(self._next_path(staff))
        client_ip = self.router.session.client_ip

        def register(session: Session) -> str:
            user = accounts.register(session, form, client_ip=client_ip)
            session.flush()
            return accounts.start_handoff(session, user)

        try:
            ticket = await self._in_form_transaction(register)
        except Invalid as exc:
            self.errors = exc.errors
            return None
        except TooManyAttempts as exc:
            log.warning("sign-up refused by rate limit from %s", self.router.session.client_ip)
            self.form_error = exc.message
            return None
        self._handed_over = True
        return self._switch_login(self._next_path(), ticket)

    @rx.event
    async def login(self, form_data: dict) -> Events:
        if self._handed_over:
            return None
        self.errors, self.form_error = {}, ""
        email = _field(form_data, "email", 320)
        password = _field(form_data, "password", 1024)
        if not email or not password:
            self.errors = {name: "Required" for name, value in
                           (("email", email), ("password", password)) if not value}
            return None
        client_ip = self.router.session.client_ip

        def authenticate(session: Session) -> tuple[str, bool]:
            user = accounts.authenticate(session, email, password, client_ip)
            # A new token at every log-in, set by /auth/session, which ends the one the browser
            # had (if any); the role read while the session holds the user.
            return accounts.start_handoff(session, user), is_staff(user)

        try:
            ticket, staff = await self._in_form_transaction(authenticate)
        except (AuthenticationFailed, TooManyAttempts) as exc:
            if isinstance(exc, TooManyAttempts):
                log.warning("login refused by rate limit from %s", self.router.session.client_ip)
            self.form_error = exc.message
            return None
        self._handed_over = True
        return self._switch_login(self._next_path(staff), ticket)


class PasswordFormState(AccountFormState):
    """/password/forgot asks for a link by email; /password/reset/<token> sets a new password."""

    sent_to: str = ""  # the address the "check your inbox" answer names, once asked
    link_checked: bool = False
    link_valid: bool = False
    _token: str = ""  # from the address; never sent back to the browser

    def _clear(self) -> None:
        self.errors, self.form_error, self.notice = {}, "", ""

    @rx.event
    async def open_forgot(self) -> None:
        self._clear()
        self.sent_to = ""
        await self._logged_in()  # keeps the navbar true

    @rx.event
    async def request_link(self, form_data: dict) -> None:
        self._clear()
        email = _field(form_data, "email", 320)
        client_ip = self.router.session.client_ip
        try:
            await self._in_form_transaction(lambda session: accounts.request_password_reset(
                session, email, client_ip))
        except Invalid as exc:
            self.errors = exc.errors
            return
        except TooManyAttempts as exc:
            log.warning("password reset refused by rate limit from %s",
                        self.router.session.client_ip)
            self.form_error = exc.message
            return
        # The same answer whether or not the address has an account.
        self.sent_to = email.strip()

    @rx.event
    async def open_reset(self) -> None:
        """on_load: a link is checked, never used, by opening it (mail scanners open links too)."""
        self._clear()
        self.link_checked = False
        self._token = token = self.router.url.path.rstrip("/").rsplit("/", 1)[-1][:200]

        def usable(session: Session, _viewer: User | None) -> bool:
            try:
                accounts.check_reset_link(session, token)
            except NotFound:
                return False
            return True

        valid, _ = await self._read_as(usable, roles=None)  # the link is the key, not the caller
        self.link_valid, self.link_checked = bool(valid), True

    @rx.event
    async def set_new_password(self, form_data: dict) -> Events:
        self._clear()
        token, password = self._token, _field(form_data, "password", 1024)
        try:
            await self._in_form_transaction(lambda session: accounts.reset_password(
                session, token, password))
        except Invalid as exc:
            self.errors = exc.errors
            return None
        except NotFound:  # used meanwhile (another tab, a double click) or expired
            self.link_valid = False
            return None
        # Every login of the account ended, this browser's too: log in again with the new password.
        return self._switch_login("/login?notice=password-changed")


AVATAR_UPLOAD_ID = "avatar-upload"


class MyAccountState(AuthState):
    """/account: the name and picture others see, the email address (changed by a link sent to the
    new one), which emails arrive, who is logged in where ("Log out everywhere"), and what was
    bought (each order links to its page and, once approved, its receipt)."""

    loading: bool = True
    email: str = ""
    full_name: str = ""  # as saved; the form starts from it
    avatar: str = ""  # the 256 px picture's address ('' for initials)
    login_count: int = 0
    orders: list[OrderRow] = []
    switches: list[email_preferences.Switch] = []
    errors: dict[str, str] = {}
    # The address a confirmation link went to, once asked (the form gives way to "check your inbox").
    email_sent_to: str = ""

    @rx.var
    def logins_label(self) -> str:
        if self.login_count <= 1:
            return "You are logged in on this browser only."
        return f"You are logged in on {self.login_count} browsers or devices, this one included."

    @rx.event
    async def load(self) -> Events:
        found, away = await self._read_as(lambda session, user: (
            user.email, user.full_name, profile.avatar_url(user.avatar, 256),
            accounts.active_session_count(session, user),
            [OrderRow.of(order) for order in payments.orders_of(session, user)],
            email_preferences.switches(session, user)))
        if away or found is None:
            return away
        (self.email, self.full_name, self.avatar, self.login_count, self.orders,
         self.switches) = found
        self.errors, self.email_sent_to = {}, ""
        self.loading = False
        return None

    @rx.event
    def clear_error(self, field: str) -> None:
        if isinstance(field, str) and field in self.errors:
            self.errors = {k: v for k, v in self.errors.items() if k != field}

    async def _change(self, name: str, action: Callable[[Session, User], T],
                      *fields: str, shown: tuple[type[ServiceError], ...] = (Invalid,)
                      ) -> tuple[T | None, Refusal | None]:
        """Run a change of the account; its form's messages (`fields`) cleared first, and set from
        what the service refused (None, None: the message is on the page)."""
        self.errors = {k: v for k, v in self.errors.items() if k not in fields}
        try:
            return await self._act_as(name, action, shown=shown)
        except Invalid as exc:
            self.errors = {**self.errors, **exc.errors}
        except TooManyAttempts as exc:
            self.errors = {**self.errors, fields[0]: exc.message}
        return None, None

    @rx.event
    async def save_name(self, form_data: dict) -> Events:
        name = _field(form_data, "full_name", 200)
        saved, refused = await self._change(
            "save_name", lambda session, actor: profile.rename(session, actor, name).full_name,
            "full_name")
        if refused or saved is None:
            return refused
        self.full_name = self.user_name = saved
        return rx.toast.success("Your name is saved")

    @rx.event
    async def upload_avatar(self, files: list[rx.UploadFile]) -> Events:
        """Upload handler: the chosen picture arrives as soon as it is chosen."""
        # Only the upload endpoint brings files; the same handler named over the WebSocket brings
        # whatever the client sent, which is no file.
        if not (isinstance(files, list) and files and isinstance(files[0], rx.UploadFile)):
            return None
        data = await files[0].read(profile.MAX_AVATAR_BYTES + 1)
        key, refused = await self._change(
            "upload_avatar", lambda session, actor: profile.set_avatar(session, actor, data).avatar,
            "avatar")
        if refused or key is None:
            return refused or rx.clear_selected_files(AVATAR_UPLOAD_ID)
        self._show_avatar(key)
        return [rx.clear_selected_files(AVATAR_UPLOAD_ID), rx.toast.success("Your picture is saved")]

    @rx.event
    def reject_avatar(self) -> None:
        """The browser refused the chosen file (type or size) before any upload."""
        self.errors = {**self.errors, "avatar": "Choose a JPEG, PNG or WebP picture of at most 5 MB"}

    @rx.event
    async def remove_avatar(self) -> Events:
        key, refused = await self._change(
            "remove_avatar", lambda session, actor: profile.remove_avatar(session, actor).avatar,
            "avatar")
        if refused or key is None:
            return refused
        self._show_avatar(key)
        return rx.toast.success("Your picture is removed")

    def _show_avatar(self, key: str) -> None:
        self.avatar, self.user_avatar = profile.avatar_url(key, 256), profile.avatar_url(key)

    @rx.event
    async def request_email_change(self, form_data: dict) -> Events:
        form = profile.EmailChangeForm(new_email=_field(form_data, "new_email", 320),
                                       password=_field(form_data, "password", 1024))
        client_ip = self.router.session.client_ip
        # The service names the new address "email" in its errors; the page shows them there.
        address, refused = await self._change(
            "request_email_change", lambda session, actor: profile.request_email_change(
                session, actor, form, client_ip), "email", "password",
            shown=(Invalid, TooManyAttempts))
        if refused or address is None:
            return refused
        self.email_sent_to = address
        return None

    @rx.event
    def change_email_again(self) -> None:
        self.email_sent_to = ""

    @rx.event
    async def set_email_topic(self, topic: str, enabled: bool) -> Events:
        # Only a crafted event names no topic of the page: refused as a toast, and logged.
        on, refused = await self._act_as("set_email_topic", lambda session, actor: (
            email_preferences.set_email(session, actor, topic, enabled)), shown=())
        if refused or on is None:
            return refused
        self.switches = [dataclasses.replace(s, email=on) if s.topic == topic else s
                         for s in self.switches]
        return None

    @rx.event
    async def logout_everywhere(self) -> Events:
        ended, refused = await self._act_as("logout_everywhere", accounts.end_all_sessions)
        if refused:
            return refused
        log.info("user %s logged out everywhere (%s logins)", self._user_id, ended)
        return self._switch_login("/login?notice=logged-out-everywhere")


class EmailChangeState(AuthState):
    """/account/email/<token>: the link sent to a new address. Opening it only checks it (mail
    scanners open links too); the button changes the address."""

    link_checked: bool = False
    link_valid: bool = False
    new_email: str = ""  # masked
    done: bool = False
    problem: str = ""
    _token: str = ""  # from the address; never sent back to the browser

    @rx.event
    async def open_link(self) -> None:
        self.link_checked, self.done, self.problem = False, False, ""
        self._token = token = self.router.url.path.rstrip("/").rsplit("/", 1)[-1][:200]

        def usable(session: Session, _viewer: User | None) -> str | None:
            try:
                return profile.check_email_change(session, token)
            except NotFound:
                return None

        address, _ = await self._read_as(usable, roles=None)  # the link is the key, not the caller
        self.link_valid, self.new_email = address is not None, address or ""
        self.link_checked = True

    @rx.event
    async def confirm(self) -> Events:
        if self.done:  # a double click: the first one changed it
            return None
        token = self._token
        try:
            await self._in_transaction(lambda session: profile.confirm_email_change(session, token))
        except NotFound:  # used meanwhile (another tab) or expired
            self.link_valid = False
            return None
        except Conflict as exc:
            self.problem = exc.message
            return None
        self.done = True
        return None
