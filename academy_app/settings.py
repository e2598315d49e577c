"""One typed settings object, read from the environment.

Defaults are the embedded mode: a SQLite file next to the code, no Redis, no broker. Reflex reads its
own ``REFLEX_*`` variables too; the ones we also need (database and Redis URLs) are read here under the
same names so the app, Alembic, the demo loader and the tests agree on one value.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ACADEMY_", extra="ignore")

    env: Environment = Field(
        default=Environment.DEVELOPMENT,
        description="development, test or production. Production never loads demo data.",
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
    session_days: int = Field(default=14, ge=1, description="How long a login lasts.")
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

    @property
    def origins(self) -> list[str]:
        """Origins the browser may call from: governs CORS and the WebSocket origin check."""
        if self.public_url:
            base = [self.public_url.rstrip("/")]
        else:
            base = [f"http://localhost:{self.port}", f"http://127.0.0.1:{self.port}"]
        return base + self.extra_origins

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION


@lru_cache
def get_settings() -> Settings:
    return Settings()
