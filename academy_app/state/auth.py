"""The root of every page state: who is calling, re-checked on every event.

The browser holds only a random login token, in an HttpOnly cookie that no script can read
(infra/session_cookie.py). The tab's WebSocket handshake carries the token's hash, never the token.
Nothing the client sends in an event is trusted: each handler resolves that hash to a user through
``accounts.user_for_login``, which also refuses expired logins and deactivated accounts (from the
database, or from what this worker remembered of it for a few seconds: infra/identities.py, dropped
by every log-out, role change and deactivation in any worker), and the services check permission
again.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import NamedTuple, TypeVar
from urllib.parse import quote, urljoin, urlsplit

import reflex as rx
from sqlmodel import Session

from academy_app.db import session_scope
from academy_app.infra import bus, passwords
from academy_app.infra.logging import bind_user
from academy_app.infra.presence import presence
from academy_app.infra.session_cookie import login_hash
from academy_app.models import User
from academy_app.services import accounts, profile
from academy_app.services.errors import Invalid, ServiceError
from academy_app.services.permissions import ANY_ROLE, STAFF, Roles, has_role, refusal

log = logging.getLogger(__name__)

T = TypeVar("T")
# What a handler answers with, when not nothing: events for the browser (a redirect, a toast, a
# script) and handlers to run next, alone or in a list. Every handler is typed `-> Events` or None.
Event = rx.event.EventSpec | rx.event.EventHandler
Events = Event | list[Event] | None
Refusal = list[rx.event.EventSpec]  # what a handler answers instead: log in, go away, a toast
_NOT_ADMITTED = object()  # what a read or action returns for a caller it was not run for
# Stands for the site's own origin while a `next` address is resolved: whatever resolves elsewhere
# leaves the site.
_OWN_ORIGIN = "https://academy.invalid"
# What a browser's URL parser drops or rewrites before it resolves an address (WHATWG URL): tabs
# and newlines anywhere, and a backslash counts as a slash.
_BROWSER_REWRITES = str.maketrans({"\t": None, "\n": None, "\r": None, "\\": "/"})


def safe_next_path(candidate: object, default: str = "/dashboard") -> str:
    """Where to send the visitor after log-in: `candidate` only when a browser would resolve it to
    a path on this site (``/%09/evil.example``, ``/\\evil.example`` and ``https://…`` do not)."""
    if not isinstance(candidate, str) or len(candidate) > 512:
        return default
    # Read as a browser reads it: control characters and spaces trimmed at both ends.
    seen = candidate.strip("".join(map(chr, range(33)))).translate(_BROWSER_REWRITES)
    # Two slashes or more start another host for a browser (`///evil.example` too, unlike urllib).
    if not seen.startswith("/") or seen.startswith("//"):
        return default
    target = urlsplit(urljoin(_OWN_ORIGIN + "/", seen))
    if f"{target.scheme}://{target.netloc}" != _OWN_ORIGIN or target.path.startswith("//"):
        return default
    return target.path + (f"?{target.query}" if target.query else "") + (
        f"#{target.fragment}" if target.fragment else "")


class Caller(NamedTuple):
    """Who sent an event, as plain values: they outlive the event's transaction (a rollback
    expires the ORM object, and a worker thread's session is closed by the time the tab uses it)."""

    id: int
    name: str
    role: str
    avatar: str  # the header's picture address ('' for initials)

    @classmethod
    def of(cls, user: User | None) -> Caller | None:
        if user is None:
            return None
        return cls(user.id, user.full_name, user.role.value, profile.avatar_url(user.avatar))


def _event_user(session: Session, login: str, client_token: str) -> User | None:
    """The user an event comes from (`login`: the hash its tab's handshake carries), and the tab
    it comes from named on the transaction: live updates skip that tab, since the handler answers
    it itself."""
    user = accounts.user_for_login(session, login)
    bind_user(user.id if user else None)  # this transaction's log lines say whose
    bus.origin(session, client_token)
    return user


class AuthState(rx.State):
    # What the navbar shows. Display only: permission decisions never read these.
    user_name: str = ""
    user_role: str = ""
    user_avatar: str = ""
    # Whose tab this is as of its last event: live pushes (state/live.py) go only to that user.
    _user_id: int = 0

    @rx.var
    def is_authenticated(self) -> bool:
        return bool(self.user_name)

    @rx.var
    def is_staff(self) -> bool:
        return self.user_role in {role.value for role in STAFF}

    @rx.var
    def user_initials(self) -> str:
        return profile.initials(self.user_name)

    def _login(self) -> str:
        """The hash of the login token the browser sent when this tab connected ('' for none)."""
        return login_hash(self.router.headers.cookie)

    # --- acting as the caller: the one way every handler reaches a service ---------------------
    #
    # `_read_as` and `_act_as` look the caller up from the tab's login on every event (a worker
    # remembers a login for a few seconds at most, and forgets it at its end: infra/identities.py)
    # and run the service in one transaction in a worker thread: meanwhile this worker's
    # event loop serves other tabs, where a synchronous handler waiting on the database would stall
    # them all. The thread never touches the state; the caller's name, role and presence are set
    # back on the event loop. Handlers that use them are async.

    async def _read_as(self, read: Callable[[Session, User | None], T], *,
                       roles: Roles | None = ANY_ROLE) -> tuple[T | None, Refusal | None]:
        """`read(session, caller)` for a page: (its result, None); or, when the caller lacks
        `roles` (permissions.py), (None, the events that send a visitor to log in and back, or
        send a user without the role away, logged). `roles=None`: visitors read too (with None)."""
        caller, result = await self._as_caller(
            lambda session, user: read(session, user)
            if roles is None or has_role(user, roles) else _NOT_ADMITTED)
        if result is _NOT_ADMITTED:
            return None, self._turn_away(caller, roles or ANY_ROLE)
        return result, None

    async def _act_as(self, name: str, action: Callable[[Session, User], T], *,
                      shown: tuple[type[ServiceError], ...] = (Invalid,)
                      ) -> tuple[T | None, Refusal | None]:
        """`action(session, caller)` in one transaction: (its result, None); or (None, the
        events for a visitor (log in, then back) or for what the service refused (logged under
        `name`, told)). The errors in `shown` are the handler's to show next to its fields:
        they propagate, and nothing is written."""
        try:
            caller, result = await self._as_caller(
                lambda session, user: _NOT_ADMITTED if user is None else action(session, user))
        except shown:
            raise
        except ServiceError as exc:
            return None, [self._refuse(name, exc)]
        if result is _NOT_ADMITTED:
            return None, self._turn_away(caller, ANY_ROLE)
        return result, None

    @staticmethod
    async def _in_transaction(work: Callable[[Session], T]) -> T:
        """`work(session)` in one transaction in a worker thread, for work that checks its caller
        itself or needs none: the reads a live change shares among many tabs (state/live.py
        `Change`), a switch reached from an emailed link. Errors propagate."""
        def run() -> T:
            with session_scope() as session:
                return work(session)
        return await asyncio.to_thread(run)

    @staticmethod
    async def _in_form_transaction(work: Callable[[Session], T]) -> T:
        """`work(session)` for a form any visitor may submit (log in, sign up, reset a password),
        in one transaction on threads of their own: each hashes a password with argon2 on purpose
        slowly, which on the event loop would stall every tab this worker serves, and a burst of
        them waits its turn there (infra/passwords.py) instead of taking the threads and cores
        every other handler needs. Errors propagate for the form to show."""
        def run() -> T:
            with session_scope() as session:
                return work(session)
        return await passwords.in_turn(run)

    async def _as_caller(self, work: Callable[[Session, User | None], T]
                         ) -> tuple[Caller | None, T]:
        # The router is assembled anew on every read of `self.router`: once per event here.
        router = self.router
        login, client_token = login_hash(router.headers.cookie), router.session.client_token
        caller: list[Caller | None] = [None]

        def run() -> T:
            with session_scope() as session:
                user = _event_user(session, login, client_token)
                caller[0] = Caller.of(user)
                return work(session, user)

        try:
            result = await asyncio.to_thread(run)
        finally:
            self._seen(caller[0], client_token)
        return caller[0], result

    def _turn_away(self, caller: Caller | None, roles: Roles) -> Refusal:
        if caller is None:
            return [self._login_redirect()]
        log.warning("refused page %s for user %s", self.router.url.path, caller.id)
        return [rx.redirect("/"), rx.toast.error(refusal(roles, "open this page"))]

    def _seen(self, caller: Caller | None, token: str) -> None:
        """What the tab (`token`) keeps of the caller of its event: the navbar, the log lines'
        user (and error reports'), and the live updates it hears (state/live.py)."""
        self._show_caller(caller)
        bind_user(caller.id if caller else None)
        if caller is not None:
            presence.remember(caller.id, token)
        else:
            presence.forget(token)

    def _show_user(self, user: User | None) -> None:
        self._show_caller(Caller.of(user))

    def _show_caller(self, caller: Caller | None) -> None:
        # Assigned only when changed: an assignment marks the state dirty, and every event would
        # otherwise send the navbar's vars again (and, without oplock, write the state to Redis).
        shown = (caller.name, caller.role, caller.avatar, caller.id) if caller else ("", "", "", 0)
        if (self.user_name, self.user_role, self.user_avatar, self._user_id) != shown:
            self.user_name, self.user_role, self.user_avatar, self._user_id = shown

    def _login_redirect(self) -> rx.event.EventSpec:
        """Send a logged-out visitor to the login page, and back here afterwards."""
        here = self.router.url.path or "/"
        if self.router.url.query:
            here += "?" + self.router.url.query
        return rx.redirect(f"/login?next={quote(here, safe='/')}")

    def _refuse(self, handler: str, error: ServiceError) -> rx.event.EventSpec:
        """Log a refused call (who, what, why) and tell the user in plain words."""
        log.warning("refused %s for login %s…: %s", handler, self._login()[:8], error.message)
        return rx.toast.error(error.message)

    @rx.event
    async def load_user(self) -> None:
        """on_load of pages that load nothing else: keeps the navbar true if the session ended."""
        await self._read_as(lambda _session, _user: None, roles=None)

    @rx.event
    async def logout(self) -> Events:
        login = self._login()
        # A visitor has no login to end (the refusal is not shown): the browser starts afresh all
        # the same.
        await self._act_as("logout", lambda session, _user: accounts.end_login(session, login))
        return self._switch_login("/")

    def _switch_login(self, path: str, ticket: str = "") -> rx.event.EventSpec:
        """The person at this browser changes (log in, sign up, log out): set the browser's login
        cookie from a handoff ticket (accounts.start_handoff), or without one clear it, then load
        `path` with a new Reflex token, so the tab starts from fresh server-side state: nothing the
        last user had open (a workspace table, a payment form) stays in it.

        The cookie is HttpOnly, so only an HTTP answer can set or clear it (api/session.py). A
        ticket that has expired meanwhile lands on the log-in page with a word why.
        """
        presence.forget(self.router.session.client_token)
        self._show_user(None)
        method, failed = ("POST", "/login?notice=login-interrupted") if ticket else ("DELETE", path)

        def go(to: str) -> str:
            return f"window.sessionStorage.clear(); window.location.replace({json.dumps(to)});"

        return rx.call_script(
            f"fetch('/auth/session', {{method: '{method}', credentials: 'same-origin', "
            f"headers: {{'Content-Type': 'application/json'}}, "
            f"body: JSON.stringify({json.dumps({'ticket': ticket} if ticket else {})})}})"
            f".then(r => {{ if (!r.ok) throw r; }})"
            f".then(() => {{ {go(path)} }}, () => {{ {go(failed)} }})")
