"""WCAG 2.2 AA on every page of the app: axe-core in Chromium reports no serious or critical violation on
every page route of the mobile app — in standard and elder mode, in Chinese and English, signed in, and
signed out for the public pages — and on every page of the staff console in both languages.

The pages are found from the app's own routes (every GET route of the page route class), so a page added
later is swept without touching this file. A route with path parameters is visited with real ids from
seeded data (`PARAMS`); one that is not a page, or cannot be visited on its own, is listed in `EXCLUDED`
with the reason. A route that is neither fails the test, as does a page that does not answer 200 (a
signed-in page that sends the customer to /login was not visited).

Beyond axe: no page may be wider than the phone (WCAG 1.4.10 reflow), and the elder-mode pages of the
display mode and of money movement keep every target at 56 px. Pages only a form post shows — the
transfer confirmation with elder mode's read-back, a refused confirm, a form with errors, the QR payment
confirmation — are swept too, and so is the not-found page. The core pages in standard mode (`WHOLE`)
are held to more: no axe finding at all, whatever its impact, and (in Chinese) 44 px targets, links in
text included.

One browser context per mode × language, reused across its pages (and signed in once, by a session made
for it), keeps the sweep to a few minutes. The findings of every run — moderate and minor ones included,
and every page's small targets — go to test-artifacts/screenshots/sweep-*.json beside a screenshot of
each page.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from fastapi import routing as fastapi_routing
from fastapi.routing import APIRoute

from atrium.app import create_app
from atrium.catalog import service as catalog
from atrium.catalog.schemas import ProposalCreate
from atrium.identity import identities, sessions, stepup
from atrium.identity import service as identity
from atrium.identity.errors import StepUpRequired
from atrium.identity.oidc import service as oidc
from atrium.identity.oidc.clients import PARTNER_REDIRECT
from atrium.identity.principal import Principal
from atrium.messages import service as messages
from atrium.messages.domain import Money
from atrium.payments import service as payments
from atrium.payments.schemas import OwnDestination
from atrium.web.access import ACCESS, PUBLIC
from atrium.web.deps import SESSION_COOKIE
from atrium.web.mobile.display import MODE_COOKIE
from atrium.web.mobile.routing import PageRoute
from atrium.web.staff.routing import StaffPageRoute
from tests.web.browser.sweep_support import Sweep, sweep_context
from tests.web.browser_support import SCREENSHOTS
from tests.web.mobile import shell_support as shell
from tests.web.mobile.factories import Seeded, deposit, qr_code, seed_customer
from tests.web.staff import risk_support
from tests.web.staff.factories import make_staff

# Accessibility does not depend on the database: CI's PostgreSQL run skips the sweep (it ran on SQLite).
pytestmark = [pytest.mark.browser, pytest.mark.database_independent]

MODES = ("standard", "elder")
LANGS = ("zh", "en")
DESKTOP = {"width": 1280, "height": 800}

# Page routes that are not pages, or that only make sense inside another page, and why.
EXCLUDED: dict[str, str] = {
    "/sw.js": "the service worker's script, not a page",
    "/manifest.webmanifest": "the web app manifest (JSON), not a page",
}
# Organisation pages are seen by a session acting for the organisation (otherwise they redirect to the
# identity switcher, which is swept on its own).
ACTING_AS: dict[str, str] = {"/biz": "company_operator", "/merchant": "merchant"}
STAFF_EXCLUDED: dict[str, str] = {
    "/staff/audit/export.csv": "the audit log as a CSV download, not a page",
    "/staff/risk/cases/counts": "the open-case count the queue polls (an htmx fragment), not a page",
}
# Pages this sweep holds to elder mode's 56 px targets: the mode's own pages and the money-movement pages
# it changes (the other pages' small targets are listed in the findings file). Every page, in both modes,
# must fit the phone's width without scrolling sideways (WCAG 1.4.10).
HELD = frozenset({
    "/login (signed out)", "/settings", "/transfer", "/transfer/result/{transfer_id}", "/pay/qr",
    "transfer confirmation", "transfer confirmation refused", "transfer form with errors", "qr confirmation",
})
NOT_FOUND = "an account that does not exist"  # /accounts/acc_nope: the app's not-found page
# Pages held, in standard mode, to no axe finding of any impact (moderate and minor too), in both languages,
# and to 44 px targets counting links inside running text as well, in Chinese (test_accessibility.py
# audited them page by page in a browser of its own before; the sweep visits them anyway).
WHOLE = frozenset({
    "/login (signed out)", "/", "/accounts/{account_id}", "/transfer", "/limits", "/settings", "/offline",
    NOT_FOUND, "transfer confirmation", "transfer form with errors",
})


@dataclass
class World:
    """What the pages are shown with: the customer, their money, a transfer, a message, organisations."""

    who: Seeded
    token: str
    principal: Principal
    transfer_id: str
    message_id: str
    company_id: str
    merchant_id: str
    challenge: str  # a step-up challenge (raising a limit), for the step-up page
    proposal_id: str = ""  # a pending catalogue change, for the console's proposal page
    risk_case_id: str = ""  # a held transfer's fraud case, for the console's case page
    risk_rule_id: str = ""  # a published fraud rule, for the console's rule page


# Real values for path parameters (and the query a page needs to be itself), by route.
PARAMS: dict[str, Callable[[World], str]] = {
    "/accounts/{account_id}": lambda w: f"/accounts/{w.who.accounts[0].id}",
    "/accounts/{account_id}/entries": lambda w: f"/accounts/{w.who.accounts[0].id}/entries",
    "/transfer/result/{transfer_id}": lambda w: f"/transfer/result/{w.transfer_id}",
    "/profile/fields/{name}": lambda w: "/profile/fields/phone",  # a plain request shows the profile
    "/messages/{message_id}": lambda w: f"/messages/{w.message_id}",
    "/go/{key}": lambda w: "/go/retail.transfer",  # opens the service: the transfer page
}
QUERIES: dict[str, Callable[[World], str]] = {
    "/step-up": lambda w: "?" + urlencode({"challenge": w.challenge, "return_to": "/limits"}),
    # "Load more" pages need a cursor; an unknown one starts from the newest (the page without htmx).
    "/accounts/{account_id}/entries": lambda w: "?cursor=sweep",
    "/messages/more": lambda w: "?cursor=sweep",
    "/oauth2/authorize": lambda w: "?" + urlencode({
        "response_type": "code", "client_id": oidc.PARTNER_CLIENT, "redirect_uri": PARTNER_REDIRECT,
        "scope": "openid profile", "state": "sweep", "nonce": "sweep", "code_challenge_method": "S256",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    }),
}
STAFF_PARAMS: dict[str, Callable[[World], str]] = {
    "/staff/customers/{customer_id}": lambda w: f"/staff/customers/{w.who.customer_id}",
    "/staff/customers/{customer_id}/lock": lambda w: f"/staff/customers/{w.who.customer_id}/lock",
    # A plain request for a section opens the customer's page on that tab.
    "/staff/customers/{customer_id}/sections/{section}":
        lambda w: f"/staff/customers/{w.who.customer_id}/sections/identities",
    "/staff/accounts/{account_id}": lambda w: f"/staff/accounts/{w.who.accounts[0].id}",
    "/staff/transfers/{transfer_id}": lambda w: f"/staff/transfers/{w.transfer_id}",
    "/staff/messages/templates/{key}": lambda w: "/staff/messages/templates/transfer.received",
    "/staff/catalog/services/{key}": lambda w: "/staff/catalog/services/retail.transfer",
    "/staff/catalog/services/{key}/edit": lambda w: "/staff/catalog/services/retail.transfer/edit",
    "/staff/catalog/proposals/{proposal_id}": lambda w: f"/staff/catalog/proposals/{w.proposal_id}",
    "/staff/limits/{channel}/{method}/{currency}": lambda w: "/staff/limits/mobile/internal_transfer/CNY",
    "/staff/{rest:path}": lambda w: "/staff/no-such-page",  # the console's own not-found page
    "/staff/risk/cases/{case_id}": lambda w: f"/staff/risk/cases/{w.risk_case_id}",
    "/staff/risk/rules/{rule_id}": lambda w: f"/staff/risk/rules/{w.risk_rule_id}",
}
STAFF_STATUS = {"/staff/{rest:path}": 404}


@functools.cache
def _routes(route_class: type[APIRoute]) -> list[str]:
    app = create_app(start_background=False)
    found = []
    for ctx in fastapi_routing.iter_route_contexts(app.routes):
        route = ctx.original_route
        if isinstance(route, route_class) and "GET" in (ctx.methods or ()) and ctx.path not in found:
            found.append(ctx.path)
    return found


def page_routes() -> list[str]:
    return [p for p in _routes(PageRoute) if not p.startswith(("/api/", "/static/", "/staff"))]


def staff_routes() -> list[str]:
    return _routes(StaffPageRoute)


def _plan(routes: list[str], params: dict[str, Callable[[World], str]], excluded: dict[str, str]
          ) -> tuple[list[str], list[str]]:
    """The routes to visit, and those neither visitable nor explained."""
    unexplained = [r for r in routes if r not in excluded and "{" in r and r not in params]
    return [r for r in routes if r not in excluded and r not in unexplained], unexplained


def test_every_page_route_is_visited_or_explained():
    _, unexplained = _plan(page_routes(), PARAMS, EXCLUDED)
    assert not unexplained, f"give these routes real ids in PARAMS or a reason in EXCLUDED: {unexplained}"
    _, staff_unexplained = _plan(staff_routes(), STAFF_PARAMS, STAFF_EXCLUDED)
    assert not staff_unexplained, f"STAFF_PARAMS or STAFF_EXCLUDED needs: {staff_unexplained}"
    assert "/transfer" in page_routes() and "/settings" in page_routes()
    stale = [r for r in [*EXCLUDED, *PARAMS, *QUERIES, *ACTING_AS] if r not in page_routes()]
    assert not stale, f"entries for routes that no longer exist: {stale}"


def _world(db, mode: str) -> World:  # type: ignore[no-untyped-def]
    who = seed_customer(db, username=f"sweep.{mode}", display_name="王美")
    deposit(db, who.accounts[0], 2_000, "Refund")
    payee = seed_customer(db, username=f"sweep.{mode}.payee", display_name="李雷", savings=False)
    company = shell.add_company(db, who.customer_id, ref=f"9131000{mode}")
    merchant, _ = shell.add_merchant(db, who.customer_id, name=f"街角咖啡 {mode}")
    with db.unit_of_work() as s:
        oidc.ensure_default_clients(s, "http://127.0.0.1")
        if mode == "elder":
            identity.set_ui_mode(s, who.customer_id, "elder", channel="api")
        done = payments.transfer(
            s, customer_id=who.customer_id, idempotency_key=f"sweep-{mode}-1",
            from_account_id=who.accounts[0].id, to=OwnDestination(type="own", account_id=who.accounts[1].id),
            amount_minor=1_000, currency="CNY", memo="储蓄", channel="mobile",
        )
        message = messages.send_templated(
            s, customer_id=who.customer_id, template_key="transfer.received", dedup_key=f"sweep-{mode}",
            values={"amount": Money(8_800, "CNY"), "account": who.accounts[0].number[-4:],
                    "account_id": who.accounts[0].id},
        )
        assert message is not None
        token, principal = sessions.open_session(s, customer_id=who.customer_id, amr=["pwd", "sms"])
    challenge = ""
    with db.read_session() as s:
        try:
            stepup.require(s, principal, action="limit.raise", elements={"limit": "daily"},
                           summary="提高每日限额")
        except StepUpRequired as exc:
            challenge = str(exc.extra["challenge"])
    assert challenge, "raising a limit asks for a step-up"
    del payee  # exists so the transfer form offers another customer's account to type
    return World(who=who, token=token, principal=principal, transfer_id=done.id, message_id=message.id,
                 company_id=company.id, merchant_id=merchant.id, challenge=challenge)


def _act_as(db, world: World, kind: str | None) -> None:  # type: ignore[no-untyped-def]
    """Make the sweep's session act as the organisation identity of `kind` (None: the person)."""
    with db.unit_of_work() as s:
        if kind is None:
            target = identities.ensure_person(s, world.who.customer_id).id
        else:
            target = world.company_id if kind == "company_operator" else world.merchant_id
        identities.switch(s, world.principal, target)


