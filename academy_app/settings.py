"""One typed settings object, read from the environment.

Defaults are the embedded mode: a SQLite file next to the code, no Redis, no broker. Reflex reads its
own ``REFLEX_*`` variables too; the ones we also need (database and Redis URLs) are read here under the
same names so the app, Alembic, the demo loader and the tests agree on one value.
"""

from __future__ import annotations

import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The hosts a public URL may name and still be this machine only (any port, http or https).
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ACADEMY_", extra="ignore")

    env: Environment = Field(
        default=Environment.DEVELOPMENT,
        description="development, test or production. Production never loads demo data (nor does "
                    "a public URL other than this machine's).",
    )
    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'academy.db'}",
        validation_alias=AliasChoices("REFLEX_DB_URL", "ACADEMY_DATABASE_URL"),
        description="SQLAlchemy URL. SQLite file by default; postgresql+psycopg2://… in production.",
    )
    redis_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("REFLEX_REDIS_URL", "ACADEMY_REDIS_URL"),
        description="Redis for Reflex state (and later cache and bus). Unset: embedded, no Redis.",
    )
    cache_url: str | None = Field(
        default=None,
        description="Redis for the read cache, if not the Reflex one. Unset: REFLEX_REDIS_URL; with "
                    "neither, an in-process cache (embedded mode).",
    )
    cache_enabled: bool = Field(
        default=True,
        description="false sends every read to the database (to measure, or to rule the cache out).",
    )
    cache_ttl_seconds: int = Field(default=300, ge=1,
                                   description="How long a cached read lives at most.")
    port: int = Field(
        default=3000,
        validation_alias=AliasChoices("PORT", "ACADEMY_PORT"),
        description="The one port that serves pages and the WebSocket in prod mode.",
    )
    public_url: str | None = Field(
        default=None,
        description="Origin users reach the app at (https://academy.example). Defaults to localhost:PORT.",
    )
    extra_origins: list[str] = Field(
        default_factory=list,
        description="More origins allowed to open the WebSocket (JSON list).",
    )
    session_days: int = Field(default=14, ge=1,
                              description="How long a login lasts at most (the absolute timeout).")
    session_idle_minutes: int = Field(
        default=3 * 24 * 60, ge=10,
        description="A login unused for this long ends (the idle timeout). Three days: someone who "
                    "studies every other day stays logged in up to session_days, while a session "
                    "left behind on a shared or lost computer ends after a long weekend.")
    login_attempts_per_minute: int = Field(
        default=5, ge=1,
        description="Log-in attempts allowed per minute from one IP address.")
    signups_per_hour: int = Field(
        default=10, ge=1,
        description="Sign-up attempts allowed per hour from one IP address (every attempt counts, "
                    "so the 'email already taken' answer cannot be used to test many addresses).")
    password_hash_concurrency: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 1) // 2), ge=1,
        description="Password hashes (argon2, about 20 ms of a core each, on purpose) one process "
                    "computes at once; further log-ins, sign-ups and resets wait their turn while "
                    "every other handler keeps running. Default: one per two cores, at least 1.")
    password_resets_per_hour: int = Field(
        default=5, ge=1,
        description="Password-reset emails that may be asked for per hour from one IP address, and "
                    "for one email address (known or not: the answer must not tell).")
    email_changes_per_hour: int = Field(
        default=5, ge=1,
        description="Requests to change one's email address allowed per hour for one user, and "
                    "from one IP address. Each sends a link to the new address and a notice to the "
                    "old one, and answers whether the new address has an account (as sign-up "
                    "does), so every request counts.")
    wrong_coupon_codes_per_hour: int = Field(
        default=20, ge=1,
        description="Coupon codes that turn out unusable allowed per hour for one user, and from one "
                    "IP address; past it every code is refused, valid or not, so codes cannot be "
                    "guessed. Valid codes do not count: a classroom behind one address can all use "
                    "its code.")
    api_anonymous_per_hour: int = Field(
        default=100, ge=1,
        description="REST API requests allowed per hour from one IP address without a valid access "
                    "token (counted in Redis when configured, so across all processes).")
    api_authenticated_per_hour: int = Field(
        default=1000, ge=1,
        description="REST API requests allowed per hour for one user with a valid access token, "
                    "from whatever address.")
    discussion_edit_minutes: int = Field(
        default=30, ge=0,
        description="How long after posting a learner may still edit a discussion post (0: never).")
    discussion_posts_per_window: int = Field(
        default=10, ge=1,
        description="Discussion posts (threads and replies) one learner may write per "
                    "ACADEMY_DISCUSSION_POST_WINDOW_SECONDS; staff are not limited. Counted in Redis "
                    "when configured, so across all processes.")
    discussion_post_window_seconds: int = Field(
        default=600, ge=1,
        description="The sliding window of ACADEMY_DISCUSSION_POSTS_PER_WINDOW, in seconds.")
    discussion_hold_links_days: int = Field(
        default=0, ge=0,
        description="A learner's discussion post with a link waits for the course's staff to "
                    "approve it while their account is younger than this many days and none of "
                    "their posts was published yet (0: never held). Staff are never held.")
    review_min_percent: int = Field(
        default=30, ge=0, le=100,
        description="How much of a course (percent of its lessons) a learner completes before "
                    "they may rate and review it (0: any enrolled learner).")
    payment_instructions: str = Field(
        default="Pay by bank transfer to Academy Ltd, IBAN GB00 DEMO 0000 0000 0000 00, then enter "
                "the transfer reference below.",
        description="What the payment step tells learners about how to pay.",
    )
    media_root: Path = Field(
        default=PROJECT_ROOT / "var" / "media",
        description="Private files (payment receipts), outside the web root; served only after a "
                    "permission check.",
    )
    broker_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CELERY_BROKER_URL", "ACADEMY_BROKER_URL"),
        description="Celery broker (redis://… or amqp://…). Unset: REFLEX_REDIS_URL; with neither, "
                    "tasks run eagerly in the process that queues them.",
    )
    smtp_host: str | None = Field(
        default=None, validation_alias=AliasChoices("SMTP_HOST", "ACADEMY_SMTP_HOST"),
        description="SMTP server for outgoing mail. Unset: messages are written as .eml files to "
                    "the outbox folder.",
    )
    smtp_port: int = Field(default=587, validation_alias=AliasChoices("SMTP_PORT", "ACADEMY_SMTP_PORT"))
    smtp_user: str | None = Field(default=None,
                                  validation_alias=AliasChoices("SMTP_USER", "ACADEMY_SMTP_USER"))
    smtp_password: str | None = Field(
        default=None, validation_alias=AliasChoices("SMTP_PASSWORD", "ACADEMY_SMTP_PASSWORD"))
    smtp_starttls: bool = Field(
        default=True, validation_alias=AliasChoices("SMTP_STARTTLS", "ACADEMY_SMTP_STARTTLS"),
        description="Upgrade the SMTP connection with STARTTLS (turn off only for a local relay).")
    mail_from: str = Field(default="Academy <no-reply@academy.test>",
                           description="The From header of every email.")
    mail_retry_seconds: float = Field(
        default=30, gt=0,
        description="First retry delay of a failed email; doubles on each attempt (with jitter).")
    secret_key: str | None = Field(
        default=None,
        description="Signs links that act without a login (unsubscribe) and, under a key derived "
                    "from it, the REST API's tokens. Required in production; development makes one "
                    "in var/secret_key.",
    )
    credential_issuer_key: str | None = Field(
        default=None,
        description="The Ed25519 key Open Badges credentials are signed with, as a Multikey "
                    "secretKeyMultibase (z3u2…; `python -m academy_app.infra.issuer_keys` makes "
                    "one). Required in production; development makes one in "
                    "var/media/secret/credential-issuer-key. A new one signs new credentials; the "
                    "ones the old key signed stay verifiable.",
    )
    outbox_dir: Path = Field(default=PROJECT_ROOT / "var" / "outbox",
                             description="Where emails go as .eml files when SMTP_HOST is unset.")
    log_format: Literal["auto", "json", "text"] = Field(
        default="auto",
        description="json: one JSON object per line; text: for a terminal; auto: json in production.")
    log_level: str = Field(default="INFO", description="Level of the root logger (DEBUG, INFO, …).")
    sentry_dsn: str | None = Field(
        default=None, validation_alias=AliasChoices("SENTRY_DSN", "ACADEMY_SENTRY_DSN"),
        description="Report errors to Sentry. Unset: Sentry is not initialised at all.")
    sentry_release: str | None = Field(
        default=None, validation_alias=AliasChoices("SENTRY_RELEASE", "ACADEMY_SENTRY_RELEASE"),
        description="The release errors are tagged with. Unset: academy@<git sha>, else the version.")
    test_clock_file: Path | None = Field(
        default=None,
        description="Tests only (refused in production): a file holding seconds by which the "
                    "app's clock runs ahead (infra/clock.py), so a browser test can pass the moment "
                    "a lesson opens; with it, POST /_test/clock moves the clock.")
    metrics_token: str | None = Field(
        default=None,
        description="Bearer token /metrics asks for, from everyone. Unset: /metrics answers only "
                    "loopback addresses, and no request that came through a proxy.")

    @model_validator(mode="after")
    def _production_is_complete(self) -> Settings:
        # Fail at start, not at the first signed link a learner clicks.
        if self.env is Environment.PRODUCTION and not self.secret_key:
            raise ValueError("ACADEMY_SECRET_KEY must be set when ACADEMY_ENV=production")
        if self.env is Environment.PRODUCTION and not self.credential_issuer_key:
            raise ValueError("ACADEMY_CREDENTIAL_ISSUER_KEY must be set when "
                             "ACADEMY_ENV=production")
        if self.credential_issuer_key:  # a typo fails the start, not the first credential
            from academy_app.infra.multikey import decode_secret

            decode_secret(self.credential_issuer_key)
        if self.env is Environment.PRODUCTION and self.test_clock_file is not None:
            raise ValueError("ACADEMY_TEST_CLOCK_FILE is for tests and cannot be set when "
                             "ACADEMY_ENV=production")
        if self.env is Environment.PRODUCTION and "*" in self.extra_origins:
            raise ValueError("ACADEMY_EXTRA_ORIGINS must name origins, not '*', in production")
        return self

    @property
    def task_broker_url(self) -> str | None:
        return self.broker_url or self.redis_url

    @property
    def site_url(self) -> str:
        """The origin every absolute link starts with: ACADEMY_PUBLIC_URL as typed, give or take a
        trailing slash or a stray space, else this machine."""
        return (self.public_url or "").strip().rstrip("/") or f"http://localhost:{self.port}"

    def absolute_url(self, path: str) -> str:
        """A site path as an address that works outside the browser tab (a PDF, a QR code, an
        email): the one place such links are built, so none escapes ACADEMY_PUBLIC_URL."""
        return f"{self.site_url}/{path.lstrip('/')}"

    @property
    def origins(self) -> list[str]:
        """Origins the browser may call from: governs CORS and the WebSocket origin check."""
        if self.public_url:
            base = [self.site_url]
        else:
            base = [f"http://localhost:{self.port}", f"http://127.0.0.1:{self.port}"]
        return base + self.extra_origins

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def is_reached_from_elsewhere(self) -> bool:
        """Whether public_url names a host other than this machine's loopback. Anything unreadable
        (no scheme, say) counts as elsewhere: the safe answer for what it guards."""
        if not self.public_url:
            return False
        return urlsplit(self.public_url.strip()).hostname not in LOOPBACK_HOSTS


@lru_cache
def get_settings() -> Settings:
    return Settings()
