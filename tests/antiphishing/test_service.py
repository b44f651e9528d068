"""The registered channels (defaults, add, retire, audit, role check) and the check over real messages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from atrium.antiphishing import service
from atrium.antiphishing.errors import (
    ChannelAlreadyRegistered,
    ChannelAlreadyRetired,
    ChannelNotFound,
    InvalidChannel,
    NotAllowedToManageChannels,
)
from atrium.antiphishing.models import ChannelChange
from atrium.notify import service as notify

PHONE = "13812345678"


def test_defaults_are_written_once_and_a_retired_one_stays_retired(session) -> None:  # type: ignore[no-untyped-def]
    assert service.ensure_defaults(session) == 5
    assert service.ensure_defaults(session) == 0
    values = {(c.kind, c.value) for c in service.list_channels(session)}
    assert {("web", "atrium.bank"), ("web", "m.atrium.bank"), ("email", "atrium.bank"),
            ("phone", "4008202026"), ("sms", "106920262026")} == values
    line = next(c for c in service.list_channels(session) if c.kind == "phone")
    service.retire_channel(session, staff_id="stf_1", staff_role="operator", channel_id=line.id)
    assert service.ensure_defaults(session) == 0
    assert not next(c for c in service.list_channels(session) if c.kind == "phone").active


def test_staff_add_and_retire_channels_and_every_change_is_audited(session) -> None:  # type: ignore[no-untyped-def]
    added = service.add_channel(session, staff_id="stf_1", staff_role="operator", kind="phone",
                                value="+86 21 6020 2026", label="  Overseas   line ")
    assert (added.value, added.display, added.label, added.added_by) == (
        "02160202026", "+86 21 6020 2026", "Overseas line", "stf_1")
    assert service.check(session, "中庭银行 021-6020-2026").verdict == "genuine"
    retired = service.retire_channel(
        session, staff_id="stf_2", staff_role="administrator", channel_id=added.id
    )
    assert not retired.active and retired.retired_by == "stf_2" and retired.retired_at is not None
    assert service.check(session, "中庭银行 021-6020-2026").verdict == "suspicious"
    changes = session.scalars(select(ChannelChange).order_by(ChannelChange.id))
    actions = [(c.action, c.actor_id) for c in changes]
    assert actions == [("added", "stf_1"), ("retired", "stf_2")]
    with pytest.raises(ChannelAlreadyRetired):
        service.retire_channel(session, staff_id="stf_2", staff_role="administrator", channel_id=added.id)
    again = service.add_channel(session, staff_id="stf_1", staff_role="operator", kind="phone",
                                value="021 6020 2026", label="Back again")
    assert again.id != added.id and again.active


def test_channel_changes_are_refused_when_wrong(session) -> None:  # type: ignore[no-untyped-def]
    service.add_channel(session, staff_id="s", staff_role="operator", kind="web", value="atrium.bank",
                        label="Site", include_subdomains=True)
    with pytest.raises(ChannelAlreadyRegistered):
        service.add_channel(session, staff_id="s", staff_role="operator", kind="web", value="HTTPS://Atrium.Bank/",
                            label="Again")
    with pytest.raises(InvalidChannel):
        service.add_channel(session, staff_id="s", staff_role="operator", kind="phone", value="hello",
                            label="x")
    with pytest.raises(InvalidChannel):
        service.add_channel(session, staff_id="s", staff_role="operator", kind="web", value="a.bank",
                            label=" ")
    with pytest.raises(NotAllowedToManageChannels):
        service.add_channel(session, staff_id="s", staff_role="risk_analyst", kind="web", value="b.bank",
                            label="x")
    with pytest.raises(ChannelNotFound):
        service.retire_channel(session, staff_id="s", staff_role="operator", channel_id="pch_missing")
    sms = service.add_channel(session, staff_id="s", staff_role="operator", kind="phone", value="95588",
                              label="x", include_subdomains=True)
    assert not sms.include_subdomains  # only domains have subdomains


def test_a_real_message_and_its_code_are_genuine(session) -> None:  # type: ignore[no-untyped-def]
    service.ensure_defaults(session)
    text = "您的账户在新设备登录。如非本人操作请致电400-820-2026。"
    sent = notify.send_sms(session, phone=PHONE, text=text, category="security.alert")
    result = service.check(session, sent.body, locale="en")
    assert result.verdict == "genuine"
    code = next(f for f in result.findings if f.kind == "code")
    assert code.text_matches is True and code.sent is not None
    assert code.sent.recipient_masked == "138****5678" and code.sent.sent_at == sent.sent_at
    assert result.reasons[0].id == "message_authentic" and "original message" in result.reasons[0].message
    assert "body" not in code.sent.model_dump()  # the check never shows what was sent


def test_an_edited_message_with_a_real_code_is_suspicious(session) -> None:  # type: ignore[no-untyped-def]
    sent = notify.send_sms(session, phone=PHONE, text="Your card was used.", category="security.alert",
                           locale="en")
    edited = sent.body.replace("Your card was used.", "Your card is frozen, visit atrium-unlock.top.")
    result = service.check(session, edited, locale="zh")
    assert result.verdict == "suspicious"
    ids = {r.id for r in result.reasons}
    assert {"text_differs", "text_added_link"} <= ids
    assert any("可能被篡改" in r.message for r in result.reasons)


def test_an_unknown_code_is_suspicious_and_the_code_alone_is_genuine(session) -> None:  # type: ignore[no-untyped-def]
    sent = notify.send_sms(session, phone=PHONE, text="验证码 482913，5分钟内有效。", category="otp.login")
    assert service.check(session, sent.verify_code.lower()).verdict == "genuine"
    fake = "".join(reversed(sent.verify_code.replace("-", "")))
    fake = f"{fake[:4]}-{fake[4:]}" if fake != sent.verify_code.replace("-", "") else "ZZZZ-ZZZZ"
    result = service.check(session, f"【中庭银行】您的账户已冻结 [Atrium 核验码 {fake}]")
    assert result.verdict == "suspicious" and "code_not_issued" in {r.id for r in result.reasons}


def test_the_check_counts_hits_per_address(session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from atrium.kit.errors import RateLimited

    monkeypatch.setattr(service, "CHECK_LIMIT", 2)
    service.count_check(session, ip="198.51.100.7")
    service.count_check(session, ip="198.51.100.7")
    service.count_check(session, ip="198.51.100.8")
    with pytest.raises(RateLimited) as caught:
        service.count_check(session, ip="198.51.100.7")
    assert caught.value.status == 429 and caught.value.extra["retry_after"] >= 1
