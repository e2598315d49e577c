"""Accounts: sign-up, log-in, server-side login sessions, and password reset by email."""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, delete, func, or_, select, update

from academy_app.infra import bus, passwords, signing
from academy_app.infra.common_passwords import is_common
from academy_app.infra.identities import identities
from academy_app.infra.passwords import hash_password
from academy_app.infra.ratelimit import Decision, limiter
from academy_app.infra.session_cookie import MAX_TOKEN_LENGTH, token_hash
from academy_app.models import EmailChange, LoginSession, PasswordReset, Role, User, as_utc, utcnow
from academy_app.services import emails
from academy_app.services.errors import (
    AuthenticationFailed,
    Invalid,
    NotAuthenticated,
    NotFound,
    TooManyAttempts,
)
from academy_app.settings import get_settings

MIN_PASSWORD_LENGTH = 10
# Failed log-ins slow their address down; nothing locks an account (see `authenticate`).
FREE_FAILURES = 5  # for one account from one address, before any wait
FREE_FAILURES_PER_ADDRESS = 20  # from one address over all accounts (someone spraying a password)
FIRST_WAIT_SECONDS = 1  # then 2, 4, 8 … after each further failure ...
LONGEST_WAIT_SECONDS = 15 * 60  # ... up to this
FAILURE_MEMORY_SECONDS = 24 * 3600  # failures older than this no longer count
NEW_ADDRESS_ATTEMPTS = 100  # per account and hour, from addresses it was never logged in from
NEW_ADDRESS_WINDOW_SECONDS = 3600
KNOWN_ADDRESS_SECONDS = 30 * 24 * 3600  # an address stays known this long after a log-in from it
# Argon2 cost grows with input only mildly, but an unbounded password is still a free DoS lever.
MAX_PASSWORD_LENGTH = 256
MAX_NAME_LENGTH = 120
# A login's last_seen_at moves forward at most this often: the idle timeout is that precise, and an
# event writes the database once per few minutes at most, not every time.
LAST_SEEN_RESOLUTION = timedelta(minutes=5)
RESET_LINK_LIFETIME = timedelta(hours=1)
RESET_PATH = "/password/reset/"
RESET_PURPOSE = "password-reset"  # what the link's token is derived for (infra/signing.derive)
# A log-in made over the WebSocket reaches the browser's HttpOnly cookie through a one-time ticket
# that the browser hands to an HTTP endpoint (api/session.py) at once.
HANDOFF_LIFETIME = timedelta(minutes=2)
HANDOFF_PURPOSE = "login-handoff"

# Verified against when the email is unknown, so both failures take the same time.
_DUMMY_HASH = hash_password("not-a-real-password-" + secrets.token_hex(8))


@dataclass(frozen=True)
class SignupForm:
    full_name: str
    email: str
    password: str


