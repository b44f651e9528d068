"""Identities: the person and organisation identities of one login, and switching a session between them."""

from __future__ import annotations

import pytest

from atrium.identity import identities, service, sessions
from atrium.identity.identities import IdentityExists, IdentityNotFound
from atrium.kit.errors import ValidationFailed


def _customer(db, username: str = "mei") -> str:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        return service.create_customer(s, username=username, password="pw", display_name=username).id


def _signed_in(db, customer_id: str):  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        _, principal = sessions.open_session(s, customer_id=customer_id, amr=["pwd", "sms"])
    return principal


def _add_company(  # type: ignore[no-untyped-def]
    db, customer_id: str, ref: str = "91310000MA1FL0001X", name: str = "上海青禾贸易"
):
    with db.unit_of_work() as s:
        return identities.add_identity(
            s, customer_id=customer_id, kind="company_operator", org_name=name, org_ref=ref, role="finance"
        )


def test_a_customer_starts_with_a_person_identity(db):
    customer_id = _customer(db)
    with db.read_session() as s:
        [person] = identities.list_identities(s, customer_id)
    assert person.kind == "person" and person.org_name == "" and not person.current


def test_ensure_person_is_idempotent(db):
    customer_id = _customer(db)
    with db.unit_of_work() as s:
        first = identities.ensure_person(s, customer_id)
        again = identities.ensure_person(s, customer_id)
    assert first.id == again.id
    with db.read_session() as s:
        assert len(identities.list_identities(s, customer_id)) == 1


def test_organisations_are_listed_after_the_person(db):
    customer_id = _customer(db)
    company = _add_company(db, customer_id)
    with db.unit_of_work() as s:
        shop = identities.add_identity(
            s, customer_id=customer_id, kind="merchant", org_name="街角咖啡", org_ref="mch_001", role="owner"
        )
    with db.read_session() as s:
        kinds = [(i.kind, i.id) for i in identities.list_identities(s, customer_id)]
    assert kinds[0][0] == "person"
    assert kinds[1:] == [("company_operator", company.id), ("merchant", shop.id)]


def test_one_identity_per_organisation(db):
    customer_id = _customer(db)
    _add_company(db, customer_id)
    with pytest.raises(IdentityExists):
        _add_company(db, customer_id, name="another name, same registration number")


@pytest.mark.parametrize(
    ("kind", "name", "ref"),
    [("person", "x", "y"), ("staff", "x", "y"), ("merchant", "", "mch_1"), ("merchant", "x", " "),
     ("merchant", "x" * 121, "mch_1")],
)
def test_organisation_identities_need_a_kind_name_and_reference(db, kind, name, ref):
    customer_id = _customer(db)
    with db.unit_of_work() as s, pytest.raises(ValidationFailed):
        identities.add_identity(s, customer_id=customer_id, kind=kind, org_name=name, org_ref=ref)


def test_a_session_acts_as_the_person_until_it_switches(db):
    customer_id = _customer(db)
    company = _add_company(db, customer_id)
    principal = _signed_in(db, customer_id)
    with db.read_session() as s:
        current = identities.current_identity(s, principal)
    assert current is not None and current.kind == "person" and current.current
    with db.unit_of_work() as s:
        switched = identities.switch(s, principal, company.id)
    assert switched.id == company.id and switched.current
    with db.read_session() as s:
        assert identities.current_identity(s, principal).id == company.id  # type: ignore[union-attr]
        listed = identities.list_identities(s, customer_id, current_id=company.id)
        assert [i.current for i in listed] == [False, True]
        # The session row carries it, so the next request's principal sees it too.
        assert sessions.by_sid(s, principal.sid).identity_id == company.id  # type: ignore[union-attr]


def test_switching_is_per_session(db):
    customer_id = _customer(db)
    company = _add_company(db, customer_id)
    phone, tablet = _signed_in(db, customer_id), _signed_in(db, customer_id)
    with db.unit_of_work() as s:
        identities.switch(s, phone, company.id)
    with db.read_session() as s:
        assert identities.current_identity(s, tablet).kind == "person"  # type: ignore[union-attr]


def test_another_customers_identity_is_not_found(db):
    mei, lei = _customer(db, "mei"), _customer(db, "lei")
    leis_company = _add_company(db, lei)
    principal = _signed_in(db, mei)
    for identity_id in (leis_company.id, "idn_nonexistent"):
        with db.unit_of_work() as s, pytest.raises(IdentityNotFound):
            identities.switch(s, principal, identity_id)
    with db.read_session() as s:
        assert identities.current_identity(s, principal).kind == "person"  # type: ignore[union-attr]


def test_a_revoked_session_cannot_switch(db):
    customer_id = _customer(db)
    company = _add_company(db, customer_id)
    principal = _signed_in(db, customer_id)
    with db.unit_of_work() as s:
        sessions.revoke(s, customer_id, principal.sid)
    with db.unit_of_work() as s, pytest.raises(Exception, match="session"):
        identities.switch(s, principal, company.id)


# --- the API ------------------------------------------------------------------------------------------------


def _bearer(db, customer_id: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        token, _ = sessions.open_session(s, customer_id=customer_id, amr=["pwd", "sms"], client="api")
    return {"Authorization": f"Bearer {token}"}


def test_the_api_lists_and_switches_identities(client, db):
    customer_id = _customer(db)
    company = _add_company(db, customer_id)
    auth = _bearer(db, customer_id)
    listed = client.get("/api/v1/auth/identities", headers=auth).json()
    assert [(i["kind"], i["current"]) for i in listed] == [("person", True), ("company_operator", False)]
    r = client.post(f"/api/v1/auth/identities/{company.id}/switch", headers=auth)
    assert r.status_code == 200 and r.json()["id"] == company.id and r.json()["current"] is True
    listed = client.get("/api/v1/auth/identities", headers=auth).json()
    assert [i["current"] for i in listed] == [False, True]
    assert client.get("/api/v1/auth/me", headers=auth).status_code == 200


def test_the_api_hides_other_customers_identities(client, db):
    mei, lei = _customer(db, "mei"), _customer(db, "lei")
    leis_company = _add_company(db, lei)
    r = client.post(f"/api/v1/auth/identities/{leis_company.id}/switch", headers=_bearer(db, mei))
    assert r.status_code == 404 and r.json()["type"].endswith("/identity-not-found")
    too_long = client.post(f"/api/v1/auth/identities/{'x' * 41}/switch", headers=_bearer(db, mei))
    assert too_long.status_code == 422
