from datetime import date

from atrium.demo import seed as demo
from atrium.demo.history import build_history
from atrium.demo.seed import _people
from atrium.identity import service as identity
from atrium.ledger import service as ledger
from atrium.payments import service as payments


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
    # The published demo logins work.
    r = client.post("/api/v1/auth/login", json={"username": "demo", "password": demo.DEMO_PASSWORD})
    assert r.status_code == 200
    r = client.post("/api/v1/auth/login",
                    json={"username": "operator", "password": demo.STAFF_PASSWORD, "kind": "staff"})
    assert r.status_code == 200
