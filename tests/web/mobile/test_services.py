"""/services and /go: the catalogue's grid and search for the signed-in viewer, and the door every tile opens.

Every expectation is the catalogue's own answer for the same viewer (`visible_services`, `search`), never
a list written here: the page must show exactly what the catalogue returns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atrium.catalog import service as catalog
from atrium.catalog.defaults import BUILTIN_TABS
from atrium.identity import service as identity
from atrium.web.mobile.i18n import LOCALE_COOKIE
from atrium.web.mobile.templating import STATIC_DIR
from tests.web.mobile import shell_support as shell
from tests.web.mobile.shell_support import tiles

EXTRA = """
line = "life"

[[services]]
key = "life.lantern_club"
version = 1
icon = "gift"
target = "/life"
identity_kinds = ["person"]
placements = ["grid"]
rank = 5
name = { zh = "灯笼俱乐部", en = "Lantern Club" }
description = { zh = "会员积分兑换", en = "Members swap points for treats" }
keywords = { zh = ["会员"], en = ["membership"] }

[[services]]
key = "life.silver_hall"
version = 1
icon = "headset"
target = "/life"
identity_kinds = ["person"]
placements = ["grid"]
name = { zh = "银发大厅", en = "Silver Hall" }
audience = { attr = "age", op = "gte", value = 60 }

[[services]]
key = "life.elder_helper"
version = 1
icon = "headset"
target = "/settings"
identity_kinds = ["person"]
placements = ["grid"]
name = { zh = "长辈帮办", en = "Helper for elders" }
audience = { attr = "ui_mode", op = "eq", value = "elder" }

[[services]]
key = "life.partner_shop"
version = 1
icon = "store"
target = "https://shop.example.com/atrium?from=app"
identity_kinds = ["person"]
placements = ["grid"]
name = { zh = "合作商城", en = "Partner shop" }
"""


@pytest.fixture()
def catalogue(db) -> None:  # type: ignore[no-untyped-def]
    shell.sync_catalogue(db)


@pytest.fixture()
def extra(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The built-in definitions plus one more business-line file: services added by configuration only."""
    (tmp_path / "extra.toml").write_text(EXTRA, encoding="utf-8")
    shell.sync_catalogue(db, [*catalog.definition_dirs(), tmp_path])


def _grid(db, customer) -> list[str]:  # type: ignore[no-untyped-def]
    v = shell.viewer(db, customer.customer_id)
    with db.read_session() as s:
        return [x.key for x in catalog.visible_services(s, v) if "grid" in x.placements]


def _found(db, customer, text: str, locale: str) -> list[str]:  # type: ignore[no-untyped-def]
    v = shell.viewer(db, customer.customer_id)
    with db.read_session() as s:
        return [x.key for x in catalog.search(s, v, text, locale)]


def test_the_grid_is_exactly_the_catalogue_s_grid_grouped_by_line(catalogue, signed_in, customer, db):
    r = signed_in.get("/services")
    assert r.status_code == 200
    expected = _grid(db, customer)
    assert expected, "the built-in catalogue offers the person services"
    assert tiles(r.text, within="service-results") == expected
    v = shell.viewer(db, customer.customer_id)
    with db.read_session() as s:
        shown = [x for x in catalog.visible_services(s, v) if "grid" in x.placements]
    lines = list(dict.fromkeys(x.line for x in shown))
    assert re.findall(r'<h2 id="line-([a-z_]+)"', r.text) == lines
    for x in shown:  # every tile: its name in the page's language, its icon, opening through /go
        assert f'href="/go/{x.key}" data-service="{x.key}"' in r.text
        assert x.name["zh"] in r.text and f"#{x.icon}" in r.text
    assert 'href="/services" class="tab-services" aria-current="page"' in r.text


def test_names_follow_the_page_language(catalogue, signed_in, customer, db):
    signed_in.cookies.set(LOCALE_COOKIE, "en")
    html = signed_in.get("/services").text
    v = shell.viewer(db, customer.customer_id)
    with db.read_session() as s:
        shown = [x for x in catalog.visible_services(s, v) if "grid" in x.placements]
    for x in shown:
        assert x.label("en") in html
    assert "Search services" in html


