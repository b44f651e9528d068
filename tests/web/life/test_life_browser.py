"""Chromium: sign in to the bank once, open Atrium Life without a second password; sign out everywhere
ends both; Life's own sign-out ends the bank session too."""

from __future__ import annotations

from pathlib import Path

import pytest

from atrium.identity import sessions
from atrium.identity.oidc import service as oidc
from tests.web.browser_support import sign_in
from tests.web.mobile.factories import seed_customer

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots/h1")  # noqa: S108 - where this work item's screenshots are reviewed


def _shot(pg, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_one_sign_in_opens_life_and_sign_out_everywhere_ends_both(page, db):
    seeded = seed_customer(db)
    pg = page
    sign_in(pg, seeded.username, seeded.password)
    _shot(pg, "01-bank-home")

    pg.goto("/life")
    pg.wait_for_url("**/life")
    assert pg.get_by_role("heading", level=1).inner_text() == "你好，王美"
    assert pg.get_by_role("heading", name="水电燃气缴费").is_visible()
    assert pg.get_by_label("用户名").count() == 0  # no second password anywhere on the way
    _shot(pg, "02-life-home")

    with db.unit_of_work() as s:  # "sign out everywhere" in the security centre
        assert sessions.revoke_all(s, seeded.customer_id) >= 1

    pg.goto("/life")
    pg.wait_for_url("**/login?next=*")
    assert "client_id%3Datrium-life" in pg.url or "client_id=atrium-life" in pg.url
    _shot(pg, "03-life-after-sign-out-everywhere")
    pg.goto("/")
    pg.wait_for_url("**/login*")  # the bank app is signed out too

    # Signing in again on that page brings the customer straight back into Life.
    pg.goto("/life")
    pg.wait_for_url("**/login?next=*")
    pg.get_by_label("用户名").fill(seeded.username)
    pg.get_by_label("登录密码", exact=True).fill(seeded.password)
    pg.get_by_role("button", name="登录", exact=True).click()
    pg.wait_for_url("**/life")
    assert pg.get_by_role("heading", level=1).inner_text() == "你好，王美"


def test_life_sign_out_and_english(page, db):
    seeded = seed_customer(db, username="emma", display_name="Emma Wang", locale="en")
    pg = page
    sign_in(pg, seeded.username, seeded.password)
    pg.goto("/life")
    pg.wait_for_url("**/life")
    pg.get_by_role("button", name="English").click()
    pg.wait_for_url("**/life")
    assert pg.get_by_role("heading", level=1).inner_text() == "Hello, Emma Wang"
    _shot(pg, "04-life-home-en")
    pg.get_by_role("button", name="Sign out").click()
    pg.wait_for_url("**/life/signed-out*")
    assert pg.get_by_role("heading", level=1).inner_text() == "Signed out of Atrium Life"
    _shot(pg, "05-life-signed-out-en")
    with db.session() as s:
        assert sessions.list_sessions(s, seeded.customer_id) == []


def test_partner_consent_page(page, live_server, db):
    seeded = seed_customer(db, username="chen", display_name="陈静")
    pg = page
    with db.unit_of_work() as s:
        oidc.ensure_default_clients(s, live_server)
    sign_in(pg, seeded.username, seeded.password)
    pg.goto(
        "/oauth2/authorize?response_type=code&client_id=partner-demo"
        "&redirect_uri=https%3A%2F%2Fpartner-demo.example%2Fcallback&scope=openid%20profile&state=s1"
        "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
    )
    assert pg.get_by_role("heading", level=2).inner_text().startswith("「Partner Demo」")
    assert pg.get_by_role("button", name="同意并继续").is_visible()
    _shot(pg, "06-partner-consent")
