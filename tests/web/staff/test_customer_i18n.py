"""Every value the customer screens translate by prefix has words in both languages, and the customer
screens' own catalogue files carry the same ids."""

from __future__ import annotations

import json
from pathlib import Path

from atrium.limits.domain import METHODS, SWITCH_NAMES
from atrium.staff import service as staff
from atrium.staff.domain import AUDITED_ACTIONS
from atrium.web.staff.i18n import catalogue

I18N = Path(__file__).resolve().parents[3] / "src" / "atrium" / "web" / "staff" / "i18n"


def test_the_customer_catalogues_carry_the_same_ids() -> None:
    zh = json.loads((I18N / "zh.customers.json").read_text(encoding="utf-8"))
    en = json.loads((I18N / "en.customers.json").read_text(encoding="utf-8"))
    assert set(zh) == set(en)


def test_every_value_the_customer_screens_show_by_prefix_has_words() -> None:
    wanted = (
        [f"action.{a}" for a in AUDITED_ACTIONS]
        + [f"screen.{s}" for s in staff.SCREENS]
        + [f"customer.section.{s}" for s in staff.SECTIONS]
        + [f"kyc.{f}" for f in staff.KYC_FIELDS]
        + [f"kyc.category.{c}" for c in staff.REVEAL_CATEGORIES]
        + [f"kyc.error.{f}" for f in ("category", "reason", "limit")]
        + [f"controls.switch.{n}" for n in SWITCH_NAMES]
        + [f"method.{m}" for m in METHODS]
        + [f"identities.kind.{k}" for k in ("person", "company_operator", "merchant")]
        + [f"security.outcome.{o}" for o in ("success", "failure", "locked", "challenge")]
        + [
            f"entry.kind.{k}"
            for k in (
                "deposit",
                "interest",
                "qr_payment",
                "transfer.own",
                "transfer.internal",
                "transfer.interbank",
            )
        ]
        + [
            f"error.{code}.title"
            for code in (
                "account-not-found",
                "transfer-not-found",
                "section-not-found",
                "field-not-found",
                "field-not-on-file",
                "reveal-reason-required",
                "reveal-limit-reached",
                "audit-export-too-large",
            )
        ]
    )
    for locale in ("zh", "en"):
        words = catalogue(locale)
        assert [k for k in wanted if k not in words] == [], locale
