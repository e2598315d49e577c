"""JWT access and refresh tokens for the REST API, kept as login sessions.

An API log-in is a row of `login_sessions`, like a browser's: it then ends with everything that
ends a login (log out, "log out everywhere", a password reset, deactivation, the absolute and idle
timeouts, the nightly purge), and the account page counts it. The row stores no usable token: its
`token_hash` is an HMAC (under a key only this app has) of the current refresh token's `jti`, so a
database copy gives nothing to replay, and no browser cookie can hash to it either.

- The access token (15 minutes) names the user and the login (`sid`). Each request checks both in
  one statement, so an ended login or a deactivated user is refused at once, not 15 minutes later.
- The refresh token is single use. Refreshing swaps the row's hash for the next token's with one
  conditional UPDATE; a refresh token of this login that is not the current one is a replay (it
  was stolen, or the client raced itself), and the whole login ends: thief and owner both log in
  again. Its `exp` is the login's absolute end and never moves.

Both are HS256 under a key derived from ACADEMY_SECRET_KEY for this purpose only.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
from sqlmodel import Session, col, delete, select, update

from academy_app.infra import signing
from academy_app.models import LoginSession, User, as_utc, utcnow
from academy_app.services import accounts
from academy_app.services.errors import NotAuthenticated
from academy_app.settings import get_settings

log = logging.getLogger(__name__)

ACCESS_LIFETIME = timedelta(minutes=15)
ISSUER = "academy"
AUDIENCE = "academy-api"
ALGORITHM = "HS256"
ACCESS, REFRESH = "access", "refresh"


class InvalidToken(NotAuthenticated):
    def __init__(self, message: str = "The token is invalid, expired or its login has ended") -> None:
        super().__init__()
        self.message = message


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int


def log_in(session: Session, email: str, password: str, client_ip: str) -> IssuedTokens:
    """Check the credentials through the same rate limits and growing waits as the log-in page, and open
    a login. Raises AuthenticationFailed or TooManyAttempts."""
    user = accounts.authenticate(session, email, password, client_ip)
    ends = (utcnow() + timedelta(days=get_settings().session_days)).replace(microsecond=0)
    jti = secrets.token_urlsafe(32)
    login = LoginSession(token_hash=_stored(jti), user_id=user.id, expires_at=ends)
    session.add(login)
    session.flush()
    return _issue(user.id, login.id, int(ends.timestamp()), jti)


def refresh(session: Session, refresh_token: str) -> IssuedTokens:
    """A new pair for a current refresh token; the presented one is used up.

    A replayed refresh token ends its login, and that is committed before InvalidToken is raised
    (the caller's transaction would otherwise roll it back)."""
    claims = _decode(refresh_token, REFRESH)
    login, user = _login_of(session, claims)
    if login is None or int(as_utc(login.expires_at).timestamp()) != claims["exp"]:
        # Ended, or (SQLite reuses the ids of deleted rows) another login of the same user.
        raise InvalidToken()
    if not accounts.login_in_force(login, user):
        raise InvalidToken()
    jti = secrets.token_urlsafe(32)
    rotated = session.execute(
        update(LoginSession)
        .where(col(LoginSession.id) == login.id, col(LoginSession.token_hash) == _stored(claims["jti"]))
        .values(token_hash=_stored(jti), last_seen_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if rotated != 1:
        session.exec(delete(LoginSession).where(col(LoginSession.id) == login.id))
        session.commit()
        log.warning("api: refresh token of login %s (user %s) used twice; the login is ended",
                    login.id, user.id)
        raise InvalidToken("This refresh token was already used: the login has ended, log in again")
    return _issue(user.id, login.id, claims["exp"], jti)


def log_out(session: Session, refresh_token: str) -> None:
    """End the login of a refresh token (current or not, expired or not). Anything else: nothing."""
    try:
        claims = _decode(refresh_token, REFRESH, verify_exp=False)
    except InvalidToken:
        return
    session.exec(delete(LoginSession).where(col(LoginSession.id) == claims["sid"],
                                            col(LoginSession.user_id) == int(claims["sub"])))


def user_for_access_token(session: Session, token: str) -> User:
    """The user of a valid access token whose login is still in force, or InvalidToken."""
    login, user = _login_of(session, _decode(token, ACCESS))
    if login is None or not accounts.login_in_force(login, user):
        raise InvalidToken()
    return user


def access_subject(token: str) -> int | None:
    """The user id of a well-signed, unexpired access token, without asking the database (the rate
    limiter counts requests per user with it)."""
    try:
        return int(_decode(token, ACCESS)["sub"])
    except InvalidToken:
        return None


def _issue(user_id: int, login_id: int, ends: int, jti: str) -> IssuedTokens:
    now = int(utcnow().timestamp())
    access_ends = min(now + int(ACCESS_LIFETIME.total_seconds()), ends)
    common = {"iss": ISSUER, "aud": AUDIENCE, "sub": str(user_id), "sid": login_id, "iat": now}
    return IssuedTokens(
        access_token=jwt.encode({**common, "typ": ACCESS, "exp": access_ends}, _key(), ALGORITHM),
        refresh_token=jwt.encode({**common, "typ": REFRESH, "exp": ends, "jti": jti}, _key(),
                                 ALGORITHM),
        expires_in=access_ends - now, refresh_expires_in=ends - now)


def _decode(token: str, kind: str, verify_exp: bool = True) -> dict[str, Any]:
    required = ["exp", "iat", "sub", "sid", "typ"] + (["jti"] if kind == REFRESH else [])
    try:
        claims = jwt.decode(token, _key(), algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
                            options={"require": required, "verify_exp": verify_exp})
    except jwt.PyJWTError:
        raise InvalidToken() from None
    if (claims["typ"] != kind or not isinstance(claims["sid"], int)
            or not str(claims["sub"]).isdigit() or not isinstance(claims.get("jti", ""), str)):
        raise InvalidToken()
    return claims


def _login_of(session: Session, claims: dict[str, Any]) -> tuple[LoginSession | None, User | None]:
    row = session.exec(
        select(LoginSession, User).join(User, col(User.id) == LoginSession.user_id)
        .where(LoginSession.id == claims["sid"], User.id == int(claims["sub"]))).first()
    return (row[0], row[1]) if row else (None, None)


def _stored(jti: str) -> str:
    return hmac.new(_key().encode(), f"refresh:{jti}".encode(), hashlib.sha256).hexdigest()


def _key() -> str:
    return signing.derive("api-jwt", "v1")
