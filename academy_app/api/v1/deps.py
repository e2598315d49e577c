"""What every route may ask for: a database session, the caller, the client's address."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from reflex.config import get_config
from sqlmodel import Session
from starlette.types import Scope

from academy_app.api.v1 import tokens
from academy_app.db import session_scope
from academy_app.models import User

bearer = HTTPBearer(auto_error=False, description="An access token from POST /api/v1/auth/token.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def db_session() -> Iterator[Session]:
    """One transaction per request, committed before the response is sent (scope "function"), so a
    client that got its answer finds the write done; rolled back if the route raises."""
    with session_scope() as session:
        yield session


DbSession = Annotated[Session, Depends(db_session, scope="function")]


def current_user(session: DbSession, credentials: Credentials) -> User:
    if credentials is None:
        raise tokens.InvalidToken("Send an access token: Authorization: Bearer <token>")
    return tokens.user_for_access_token(session, credentials.credentials)


def optional_user(session: DbSession, credentials: Credentials) -> User | None:
    """Anonymous without a token; a token that is sent must be valid."""
    if credentials is None:
        return None
    return tokens.user_for_access_token(session, credentials.credentials)


CurrentUser = Annotated[User, Depends(current_user)]
OptionalUser = Annotated[User | None, Depends(optional_user)]


def client_ip(scope: Scope) -> str:
    """The caller's address by the WebSocket's rule (Reflex's `trusted_proxy_hops`): the peer, or
    the address that many proxies back in X-Forwarded-For, so the header cannot be forged."""
    peer = scope.get("client")
    address = peer[0] if peer else ""
    hops = get_config().trusted_proxy_hops
    if hops:
        forwarded = b",".join(value for name, value in scope.get("headers", [])
                              if name == b"x-forwarded-for").decode("latin-1")
        chain = [ip.strip() for ip in forwarded.split(",") if ip.strip()]
        if len(chain) >= hops:
            address = chain[-hops]
    return address