def test_a_service_added_by_configuration_appears_for_its_audience_only(extra, signed_in, customer, db):
    html = signed_in.get("/services").text
    keys = tiles(html, within="service-results")
    assert keys == _grid(db, customer)
    assert "life.lantern_club" in keys and "灯笼俱乐部" in html
    assert "life.silver_hall" not in keys  # audience: age ≥ 60; this customer's age is not on file
    assert signed_in.get("/go/life.silver_hall").status_code == 404


def test_the_viewer_carries_the_display_mode(extra, signed_in, customer, db):
    assert "life.elder_helper" not in tiles(signed_in.get("/services").text, within="service-results")
    with db.unit_of_work() as s:
        identity.set_ui_mode(s, customer.customer_id, "elder")
    html = signed_in.get("/services").text
    assert 'class="mode-elder"' in html
    elder = shell.viewer(db, customer.customer_id, ui_mode="elder")
    with db.read_session() as s:
        expected = [x.key for x in catalog.visible_services(s, elder) if "grid" in x.placements]
    assert "life.elder_helper" in expected
    assert tiles(html, within="service-results") == expected
    assert signed_in.get("/go/life.elder_helper", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("locale", "text"),
    [("zh", "转账"), ("zh", "汇款"), ("en", "transfer"), ("en", "send money"), ("en", "转账"),
     ("zh", "Transfer"), ("en", "phishing"), ("zh", "诈骗")],
)
def test_search_shows_the_catalogue_s_results(catalogue, signed_in, customer, db, locale, text):
    signed_in.cookies.set(LOCALE_COOKIE, locale)
    r = signed_in.get("/services", params={"q": text})
    assert r.status_code == 200 and "<html" in r.text  # without JavaScript: the whole page
    expected = _found(db, customer, text, locale)
    assert expected, f"the catalogue finds something for {text!r}"
    assert tiles(r.text, within="service-results") == expected
    assert 'id="line-' not in r.text  # the results replace the grid


def test_search_finds_keywords_and_descriptions_in_both_languages(extra, signed_in, customer, db):
    for text, locale in (("会员", "zh"), ("membership", "zh"), ("treats", "en"), ("积分兑换", "en")):
        signed_in.cookies.set(LOCALE_COOKIE, locale)
        keys = tiles(signed_in.get("/services", params={"q": text}).text, within="service-results")
        assert keys[:1] == ["life.lantern_club"], (text, keys)


def test_as_you_type_htmx_gets_only_the_results(catalogue, signed_in, customer, db):
    htmx = {"HX-Request": "true"}
    r = signed_in.get("/services", params={"q": "转账"}, headers=htmx)
    assert r.status_code == 200 and "<html" not in r.text and "tabbar" not in r.text
    assert tiles(r.text) == _found(db, customer, "转账", "zh")
    assert 'id="live" hx-swap-oob="innerHTML"' in r.text and "找到" in r.text
    cleared = signed_in.get("/services", params={"q": ""}, headers=htmx)
    assert tiles(cleared.text) == _grid(db, customer)
    nothing = signed_in.get("/services", params={"q": "zzzz-nothing"}, headers=htmx)
    assert tiles(nothing.text) == [] and "没有找到" in nothing.text


def test_the_search_box_works_without_and_with_javascript(catalogue, signed_in):
    html = signed_in.get("/services").text
    form = html[html.index('<form class="search'):]
    form = form[: form.index("</form>")]
    assert 'method="get" action="/services"' in form and 'name="q"' in form and 'type="submit"' in form
    assert 'hx-get="/services"' in form and 'hx-target="#service-results"' in form
    assert '<label class="sr-only" for="service-q">' in form


def test_a_too_long_query_is_a_bad_request_not_an_error(catalogue, signed_in):
    assert signed_in.get("/services", params={"q": "x" * 61}).status_code == 400


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.sampled_from(list("转账安全ransfecuitypohg 汇款")), max_size=12),
       locale=st.sampled_from(["zh", "en"]))
