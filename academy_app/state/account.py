"""Sign-up and log-in forms."""

from __future__ import annotations

import logging

import reflex as rx

from academy_app.db import session_scope
from academy_app.services import accounts
from academy_app.services.errors import AuthenticationFailed, Invalid, TooManyAttempts
from academy_app.state.auth import AuthState, safe_next_path

log = logging.getLogger(__name__)


def _field(form_data: object, name: str, limit: int = 512) -> str:
    """Read one form field from an untrusted payload: always a bounded string."""
    value = form_data.get(name, "") if isinstance(form_data, dict) else ""
    return value[:limit] if isinstance(value, str) else ""


class AccountFormState(AuthState):
    errors: dict[str, str] = {}
    form_error: str = ""
    submitting: bool = False

    def _next_path(self) -> str:
        return safe_next_path(self.router.url.query_parameters.get("next"))

    @rx.event
    def open_form(self):  # noqa: ANN201
        """on_load: a logged-in visitor has nothing to do here."""
        self.errors = {}
        self.form_error = ""
        self.submitting = False
        with session_scope() as session:
            if self._actor(session) is not None:
                return rx.redirect(self._next_path())
        return None

    @rx.event
    def clear_error(self, field: str) -> None:
        if isinstance(field, str) and field in self.errors:
            self.errors = {k: v for k, v in self.errors.items() if k != field}

    @rx.event
    def signup(self, form_data: dict):  # noqa: ANN201
        self.errors, self.form_error = {}, ""
        form = accounts.SignupForm(full_name=_field(form_data, "full_name", 200),
                                   email=_field(form_data, "email", 320),
                                   password=_field(form_data, "password", 1024))
        try:
            with session_scope() as session:
                if self._actor(session) is not None:  # a double-submit's second request
                    return rx.redirect(self._next_path())
                user = accounts.register(session, form)
                session.flush()
                self.session_token = accounts.start_session(session, user)
                self._show_user(user)
        except Invalid as exc:
            self.errors = exc.errors
            return None
        return self._fresh_start(self._next_path())

    @rx.event
    def login(self, form_data: dict):  # noqa: ANN201
        self.errors, self.form_error = {}, ""
        email = _field(form_data, "email", 320)
        password = _field(form_data, "password", 1024)
        if not email or not password:
            self.errors = {name: "Required" for name, value in
                           (("email", email), ("password", password)) if not value}
            return None
        try:
            with session_scope() as session:
                user = accounts.authenticate(session, email, password,
                                             self.router.session.client_ip)
                self.session_token = accounts.start_session(session, user)
                self._show_user(user)
        except (AuthenticationFailed, TooManyAttempts) as exc:
            if isinstance(exc, TooManyAttempts):
                log.warning("login refused by rate limit from %s", self.router.session.client_ip)
            self.form_error = exc.message
            return None
        return self._fresh_start(self._next_path())
