"""Use cases of the anti-phishing check: check a text; list, add and retire the bank's registered channels.

Services flush, never commit. Every change to the channels is audited (`ChannelChange`) in the same
transaction; the domain keeps its own role check (`require_channel_manager`) beside the console's.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from atrium.antiphishing import domain, repository
from atrium.antiphishing.defaults import BRAND_NAMES, DEFAULT_CHANNELS
from atrium.antiphishing.errors import (
    ChannelAlreadyRegistered,
    ChannelAlreadyRetired,
    ChannelNotFound,
    InvalidChannel,
    NotAllowedToManageChannels,
)
from atrium.antiphishing.reasons import message
from atrium.antiphishing.schemas import (
    ChannelChangeRead,
    ChannelRead,
    CheckResult,
    FindingRead,
    ReasonRead,
    SentMessageInfo,
)
from atrium.identity.protection import ratelimit
from atrium.kit import clock
from atrium.notify import service as notify

# Who may change the registered channels (the console's "phishing.manage" grants the same roles).
CHANNEL_MANAGER_ROLES = frozenset({"administrator", "operator"})
LABEL_MAX = 120


def require_channel_manager(staff_role: str | None) -> None:
    if staff_role not in CHANNEL_MANAGER_ROLES:
        raise NotAllowedToManageChannels("the bank's channels are managed by operators and administrators")


# --- the check --------------------------------------------------------------------------------------------

CHECK_LIMIT = 30  # checks per client address …
CHECK_WINDOW_S = 600  # … in ten minutes: plenty for a person, too few to probe the verify codes


def count_check(session: Session, *, ip: str) -> None:
    """Count one check from `ip` against the per-address limit, or RateLimited (429, `retry_after`). The
    check is public: run this in a transaction of its own before it (`Database.run`)."""
    key = f"phishing:ip:{ip or 'unknown'}"
    ratelimit.hit(session, key, limit=CHECK_LIMIT, window_s=CHECK_WINDOW_S)


def registry(session: Session) -> domain.Registry:
    channels = tuple(
        domain.Registered(row.kind, row.value, row.label, row.include_subdomains)
        for row in repository.active_channels(session)
    )
    return domain.Registry(channels, BRAND_NAMES)


def _sent(session: Session, code: str) -> domain.SentRecord | None:
    row = notify.find_by_verify_code(session, code)
    if row is None:
        return None
    return domain.SentRecord(row.verify_code, row.body, row.sent_at, row.recipient_masked, row.channel,
                             row.category)


def _reason(reason: domain.Reason, locale: str) -> ReasonRead:
    return ReasonRead(id=reason.id, params=dict(reason.params), message=message(reason, locale))


def _finding(f: domain.Finding, locale: str) -> FindingRead:
    sent = None
    if f.sent is not None:
        sent = SentMessageInfo(sent_at=f.sent.sent_at, recipient_masked=f.sent.recipient_masked,
                               channel=f.sent.channel, category=f.sent.category)
    return FindingRead(
        kind=f.kind,  # type: ignore[arg-type]
        text=f.text, value=f.value, display=f.display, verdict=f.verdict,
        reasons=[_reason(r, locale) for r in f.reasons], label=f.label, sent=sent,
        text_matches=f.text_matches,
    )


def check(session: Session, text: str, *, locale: str = "zh") -> CheckResult:
    """Judge a pasted text, link or number (at most `domain.MAX_TEXT` characters are read)."""
    text = text[: domain.MAX_TEXT]
    sent = {code: _sent(session, code) for code in domain.codes_in(text)}
    result = domain.analyse(text, registry(session), sent)
    behind = [r for f in result.findings if f.verdict == result.verdict for r in f.reasons]
    reasons = list(dict.fromkeys([*result.reasons, *behind]))
    return CheckResult(
        verdict=result.verdict,
        reasons=[_reason(r, locale) for r in reasons],
        findings=[_finding(f, locale) for f in result.findings],
        claims_bank=result.claims_bank,
    )


# --- the registered channels ------------------------------------------------------------------------------


def list_channels(session: Session, *, include_retired: bool = True) -> list[ChannelRead]:
    rows = repository.all_channels(session) if include_retired else repository.active_channels(session)
    return [ChannelRead.model_validate(row) for row in rows]


def list_changes(session: Session, *, limit: int = 50) -> list[ChannelChangeRead]:
    return [ChannelChangeRead.model_validate(row) for row in repository.changes(session, limit=limit)]


def _normalise(kind: str, value: str) -> str:
    try:
        return domain.normalise_channel(kind, value)
    except domain.InvalidChannel as exc:
        raise InvalidChannel(str(exc), kind=kind) from exc


def add_channel(
    session: Session, *, staff_id: str, staff_role: str | None, kind: str, value: str, label: str,
    include_subdomains: bool = False,
) -> ChannelRead:
    """Register a channel the bank uses; 409 when an active one of that kind and value exists."""
    require_channel_manager(staff_role)
    normal = _normalise(kind, value)
    label = " ".join(label.split())
    if not label or len(label) > LABEL_MAX:
        raise InvalidChannel(f"a label is 1 to {LABEL_MAX} characters", field="label")
    if repository.find(session, kind, normal, active_only=True) is not None:
        raise ChannelAlreadyRegistered(f"{normal} is already registered", kind=kind, value=normal)
    subdomains = include_subdomains and kind in ("web", "email")
    row = repository.add(session, kind=kind, value=normal, display=value.strip()[:255], label=label,
                         include_subdomains=subdomains, added_by=staff_id)
    session.flush()
    detail = {"kind": kind, "value": normal, "label": label, "include_subdomains": subdomains}
    repository.add_change(session, channel_id=row.id, action="added", actor_kind="staff", actor_id=staff_id,
                          detail=detail)
    session.flush()
    return ChannelRead.model_validate(row)


def retire_channel(
    session: Session, *, staff_id: str, staff_role: str | None, channel_id: str
) -> ChannelRead:
    """Stop treating a channel as the bank's (the row and its history stay)."""
    require_channel_manager(staff_role)
    row = repository.get(session, channel_id, lock=True)
    if row is None:
        raise ChannelNotFound("no such registered channel")
    if not row.active:
        raise ChannelAlreadyRetired("the channel is already retired")
    row.active, row.retired_at, row.retired_by = False, clock.now(), staff_id
    repository.add_change(session, channel_id=row.id, action="retired", actor_kind="staff", actor_id=staff_id,
                          detail={"kind": row.kind, "value": row.value})
    session.flush()
    return ChannelRead.model_validate(row)


def ensure_defaults(session: Session) -> int:
    """Write out the shipped channels (`defaults.DEFAULT_CHANNELS`) that were never registered; returns how
    many it added. A default staff retired is not brought back. Safe to call on every start."""
    added = 0
    for default in DEFAULT_CHANNELS:
        normal = domain.normalise_channel(default.kind, default.value)
        if repository.find(session, default.kind, normal, active_only=False) is not None:
            continue
        row = repository.add(
            session, kind=default.kind, value=normal, display=default.value, label=default.label,
            include_subdomains=default.include_subdomains, added_by=None,
        )
        session.flush()
        repository.add_change(session, channel_id=row.id, action="seeded", actor_kind="system", actor_id=None,
                              detail={"kind": default.kind, "value": normal})
        added += 1
    session.flush()
    return added
