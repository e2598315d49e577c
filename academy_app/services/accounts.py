"""Accounts: sign-up, log-in, and server-side login sessions."""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from passlib.context import CryptContext
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from academy_app.infra.ratelimit import limiter
from academy_app.models import LoginSession, Role, User, as_utc, utcnow
from academy_app.services.errors import (
    AuthenticationFailed,
    Invalid,
    NotAuthenticated,
    TooManyAttempts,
)
from academy_app.settings import get_settings

MIN_PASSWORD_LENGTH = 10
LOCKOUT_FAILURES = 10  # failed log-ins within LOCKOUT_SECONDS that lock the account ...
LOCKOUT_SECONDS = 15 * 60  # ... for this long
# Argon2 cost grows with input only mildly, but an unbounded password is still a free DoS lever.
MAX_PASSWORD_LENGTH = 256
MAX_NAME_LENGTH = 120

# argon2id at the OWASP baseline (19 MiB, t=2, p=1): about 20 ms here, so a log-in stays snappy while
# an offline guess still costs memory. Hashes made with other parameters are upgraded at next log-in.
_passwords = CryptContext(
    schemes=["argon2"],
    argon2__type="ID",
    argon2__memory_cost=19_456,
    argon2__rounds=2,
    argon2__parallelism=1,
)
# Verified against when the email is unknown, so both failures take the same time.
_DUMMY_HASH = _passwords.hash("not-a-real-password-" + secrets.token_hex(8))


@dataclass(frozen=True)
class SignupForm:
    full_name: str
    email: str
    password: str


def hash_password(password: str) -> str:
    return _passwords.hash(password)


def normalize_email(raw: str) -> str:
    """Validate an address and return its canonical, lower-cased form. Raises ``Invalid``."""
    try:
        # test_environment admits the reserved .test domain that the demo accounts use.
        result = validate_email((raw or "").strip(), check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        raise Invalid({"email": "Enter a valid email address, like name@example.com"}) from None
    return result.normalized.lower()


def password_problem(password: str, email: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters"
    if email and password.strip().lower() == email.strip().lower():
        return "Your password must not be your email address"
    return None


def register(session: Session, form: SignupForm, role: Role = Role.STUDENT) -> User:
    """Create an account. Every problem is reported at once, by field; nothing is saved on error."""
    errors: dict[str, str] = {}
    full_name = " ".join((form.full_name or "").split())
    if not full_name:
        errors["full_name"] = "Enter your full name"
    elif len(full_name) > MAX_NAME_LENGTH:
        errors["full_name"] = f"Use at most {MAX_NAME_LENGTH} characters"
    email = ""
    try:
        email = normalize_email(form.email)
    except Invalid as exc:
        errors.update(exc.errors)
    if problem := password_problem(form.password or "", email or form.email or ""):
        errors["password"] = problem
    if email and "email" not in errors and _user_by_email(session, email) is not None:
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

    Rate-limited before any password is checked: `login_attempts_per_minute` attempts per minute
    from one IP and for one account, and an account (known or not: the answer must not tell) is
    locked for 15 minutes after 10 failures within 15 minutes. Raises ``TooManyAttempts``.
    """
    try:
        normalized = normalize_email(email)
    except Invalid:
        normalized = ""
    account = normalized or str(email or "")[:254].strip().lower()
    _check_login_limits(account, client_ip)
    user = _user_by_email(session, normalized) if normalized else None
    password = (password or "")[:MAX_PASSWORD_LENGTH]
    if user is None:
        _passwords.verify(password, _DUMMY_HASH)
        _count_failure(account)
        raise AuthenticationFailed()
    valid, new_hash = _passwords.verify_and_update(password, user.password_hash)
    if not valid or not user.is_active:
        _count_failure(account)
        raise AuthenticationFailed()
    limiter().reset(f"login:failures:{account}")
    if new_hash:
        user.password_hash = new_hash
        session.add(user)
    return user


def _check_login_limits(account: str, client_ip: str) -> None:
    guard = limiter()
    locked = guard.check(f"login:locked:{account}", 1, LOCKOUT_SECONDS)
    if not locked.allowed:
        minutes = max(1, math.ceil(locked.retry_after / 60))
        raise TooManyAttempts(f"Too many failed log-ins: this account is locked for {minutes} more "
                              f"minute{'s' if minutes > 1 else ''}", locked.retry_after)
    per_minute = get_settings().login_attempts_per_minute
    for key in (f"login:ip:{client_ip}", f"login:account:{account}"):
        decision = guard.hit(key, per_minute, 60)
        if not decision.allowed:
            seconds = max(1, math.ceil(decision.retry_after))
            raise TooManyAttempts(f"Too many log-in attempts: try again in {seconds} seconds",
                                  decision.retry_after)


def _count_failure(account: str) -> None:
    guard = limiter()
    guard.hit(f"login:failures:{account}", LOCKOUT_FAILURES, LOCKOUT_SECONDS)
    if not guard.check(f"login:failures:{account}", LOCKOUT_FAILURES, LOCKOUT_SECONDS).allowed:
        guard.hit(f"login:locked:{account}", 1, LOCKOUT_SECONDS)  # the tenth: locked from now
        guard.reset(f"login:failures:{account}")


def start_session(session: Session, user: User) -> str:
    """Open a login session and return the token for the browser (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            token_hash=_hash_token(token),
            user_id=user.id,
            expires_at=utcnow() + timedelta(days=get_settings().session_days),
        )
    )
    return token


def user_for_token(session: Session, token: str | None) -> User | None:
    """The active user a browser token belongs to, or None if it is unknown, expired or disabled."""
    if not token or len(token) > 128:
        return None
    row = session.exec(
        select(LoginSession, User)
        .join(User, col(User.id) == LoginSession.user_id)
        .where(LoginSession.token_hash == _hash_token(token))
    ).first()
    if row is None:
        return None
    login, user = row
    if as_utc(login.expires_at) <= utcnow() or not user.is_active:
        return None
    return user


def require_user(user: User | None) -> User:
    if user is None:
        raise NotAuthenticated()
    return user


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.exec(delete(LoginSession).where(col(LoginSession.token_hash) == _hash_token(token)))


def purge_expired_sessions(session: Session) -> int:
    """Delete login sessions past their expiry (a scheduled job); returns how many."""
    return session.exec(delete(LoginSession).where(col(LoginSession.expires_at) <= utcnow())).rowcount


def _user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email)).first()


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
