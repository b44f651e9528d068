"""Domain refusals in the customer's words: a domain error becomes a translated sentence.

Errors carry a problem `code` and structured extras (limits say which limit and what remains); the
catalogue holds one sentence per code, `error.<code>`, with the extras filled in and formatted by Babel.
"""

from __future__ import annotations

from atrium.kit.errors import AtriumError
from atrium.web.mobile.i18n import Translator
from atrium.web.mobile.i18n.formatting import money


def describe(exc: AtriumError, t: Translator, *, currency: str = "CNY") -> str:
    """`currency` is the one the page is about, for errors whose amounts do not name theirs."""
    code = exc.code
    extra = exc.extra
    if code == "limit-exceeded":
        currency = extra.get("currency") or "CNY"
        remaining = money(int(extra.get("remaining_minor", 0)), currency, t.locale)
        scope = {"customer": "own", "new_device": "new_device"}.get(str(extra.get("scope")), "bank")
        limit = str(extra.get("limit", "daily"))
        key = f"error.limit-exceeded.{limit}.{scope}"
        if t.has(key):
            return t(key, remaining=remaining)
        return t("error.limit-exceeded", remaining=remaining)
    if code == "payment-switch-off":
        switch = str(extra.get("switch", ""))
        name_key = f"limits.switch.{switch}"
        return t("error.payment-switch-off", switch=t(name_key) if t.has(name_key) else switch)
    if code == "insufficient-funds" and "available_minor" in extra and "currency" in extra:
        return t(
            "error.insufficient-funds.amount",
            available=money(int(extra["available_minor"]), str(extra["currency"]), t.locale),
        )
    if code == "own-limit-above-bank-limit" and "bank_limit_minor" in extra:
        return t(
            "error.own-limit-above-bank-limit.amount",
            cap=money(int(extra["bank_limit_minor"]), currency, t.locale),
        )
    key = f"error.{code}"
    return t(key) if t.has(key) else t("error.generic")
