"""Log in for a token pair, refresh it (single use), log out."""

from __future__ import annotations

import logging
from dataclasses import asdict

from fastapi import APIRouter, Request, Response

from academy_app.api.v1 import tokens
from academy_app.api.v1.deps import DbSession, client_ip
from academy_app.api.v1.errors import problems
from academy_app.api.v1.schemas import RefreshRequest, TokenPair, TokenRequest
from academy_app.services.errors import TooManyAttempts

log = logging.getLogger(__name__)
router = APIRouter(prefix="/auth", tags=["auth"])


def _pair(issued: tokens.IssuedTokens) -> TokenPair:
    return TokenPair(**asdict(issued))


@router.post("/token", response_model=TokenPair, responses=problems(401))
def log_in(body: TokenRequest, request: Request, session: DbSession) -> TokenPair:
    """Email and password for an access token (15 minutes) and a refresh token.

    The log-in page's limits apply (`accounts.authenticate`): attempts per minute per address, and
    growing waits after failures from one address (429 with Retry-After)."""
    ip = client_ip(request.scope)
    try:
        return _pair(tokens.log_in(session, body.email, body.password, ip))
    except TooManyAttempts:
        log.warning("api: login refused by rate limit from %s", ip)
        raise


@router.post("/refresh", response_model=TokenPair, responses=problems(401))
def refresh(body: RefreshRequest, session: DbSession) -> TokenPair:
    """A new pair for the current refresh token, which is used up. Presenting a used one ends the
    login (it was copied, or the client raced itself): log in again."""
    return _pair(tokens.refresh(session, body.refresh_token))


@router.post("/logout", status_code=204, response_class=Response,
             responses={204: {"description": "The login has ended, or there was none"}})
def log_out(body: RefreshRequest, session: DbSession) -> Response:
    """End the login of this refresh token: it and its access tokens stop working at once.
    Answers 204 whatever the token (revocation says nothing about it)."""
    tokens.log_out(session, body.refresh_token)
    return Response(status_code=204)