def test_any_search_shows_the_catalogue_s_answer_and_only_visible_services(
    catalogue, signed_in, customer, db, text, locale
):
    signed_in.cookies.set(LOCALE_COOKIE, locale)
    r = signed_in.get("/services", params={"q": text}, headers={"HX-Request": "true"})
    assert r.status_code == 200
    query = " ".join(text.split())
    shown = tiles(r.text)
    if query:
        assert shown == _found(db, customer, query, locale)
    else:
        assert shown == _grid(db, customer)
    visible = set(_grid(db, customer)) | {x for x in _found(db, customer, query, locale)}
    assert set(shown) <= visible


# --- /go -----------------------------------------------------------------------------------------------


def _usage(db, customer, key: str) -> int:  # type: ignore[no-untyped-def]
    v = shell.viewer(db, customer.customer_id)
    with db.read_session() as s:
        return next((1 for x in catalog.frequently_used(s, v, limit=50) if x.key == key), 0)


def test_go_records_the_use_and_opens_the_target(catalogue, signed_in, customer, db):
    v = shell.viewer(db, customer.customer_id)
    with db.read_session() as s:
        transfer = next(x for x in catalog.search(s, v, "转账", "zh") if x.target.startswith("/"))
    assert _usage(db, customer, transfer.key) == 0
    r = signed_in.get(f"/go/{transfer.key}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == transfer.target
    assert _usage(db, customer, transfer.key) == 1


def test_go_answers_404_for_services_outside_the_viewer_s_audience(catalogue, signed_in, customer, db):
    v = shell.viewer(db, customer.customer_id)
    with db.read_session() as s:
        visible = {x.key for x in catalog.visible_services(s, v)}
    hidden = [d.definition["key"] for d in catalog.load_definitions().services
              if d.definition["key"] not in visible]
    assert hidden, "the built-in catalogue has services a person does not see (enterprise ones)"
    for key in [*hidden, "no.such_service", "retail"]:
        r = signed_in.get(f"/go/{key}", follow_redirects=False)
        assert r.status_code == 404, key
        assert "没有找到服务" in r.text
    with db.read_session() as s:
        assert catalog.frequently_used(s, v) == []


def test_an_https_service_goes_through_the_leaving_page(extra, signed_in, customer, db):
    r = signed_in.get("/go/life.partner_shop", follow_redirects=False)
    assert r.status_code == 200
    assert "您即将离开 Atrium 银行" in r.text and "shop.example.com" in r.text
    assert 'href="https://shop.example.com/atrium?from=app" rel="noopener noreferrer external"' in r.text
    assert _usage(db, customer, "life.partner_shop") == 1


def test_go_needs_a_signed_in_customer(catalogue, client, db):
    r = client.get("/go/retail.transfer", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


# --- icons ------------------------------------------------------------------------------------------------


def _symbols() -> set[str]:
    text = (STATIC_DIR / "icons.svg").read_text(encoding="utf-8")
    return set(re.findall(r'<symbol id="([a-z0-9-]+)"', text))


def test_every_icon_the_catalogue_names_is_drawn():
    symbols = _symbols()
    named = {d.definition["icon"] for d in catalog.load_definitions().services}
    named |= {tab.icon for tab in BUILTIN_TABS.values()}
    missing = sorted(named - symbols)
    assert not missing, f"icons the catalogue uses but icons.svg does not draw: {missing}"


def test_every_icon_a_visible_service_or_tab_names_is_drawn(catalogue, db, customer):
    symbols = _symbols()
    for acting in (None, shell.add_company(db, customer.customer_id),
                   shell.add_merchant(db, customer.customer_id)[0]):
        v = shell.viewer(db, customer.customer_id, acting)
        with db.read_session() as s:
            icons = {x.icon for x in catalog.visible_services(s, v)}
            icons |= {t.icon for t in catalog.tabs_for(s, v)}
        assert icons <= symbols, sorted(icons - symbols)
