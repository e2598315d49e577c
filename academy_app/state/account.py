"""Sign-up, log-in and password-reset forms, and the account page (log out everywhere)."""

from __future__ import annotations

import logging

import reflex as rx
from sqlmodel import Session

from academy_app.models import User
from academy_app.services import accounts, payments
from academy_app.services.errors import AuthenticationFailed, Invalid, NotFound, TooManyAttempts
from academy_app.services.permissions import is_staff
from academy_app.state.auth import AuthState, Events, safe_next_path
from academy_app.state.rows import OrderRow

log = logging.getLogger(__name__)

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


class MyAccountState(AuthState):
    """/account: who is logged in, on how many browsers, "Log out everywhere", and what they
    bought (each order links to its page and, once approved, its receipt)."""

    loading: bool = True
    email: str = ""
    login_count: int = 0
    orders: list[OrderRow] = []

    @rx.var
    def logins_label(self) -> str:
        if self.login_count <= 1:
            return "You are logged in on this browser only."
        return f"You are logged in on {self.login_count} browsers or devices, this one included."

    @rx.event
    async def load(self) -> Events:
        found, away = await self._read_as(lambda session, user: (
            user.email, accounts.active_session_count(session, user),
            [OrderRow.of(order) for order in payments.orders_of(session, user)]))
        if away or found is None:
            return away
        self.email, self.login_count, self.orders = found
        self.loading = False
        return None

    @rx.event
    async def logout_everywhere(self) -> Events:
        ended, refused = await self._act_as("logout_everywhere", accounts.end_all_sessions)
        if refused:
            return refused
        log.info("user %s logged out everywhere (%s logins)", self._user_id, ended)
        return self._switch_login("/login?notice=logged-out-everywhere")
