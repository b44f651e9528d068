"""What a viewer sees: the visible services, search, the home's quick row, "frequently used" and the tabs.

Invariant: every list returned here contains only services `visible_services` would return for the same
viewer at the same moment — search, the ranker and the usage counts can only narrow and order it.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from atrium.catalog import domain, ranking, repository
from atrium.catalog.defaults import BUILTIN_TABS, FALLBACK_TABS, MAX_TABS
from atrium.catalog.errors import ServiceNotFound
from atrium.catalog.schemas import AttributeValue, ServiceRead, TabRead, Viewer
from atrium.catalog.service import catalogue
from atrium.identity import kyc
from atrium.identity import service as identity_service
from atrium.identity.identities import IdentityRead
from atrium.kit import clock

SHANGHAI = ZoneInfo("Asia/Shanghai")  # ages and tenure count in the customer's calendar


def _years_between(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def viewer_for(
    session: Session, *, customer_id: str, identity: IdentityRead | None, channel: str = "app",
    ui_mode: str = "standard", now: datetime | None = None,
) -> Viewer:
    """The viewer and the attributes audience rules see: customer_id, identity_kind, identity_role, org_ref,
    channel, ui_mode, locale, tenure_days (since sign-up) and — when the ID number is on file — age and
    kyc (true). An unknown attribute is simply absent, so a rule on it does not match."""
    kind = identity.kind if identity is not None else "person"
    role = identity.role if identity is not None else ""
    today = (now or clock.now()).astimezone(SHANGHAI).date()
    attributes: dict[str, AttributeValue] = {
        "customer_id": customer_id, "identity_kind": kind, "channel": channel, "ui_mode": ui_mode,
        "kyc": False,
    }
    if role:
        attributes["identity_role"] = role
    if identity is not None and identity.org_ref:
        attributes["org_ref"] = identity.org_ref
    customer = identity_service.get_customer(session, customer_id)
    if customer is not None:
        attributes["locale"] = customer.locale
        attributes["tenure_days"] = (today - customer.created_at.astimezone(SHANGHAI).date()).days
        try:
            born = kyc.birth_date_of(kyc.reveal(session, customer_id, "id_number"))
        except (kyc.KycNotOnFile, ValueError):
            born = None
        if born is not None:
            attributes["age"] = _years_between(born, today)
            attributes["kyc"] = True
    return Viewer(customer_id=customer_id, identity_kind=kind, identity_role=role, channel=channel,  # type: ignore[arg-type]
                  attributes=attributes)


def _shows(entry: domain.Entry, viewer: Viewer, now: datetime) -> bool:
    return domain.visible(entry, channel=viewer.channel, identity_kind=viewer.identity_kind,
                          identity_role=viewer.identity_role, attributes=viewer.attributes, now=now)


def visible_services(session: Session, viewer: Viewer, *, now: datetime | None = None) -> list[ServiceRead]:
    """Switched on, inside its window, in the viewer's channel, for the viewer's identity kind and role, and
    selected by its audience rule; ordered by line, then rank, then key."""
    moment = now or clock.now()
    return [s for e, s in catalogue.load(session).items if _shows(e, viewer, moment)]


def find_visible(session: Session, viewer: Viewer, key: str, *, now: datetime | None = None) -> ServiceRead:
    hit = catalogue.load(session).by_key.get(key)
    if hit is None or not _shows(hit[0], viewer, now or clock.now()):
        raise ServiceNotFound("no such service", key=key)
    return hit[1]


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _score(service: ServiceRead, terms: list[str], locale: str) -> int:
    """0: no match. Otherwise higher is better: a name in the viewer's language beats another language's
    name, which beats a keyword, which beats the description or the key."""
    fields = [
        (4, [_fold(service.label(locale))]),
        (3, [_fold(n) for n in service.name.values()]),
        (2, [_fold(w) for words in service.keywords.values() for w in words]),
        (1, [_fold(d) for d in service.description.values()] + [service.key]),
    ]
    total = 0
    for term in terms:
        best = max((weight for weight, texts in fields if any(term in t for t in texts)), default=0)
        if not best:
            return 0
        total += best
    return total


def search(session: Session, viewer: Viewer, text: str, locale: str, *,
           now: datetime | None = None) -> list[ServiceRead]:
    """Visible services matching every word of `text` (names in both languages, keywords, descriptions),
    best first. Blank text finds nothing."""
    terms = [t for t in _fold(text).split() if t][:8]
    if not terms:
        return []
    scored = [(score, s) for s in visible_services(session, viewer, now=now)
              if (score := _score(s, terms, locale))]
    order = {s.key: i for i, (_, s) in enumerate(scored)}
    return [s for _, s in sorted(scored, key=lambda p: (-p[0], order[p[1].key]))]


def record_use(session: Session, viewer: Viewer, key: str) -> None:
    """Count one opening of a visible service by the viewer in its identity kind (404 for hidden ones)."""
    find_visible(session, viewer, key)
    repository.bump_usage(session, viewer.customer_id, viewer.identity_kind, key, clock.now())


def _usage(session: Session, viewer: Viewer) -> dict[str, int]:
    return repository.usage(session, viewer.customer_id, viewer.identity_kind)


def frequently_used(session: Session, viewer: Viewer, *, limit: int = 4) -> list[ServiceRead]:
    """The viewer's own most used services (in its current identity kind) that it can still see."""
    counts = _usage(session, viewer)
    used = [s for s in visible_services(session, viewer) if counts.get(s.key, 0) > 0]
    return sorted(used, key=lambda s: -counts[s.key])[: max(limit, 0)]  # stable: ties in catalogue order


def home_quick(session: Session, viewer: Viewer, *, limit: int) -> list[ServiceRead]:
    """The home's quick row: the current ranker over the visible services placed "quick". Whatever the
    ranker returns is filtered back to those candidates, once each."""
    candidates = [s for s in visible_services(session, viewer) if "quick" in s.placements]
    allowed = {s.key for s in candidates}
    ranked = ranking.current_ranker().rank(viewer, list(candidates), _usage(session, viewer))
    out: list[ServiceRead] = []
    for s in ranked:
        if s.key in allowed:
            allowed.discard(s.key)
            out.append(s)
    return out[: max(limit, 0)]


def tabs_for(session: Session, viewer: Viewer, *, now: datetime | None = None) -> list[TabRead]:
    """The bottom tabs of the highest-priority layout for the viewer's identity kind whose audience rule
    selects the viewer; a service tab appears only if the viewer may see that service."""
    moment = now or clock.now()
    cat = catalogue.load(session)
    names: tuple[str, ...] | list[str] = FALLBACK_TABS
    for layout in cat.layouts:
        if layout.identity_kind == viewer.identity_kind and domain.evaluate(layout.audience,
                                                                            viewer.attributes):
            names = layout.tabs
            break
    tabs: list[TabRead] = []
    for name in names:
        if name in BUILTIN_TABS:
            tabs.append(BUILTIN_TABS[name])
            continue
        hit = cat.by_key.get(name)
        if hit is not None and _shows(hit[0], viewer, moment):
            s = hit[1]
            tabs.append(TabRead(key=s.key, href=s.target, icon=s.icon, label=dict(s.name)))
    return tabs[:MAX_TABS]
