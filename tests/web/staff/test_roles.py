"""Every role × every console page gets exactly what `atrium.staff.permissions` says: the page, or the
403 page — and the sidebar offers exactly the pages the role may open."""

from __future__ import annotations

import re

import pytest

from atrium.antiphishing import service as phishing
from atrium.app import create_app
from atrium.catalog import service as catalog
from atrium.catalog.schemas import ProposalCreate
from atrium.identity.protection import lockout
from atrium.messages.service import templates as message_templates
from atrium.staff import permissions
from atrium.staff.permissions import ROLES
from atrium.web import staff as console
from tests.web.mobile.factories import seed_customer
from tests.web.staff import risk_support
from tests.web.staff.factories import csrf_from, make_staff, pay, sign_in
from tests.web.test_routes_auth import endpoints

# (method, path template, the action the page needs). {customer} is filled with a real (locked) customer's
# id, {channel} with a registered phishing-check channel's, {account} and {transfer} with that customer's
# account and a transfer from it, {proposal} with a pending catalogue proposal's. Every console GET page is
# here (the coverage test checks it); the POSTs of the catalogue, messages and reveal forms are walked per
# role by the authorisation matrix and by their own areas' role tests.
PAGES = [
    ("GET", "/staff", "dashboard.view"),
    ("POST", "/staff/ledger/check", "ledger.check"),
    ("GET", "/staff/customers?q=mei", "customers.view"),
    ("GET", "/staff/customers/{customer}", "customers.view"),
    ("GET", "/staff/audit", "audit.view"),
    ("GET", "/staff/limits", "limits.view"),
    ("GET", "/staff/limits/mobile/own_transfer/CNY", "limits.edit"),
    ("POST", "/staff/limits/mobile/own_transfer/CNY", "limits.edit"),
    ("GET", "/staff/merchants", "merchants.view"),
    ("GET", "/staff/customers/{customer}/lock", "customers.view"),
    ("POST", "/staff/customers/{customer}/unlock", "customers.unlock"),
    ("GET", "/staff/phishing", "phishing.manage"),
    ("POST", "/staff/phishing", "phishing.manage"),
    ("POST", "/staff/phishing/{channel}/retire", "phishing.manage"),
    ("GET", "/staff/customers/{customer}/sections/security", "customers.view"),
    ("GET", "/staff/accounts/{account}", "customers.view"),
    ("GET", "/staff/transfers/{transfer}", "customers.view"),
    ("GET", "/staff/audit/export.csv", "audit.view"),
    ("GET", "/staff/catalog", "catalog.view"),
    ("GET", "/staff/catalog/new", "catalog.propose"),
    ("GET", "/staff/catalog/proposals", "catalog.view"),
    ("GET", "/staff/catalog/proposals/{proposal}", "catalog.view"),
    ("GET", "/staff/catalog/services/retail.transfer", "catalog.view"),
    ("GET", "/staff/catalog/services/retail.transfer/edit", "catalog.propose"),
    ("GET", "/staff/messages", "messages.manage"),
    ("GET", "/staff/messages/delivery", "messages.manage"),
    ("GET", "/staff/messages/notices", "messages.manage"),
    ("GET", "/staff/messages/templates/transfer.received", "messages.manage"),
    # Anti-fraud (issue 5): {case} is a held transfer's case, {rule} a published rule.
    ("GET", "/staff/risk/cases", "risk.cases.view"),
    ("GET", "/staff/risk/cases/counts", "risk.cases.view"),
    ("GET", "/staff/risk/cases/{case}", "risk.cases.view"),
    ("GET", "/staff/risk/rules", "risk.rules.view"),
    ("GET", "/staff/risk/rules/new", "risk.rules.propose"),
    ("GET", "/staff/risk/rules/{rule}", "risk.rules.view"),
    ("GET", "/staff/risk/lists", "risk.lists.view"),
    ("GET", "/staff/risk/models", "risk.models.view"),
]
NAV = {
    "dashboard.view": "/staff",
    "customers.view": "/staff/customers",
    "limits.view": "/staff/limits",
    "merchants.view": "/staff/merchants",
    "audit.view": "/staff/audit",
    "phishing.manage": "/staff/phishing",
    "catalog.view": "/staff/catalog",
    "messages.manage": "/staff/messages",
    "risk.cases.view": "/staff/risk/cases",
    "risk.rules.view": "/staff/risk/rules",
}
# What each kind of form posts (anything else posts a bank limit).
FORMS = {
    "/unlock": {"reason": "caller verified by the branch"},
    "/staff/phishing": {"kind": "web", "value": "roles-check.example", "label": "Roles check"},
    "/retire": {},
}
_NAV_LINK = re.compile(r'<nav class="sidenav".*?</nav>', re.S)


