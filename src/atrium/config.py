"""One typed settings object, grouped by concern; the only reader of the environment (prefix ATRIUM_).

Outside development, default secrets are refused at start-up: a bank must never run on a key that is
printed in a public repository.
"""

from __future__ import annotations

import base64
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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
    # SQLite: checkpoint the WAL this often on a thread of the process's own, not inside COMMITs
    # (atrium.db.checkpoint: COMMITs 2.4 → 0.5 ms under `atrium bench risk`). 0: SQLite's automatic ones.
    sqlite_checkpoint_ms: float = Field(default=500.0, ge=0, le=60_000)
    # ...and write the log from its start again once it holds this much (bounds the -wal file).
    sqlite_wal_restart_mb: int = Field(default=256, ge=1, le=4096)


class EventSettings(BaseModel):
    nats_url: str | None = None
    stream: str = "ATRIUM"
    subject_prefix: str = "atrium.events"
    relay_interval_s: float = 0.5
    # How long JetStream waits for a consumer's ack before it delivers the message again: a process that
    # dies holding fetched messages has them redelivered to the others after this long. Longer than the
    # slowest handler's transaction.
    ack_wait_s: float = Field(default=30.0, ge=1, le=3600)


class SecuritySettings(BaseModel):
    secret_key: str = DEV_SECRET
    pii_key: str = DEV_PII_KEY
    session_ttl_s: int = 30 * 60
    cookie_secure: bool = False
    # WebAuthn relying-party ids this deployment answers to (a passkey is bound to one); "localhost" for
    # development. WebAuthn refuses IP addresses.
    webauthn_rp_ids: list[str] = Field(default_factory=lambda: ["localhost"])
    webauthn_rp_name: str = "Atrium"


class ProtectionSettings(BaseModel):
    """Sign-in protection: lockout and rate limits (atrium.identity.protection)."""

    max_failures: int = 5  # consecutive wrong passwords before a temporary lock
    lock_minutes: int = 15
    permanent_after: int = 3  # the n-th temporary lock within the window is permanent (staff unlock)
    permanent_window_h: int = 24
    phantom_idle_days: int = 2  # forget lock counters of usernames that do not exist after this long
    login_ip_limit: int = 30  # sign-in attempts per address per window
    login_ip_window_s: int = 300
    login_user_limit: int = 20  # sign-in attempts per username per window (any address)
    login_user_window_s: int = 300
    sms_ip_limit: int = 10  # code texts requested per address per window
    sms_ip_window_s: int = 300
    # The login history's places: a CSV of `cidr,key,zh,en` lines (`#` comments); None: the bundled sample.
    geo_table: str | None = None


class DeviceSettings(BaseModel):
    """Device binding and transaction signing (atrium.identity.devices)."""

    cooling_off_h: int = 24  # lower payment limits for this long after a device is bound
    nonce_ttl_s: int = 120
    signature_window_s: int = 300


class NotifySettings(BaseModel):
    """How texts leave the bank (atrium.notify): "outbox" records only (development, tests, the demo);
    "http" posts each to an SMS gateway."""

    sms_sender: Literal["outbox", "http"] = "outbox"
    http_url: str | None = None
    http_timeout_s: float = 5.0
    http_token: str | None = None  # bearer token for the gateway
    sender_id: str = "Atrium"


class PushSettings(BaseModel):
    """Push notifications (atrium.notify.push): "outbox" records only (development, tests, the /dev/sms
    page), "webpush" sends Web Push with VAPID keys, "off" sends none. Unset: outbox outside production,
    off in production (a bank that has not configured push simply sends none)."""

    sender: Literal["outbox", "webpush", "off"] | None = None
    vapid_private_key: str | None = None  # base64url of the raw 32-byte P-256 key, or a PEM
    vapid_public_key: str | None = None  # base64url of the uncompressed point: the app's applicationServerKey
    vapid_subject: str = "mailto:security@atrium.example"  # who the push services can contact
    timeout_s: float = 5.0
    ttl_s: int = 24 * 3600  # how long a push service keeps a notification for an offline device


class MessagesSettings(BaseModel):
    """The inbox's notification delivery and broadcasts (atrium.messages)."""

    delivery_batch: int = 50  # pending notifications handed over per job run
    max_attempts: int = 5  # a notification failing this often is marked failed
    retry_base_s: float = 30.0  # first retry after this long, doubling each time
    retry_cap_s: float = 3600.0
    claim_lease_s: float = 120.0  # a claimed notification that was never marked is retried after this
    broadcast_batch: int = 200  # customers a broadcast reaches per job run


