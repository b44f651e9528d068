"""The amount field's currency symbol never covers the amount: English writes CN¥ where Chinese writes ¥,
and the field makes room for it — in standard and elder mode, in the transfer form and after the symbol
changes with the chosen account."""

from __future__ import annotations

import pytest

from atrium.identity import sessions
from atrium.web.deps import SESSION_COOKIE
from atrium.web.mobile.display import MODE_COOKIE
from atrium.web.mobile.i18n import LOCALE_COOKIE
from tests.web.browser_support import PHONE, SCREENSHOTS
from tests.web.mobile.factories import seed_customer

pytestmark = pytest.mark.browser

# How far the symbol's right edge is from where the input's text starts (negative: they overlap).
GAP = """() => {
  const cur = document.getElementById('amount-currency');
  const input = document.getElementById('amount');
  const start = input.getBoundingClientRect().left + parseFloat(getComputedStyle(input).paddingLeft);
  return [cur.textContent, start - cur.getBoundingClientRect().right];
}"""


@pytest.mark.parametrize("lang, mode", [("en", "standard"), ("en", "elder"), ("zh", "standard"),
                                        ("zh", "elder")])
def test_the_currency_symbol_leaves_room_for_the_amount(browser, live_server, db, lang, mode):  # type: ignore[no-untyped-def]
    who = seed_customer(db, username=f"amount.{lang}.{mode}")
    with db.unit_of_work() as s:
        token, _ = sessions.open_session(s, customer_id=who.customer_id, amr=["pwd", "sms"])
    context = browser.new_context(viewport=PHONE, base_url=live_server)
    context.add_cookies([{"name": name, "value": value, "url": live_server} for name, value in
                         ((SESSION_COOKIE, token), (LOCALE_COOKIE, lang), (MODE_COOKIE, mode))])
    page = context.new_page()
    try:
        page.goto("/transfer")
        page.locator("#amount").fill("12345.67")
        symbol, gap = page.evaluate(GAP)
        assert symbol == ("CN¥" if lang == "en" else "¥")
        assert gap >= 4, f"{symbol!r} reaches {-gap:.0f} px into the amount"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator("#amount").screenshot(path=str(SCREENSHOTS / f"amount-field-{lang}-{mode}.png"))
        # Choosing the other account writes its symbol again, and the room follows it.
        page.locator("input[name=from_account_id]").nth(1).check()
        symbol_after, gap_after = page.evaluate(GAP)
        assert symbol_after == symbol and gap_after >= 4
    finally:
        context.close()
