"""The public "is this really us?" page and API: zh/en, CSRF, verdicts in words, rate limits."""

from __future__ import annotations

import re

import pytest

from atrium.antiphishing import service as phishing
from atrium.notify import service as notify
from tests.web.mobile.factories import csrf_from


@pytest.fixture()
def client(client, db):  # type: ignore[no-untyped-def]
    """The shared test client, with the bank's registered channels in place."""
    with db.unit_of_work() as s:
        phishing.ensure_defaults(s)
    return client


def _check(client, text: str, *, lang: str = "zh"):  # type: ignore[no-untyped-def]
    headers = {"Accept-Language": lang}
    page = client.get("/phishing-check", headers=headers)
    return client.post("/phishing-check", data={"text": text, "csrf_token": csrf_from(page.text)},
                       headers=headers)


def test_the_form_is_public_in_both_languages(client) -> None:  # type: ignore[no-untyped-def]
    zh = client.get("/phishing-check")
    assert zh.status_code == 200 and '<html lang="zh-CN">' in zh.text
    assert "防诈骗核验" in zh.text and 'for="text"' in zh.text and 'maxlength="2000"' in zh.text
    en = client.get("/phishing-check", headers={"Accept-Language": "en"})
    assert "Is this really us?" in en.text and 'role="status"' in en.text
    assert en.headers["cache-control"] == "no-store"


def test_a_registered_address_is_genuine_in_words_not_only_colour(client) -> None:  # type: ignore[no-untyped-def]
    r = _check(client, "https://atrium.bank/login", lang="en")
    assert r.status_code == 200
    result = r.text[r.text.index('id="phishing-result"'):]
    assert 'role="status"' in r.text[r.text.index('id="phishing-result"') - 40:][:120]
    assert "From Atrium Bank" in result and "is a registered Atrium Bank address" in result
    assert 'data-verdict="genuine"' in result


def test_a_lookalike_is_suspicious_with_its_reason(client) -> None:  # type: ignore[no-untyped-def]
    r = _check(client, "【中庭银行】账户异常，请登录 http://atrium.bank@evil.com/verify 并把验证码发给客服")
    assert r.status_code == 200
    assert "可疑，请勿理会" in r.text and "实际打开的是 evil.com" in r.text
    assert 'data-reason="userinfo_disguise"' in r.text and 'data-reason="asks_for_secret"' in r.text
    assert "http://atrium.bank@evil.com/verify" in r.text  # the textarea keeps what was pasted


def test_a_real_message_is_genuine_and_an_edited_one_is_not(client, db) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        sent = notify.send_sms(s, phone="13812345678", text="您的账户在新设备登录。",
                               category="security.alert")
        body, code = sent.body, sent.verify_code
    r = _check(client, body)
    assert "来自中庭银行" in r.text and "与本行发出的一致" in r.text and "138****5678" in r.text
    assert r.text.count(body) == 1  # only in the form as pasted: the page never shows what the bank sent
    edited = _check(client, body.replace("新设备", "新设备，请访问 atrium-safe.top 解除限制"))
    assert "可疑" in edited.text and "与本行发出的不一致" in edited.text
    unknown = _check(client, code[::-1] if code[::-1] != code else "ZZZZ-ZZZZ")
    assert 'data-reason="code_not_issued"' in unknown.text


def test_unknown_is_not_called_phishing(client) -> None:  # type: ignore[no-untyped-def]
    r = _check(client, "example.com", lang="en")
    assert "Cannot confirm" in r.text and "Suspicious" not in r.text


def test_empty_and_too_long_texts_are_refused_inline(client) -> None:  # type: ignore[no-untyped-def]
    empty = _check(client, "   ")
    assert empty.status_code == 422 and "请先粘贴要核验的内容" in empty.text
    assert 'aria-invalid="true"' in empty.text
    long = _check(client, "a" * 2001, lang="en")
    assert long.status_code == 422 and "at most 2000 characters" in long.text


def test_the_form_needs_its_csrf_token(client) -> None:  # type: ignore[no-untyped-def]
    client.get("/phishing-check")
    r = client.post("/phishing-check", data={"text": "atrium.bank"})
    assert r.status_code == 403


def test_the_page_is_rate_limited_per_address(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(phishing, "CHECK_LIMIT", 2)
    assert _check(client, "atrium.bank").status_code == 200
    assert _check(client, "atrium.bank").status_code == 200
    r = _check(client, "atrium.bank")
    assert r.status_code == 429 and re.search(r"请 \d+ 秒后再试", r.text)


def test_the_api_is_public_and_answers_with_stable_reason_ids(client) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/phishing/check", json={"text": "atrium-bank.com/login", "locale": "en"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verdict"] == "suspicious"
    assert body["findings"][0]["reasons"][0]["id"] == "brand_in_domain"
    assert body["reasons"][0]["message"].startswith("atrium-bank.com carries the bank's name")
    assert r.headers["cache-control"] == "no-store"
    assert client.post("/api/v1/phishing/check", json={"text": "x" * 2001}).status_code == 422
    assert client.post("/api/v1/phishing/check", json={"text": ""}).status_code == 422


def test_the_api_is_rate_limited_per_address(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(phishing, "CHECK_LIMIT", 1)
    assert client.post("/api/v1/phishing/check", json={"text": "4008202026"}).json()["verdict"] == "genuine"
    r = client.post("/api/v1/phishing/check", json={"text": "4008202026"})
    assert r.status_code == 429 and r.json()["status"] == 429 and r.json()["retry_after"] >= 1


@pytest.mark.browser
def test_in_the_browser_the_verdict_is_announced_and_accessible(browser, live_server, db) -> None:  # type: ignore[no-untyped-def]
    from tests.web.browser_support import PHONE, SCREENSHOTS
    from tests.web.browser_support import axe_violations as _axe

    with db.unit_of_work() as s:
        phishing.ensure_defaults(s)
    context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=live_server, bypass_csp=True)
    page = context.new_page()
    try:
        page.goto("/phishing-check")
        field = page.get_by_label("短信、链接或电话号码")
        field.fill("【中庭银行】账户异常，请登录 atrium-bank.top 并回复验证码")
        page.get_by_role("button", name="开始核验").click()
        status = page.locator("#phishing-result[role=status]")
        assert "可疑，请勿理会" in status.inner_text()
        assert _axe(page) == []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "phishing-suspicious.png"), full_page=True)
        page.goto("/phishing-check")
        page.get_by_label("短信、链接或电话号码").fill("https://m.atrium.bank/login")
        page.get_by_role("button", name="开始核验").click()
        assert "来自中庭银行" in status.inner_text()
        assert _axe(page) == []
        page.screenshot(path=str(SCREENSHOTS / "phishing-genuine.png"), full_page=True)
    finally:
        context.close()
