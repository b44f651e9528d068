"""Settings: development defaults work; production refuses the published development secrets."""

from __future__ import annotations

import base64
import os

import pytest
from pydantic import ValidationError

from atrium.config import DEV_PII_KEY, DEV_SECRET, Settings

STRONG_SECRET = "x" * 48
STRONG_PII_KEY = base64.b64encode(os.urandom(32)).decode()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name in list(os.environ):
        if name.startswith("ATRIUM_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env file


GATEWAY = {"sms_sender": "http", "http_url": "https://sms.example.net/send"}


def production(notify: dict[str, object] | None = None, **security: object) -> Settings:
    values = {"secret_key": STRONG_SECRET, "pii_key": STRONG_PII_KEY, "cookie_secure": True, **security}
    return Settings(env="production", security=values, notify=notify or GATEWAY)  # type: ignore[arg-type]


def test_development_runs_on_the_documented_defaults() -> None:
    s = Settings()
    assert s.env == "development"
    assert s.security.secret_key == DEV_SECRET
    assert s.is_sqlite


def test_production_with_real_secrets_is_accepted() -> None:
    s = production()
    assert s.security.secret_key == STRONG_SECRET


@pytest.mark.parametrize(
    "security",
    [
        {"secret_key": DEV_SECRET},
        {"pii_key": DEV_PII_KEY},
        {"secret_key": ""},
        {"secret_key": "short"},
        {"pii_key": "not base64!"},
        {"pii_key": base64.b64encode(b"sixteen byte key").decode()},
        {"cookie_secure": False},
    ],
)
def test_production_refuses_weak_or_development_secrets(security: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        production(**security)


@pytest.mark.parametrize("notify", [{"sms_sender": "outbox"}, {"sms_sender": "http"}])
def test_production_refuses_to_send_texts_nowhere(notify: dict[str, object]) -> None:
    """The development outbox records codes instead of sending them: a production bank must use a gateway."""
    with pytest.raises(ValidationError, match="SMS_SENDER"):
        production(notify)


def test_production_refuses_dev_secrets_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATRIUM_ENV", "production")
    monkeypatch.setenv("ATRIUM_SECURITY__COOKIE_SECURE", "true")
    monkeypatch.setenv("ATRIUM_NOTIFY__SMS_SENDER", "http")
    monkeypatch.setenv("ATRIUM_NOTIFY__HTTP_URL", "https://sms.example.net/send")
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings()
    monkeypatch.setenv("ATRIUM_SECURITY__SECRET_KEY", STRONG_SECRET)
    monkeypatch.setenv("ATRIUM_SECURITY__PII_KEY", STRONG_PII_KEY)
    assert Settings().env == "production"


def test_flat_url_aliases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATRIUM_DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("ATRIUM_NATS_URL", "nats://h:4222")
    s = Settings()
    assert s.database.url == "postgresql://u@h/db"
    assert s.events.nats_url == "nats://h:4222"
    assert not s.is_sqlite
