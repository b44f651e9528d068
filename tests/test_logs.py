"""The log redaction step: sensitive keys lose their values, and secrets or personal data written into
free text are scrubbed, before any renderer sees the event."""

from __future__ import annotations

import pytest

from atrium.logs import _drop_sensitive, scrub


def _process(**event: object) -> dict[str, object]:
    return _drop_sensitive(None, "info", dict(event))


def test_secrets_and_pii_are_redacted() -> None:
    out = _process(
        event="sign-in",
        password="hunter2-hunter2",
        new_password="x",
        refresh_token="rt",
        phone="+8613812345678",
        customer_email="a@b.cn",
        id_number="11010519491231002X",
        sid="ses_1",
    )
    assert out["sid"] == "ses_1" and out["event"] == "sign-in"
    for key in ("password", "new_password", "refresh_token", "phone", "customer_email", "id_number"):
        assert out[key] == "[redacted]", key


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("sms to +86 13812345678 failed", "sms to [phone] failed"),
        ("sms to 13812345678 failed", "sms to [phone] failed"),
        ("header Authorization: Bearer eyJhbGciOi.abc.def", "header Authorization: Bearer [redacted]"),
        ("id 11010519491231002X given", "id [id-number] given"),
        ("card 6222020200112233445 refused", "card [number] refused"),
        ("transfer trf_01M9 of 600000 minor units", "transfer trf_01M9 of 600000 minor units"),
    ],
)
def test_free_text_is_scrubbed(text: str, kept: str) -> None:
    assert scrub(text) == kept
    assert _process(event=text)["event"] == kept