class CatalogSettings(BaseModel):
    """The service catalogue (atrium.catalog): where business lines' definition files live. The built-in
    definitions (atrium/catalog/definitions) are always read; `dirs` adds directories of *.toml files, e.g.
    ATRIUM_CATALOG__DIRS='["/etc/atrium/catalog"]' (a JSON list, or paths joined by os.pathsep)."""

    dirs: Annotated[list[Path], NoDecode] = Field(default_factory=list)

    @field_validator("dirs", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        # The environment gives text: a JSON list, or paths separated like PATH (":" on POSIX).
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part for part in text.split(os.pathsep) if part.strip()]
        return value


class StaffSettings(BaseModel):
    """The staff console's guard rails (atrium.staff)."""

    # Reveals of masked customer data per staff member in any window of `reveal_window_s` seconds: a
    # bank-wide ceiling, so a compromised or curious account cannot unmask customers in bulk.
    reveal_limit: int = Field(default=20, ge=1, le=1000)
    reveal_window_s: int = Field(default=3600, ge=60, le=86_400)


class RiskSettings(BaseModel):
    """Anti-fraud (atrium.risk): the feature state's cache, labels, retraining, monitoring, channel policies.

    `policies` overrides the domain's per-channel defaults (`risk.domain.decide.DEFAULT_POLICIES`) field by
    field, e.g. ATRIUM_RISK__POLICIES='{"card": {"on_timeout": "deny", "timeout_ms": 30}}'. Entity keys of
    IPs, devices and payees are keyed hashes under a key derived from `security.pii_key` (no extra secret).
    """

    label_delay_days: float = Field(default=7.0, ge=0, le=90)  # a decision unlabelled this long is genuine
    horizon_days: int = Field(default=30, ge=30, le=365)  # history kept per entity (the longest window: 30d)
    revision_ttl_ms: int = Field(default=0, ge=0, le=60_000)  # 0: check rules/lists/models every decision
    state_refresh_ms: int = Field(default=0, ge=0, le=60_000)  # 0: read other processes' decisions each time
    gap_timeout_s: float = Field(default=120.0, ge=1)  # a log position unseen this long was rolled back
    max_cached_entities: int = Field(default=200_000, ge=100)
    policies: dict[str, dict[str, float | str]] = Field(default_factory=dict)
    case_on_deny: bool = False  # open an analyst case for denied activity too (review always opens one)
    utc_offset_h: float = Field(default=8.0, ge=-12, le=14)  # local time for hour_of_day / is_night
    retrain_every_days: float = Field(default=7.0, gt=0)  # risk.retrain trains a challenger this often
    retrain_window_days: int = Field(default=28, ge=1, le=365)
    retrain_min_rows: int = Field(default=500, ge=10)
    retrain_min_frauds: int = Field(default=20, ge=1)
    monitor_window_h: int = Field(default=72, ge=1, le=24 * 30)
    monitor_batch: int = Field(default=500, ge=1, le=100_000)


class RiskApiSettings(BaseModel):
    """The decision API for external channels (atrium.risk.endpoints): channel keys and the decision log's
    group commit (each answered decision is committed first; concurrent ones share one COMMIT)."""

    key_cache_s: float = Field(default=10.0, ge=0, le=300)  # a revoked key stops working within this
    max_batch: int = Field(default=32, ge=1, le=500)  # decisions logged in one transaction
    max_wait_ms: float = Field(default=0.0, ge=0, le=50)  # 0: a batch is whatever waits while one commits
    # Writer threads on PostgreSQL (SQLite has one). One: a batch is decided outside its transaction and
    # the writers of a process share one feature state, so a second writer mostly waited for the first's
    # engine run and pushed both past the card budget (`atrium bench risk`: all fail-policy answers).
    pg_writers: int = Field(default=1, ge=1, le=8)
    max_body_bytes: int = Field(default=8192, ge=1024, le=1_048_576)
    # `atrium serve --workers N` (N > 1) starts one decider process that decides for every worker
    # (atrium.risk.endpoints.decider): the feature state and the log's group commit are then one, not N.
    decider: bool = True
    # The decider's scheduling priority (its nice value). It is the one serial stage of every card
    # decision: when the cores are busy, a decider that waits its turn behind the workers' HTTP work holds
    # up all of them (`atrium bench risk-ab`, renice -10: x1.10 decisions/s, 6 of 6 rounds). Below 0 needs
    # CAP_SYS_NICE or a raised RLIMIT_NICE (systemd: LimitNICE=, Nice=); without it the decider logs a
    # warning and keeps the default priority. 0: leave it.
    decider_nice: int = Field(default=-10, ge=-20, le=19)
    # The decider logs and commits its decisions in a process of its own (atrium.risk.endpoints.log_writer):
    # it decides the next batch while the last one commits, on the other core. False: in its own thread.
    log_writer: bool = True
    # Batches sent to the log writer and not yet committed; the decider waits past this many.
    log_writer_in_flight: int = Field(default=2, ge=1, le=16)
    # The decider's Unix socket, set for the workers by `atrium serve`; unset: each worker decides itself.
    decider_socket: str | None = Field(default=None, max_length=100)
    # The server's GIL hand-over interval (sys.setswitchinterval), set by create_app. The event loop,
    # the decision log's writer and the engine thread share one interpreter; at Python's default (5 ms)
    # a thread that wants the GIL back (the loop after each socket call) waits a whole slice, so the engine
    # misses the card channel's 20 ms budget under load (`atrium bench risk`: 11 % vs 24 % fail-policy
    # answers at 0.5 vs 5 ms). 0: leave Python's default.
    gil_switch_ms: float = Field(default=0.5, ge=0, le=50)


