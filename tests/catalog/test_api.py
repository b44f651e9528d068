"""/api/v1/catalog through the HTTP client: the caller's identity decides what it sees; hidden is 404."""

from __future__ import annotations

import pytest

from atrium.catalog import service as catalog
from tests.auth_support import api_login
from tests.catalog.factories import PASSWORD, definition, make_customer, publish, staff


@pytest.fixture()
def bank(db):  # type: ignore[no-untyped-def]
    """The built-in catalogue, a service for customers aged 60+, a senior and a young company operator."""
    with db.unit_of_work() as s:
        catalog.sync_definitions(s)
        publish(s, staff(s, "api-m"), staff(s, "api-c"),
                definition("wealth.pension", audience={"attr": "age", "op": "gte", "value": 60}))
        senior = make_customer(s, age=70, username="api-senior")
        young = make_customer(s, age=35, username="api-young", company_role="finance")
    return {"senior": senior, "young": young}


def keys(r) -> list[str]:  # type: ignore[no-untyped-def]
    assert r.status_code == 200, r.text
    return [x["key"] for x in r.json()]


def test_services_follow_the_callers_audience(client, bank) -> None:  # type: ignore[no-untyped-def]
    senior = api_login(client, "api-senior", PASSWORD)
    young = api_login(client, "api-young", PASSWORD)
    assert "wealth.pension" in keys(client.get("/api/v1/catalog/services", headers=senior))
    assert "wealth.pension" not in keys(client.get("/api/v1/catalog/services", headers=young))
    assert client.get("/api/v1/catalog/services/wealth.pension", headers=senior).json()["target"] == "/limits"
    hidden = client.get("/api/v1/catalog/services/wealth.pension", headers=young)
    missing = client.get("/api/v1/catalog/services/wealth.nothing", headers=young)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["type"] == missing.json()["type"]  # a hidden key looks like a missing one


def test_search_and_locale(client, bank) -> None:  # type: ignore[no-untyped-def]
    senior = api_login(client, "api-senior", PASSWORD)
    found = client.get("/api/v1/catalog/services", params={"q": "养老"}, headers=senior)
    assert keys(found) == ["wealth.pension"]
    assert keys(client.get("/api/v1/catalog/services", params={"q": "transfer", "locale": "en"},
                           headers=senior))[0] == "retail.transfer"
    bad = client.get("/api/v1/catalog/services", params={"locale": "fr"}, headers=senior)
    assert bad.status_code == 422
    assert client.get("/api/v1/catalog/services", params={"q": "x" * 101}, headers=senior).status_code == 422


def test_switching_identity_changes_services_and_tabs(client, bank) -> None:  # type: ignore[no-untyped-def]
    headers = api_login(client, "api-young", PASSWORD)
    assert "retail.transfer" in keys(client.get("/api/v1/catalog/services", headers=headers))
    tabs = client.get("/api/v1/catalog/tabs", headers=headers).json()
    assert [t["key"] for t in tabs] == ["home", "transfer", "scan", "services", "me"]
    company = bank["young"].identities["company_operator"].id
    r = client.post(f"/api/v1/auth/identities/{company}/switch", headers=headers)
    assert r.status_code == 200, r.text
    seen = keys(client.get("/api/v1/catalog/services", headers=headers))
    assert "enterprise.company" in seen and "retail.transfer" not in seen
    tabs = client.get("/api/v1/catalog/tabs", headers=headers).json()
    assert tabs[1] == {"key": "enterprise.company", "href": "/biz", "icon": "building",
                       "label": {"zh": "企业概览", "en": "Company overview"}}


def test_uses_feed_the_callers_frequent_row(client, bank) -> None:  # type: ignore[no-untyped-def]
    headers = api_login(client, "api-senior", PASSWORD)
    for _ in range(2):
        assert client.post("/api/v1/catalog/services/retail.limits/uses", headers=headers).status_code == 204
    assert client.post("/api/v1/catalog/services/wealth.pension/uses", headers=headers).status_code == 204
    frequent = keys(client.get("/api/v1/catalog/frequent", headers=headers))
    assert frequent == ["retail.limits", "wealth.pension"]
    refused = client.post("/api/v1/catalog/services/enterprise.company/uses", headers=headers)
    assert refused.status_code == 404
    assert refused.headers["content-type"].startswith("application/problem+json")
    other = api_login(client, "api-young", PASSWORD)
    assert keys(client.get("/api/v1/catalog/frequent", headers=other)) == []


def test_the_catalogue_api_is_for_signed_in_customers(client, bank, db) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/catalog/services").status_code == 401
    with db.unit_of_work() as s:
        staff(s, "api-staff")
    r = client.post("/api/v1/auth/login",
                    json={"username": "api-staff", "password": PASSWORD, "kind": "staff"})
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    assert client.get("/api/v1/catalog/tabs", headers=headers).status_code == 403
