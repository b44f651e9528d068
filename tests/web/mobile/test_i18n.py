"""Catalogues, locale negotiation, the language switch and Babel formatting."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from atrium.web.mobile.i18n import LOCALE_COOKIE, LOCALES, Translator, catalogue, negotiate
from atrium.web.mobile.i18n import formatting as fmt
from tests.web.mobile.factories import csrf_from, page_token

MOBILE = Path(__file__).resolve().parents[3] / "src" / "atrium" / "web" / "mobile"
# t("key") / t('key') with a literal id; ids built with ~ or + (t("nav." ~ key)) are checked by prefix.
_LITERAL = re.compile(r"""\bt\(\s*["']([a-z0-9_.\-]+)["']""")
_PREFIX = re.compile(r"""\bt\(\s*["']([a-z0-9_.\-]+\.)["']\s*(?:~|\+)""")
_KEY_STRINGS = re.compile(r"""["']((?:error|transfer|limits|statement|login|home|kind)\.[a-z0-9_.\-]+)["']""")


def _sources() -> list[Path]:
    return [p for p in MOBILE.rglob("*") if p.suffix in (".html", ".py", ".js") and p.is_file()]


def test_both_catalogues_have_the_same_ids():
    zh, en = catalogue("zh"), catalogue("en")
    assert set(zh) == set(en), sorted(set(zh) ^ set(en))
    assert len(zh) > 100


def test_placeholders_agree_between_languages():
    zh, en = catalogue("zh"), catalogue("en")
    fields = re.compile(r"{(\w+)}")
    wrong = [k for k in zh if set(fields.findall(zh[k])) != set(fields.findall(en[k]))]
    assert not wrong, wrong


def test_every_id_the_pages_use_exists():
    zh = catalogue("zh")
    missing, prefixes = set(), set()
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        for key in _LITERAL.findall(text):
            if key.endswith("."):
                continue
            if key not in zh:
                missing.add(f"{path.name}: {key}")
        prefixes.update(_PREFIX.findall(text))
        for key in _KEY_STRINGS.findall(text):
            if key in zh or key.endswith(".") or any(k.startswith(key + ".") for k in zh):
                continue
            if path.suffix == ".py" and key.count(".") >= 1 and key.split(".")[-1] in ("html", "py", "js"):
                continue
            missing.add(f"{path.name}: {key}")
    assert not missing, sorted(missing)
    for prefix in prefixes:
        assert any(k.startswith(prefix) for k in zh), prefix


def test_translator_fills_placeholders_and_shows_unknown_ids():
    t = Translator("en")
    assert t("transfer.available", amount="$1.00") == "Available $1.00"
    assert t("no.such.id") == "no.such.id"


@pytest.mark.parametrize(
    ("cookie", "header", "default", "expected"),
    [
        ("en", "zh-CN,zh;q=0.9", "zh", "en"),
        (None, "en-GB,en;q=0.9,zh;q=0.5", "zh", "en"),
        (None, "fr-FR, en;q=0.3, zh-TW;q=0.8", "zh", "zh"),
        (None, "fr-FR, de;q=0.5", "en", "en"),
        (None, None, "zh", "zh"),
        ("xx", "garbage;;q=x,", "zh", "zh"),
        (None, "zh-Hant-TW", "en", "zh"),
    ],
)
def test_locale_negotiation(cookie, header, default, expected):
    assert negotiate(cookie, header, default) == expected


def test_accept_language_picks_english(client, db):
    r = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in r.text
    assert "Sign in" in r.text


def test_chinese_is_the_default(client, db):
    r = client.get("/login")
    assert '<html lang="zh-CN">' in r.text
    assert "登录" in r.text


def test_the_language_switch_sets_a_cookie_and_returns(client, db):
    token = csrf_from(client.get("/login").text)
    r = client.post(
        "/locale", data={"locale": "en", "next": "/login", "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.cookies[LOCALE_COOKIE] == "en"
    assert "Welcome back" in client.get("/login").text


def test_the_language_switch_refuses_unknown_languages(client, db):
    token = csrf_from(client.get("/login").text)
    r = client.post("/locale", data={"locale": "fr", "csrf_token": token})
    assert r.status_code == 422
    assert LOCALE_COOKIE not in client.cookies


def test_the_language_switch_needs_csrf(client, db):
    client.get("/login")
    assert client.post("/locale", data={"locale": "en"}).status_code == 403


def test_signed_in_pages_follow_the_switch(signed_in):
    token = page_token(signed_in, "/settings")
    signed_in.post("/locale", data={"locale": "en", "next": "/settings", "csrf_token": token})
    r = signed_in.get("/")
    assert "My accounts" in r.text and "Total balance" in r.text
    assert "CN¥12,500.00" in r.text  # Babel's en_US currency format


@pytest.mark.parametrize("locale", LOCALES)
def test_money_is_formatted_by_babel(locale):
    text = fmt.money(123_456_789, "CNY", locale)
    assert text.endswith("1,234,567.89")
    assert fmt.money(150, "CNY", locale, signed=True).startswith("+")
    assert fmt.money(-150, "CNY", locale).startswith("-")
    assert fmt.money(1200, "JPY", locale).endswith("1,200")  # no decimals for yen


def test_dates_are_shown_in_beijing_time():
    from datetime import UTC, datetime

    at = datetime(2026, 1, 31, 20, 30, tzinfo=UTC)  # 04:30 on 1 February in Beijing
    assert fmt.day_long(at, "zh") == "2026年2月1日"
    assert fmt.day_long(at, "en") == "February 1, 2026"
    assert fmt.time_of_day(at, "zh") == "04:30"
