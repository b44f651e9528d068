"""A third-party client needs the customer's consent (a CSRF-protected form); first-party clients do not."""

from __future__ import annotations

import re

from atrium.identity.oidc import service as oidc
from tests.identity.oidc.support import PARTNER_REDIRECT, authorize_params, browser_session, pkce, query_of
from tests.web.mobile.factories import csrf_from

PARTNER_SCOPE = "openid profile"


def _partner_params(challenge: str, **extra: str) -> dict[str, str]:
    return authorize_params(oidc.PARTNER_CLIENT, PARTNER_REDIRECT, challenge, scope=PARTNER_SCOPE, **extra)


def _hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))


def test_partner_gets_a_consent_page_and_a_code_after_allow(app_client, db, customer):
    browser_session(db, app_client, customer)
    verifier, challenge = pkce()
    params = _partner_params(challenge)
    page = app_client.get("/oauth2/authorize", params=params, follow_redirects=False)
    assert page.status_code == 200
    assert "Partner Demo" in page.text and 'value="allow"' in page.text
    # The answer goes to the partner's origin: the page's CSP lets the form's redirect go there.
    assert "form-action 'self' https://partner-demo.example" in page.headers["content-security-policy"]
    fields = _hidden_fields(page.text)
    assert fields["state"] == params["state"] and fields["code_challenge"] == challenge
    r = app_client.post("/oauth2/consent", data={**fields, "decision": "allow"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(PARTNER_REDIRECT + "?")
    answer = query_of(r.headers["location"])
    assert answer["state"] == params["state"]
    token = app_client.post(
        "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": PARTNER_REDIRECT,
            "code_verifier": verifier,
        },
        auth=(oidc.PARTNER_CLIENT, oidc.default_client_secret(oidc.PARTNER_CLIENT)),
    )
    assert token.status_code == 200, token.text
    assert "refresh_token" not in token.json()  # no offline_access for the partner

    # Consent is remembered: the next sign-in goes straight back with a code.
    again = app_client.get("/oauth2/authorize", params=_partner_params(challenge), follow_redirects=False)
    assert again.status_code == 303 and "code" in query_of(again.headers["location"])
    # ...unless the client asks for it again.
    forced = app_client.get(
        "/oauth2/authorize", params=_partner_params(challenge, prompt="consent"), follow_redirects=False
    )
    assert forced.status_code == 200 and 'value="allow"' in forced.text


def test_deny_sends_access_denied(app_client, db, customer):
    browser_session(db, app_client, customer)
    _, challenge = pkce()
    page = app_client.get("/oauth2/authorize", params=_partner_params(challenge))
    fields = _hidden_fields(page.text)
    r = app_client.post("/oauth2/consent", data={**fields, "decision": "deny"}, follow_redirects=False)
    answer = query_of(r.headers["location"])
    assert answer["error"] == "access_denied" and answer["state"] == fields["state"] and "code" not in answer


def test_consent_needs_the_csrf_token(app_client, db, customer):
    browser_session(db, app_client, customer)
    _, challenge = pkce()
    page = app_client.get("/oauth2/authorize", params=_partner_params(challenge))
    fields = _hidden_fields(page.text)
    fields.pop("csrf_token")
    r = app_client.post("/oauth2/consent", data={**fields, "decision": "allow"}, follow_redirects=False)
    assert r.status_code == 403 and "location" not in r.headers
    assert csrf_from(page.text)  # the page did carry one


def test_consent_form_cannot_change_the_redirect(app_client, db, customer):
    browser_session(db, app_client, customer)
    _, challenge = pkce()
    page = app_client.get("/oauth2/authorize", params=_partner_params(challenge))
    fields = {**_hidden_fields(page.text), "redirect_uri": "https://evil.example/cb", "decision": "allow"}
    r = app_client.post("/oauth2/consent", data=fields, follow_redirects=False)
    assert r.status_code == 400 and "location" not in r.headers


def test_prompt_none_without_consent_is_consent_required(app_client, db, customer):
    browser_session(db, app_client, customer)
    _, challenge = pkce()
    r = app_client.get(
        "/oauth2/authorize", params=_partner_params(challenge, prompt="none"), follow_redirects=False
    )
    assert query_of(r.headers["location"])["error"] == "consent_required"


def test_first_party_clients_never_ask(app_client, db, customer):
    browser_session(db, app_client, customer)
    _, challenge = pkce()
    r = app_client.get(
        "/oauth2/authorize", params=authorize_params(challenge=challenge), follow_redirects=False
    )
    assert r.status_code == 303 and "code" in query_of(r.headers["location"])


def test_consent_page_in_english(app_client, db, customer):
    browser_session(db, app_client, customer)
    _, challenge = pkce()
    page = app_client.get(
        "/oauth2/authorize", params=_partner_params(challenge), headers={"Accept-Language": "en"}
    )
    assert "Allow and continue" in page.text and "Your name, username and preferred language" in page.text
