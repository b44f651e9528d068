"""The console's catalogues: both languages carry the same ids and placeholders, every id a template or
page uses exists, and every value the console translates by prefix (roles, channels, …) has its words."""

from __future__ import annotations

import re
from pathlib import Path

from atrium.limits.domain import CHANNELS, METHODS
from atrium.payments.merchants.schemas import CATEGORIES
from atrium.payments.merchants.service import STATUSES as MERCHANT_STATUSES
from atrium.staff.domain import AUDITED_ACTIONS
from atrium.staff.permissions import ROLES
from atrium.web.staff.i18n import StaffTranslator, catalogue

STAFF = Path(__file__).resolve().parents[3] / "src" / "atrium" / "web" / "staff"
_LITERAL = re.compile(r"""(?<![\w.])t\(\s*["']([a-z0-9_.\-]+)["']""")
_PREFIX = re.compile(r"""(?<![\w.])t\(\s*["']([a-z0-9_.\-]+\.)["']\s*~""")


def _sources() -> list[Path]:
    return [p for p in STAFF.rglob("*") if p.suffix in (".html", ".py") and p.is_file()]


def test_both_catalogues_have_the_same_ids_and_placeholders() -> None:
    zh, en = catalogue("zh"), catalogue("en")
    assert set(zh) == set(en), sorted(set(zh) ^ set(en))
    fields = re.compile(r"{(\w+)}")
    assert not [k for k in zh if set(fields.findall(zh[k])) != set(fields.findall(en[k]))]
    assert not [k for k in zh if zh[k] == en[k] and not k.startswith(("channel.api",))]


def test_every_id_the_console_uses_exists() -> None:
    zh = catalogue("zh")
    missing, prefixes = set(), set()
    for path in _sources():
        content = path.read_text(encoding="utf-8")
        missing |= {
            f"{path.name}: {k}" for k in _LITERAL.findall(content) if not k.endswith(".") and k not in zh
        }
        prefixes.update(_PREFIX.findall(content))
    assert not missing, sorted(missing)
    assert prefixes, "the prefix scan found nothing"
    for prefix in prefixes:
        assert any(k.startswith(prefix) for k in zh), prefix


def test_every_value_shown_by_prefix_has_words() -> None:
    zh = catalogue("zh")
    wanted = (
        [f"role.{r}" for r in ROLES]
        + [f"channel.{c}" for c in CHANNELS]
        + [f"method.{m}" for m in METHODS]
        + [f"category.{c}" for c in CATEGORIES]
        + [f"status.merchant.{s}" for s in MERCHANT_STATUSES]
        + [f"action.{a}" for a in AUDITED_ACTIONS]
        + [f"status.transfer.{s}" for s in ("pending", "completed", "settled", "returned", "failed")]
        + [
            f"error.{code}.title"
            for code in (
                "not-staff",
                "staff-permission-denied",
                "csrf-failed",
                "not-found",
                "customer-not-found",
                "bad-request",
                "validation-failed",
                "invalid-access-reason",
            )
        ]
    )
    assert not [k for k in wanted if k not in zh]


def test_the_translator_is_the_mobile_one_over_the_console_catalogue() -> None:
    assert StaffTranslator("en")("customer.title", name="E*** W***") == "Customer E*** W***"
    assert StaffTranslator("zh")("nav.audit") == "访问审计"
    assert StaffTranslator("fr").locale == "zh"  # an unknown locale falls back to the first one
    assert StaffTranslator("en").has("nav.audit") and not StaffTranslator("en").has("home.title")


def test_the_language_switch_works_from_the_console(client) -> None:  # type: ignore[no-untyped-def]
    from tests.web.staff.factories import csrf_from

    page = client.get("/staff/login")
    assert 'action="/locale"' in page.text and 'name="next" value="/staff/login"' in page.text
    r = client.post(
        "/locale",
        data={"locale": "en", "next": "/staff/login", "csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/staff/login"
    assert "Staff sign-in" in client.get("/staff/login").text
