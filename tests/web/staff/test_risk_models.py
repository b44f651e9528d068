"""The model registry through the console: models with role, window, rows and holdout metrics; a training
run on a window (refused clearly when the window has too few labels); promoting a challenger."""

from __future__ import annotations

from datetime import timedelta

from atrium.kit import clock
from atrium.risk import service as risk
from tests.web.mobile.factories import seed_customer
from tests.web.staff import risk_support as rs
from tests.web.staff.factories import make_staff, page_token, sign_in


def _local(days_ago: float) -> str:
    return (clock.now() - timedelta(days=days_ago)).astimezone(rs.BANK_TZ).strftime("%Y-%m-%dT%H:%M")


def _train(client, token: str, since: float, until: float):  # type: ignore[no-untyped-def]
    data = {"csrf_token": token, "since": _local(since), "until": _local(until)}
    return client.post("/staff/risk/models/train", data=data, follow_redirects=False)


def test_training_a_challenger_and_promoting_it(client, db) -> None:  # type: ignore[no-untyped-def]
    who = seed_customer(db, username="mei", display_name="王美丽")
    team = rs.analysts(db)
    rs.train_champion(db, who.customer_id, team, rows=45)
    sign_in(client, team.maker)
    page = client.get("/staff/risk/models").text
    assert page.count('class="row-highlight"') == 1 and "冠军" in page and "AUC" in page

    token = page_token(client, "/staff/risk/models")
    r = _train(client, token, 3, 1)
    assert r.status_code == 422 and "已标注数据不足" in r.text
    r = _train(client, token, 41, 8)
    assert r.status_code == 303
    with db.read_session() as s:
        challenger = next(m for m in risk.list_models(s) if m.role == "challenger")
    assert challenger.rows > 10
    page = client.get("/staff/risk/models").text
    assert "挑战者" in page and challenger.version in page
    assert 'id="promote-1"' not in page and 'id="promote-by-other"' in page  # who trains does not promote
    token = page_token(client, "/staff/risk/models")
    r = client.post(f"/staff/risk/models/{challenger.id}/promote", data={"csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 403

    sign_in(client, make_staff(db, "compliance_officer"))
    token = page_token(client, "/staff/risk/models")
    assert 'id="promote-1"' in client.get("/staff/risk/models").text
    r = client.post(f"/staff/risk/models/{challenger.id}/promote", data={"csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303
    with db.read_session() as s:
        assert risk.get_model(s, challenger.id).role == "champion"
    r = client.post(f"/staff/risk/models/{challenger.id}/promote", data={"csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 409


def test_a_window_in_the_wrong_order_is_refused_next_to_its_field(client, db) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, make_staff(db, "risk_analyst"))
    token = page_token(client, "/staff/risk/models")
    r = _train(client, token, 1, 3)
    assert r.status_code == 422 and 'id="f-until-error"' in r.text


def test_compliance_reads_the_registry_but_does_not_train(client, db) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, make_staff(db, "compliance_officer"))
    page = client.get("/staff/risk/models")
    assert page.status_code == 200 and 'id="train-run"' not in page.text
    token = page_token(client, "/staff/risk/models")
    r = client.post("/staff/risk/models/train", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 403