def _states(sweep: Sweep, world: World, mode: str, db) -> None:  # type: ignore[no-untyped-def]
    """Pages that only a form post shows: the transfer confirmation (elder: with its read-back), the
    transfer form with errors, and the QR payment confirmation."""
    page = sweep.page
    page.goto("/transfer")
    page.locator(f'input[name=to][value="own:{world.who.accounts[1].id}"]').check()
    page.locator("#amount").fill("12.50")
    page.locator('form[action="/transfer/review"] button[type=submit]').click()
    page.wait_for_url("**/transfer/review")
    sweep.audit("transfer confirmation")
    if mode == "elder":  # the refusal of a confirm without the tick, read-back shown again
        page.evaluate("document.querySelector('input[name=readback]').removeAttribute('required')")
        page.locator('form[action="/transfer/confirm"] button[type=submit]').first.click()
        page.wait_for_url("**/transfer/confirm")
        sweep.audit("transfer confirmation refused")
    page.goto("/transfer")
    page.locator("#amount").fill("abc")
    page.locator('form[action="/transfer/review"] button[type=submit]').click()
    page.wait_for_url("**/transfer/review")
    sweep.audit("transfer form with errors")
    payload = qr_code(db, reference=f"sweep-{sweep.label}")
    page.goto("/pay/qr")
    page.locator("#payload").fill(payload)
    page.locator('form[action="/pay/qr/review"] button[type=submit]').click()
    page.wait_for_url("**/pay/qr/review")
    sweep.audit("qr confirmation")


