"""/dev/sms: the development outbox page (never in production)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from atrium.config import get_settings
from atrium.db.session import Database
from atrium.identity.otp import service as otp
from atrium.web.mobile.i18n import LOCALE_COOKIE
from atrium.web.mobile.pages import dev_outbox


@pytest.fixture()
def web(shared_app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(shared_app) as c:  # the whole app, as app_with_security() makes it
        yield c


def test_the_outbox_shows_masked_recipients_and_full_texts(web: TestClient, db: Database) -> None:
    with db.unit_of_work() as s:
        otp.issue(s, phone="13812345678", purpose="register")
    html = web.get("/dev/sms").text
    assert "<title>短信发件箱（开发） · " in html
    assert "发往 138****5678" in html and "13812345678" not in html
    assert "您正在注册 Atrium，验证码 " in html and "[Atrium 核验码 " in html
    web.cookies.set(LOCALE_COOKIE, "en")
    assert "To 138****5678" in web.get("/dev/sms").text


def test_the_outbox_filters_by_phone(web: TestClient, db: Database) -> None:
    with db.unit_of_work() as s:
        otp.issue(s, phone="13812345678", purpose="login")
        otp.issue(s, phone="13900001111", purpose="login")
    html = web.get("/dev/sms", params={"phone": "13900001111"}).text
    assert "139****1111" in html and "138****5678" not in html
    bad = web.get("/dev/sms", params={"phone": "nope"})
    assert bad.status_code == 200 and 'aria-invalid="true"' in bad.text
    assert "还没有短信。" in web.get("/dev/sms", params={"phone": "13700000000"}).text


def test_not_in_production(web: TestClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert dev_outbox.mounted()
    monkeypatch.setattr(get_settings(), "env", "production")
    assert not dev_outbox.mounted()
    assert web.get("/dev/sms").status_code == 404