_TEMPLATE_OF = {
    "{customer}": "{customer_id}", "{channel}": "{channel_id}", "{account}": "{account_id}",
    "{transfer}": "{transfer_id}", "{proposal}": "{proposal_id}", "/mobile/own_transfer/CNY":
    "/{channel}/{method}/{currency}", "/sections/security": "/sections/{section}",
    "/services/retail.transfer": "/services/{key}", "/templates/transfer.received": "/templates/{key}",
    "{case}": "{case_id}", "{rule}": "{rule_id}",
}


def test_the_matrix_covers_every_console_page() -> None:
    covered = set()
    for method, path, _ in PAGES:
        path = path.split("?")[0]
        for concrete, template in _TEMPLATE_OF.items():
            path = path.replace(concrete, template)
        covered.add((method, path))
    pages = {e.key for e in endpoints(create_app(start_background=False)) if e.path.startswith("/staff")}
    pages -= set(console.PUBLIC_PAGES) | {("GET", "/staff/{rest:path}")}
    assert {p for p in pages if p[0] == "GET"} == {p for p in covered if p[0] == "GET"}
    assert covered <= pages


def _request(client, method: str, path: str):  # type: ignore[no-untyped-def]
    if method == "GET":
        # A 360 section is an htmx fragment; without htmx it redirects to the whole page.
        headers = {"HX-Request": "true"} if "/sections/" in path else {}
        return client.get(path, follow_redirects=False, headers=headers)
    token = csrf_from(client.get("/staff").text)
    form = next((f for end, f in FORMS.items() if path.endswith(end)), None)
    if form is None:
        form = {"per_transaction": "5,000.00", "daily": "50,000", "monthly": "200000"}
    return client.post(path, data={"csrf_token": token, **form}, follow_redirects=False)


def _locked(db, customer_id: str) -> None:  # type: ignore[no-untyped-def]
    """Enough wrong passwords for a temporary sign-in lock (so there is something to unlock)."""
    for _ in range(lockout.policy().max_failures):
        db.run(lambda s: lockout.record_failure(s, customer_id))


def _channel(db) -> str:  # type: ignore[no-untyped-def]
    admin = make_staff(db, "administrator", username="channel-admin")
    with db.unit_of_work() as s:
        return phishing.add_channel(
            s, staff_id=admin.id, staff_role=admin.role, kind="sms", value="95588", label="Roles"
        ).id


def _proposal(db) -> str:  # type: ignore[no-untyped-def]
    maker = make_staff(db, "operator", username="roles-maker")
    with db.unit_of_work() as s:
        current = catalog.get_managed(s, "retail.transfer").version
        return catalog.propose(
            s, maker.id,
            ProposalCreate(kind="switch", service_key="retail.transfer", base_version=current, enabled=False),
        ).id


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_its_pages(client, db, role: str) -> None:  # type: ignore[no-untyped-def]
    who = seed_customer(db, username="mei", display_name="王美丽")
    other = seed_customer(db, username="lan", display_name="林兰")
    _locked(db, who.customer_id)
    channel = _channel(db)
    transfer = pay(db, customer_id=who.customer_id, from_account_id=who.accounts[0].id,
                   to_account_number=other.accounts[0].number, amount_minor=12_00)
    proposal = _proposal(db)
    with db.unit_of_work() as s:
        message_templates.ensure_builtin_templates(s)
    fraud_team = risk_support.analysts(db, prefix="roles")
    rule = risk_support.publish_rule(db, fraud_team)
    case = risk_support.held_case(db, who.customer_id)
    user = make_staff(db, role)
    sign_in(client, user)
    wrong = []
    for method, template, action in PAGES:
        path = template.format(customer=who.customer_id, channel=channel, account=who.accounts[0].id,
                               transfer=transfer, proposal=proposal, case=case, rule=rule)
        r = _request(client, method, path)
        if permissions.allowed(role, action):
            ok = r.status_code == 200 or (method == "POST" and r.status_code == 303 and "ledger" not in path)
        else:
            ok = r.status_code == 403 and "无权访问" in r.text and "王美丽" not in r.text
        if not ok:
            wrong.append((role, method, path, r.status_code))
    assert not wrong, wrong


@pytest.mark.parametrize("role", ROLES)
def test_the_sidebar_offers_exactly_the_pages_of_the_role(client, db, role: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, make_staff(db, role))
    html = client.get("/staff").text
    nav = _NAV_LINK.search(html)
    assert nav, "no sidebar"
    offered = set(re.findall(r'<a href="([^"]+)"', nav.group(0)))
    assert offered == {href for action, href in NAV.items() if permissions.allowed(role, action)}
    assert 'aria-current="page"' in nav.group(0)


def test_a_staff_user_with_an_unknown_role_may_open_nothing(client, db) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, make_staff(db, "teller"))
    for method, template, _ in PAGES:
        path = template.format(customer="cus_x", channel="chn_x", account="acc_x", transfer="trf_x",
                               proposal="prp_x", case="rcas_x", rule="rrul_x")
        r = _request(client, method, path)
        assert r.status_code == 403, (method, template)