class SupportSettings(BaseModel):
    """Reaching a person at the bank: the customer hotline, which elder mode keeps one tap away (a `tel:`
    link in the app bar) and the settings page always shows. Digits, spaces, dashes and a leading +."""

    hotline: str = Field(default="400-800-1234", pattern=r"^\+?[0-9][0-9 \-]{2,30}[0-9]$")


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
    # Where customers reach this bank (sign-in clients' redirect addresses live under it). "localhost",
    # not 127.0.0.1, in development: passkeys (WebAuthn) refuse IP addresses.
    public_url: str = "http://localhost:8000"
    # Freeze the heap the server starts with out of the cyclic collector's reach (atrium.kit.collector):
    # without it every full collection walked ~490,000 start-up objects, 200–290 ms a time, about once a
    # second under card traffic (`atrium bench risk`).
    gc_freeze: bool = True
    # The youngest generation's threshold (allocations between collections; Python's default is 700). At
    # 700 a request waiting ~50 ms for its batch outlived a dozen young collections, so every request's
    # objects reached the old generation and a full collection followed about every second; at 10,000
    # one full collection ran in a 75 s bench run (0 % fail-policy answers, p99 90 ms, was 220 ms).
    # 0: leave Python's thresholds.
    gc_young_threshold: int = Field(default=10_000, ge=0, le=1_000_000)

    # Flat aliases for the two URLs people set most (ATRIUM_DATABASE_URL, ATRIUM_NATS_URL).
    database_url: str | None = None
    nats_url: str | None = None

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    events: EventSettings = Field(default_factory=EventSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    ledger: LedgerSettings = Field(default_factory=LedgerSettings)
    protection: ProtectionSettings = Field(default_factory=ProtectionSettings)
    devices: DeviceSettings = Field(default_factory=DeviceSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    rail: RailSettings = Field(default_factory=RailSettings)
    support: SupportSettings = Field(default_factory=SupportSettings)
    push: PushSettings = Field(default_factory=PushSettings)
    messages: MessagesSettings = Field(default_factory=MessagesSettings)
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)
    staff: StaffSettings = Field(default_factory=StaffSettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    risk_api: RiskApiSettings = Field(default_factory=RiskApiSettings)

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
            # The outbox only records codes: customers would never receive them.
            if self.notify.sms_sender != "http" or not self.notify.http_url:
                raise ValueError(
                    "ATRIUM_NOTIFY__SMS_SENDER must be http, with ATRIUM_NOTIFY__HTTP_URL, in production"
                )
            if not self.security.cookie_secure:
                raise ValueError("ATRIUM_SECURITY__COOKIE_SECURE must be true in production")
            # The push outbox only records: customers would never see their alerts.
            if self.push.sender == "outbox":
                raise ValueError("ATRIUM_PUSH__SENDER must be webpush or off in production")
            push_keys = self.push.vapid_private_key and self.push.vapid_public_key
            if self.push.sender == "webpush" and not push_keys:
                raise ValueError("ATRIUM_PUSH__VAPID_PRIVATE_KEY and _PUBLIC_KEY are required for webpush")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database.url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    get_settings.cache_clear()