@pytest.mark.parametrize("mode", MODES)
def test_every_mobile_page_passes_axe_in_both_languages(browser, live_server, db, mode):  # type: ignore[no-untyped-def]
    shell.sync_catalogue(db)
    world = _world(db, mode)
    visit, unexplained = _plan(page_routes(), PARAMS, EXCLUDED)
    assert not unexplained, unexplained
    public = {path for (method, path), rule in ACCESS.items() if method == "GET" and rule == PUBLIC}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    blocking: dict[str, dict[str, list[dict]]] = {}
    failures: list[str] = []
    small: dict[str, dict[str, list[str]]] = {}
    wide: dict[str, dict[str, int]] = {}
    whole: dict[str, dict[str, object]] = {}
    for lang in LANGS:
        label = f"{mode}-{lang}"
        context = sweep_context(browser, live_server, lang)
        context.add_cookies([{"name": MODE_COOKIE, "value": mode, "url": live_server}])
        sweep = Sweep(context.new_page(), label, min_target=56 if mode == "elder" else 44)
        try:
            # Signed out: the public pages.
            for route in visit:
                if route in public:
                    url = PARAMS[route](world) if route in PARAMS else route
                    url += QUERIES[route](world) if route in QUERIES else ""
                    sweep.visit(f"{route} (signed out)", url, signed_in=False)
            # Signed in: every page.
            context.add_cookies([{"name": SESSION_COOKIE, "value": world.token, "url": live_server}])
            for route in visit:
                url = PARAMS[route](world) if route in PARAMS else route
                url += QUERIES[route](world) if route in QUERIES else ""
                if route in ACTING_AS:
                    _act_as(db, world, ACTING_AS[route])
                try:
                    sweep.visit(route, url, signed_in=True)
                finally:
                    if route in ACTING_AS:
                        _act_as(db, world, None)
            sweep.visit(NOT_FOUND, "/accounts/acc_nope", status=404, signed_in=True)
            _states(sweep, world, mode, db)
        finally:
            sweep.save()
            context.close()
        blocking[label] = sweep.blocking()
        failures += [f"{label} {f}" for f in sweep.failures]
        small[label] = {n: s for n, s in sweep.small.items() if s}
        wide[label] = dict(sweep.overflow)
        assert len(sweep.found) >= len(visit), sorted(set(visit) - set(sweep.found))
        if mode == "standard":
            assert set(sweep.found) >= WHOLE, sorted(WHOLE - set(sweep.found))
            whole[label] = {n: f for n, f in sweep.found.items() if n in WHOLE and f}
            if lang == "zh":
                whole[f"{label} small targets"] = {
                    n: [*sweep.small[n], *sweep.small_in_text[n]] for n in sorted(WHOLE)
                    if sweep.small[n] or sweep.small_in_text[n]}
    assert not failures, "\n".join(failures)
    blocking = {k: v for k, v in blocking.items() if v}
    assert not blocking, json.dumps(blocking, ensure_ascii=False, indent=1)
    wide = {k: v for k, v in wide.items() if v}
    assert not wide, f"pages wider than the phone (px): {wide}"
    whole = {k: v for k, v in whole.items() if v}
    assert not whole, json.dumps(whole, ensure_ascii=False, indent=1)
    if mode == "elder":
        held = {
            label: kept for label, pages in small.items()
            if (kept := {n: s for n, s in pages.items() if n in HELD})
        }
        assert not held, json.dumps(held, ensure_ascii=False, indent=1)


