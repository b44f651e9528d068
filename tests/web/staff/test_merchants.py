"""The merchants page: every merchant with its settlement balances; filters by status and category."""

from __future__ import annotations

import re

from atrium.payments.merchants import service as merchants


def _merchant(db, name: str, category: str, *, status: str = "active", currencies=("CNY",)):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        m = merchants.create_merchant(s, name=name, category=category, city="上海", currencies=currencies)
        if status != "active":
            merchants.set_status(s, merchant_id=m.id, status=status)
        return m


def _names(html: str) -> list[str]:
    return re.findall(r'<th scope="row">([^<]+)<span', html)


def test_the_list_and_its_filters(as_operator, db) -> None:  # type: ignore[no-untyped-def]
    _merchant(db, "街角咖啡", "dining")
    _merchant(db, "好邻居超市", "groceries", currencies=("CNY", "USD"))
    _merchant(db, "旧书店", "retail", status="suspended")
    r = as_operator.get("/staff/merchants")
    assert r.status_code == 200
    html = r.text
    assert _names(html) == ["旧书店", "好邻居超市", "街角咖啡"]  # newest first
    assert "餐饮" in html and "已暂停" in html and "¥0.00" in html and "US$0.00" in html
    assert _names(as_operator.get("/staff/merchants", params={"status": "suspended"}).text) == ["旧书店"]
    assert _names(as_operator.get("/staff/merchants", params={"category": "dining"}).text) == ["街角咖啡"]
    assert "没有符合条件的商户" in as_operator.get("/staff/merchants", params={"category": "travel"}).text
    assert as_operator.get("/staff/merchants", params={"status": "gone"}).status_code == 422
    assert as_operator.get("/staff/merchants", params={"category": "weapons"}).status_code == 422


def test_the_list_pages(as_operator, db) -> None:  # type: ignore[no-untyped-def]
    for i in range(52):
        _merchant(db, f"商户{i:02d}", "services")
    first = as_operator.get("/staff/merchants").text
    assert len(_names(first)) == 50
    next_url = re.search(r'href="(/staff/merchants\?[^"]*cursor=[^"]+)"', first)
    assert next_url
    assert _names(as_operator.get(next_url.group(1).replace("&amp;", "&")).text) == ["商户01", "商户00"]
