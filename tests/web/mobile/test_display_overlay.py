"""Elder mode's plain wording: an overlay of `elder:<id>` texts that a Translator in elder mode prefers.
Every overlay id overrides an id that exists, in both languages, with the same placeholders; pages in elder
mode use it and standard pages never do."""

from __future__ import annotations

import re

import pytest

from atrium.web.mobile.i18n import ELDER_PREFIX, LOCALES, Translator, catalogue
from atrium.web.staff.i18n import StaffTranslator
from tests.web.mobile.factories import csrf_from

_FIELDS = re.compile(r"{(\w+)}")


def _overlay(locale: str) -> dict[str, str]:
    return {k: v for k, v in catalogue(locale).items() if k.startswith(ELDER_PREFIX)}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_elder_id_overrides_an_existing_id(locale):
    messages = catalogue(locale)
    overlay = _overlay(locale)
    assert len(overlay) >= 40
    orphans = [k for k in overlay if k.removeprefix(ELDER_PREFIX) not in messages]
    assert not orphans, orphans
    nested = [k for k in overlay if k.removeprefix(ELDER_PREFIX).startswith(ELDER_PREFIX)]
    assert not nested, nested


def test_both_languages_carry_the_same_elder_ids():
    zh, en = _overlay("zh"), _overlay("en")
    assert set(zh) == set(en), sorted(set(zh) ^ set(en))


@pytest.mark.parametrize("locale", LOCALES)
def test_plain_wording_keeps_the_placeholders_of_the_text_it_replaces(locale):
    messages = catalogue(locale)
    wrong = [
        k for k, v in _overlay(locale).items()
        if set(_FIELDS.findall(v)) != set(_FIELDS.findall(messages[k.removeprefix(ELDER_PREFIX)]))
    ]
    assert not wrong, wrong


@pytest.mark.parametrize("locale", LOCALES)
def test_plain_wording_actually_differs(locale):
    messages = catalogue(locale)
    same = [k for k, v in _overlay(locale).items() if v == messages[k.removeprefix(ELDER_PREFIX)]]
    assert not same, same


def test_the_money_movement_and_security_pages_have_plain_wording():
    ids = {k.removeprefix(ELDER_PREFIX) for k in _overlay("zh")}
    for needed in ("transfer.confirm.warning", "transfer.confirm.submit", "transfer.amount", "qr.pay",
                   "qr.confirm.title", "stepup.title", "stepup.sent", "security.centre.title",
                   "error.insufficient-funds.amount"):
        assert needed in ids, needed


def test_an_elder_translator_prefers_the_overlay_and_a_standard_one_never_uses_it():
    elder, standard = Translator("zh", elder=True), Translator("zh")
    assert elder("transfer.available", amount="¥1.00") == "能用的钱：¥1.00"
    assert standard("transfer.available", amount="¥1.00") == "可用余额 ¥1.00"
    assert elder("transfer.title") == standard("transfer.title") == "转账"  # no override: the original
    assert elder("no.such.id") == "no.such.id"
    assert Translator("en", elder=True)("transfer.confirm.submit") == "All correct: send it"
    # The console's translator is the same class with its own catalogue: never elder.
    assert StaffTranslator("zh").elder is False


def test_elder_pages_are_worded_plainly(signed_in):
    standard = signed_in.get("/transfer").text
    assert "可用余额" in standard and "能用的钱" not in standard
    token = csrf_from(standard)
    signed_in.post("/display-mode", data={"ui_mode": "elder", "next": "/transfer", "csrf_token": token})
    elder = signed_in.get("/transfer").text
    assert "能用的钱" in elder and "转多少钱" in elder and "从哪个账户付钱" in elder
    assert "可用余额" not in elder
