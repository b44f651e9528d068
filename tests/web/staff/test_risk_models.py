"""The model registry through the console: models with role, window, rows and holdout metrics; a training
run on a window (refused clearly when the window has too few labels); promoting a challenger, which one
person asks for and another decides (never the one who asked)."""

from __future__ import annotations

import re
import time
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


def _challenger(client, db, team):  # type: ignore[no-untyped-def]
    """The maker trains a challenger through the console (after a clear refusal of a too-short window)."""
    sign_in(client, team.maker)
    token = page_token(client, "/staff/risk/models")
    r = _train(client, token, 3, 1)
    assert r.status_code == 422 and "已标注数据不足" in r.text
    # A model's version is its training second and its content: trained on the champion's rows within the
    # champion's second, the challenger would be the very same model (and no challenger).
    time.sleep(1.0 - time.time() % 1.0)
    r = _train(client, token, 41, 8)
    assert r.status_code == 303
    with db.read_session() as s:
        return next(m for m in risk.list_models(s) if m.role == "challenger")


def _post(client, path: str, **data: str):  # type: ignore[no-untyped-def]
    token = page_token(client, "/staff/risk/models")
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def _pending(db):  # type: ignore[no-untyped-def]
    with db.read_session() as s:
        [request] = risk.list_promotions(s, status="pending")
    return request


def test_training_a_challenger_and_promoting_it_takes_two_people(client, db) -> None:  # type: ignore[no-untyped-def]
    who = seed_customer(db, username="mei", display_name="王美丽")
    team = rs.analysts(db)
    rs.train_champion(db, who.customer_id, team, rows=45)
    sign_in(client, team.maker)
    page = client.get("/staff/risk/models").text
    assert page.count('class="row-highlight"') == 1 and "冠军" in page and "AUC" in page

    challenger = _challenger(client, db, team)
    assert challenger.rows > 10
    page = client.get("/staff/risk/models").text
    assert "挑战者" in page and challenger.version in page
    assert 'id="promote-1"' not in page and 'id="request-1"' in page  # the analyst asks, never promotes
    base = f"/staff/risk/models/{challenger.id}"
    assert _post(client, base + "/promote").status_code == 403
    r = _post(client, base + "/request-promotion", reason="  ")
    assert r.status_code == 422 and 'id="f-reason-1"' in r.text
    r = _post(client, base + "/request-promotion", reason="AP 更高，影子评分已满 30 天")
    assert r.status_code == 303 and r.headers["location"].endswith("done=requested")
    request = _pending(db)
    assert (request.requested_by, request.reason) == (team.maker.id, "AP 更高，影子评分已满 30 天")
    page = client.get("/staff/risk/models").text
    assert 'id="request-1"' not in page and 'id="promotion-mine-1"' in page
    assert 'id="promotions"' in page and "张分析" in page and "待审批" in page

    sign_in(client, team.checker)  # another analyst: sees the request waiting, may not decide it
    page = client.get("/staff/risk/models").text
    assert 'id="promote-by-other"' in page and 'id="promote-1"' not in page and 'id="request-1"' not in page

    officer = make_staff(db, "compliance_officer", display_name="赵合规")
    sign_in(client, officer)
    page = client.get("/staff/risk/models").text
    assert 'id="promote-1"' in page and 'id="reject-1"' in page and "AP 更高" in page
    r = _post(client, base + "/promote", promotion_id=request.id, note="比较了 30 天")
    assert r.status_code == 303 and r.headers["location"].endswith("done=promoted")
    with db.read_session() as s:
        assert risk.get_model(s, challenger.id).role == "champion"
        [done] = risk.list_promotions(s, status="approved")
    assert (done.requested_by, done.decided_by) == (team.maker.id, officer.id)
    assert done.decision_note == "比较了 30 天"
    page = client.get("/staff/risk/models").text
    assert "已批准" in page and "赵合规" in page and "张分析" in page
    assert _post(client, base + "/promote", promotion_id=request.id).status_code == 409


def test_a_compliance_officer_cannot_decide_their_own_request(client, db) -> None:  # type: ignore[no-untyped-def]
    who = seed_customer(db, username="mei", display_name="王美丽")
    team = rs.analysts(db)
    rs.train_champion(db, who.customer_id, team, rows=45)
    challenger = _challenger(client, db, team)
    base = f"/staff/risk/models/{challenger.id}"
    asker = make_staff(db, "compliance_officer", username="co.asker", display_name="钱合规")
    sign_in(client, asker)
    assert _post(client, base + "/request-promotion", reason="挑战者 AUC 更高").status_code == 303
    request = _pending(db)
    page = client.get("/staff/risk/models").text
    assert 'id="promotion-mine-1"' in page and 'id="promote-1"' not in page and 'id="reject-1"' not in page
    r = _post(client, base + "/promote", promotion_id=request.id)
    assert r.status_code == 403 and "不能由您本人决定" in r.text
    assert _post(client, base + "/reject-promotion", promotion_id=request.id, note="撤回").status_code == 403
    with db.read_session() as s:
        assert risk.get_model(s, challenger.id).role == "challenger"

    sign_in(client, make_staff(db, "compliance_officer", username="co.checker", display_name="孙合规"))
    r = _post(client, base + "/reject-promotion", promotion_id=request.id, note="")
    assert r.status_code == 422
    r = _post(client, base + "/reject-promotion", promotion_id=request.id, note="留出集欺诈太少")
    assert r.status_code == 303 and r.headers["location"].endswith("done=rejected")
    with db.read_session() as s:
        assert risk.get_model(s, challenger.id).role == "challenger"
        assert [p.status for p in risk.list_promotions(s)] == ["rejected"]
    page = client.get("/staff/risk/models").text
    assert "已驳回" in page and "留出集欺诈太少" in page and 'id="request-1"' in page  # it may be asked again


def test_the_registry_shows_the_holdout_card_precision_at_100(client, db) -> None:  # type: ignore[no-untyped-def]
    who = seed_customer(db, username="mei", display_name="王美丽")
    team = rs.analysts(db)
    rs.train_champion(db, who.customer_id, team, rows=45)
    sign_in(client, team.maker)
    page = client.get("/staff/risk/models").text
    [cell] = re.findall(r'data-metric="cp100">([^<]*)<', page)
    assert cell != "—" and 0 < float(cell) <= 1


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
