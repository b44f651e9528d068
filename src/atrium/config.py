"""One typed settings object, grouped by concern; the only reader of the environment (prefix ATRIUM_).

Outside development, default secrets are refused at start-up: a bank must never run on a key that is
printed in a public repository.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-secret-change-me"  # noqa: S105 - the documented development default, refused in prod
DEV_PII_KEY = "ZGV2LW9ubHktcGlpLWtleS1jaGFuZ2UtbWUtMzJieXQ="  # base64 of a 32-byte dev key
MIN_SECRET_LENGTH = 32


def _is_32_byte_key(value: str) -> bool:
    try:
        return len(base64.b64decode(value, validate=True)) == 32
    except ValueError:
        return False


class DatabaseSettings(BaseModel):
    url: str = "sqlite:///./var/atrium.db"
    echo: bool = False
    pool_size: int = 10


class EventSettings(BaseModel):
    nats_url: str | None = None
    stream: str = "ATRIUM"
    subject_prefix: str = "atrium.events"
    relay_interval_s: float = 0.5


class SecuritySettings(BaseModel):
    secret_key: str = DEV_SECRET
    pii_key: str = DEV_PII_KEY
    session_ttl_s: int = 30 * 60
    cookie_secure: bool = False


class LedgerSettings(BaseModel):
    hold_ttl_s: int = 7 * 24 * 3600
    savings_rate_bp: int = 150  # 1.50 % a year, in basis points


class RailSettings(BaseModel):
    """The simulated interbank clearing rail: realistic failure rates, deterministic under a seed."""

    timeout_rate: float = 0.03
    return_rate: float = 0.02
    duplicate_rate: float = 0.02
    settle_delay_s: float = 2.0
    seed: int | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ATRIUM_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    env: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    log_level: str = "INFO"
    log_json: bool = False
    var_dir: Path = Path("./var")
    default_locale: Literal["zh", "en"] = "zh"

    # Flat aliases for the two URLs people set most (ATRIUM_DATABASE_URL, ATRIUM_NATS_URL).
    database_url: str | None = None
    nats_url: str | None = None

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    events: EventSettings = Field(default_factory=EventSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    ledger: LedgerSettings = Field(default_factory=LedgerSettings)
    rail: RailSettings = Field(default_factory=RailSettings)

    @model_validator(mode="after")
    def _apply_aliases_and_refuse_dev_secrets(self) -> Settings:
        if self.database_url:
            self.database.url = self.database_url
        if self.nats_url:
            self.events.nats_url = self.nats_url
        if self.env == "production":
            if self.security.secret_key == DEV_SECRET or self.security.pii_key == DEV_PII_KEY:
                raise ValueError(
                    "ATRIUM_SECURITY__SECRET_KEY and ATRIUM_SECURITY__PII_KEY must be set outside development"
                )
            # An empty or short secret is as guessable as the printed default.
            if len(self.security.secret_key) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"ATRIUM_SECURITY__SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters"
                )
            if not _is_32_byte_key(self.security.pii_key):
                raise ValueError("ATRIUM_SECURITY__PII_KEY must be the base64 encoding of 32 random bytes")
            if not self.security.cookie_secure:
                raise ValueError("ATRIUM_SECURITY__COOKIE_SECURE must be true in production")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database.url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    get_settings.cache_clear()