def normalize_email(raw: str) -> str:
    """Validate an address and return its canonical, lower-cased form. Raises ``Invalid``."""
    try:
        # test_environment admits the reserved .test domain that the demo accounts use.
        result = validate_email((raw or "").strip(), check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        raise Invalid({"email": "Enter a valid email address, like name@example.com"}) from None
    return result.normalized.lower()


def tidy_name(raw: object) -> str:
    """A name as typed, its runs of spaces (and stray newlines) made one."""
    return " ".join(raw.split()) if isinstance(raw, str) else ""


def name_problem(full_name: str) -> str | None:
    if not full_name:
        return "Enter your full name"
    if len(full_name) > MAX_NAME_LENGTH:
        return f"Use at most {MAX_NAME_LENGTH} characters"
    return None


def password_matches(user: User, password: object) -> bool:
    """Whether `password` is the user's, checked in the time any other password takes."""
    if not isinstance(password, str) or len(password) > MAX_PASSWORD_LENGTH:
        passwords.verify("", _DUMMY_HASH)
        return False
    return passwords.verify(password, user.password_hash)


def password_problem(password: str, email: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters"
    if email and password.strip().lower() == email.strip().lower():
        return "Your password must not be your email address"
    if is_common(password):
        return "This is one of the most common passwords: choose one that is harder to guess"
    return None


def register(session: Session, form: SignupForm, role: Role = Role.STUDENT,
             client_ip: str | None = None) -> User:
    """Create an account. Every problem is reported at once, by field; nothing is saved on error.

    With `client_ip` (a sign-up from the web), every attempt counts against `signups_per_hour` for
    that address first: otherwise the "already exists" answer would test addresses by the thousand.
    """
    if client_ip is not None:
        hourly_limit(f"signup:ip:{client_ip}", get_settings().signups_per_hour,
                      "Too many sign-ups from your network")
    errors: dict[str, str] = {}
    full_name = tidy_name(form.full_name)
    if problem := name_problem(full_name):
        errors["full_name"] = problem
    email = ""
    try:
        email = normalize_email(form.email)
    except Invalid as exc:
        errors.update(exc.errors)
    if problem := password_problem(form.password or "", email or form.email or ""):
        errors["password"] = problem
    if email and "email" not in errors and user_by_email(session, email) is not None:
        errors["email"] = "An account with this email already exists"
    if errors:
        raise Invalid(errors)

    user = User(full_name=full_name, email=email, password_hash=hash_password(form.password),
                role=role)
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        # Another sign-up with the same email won the race between our check and our insert.
        raise Invalid({"email": "An account with this email already exists"}) from None
    return user


def authenticate(session: Session, email: str, password: str, client_ip: str = "") -> User:
    """Return the active user with these credentials, or raise one generic ``AuthenticationFailed``.

    Failed attempts slow down where they come from and never lock the owner out (OWASP's
    authentication cheat sheet, NIST SP 800-63B 5.2.2), all enforced before any password is checked
    and refused with ``TooManyAttempts`` ("try again in …"):
    - `login_attempts_per_minute` attempts a minute from one address;
    - per account and address, after `FREE_FAILURES` failures each further attempt waits 1 s, 2 s,
      4 s … (at most 15 minutes) after the previous one: a stranger's guesses cost the stranger's
      address time, and the owner logs in from any other address at once;
    - per address over all accounts, the same after `FREE_FAILURES_PER_ADDRESS` failures;
    - per account, `NEW_ADDRESS_ATTEMPTS` attempts an hour from addresses it has not been logged in
      from within 30 days (a botnet guessing one account); the owner's known addresses pass.
    An attempt counts as a failure from the moment it is let through (so racing requests cannot
    slip past a wait) and is taken back when its password is right. Every per-account key includes
    a digest of the password hash, so a password reset starts the account afresh everywhere, with
    no key to find. An unknown email is counted like a known one: the answer must not tell.
    """
    try:
        normalized = normalize_email(email)
    except Invalid:
        normalized = ""
    account = normalized or str(email or "")[:254].strip().lower()
    guard = limiter()
    _refuse_unless(guard.hit(f"login:ip:{client_ip}", get_settings().login_attempts_per_minute, 60))
    user = user_by_email(session, normalized) if normalized else None
    scope = _login_scope(account, user)
    counted = _count_attempt(scope, client_ip)
    password = password or ""
    if user is None or len(password) > MAX_PASSWORD_LENGTH:
        # Never truncated: a password longer than any account can have fails, in the same time.
        passwords.verify(password[:MAX_PASSWORD_LENGTH], _DUMMY_HASH)
        raise AuthenticationFailed()
    valid, new_hash = passwords.verify_and_update(password, user.password_hash)
    if not valid or not user.is_active:
        raise AuthenticationFailed()
    for key, hit_id in counted:
        guard.forget(key, hit_id)
    guard.reset(f"login:failures:{scope}:{client_ip}")  # a success ends this address's run
    if new_hash:
        user.password_hash = new_hash
        session.add(user)
        scope = _login_scope(account, user)  # a new hash is a new scope: know the address in it
    known = f"login:known:{scope}:{client_ip}"
    guard.reset(known)  # known for KNOWN_ADDRESS_SECONDS from the latest success, not the first
    guard.hit(known, 1, KNOWN_ADDRESS_SECONDS)
    return user


def _login_scope(account: str, user: User | None) -> str:
    """What an account's log-in limits are keyed by: the account and its current password hash (so
    a new password starts afresh), digested, which also keeps email addresses out of Redis."""
    return token_hash(f"{account}\n{user.password_hash if user else ''}")[:32]


def _count_attempt(scope: str, client_ip: str) -> list[tuple[str, str]]:
    """Count the attempt as a failure wherever it is limited, or raise ``TooManyAttempts`` having
    counted nothing. Returns the counted hits, to take back if the password is right."""
    guard = limiter()
    counted: list[tuple[str, str]] = []
    limits = [(f"login:failures:{scope}:{client_ip}", FREE_FAILURES),
              (f"login:failures:ip:{client_ip}", FREE_FAILURES_PER_ADDRESS)]
    try:
        for key, free in limits:
            decision = guard.backoff(key, FAILURE_MEMORY_SECONDS, free, FIRST_WAIT_SECONDS,
                                     LONGEST_WAIT_SECONDS)
            _refuse_unless(decision)
            counted.append((key, decision.hit_id))
        # A window holding a hit = a log-in succeeded from this address within that time.
        if guard.check(f"login:known:{scope}:{client_ip}", 1, KNOWN_ADDRESS_SECONDS).allowed:
            key = f"login:new-addresses:{scope}"
            decision = guard.hit(key, NEW_ADDRESS_ATTEMPTS, NEW_ADDRESS_WINDOW_SECONDS)
            _refuse_unless(decision)
            counted.append((key, decision.hit_id))
    except TooManyAttempts:
        for key, hit_id in counted:  # a refused attempt tried no password: not a failure
            guard.forget(key, hit_id)
        raise
    return counted


def _refuse_unless(decision: Decision) -> None:
    if not decision.allowed:
        seconds = max(1, math.ceil(decision.retry_after))
        wait = (f"{seconds} second{'s' if seconds > 1 else ''}" if seconds < 120
                else f"{math.ceil(seconds / 60)} minutes")
        raise TooManyAttempts(f"Too many log-in attempts: try again in {wait}",
                              decision.retry_after)


def hourly_limit(key: str, limit: int, refusal: str) -> None:
    """Count one attempt under `key`; ``TooManyAttempts`` past `limit` in the last hour."""
    decision = limiter().hit(key, limit, 3600)
    if not decision.allowed:
        raise TooManyAttempts.in_minutes(refusal, decision.retry_after)


def start_session(session: Session, user: User, replacing: str | None = None) -> str:
    """Open a login session and return the token for the browser (only its hash is stored).

    A log-in always gets a new token, and `replacing` (whatever token the browser held before)
    ends: a token planted in the browser beforehand never becomes a logged-in one.
    """
    end_session(session, replacing)
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(token_hash=token_hash(token), user_id=user.id,
                             expires_at=utcnow() + timedelta(days=get_settings().session_days)))
    return token


def start_handoff(session: Session, user: User) -> str:
    """Open a login that is not usable yet, and return the one-time ticket that completes it.

    A log-in answered over the WebSocket cannot set an HttpOnly cookie: the browser hands the
    ticket to an HTTP endpoint, which calls `complete_handoff`. The pending row's hash is of a
    value derived from the ticket with the app's secret key, so neither the ticket nor anything
    stored is a token a browser could present; an unused row lapses after `HANDOFF_LIFETIME`.
    """
    ticket = secrets.token_urlsafe(32)
    session.add(LoginSession(token_hash=_handoff_hash(ticket), user_id=user.id,
                             expires_at=utcnow() + HANDOFF_LIFETIME))
    return ticket


def complete_handoff(session: Session, ticket: str, replacing: str | None = None) -> str:
    """Turn a handoff ticket into the browser's login token, once; ``NotFound`` for a ticket that
    is unknown, used or expired. The token the browser held before (`replacing`) ends."""
    if not isinstance(ticket, str) or not 0 < len(ticket) <= MAX_TOKEN_LENGTH:
        raise NotFound("log-in")
    token, now = secrets.token_urlsafe(32), utcnow()
    # One conditional UPDATE: of two requests racing with one ticket, exactly one gets a token.
    completed = session.execute(update(LoginSession).where(
        col(LoginSession.token_hash) == _handoff_hash(ticket), col(LoginSession.expires_at) > now,
    ).values(token_hash=token_hash(token), created_at=now, last_seen_at=now,
             expires_at=now + timedelta(days=get_settings().session_days))
        .execution_options(synchronize_session=False)).rowcount
    if completed != 1:
        raise NotFound("log-in")
    end_session(session, replacing)
    return token


def _handoff_hash(ticket: str) -> str:
    return token_hash(signing.derive(HANDOFF_PURPOSE, ticket))


# Every event of every tab runs this lookup: built once, not per event (see services/progress.py).
_LOGIN_BY_TOKEN = select(LoginSession, User).join(User, col(User.id) == LoginSession.user_id) \
    .where(LoginSession.token_hash == sa.bindparam("token_hash"))


def user_for_token(session: Session, token: str | None) -> User | None:
    """The active user a browser token belongs to, or None if it is unknown, expired (past
    `session_days`, or unused for `session_idle_minutes`) or disabled."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return user_for_login(session, token_hash(token))


def user_for_login(session: Session, login_hash: str) -> User | None:
    """`user_for_token` for a token known by its hash (what a tab's WebSocket handshake carries,
    infra/session_cookie.py).

    Remembered for a few seconds (infra/identities.py), so most events of a tab ask the database
    nothing about who sends them: the same rules apply to what is remembered (the user active,
    the login within both timeouts), a login whose last-seen time is due to move forward is read
    again, and every change to a user or end of a login drops it (`_drop_changed_identities`,
    `end_login`, `end_all_sessions`)."""
    if not login_hash:
        return None
    now = utcnow()
    known = identities.get(login_hash)
    if known is not None and _within_timeouts(known.expires_at, known.last_seen_at, now) and \
            as_utc(known.last_seen_at) > now - LAST_SEEN_RESOLUTION:
        return _attached_user(session, known.user)
    generation = identities.generation()  # before the read: a drop meanwhile is not undone
    row = session.exec(_LOGIN_BY_TOKEN, params={"token_hash": login_hash}).first()
    if row is None:
        return None
    found = _in_force(session, [row]).get(login_hash)
    login, user = row
    if found is not None and as_utc(login.last_seen_at) > now - LAST_SEEN_RESOLUTION:
        # remembered only as the database has it: a due last-seen write is not yet committed
        identities.remember(login_hash, user.id, _columns(user), login.expires_at,
                            login.last_seen_at, generation)
    return found


def users_for_logins(session: Session, login_hashes: Collection[str]) -> dict[str, User]:
    """`user_for_login` for many tabs at once (a live change reaching every tab that watches a
    discussion): login hash → its user, for the logins in force, in one query."""
    hashes = sorted({login for login in login_hashes if login})
    if not hashes:
        return {}
    return _in_force(session, session.exec(
        select(LoginSession, User).join(User, col(User.id) == LoginSession.user_id)
        .where(col(LoginSession.token_hash).in_(hashes))).all())


def _in_force(session: Session, rows: Iterable[tuple[LoginSession, User]]) -> dict[str, User]:
    """Of these logins, those still in force, by hash; marks them seen (one write every few
    minutes at most, for all of them at once)."""
    now = utcnow()
    users: dict[str, User] = {}
    stale: list[int] = []
    for login, user in rows:
        if login_in_force(login, user, now):
            users[login.token_hash] = user
            if as_utc(login.last_seen_at) <= now - LAST_SEEN_RESOLUTION:
                stale.append(login.id)
    if stale:
        session.execute(update(LoginSession)
                        .where(col(LoginSession.id).in_(stale),
                               col(LoginSession.last_seen_at) <= now - LAST_SEEN_RESOLUTION)
                        .values(last_seen_at=now)
                        .execution_options(synchronize_session=False))
    return users


_USER_MAPPER = sa.inspect(User)
_USER_COLUMNS = tuple(attribute.key for attribute in _USER_MAPPER.column_attrs)


def _columns(user: User) -> dict[str, object]:
    return {key: getattr(user, key) for key in _USER_COLUMNS}


def _attached_user(session: Session, columns: dict[str, object]) -> User:
    """The user row rebuilt from remembered columns, in `session` as if it had been loaded (the
    same object a query would give: services may read it, change it, lock it)."""
    found = session.identity_map.get(_USER_MAPPER.identity_key_from_primary_key([columns["id"]]))
    if found is not None:
        return found  # already loaded by this transaction: that copy is the one it sees
    user = _USER_MAPPER.class_manager.new_instance()
    for key, value in columns.items():
        set_committed_value(user, key, value)
    make_transient_to_detached(user)
    session.add(user)
    return user


@sa.event.listens_for(OrmSession, "before_flush")
def _drop_changed_identities(session: OrmSession, _context: object, _instances: object) -> None:
    """A user changed (role, deactivated, password, name) or removed: once committed, nobody
    remembers who their logins are any more (infra/identities.py)."""
    changed = [obj.id for obj in (*session.dirty, *session.deleted)
               if isinstance(obj, User) and obj.id is not None
               and (obj in session.deleted or session.is_modified(obj))]
    if changed:
        bus.identities_changed(session, changed)


def require_user(user: User | None) -> User:
    if user is None:
        raise NotAuthenticated()
    return user


def end_session(session: Session, token: str | None) -> None:
    if token:
        end_login(session, token_hash(token))


def end_login(session: Session, login_hash: str) -> None:
    """End the login with this token hash (log out), if there is one."""
    if login_hash:
        ended = session.execute(delete(LoginSession).where(
            col(LoginSession.token_hash) == login_hash).returning(col(LoginSession.user_id)))
        bus.identities_changed(session, ended.scalars().all(), logins=[login_hash])


def end_all_sessions(session: Session, user: User) -> int:
    """Log the user out everywhere, this browser included; returns how many logins ended."""
    bus.identities_changed(session, [user.id])
    return session.exec(delete(LoginSession).where(col(LoginSession.user_id) == user.id)).rowcount


def active_session_count(session: Session, user: User) -> int:
    """The user's logins still in force (browsers and devices logged in)."""
    now = utcnow()
    return session.exec(select(func.count()).select_from(LoginSession).where(
        col(LoginSession.user_id) == user.id, col(LoginSession.expires_at) > now,
        col(LoginSession.last_seen_at) > _idle_cutoff(now))).one()


def purge_expired_sessions(session: Session) -> int:
    """Delete login sessions past their expiry or idle timeout (a scheduled job); returns how many."""
    now = utcnow()
    return session.exec(delete(LoginSession).where(or_(
        col(LoginSession.expires_at) <= now, col(LoginSession.last_seen_at) <= _idle_cutoff(now),
    ))).rowcount


def login_in_force(login: LoginSession, user: User, now: datetime | None = None) -> bool:
    """A login (browser or REST API) still counts: its user is active, and it is within both the
    absolute (`session_days`) and the idle (`session_idle_minutes`) timeout."""
    now = now or utcnow()
    return user.is_active and _within_timeouts(login.expires_at, login.last_seen_at, now)


def _within_timeouts(expires_at: datetime, last_seen_at: datetime, now: datetime) -> bool:
    return as_utc(expires_at) > now and as_utc(last_seen_at) > _idle_cutoff(now)


def _idle_cutoff(now: datetime) -> datetime:
    return now - timedelta(minutes=get_settings().session_idle_minutes)


def request_password_reset(session: Session, email: str, client_ip: str = "") -> None:
    """Email a reset link to the account with this address, if there is an active one.

    The caller answers the same whether or not there is: nothing here tells. Limited to
    `password_resets_per_hour` per client IP and per address (known or not); raises
    ``TooManyAttempts``, and ``Invalid`` for a malformed address. A new link supersedes the
    account's earlier ones.
    """
    address = normalize_email(email)
    limit = get_settings().password_resets_per_hour
    hourly_limit(f"reset:ip:{client_ip}", limit, "Too many password reset requests")
    hourly_limit(f"reset:account:{address}", limit, "Too many password reset requests")
    # The row lock (on SQLite, the write lock every transaction takes) makes two requests for one
    # account take turns, so the later one always finds, and removes, the earlier one's link.
    user = session.exec(select(User).where(User.email == address).with_for_update()).first()
    if user is None or not user.is_active:
        return
    session.exec(delete(PasswordReset).where(col(PasswordReset.user_id) == user.id))
    # The token itself is stored nowhere: the email log keeps `value`, the table keeps a SHA-256 of
    # the token, and only this app (with ACADEMY_SECRET_KEY) turns one into the other.
    value = secrets.token_urlsafe(32)
    session.add(PasswordReset(token_hash=token_hash(signing.derive(RESET_PURPOSE, value)),
                              user_id=user.id, expires_at=utcnow() + RESET_LINK_LIFETIME))
    minutes = int(RESET_LINK_LIFETIME.total_seconds() // 60)
    emails.queue_once(session, [{
        "kind": "password.reset", "user_id": user.id, "to_address": user.email,
        "dedupe_key": f"password.reset:request:{secrets.token_hex(8)}",
        "subject": "Reset your Academy password",
        "context": json.dumps({
            "name": user.full_name, "title": "Reset your password",
            "body": "Someone, hopefully you, asked to reset the password of your Academy account. "
                    f"The link below works once, for {minutes} minutes.\n\nIf it was not you, "
                    "ignore this email: your password stays as it is.",
            "link": RESET_PATH, "link_secret": {"purpose": RESET_PURPOSE, "value": value},
            "action": "Choose a new password"})}])


def check_reset_link(session: Session, token: str) -> User:
    """The account a reset link is for, while the link is unused and unexpired; else ``NotFound``."""
    return _open_reset(session, token)[1]


def reset_password(session: Session, token: str, new_password: str) -> User:
    """Set a new password through a reset link, and end every login of the account.

    The password is checked first (``Invalid``: the link stays usable). The link is then used up by
    one conditional UPDATE, so of two submits racing with it exactly one changes the password; the
    other gets ``NotFound``, as an expired or unknown link does.
    """
    reset, user = _open_reset(session, token)
    if problem := password_problem(new_password or "", user.email):
        raise Invalid({"password": problem})
    password_hash = hash_password(new_password)  # before the UPDATE: its row lock is held briefly
    use_link(session, PasswordReset, reset)
    user.password_hash, user.updated_at = password_hash, utcnow()
    session.add(user)
    end_all_sessions(session, user)
    # The new hash starts the account's log-in limits afresh (`_login_scope`): whatever failures a
    # stranger piled up, from whichever addresses, no longer stand between the owner and a log-in.
    return user


def purge_expired_resets(session: Session) -> int:
    """Delete used and expired reset links (a scheduled job); returns how many."""
    return session.exec(delete(PasswordReset).where(or_(
        col(PasswordReset.expires_at) <= utcnow(), col(PasswordReset.used_at).is_not(None),
    ))).rowcount


def _open_reset(session: Session, token: str) -> tuple[PasswordReset, User]:
    return open_link(session, PasswordReset, token)


# A link mailed to act once (a password reset, an email confirmation): a row of `model` with
# token_hash, user_id, expires_at and used_at.
L = TypeVar("L", PasswordReset, EmailChange)


def open_link(session: Session, model: type[L], token: object) -> tuple[L, User]:
    """The row of a mailed link and its account, while the link is unused and unexpired and the
    account active; else ``NotFound``, whatever the token (unknown, used, expired, crafted)."""
    if not token or not isinstance(token, str) or len(token) > 128:
        raise NotFound("link")
    row = session.exec(select(model, User).join(User, col(User.id) == model.user_id)
                       .where(model.token_hash == token_hash(token))).first()
    if row is None:
        raise NotFound("link")
    link, user = row
    if link.used_at is not None or as_utc(link.expires_at) <= utcnow() or not user.is_active:
        raise NotFound("link")
    return link, user


def use_link(session: Session, model: type[L], link: L) -> None:
    """Use a link up with one conditional UPDATE: of two requests racing with it exactly one
    passes; the other gets ``NotFound``, as an expired link does."""
    now = utcnow()
    used = session.execute(update(model).where(
        col(model.id) == link.id, col(model.used_at).is_(None), col(model.expires_at) > now)
        .values(used_at=now).execution_options(synchronize_session=False)).rowcount
    if used != 1:
        raise NotFound("link")


def user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email)).first()
