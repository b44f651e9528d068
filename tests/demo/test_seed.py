from datetime import date

from atrium.demo import seed as demo
from atrium.demo.history import build_history
from atrium.demo.seed import _people
from atrium.identity import identities, kyc
from atrium.identity import service as identity
from atrium.ledger import service as ledger
from atrium.payments import service as payments
from tests.auth_support import api_login


def test_history_is_deterministic_and_never_overdraws():
    people = _people(40, seed=3)
    a = build_history(people, date(2026, 1, 1), date(2026, 3, 31), seed=3)
    b = build_history(people, date(2026, 1, 1), date(2026, 3, 31), seed=3)
    assert a == b
    assert [m.at for m in a] == sorted(m.at for m in a)
    balance: dict = {}
    for m in a:
        if m.debit[0] in {"cur", "sav", "usd"}:
            balance[m.debit] = balance.get(m.debit, 0) - m.amount_minor
            assert balance[m.debit] >= 0, m
        balance[m.credit] = balance.get(m.credit, 0) + m.amount_minor
    kinds = {m.kind for m in a}
    assert {"salary", "card_payment", "qr_payment", "bill_payment", "interbank_transfer"} <= kinds


def test_seed_builds_a_bank_whose_books_balance(db, client):
    report = demo.seed(db, customers=12, months=1, seed_value=5, today=date(2026, 11, 27))
    assert report.customers == 12 and report.staff == len(demo.STAFF) and report.merchants > 20
    assert report.movements > 100
    assert demo.is_seeded(db)
    with db.read_session() as s:
        result = ledger.check(s)
        assert result.ok, result.discrepancies
        customer = identity.find_customer_by_username(s, "demo")
        assert customer is not None
        transfers = payments.list_transfers(s, customer_id=customer.id).items
        assert {t.kind for t in transfers} >= {"internal", "interbank"}
    # The published demo logins work: the password, then the SMS code from the development outbox.
    with db.read_session() as s:
        customer = identity.find_customer_by_username(s, "demo")
        assert customer is not None
        phone = identity.phone_of(customer)
        assert phone is not None and customer.phone_enc and phone not in customer.phone_enc
        masked = kyc.profile(s, customer.id)
        assert masked.id_number and "*" in masked.id_number and masked.legal_name and "*" in masked.legal_name
        kinds = {i.kind for i in identities.list_identities(s, customer.id)}
        assert kinds == {"person", "company_operator", "merchant"}
    headers = api_login(client, "demo", demo.DEMO_PASSWORD, phone=phone)
    assert client.get("/api/v1/auth/me", headers=headers).json()["username"] == "demo"
    r = client.post("/api/v1/auth/login",
                    json={"username": "operator", "password": demo.STAFF_PASSWORD, "kind": "staff"})
    assert r.status_code == 200