def test_every_staff_console_page_passes_axe_in_both_languages(browser, live_server, db):  # type: ignore[no-untyped-def]
    shell.sync_catalogue(db)
    world = _world(db, "standard")
    admin = make_staff(db, "administrator", username="sweep.admin", display_name="无障碍检查")
    with db.unit_of_work() as s:
        current = catalog.get_managed(s, "retail.transfer")
        proposal = catalog.propose(s, admin.id, ProposalCreate(
            kind="switch", service_key="retail.transfer", base_version=current.version, enabled=False,
            note="无障碍检查：暂停转账服务的提议"))
    world.proposal_id = proposal.id
    fraud_team = risk_support.analysts(db, prefix="sweep")
    world.risk_rule_id = risk_support.publish_rule(db, fraud_team)
    world.risk_case_id = risk_support.held_case(db, world.who.customer_id)
    visit, unexplained = _plan(staff_routes(), STAFF_PARAMS, STAFF_EXCLUDED)
    assert not unexplained, unexplained
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    blocking: dict[str, dict[str, list[dict]]] = {}
    failures: list[str] = []
    for lang in LANGS:
        context = sweep_context(browser, live_server, lang, viewport=DESKTOP)
        sweep = Sweep(context.new_page(), f"staff-{lang}", min_target=24)
        try:
            sweep.visit("/staff/login", "/staff/login", signed_in=False)
            sweep.page.locator("input[name=username]").fill(admin.username)
            sweep.page.locator("input[name=password]").fill(admin.password)
            sweep.page.locator("input[name=password]").press("Enter")
            sweep.page.wait_for_url(re.compile(r"/staff$"))
            for route in visit:
                if route == "/staff/login":
                    continue
                url = STAFF_PARAMS[route](world) if route in STAFF_PARAMS else route
                sweep.visit(route, url, status=STAFF_STATUS.get(route, 200), signed_in=True)
                if "/staff/login" in sweep.page.url:
                    failures.append(f"staff-{lang} {route}: sent to the sign-in page")
        finally:
            sweep.save()
            context.close()
        blocking[lang] = sweep.blocking()
        failures += [f"staff-{lang} {f}" for f in sweep.failures]
    assert not failures, "\n".join(failures)
    blocking = {k: v for k, v in blocking.items() if v}
    assert not blocking, json.dumps(blocking, ensure_ascii=False, indent=1)
