"""The app shell: who is looking at a signed-in page, and the bottom tabs the catalogue chooses for them.

A page of the app is always seen by one *viewer*: the signed-in customer, acting as the identity their
session currently acts as (person, company operator or merchant), in the main app's channel ("app"), in
the display mode the person chose (`display.resolve`: standard or elder, kept on `request.state.ui_mode`).
`context(request)` builds that viewer once per request (one read of the session's identity and the
customer's attributes, through `catalog.service.viewer_for`) and keeps it on `request.state`, so the tabs,
the home, the services page and /go all judge visibility for the same viewer.

The tabs: `PageRoute` puts a `ShellTabs` on `request.state.nav_tabs` before every page handler runs.
It is lazy — it asks the catalogue (`tabs_for`, cached per catalogue revision) only when the page's
template first draws the tab bar, after the page's own dependencies have authenticated the customer and
set the display mode — so a form post that only redirects, or an htmx fragment without a tab bar, costs
nothing. For a request without a signed-in customer it is empty, and the templates fall back to their
default tabs (signed-out pages, error pages before sign-in). Nothing about which tabs or services exist
is written here: that is the catalogue's answer for the viewer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar, overload

from fastapi import Request
from sqlalchemy.orm import Session

from atrium.catalog import service as catalog
from atrium.catalog.schemas import ServiceRead, Viewer
from atrium.identity import identities
from atrium.identity.identities import IdentityRead
from atrium.identity.principal import Principal
from atrium.kit.errors import Unauthenticated
from atrium.web import deps
from atrium.web.mobile import display
from atrium.web.mobile.i18n import Translator
from atrium.web.mobile.templating import NavTab, request_locale

CHANNEL = "app"  # the main mobile app; the Life app and partners are other channels of the catalogue
T = TypeVar("T")

# How each identity kind is drawn and where its own overview page is (the person's is the home).
_ICONS = {"person": "user", "company_operator": "bank", "merchant": "store"}
_PAGES = {"company_operator": "/biz", "merchant": "/merchant"}


@dataclass(frozen=True, slots=True)
class Context:
    """The viewer of one request: the customer, the identity the session acts as, the catalogue viewer."""

    customer_id: str
    identity: IdentityRead | None
    viewer: Viewer

    @property
    def kind(self) -> str:
        return self.viewer.identity_kind


def ui_mode(request: Request) -> str:
    """The person's display mode for this request ("standard" | "elder"; `display.resolve`, cached)."""
    return display.resolve(request)


def _customer(request: Request) -> Principal | None:
    principal = getattr(request.state, "principal", None)
    if isinstance(principal, Principal) and principal.kind == "customer":
        return principal
    return None


def _in_session(request: Request, session: Session | None, work: Callable[[Session], T]) -> T:
    if session is not None:
        return work(session)
    return deps.with_page_session(request, work)


def context(request: Request, session: Session | None = None) -> Context:
    """The viewer of this request (built once, then kept on `request.state.shell`). Call it after the page's
    `CurrentCustomer` dependency; `session` is the page's own session, if it has one."""
    cached = getattr(request.state, "shell", None)
    if isinstance(cached, Context):
        return cached
    principal = _customer(request)
    if principal is None:
        raise Unauthenticated("sign in first")

    def build(s: Session) -> Context:
        identity = identities.current_identity(s, principal)
        viewer = catalog.viewer_for(s, customer_id=principal.id, identity=identity, channel=CHANNEL,
                                    ui_mode=ui_mode(request))
        return Context(customer_id=principal.id, identity=identity, viewer=viewer)

    built = _in_session(request, session, build)
    request.state.shell = built
    return built


def nav_tabs(request: Request, session: Session | None = None) -> list[NavTab]:
    """The bottom tabs the catalogue chooses for this request's viewer, labelled in the page's language;
    empty when no customer is signed in."""
    if _customer(request) is None:
        return []
    locale = request_locale(request)

    def load(s: Session) -> list[NavTab]:
        viewer = context(request, s).viewer
        return [NavTab(key=tab.key, href=tab.href, icon=tab.icon, label=tab.text(locale))
                for tab in catalog.tabs_for(s, viewer)]

    return _in_session(request, session, load)


class ShellTabs(Sequence[NavTab]):
    """`request.state.nav_tabs` of a page: `nav_tabs(request)`, computed when first read (see the module
    docstring for why it waits)."""

    __slots__ = ("_request", "_tabs")

    def __init__(self, request: Request) -> None:
        self._request = request
        self._tabs: list[NavTab] | None = None

    def _load(self) -> list[NavTab]:
        if self._tabs is None:
            self._tabs = nav_tabs(self._request)
        return self._tabs

    @overload
    def __getitem__(self, index: int) -> NavTab: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[NavTab]: ...
    def __getitem__(self, index: int | slice) -> NavTab | Sequence[NavTab]:
        return self._load()[index]

    def __len__(self) -> int:
        return len(self._load())

    def __iter__(self) -> Iterator[NavTab]:
        return iter(self._load())

    def __bool__(self) -> bool:
        return bool(self._load())


def current_tab(request: Request, path: str) -> str | None:
    """The key of the tab that opens `path` for this viewer (marked as the current page), if there is one:
    a service can be a tab (the catalogue's layouts name service keys), so a page learns its tab here
    instead of naming a catalogue key itself."""
    tabs = getattr(request.state, "nav_tabs", None)
    return next((tab["key"] for tab in tabs or () if tab["href"] == path), None)


def install(request: Request) -> None:
    """Give the page its shell tabs (PageRoute calls this before each page handler)."""
    request.state.nav_tabs = ShellTabs(request)


# --- presenting identities and services ---------------------------------------------------------------


def person_identity(session: Session, customer_id: str) -> IdentityRead | None:
    """The customer's person identity, for a "switch back to personal" button."""
    return next((i for i in identities.list_identities(session, customer_id) if i.kind == "person"), None)


def identity_icon(identity: IdentityRead | None) -> str:
    return _ICONS.get(identity.kind if identity else "person", "user")


def identity_page(identity: IdentityRead | None) -> str | None:
    """The overview page of an organisation identity (/biz, /merchant); None for the person."""
    return _PAGES.get(identity.kind) if identity else None


def identity_name(identity: IdentityRead | None, t: Translator) -> str:
    """How the identity is named to its own person: "Personal" or the organisation's name."""
    if identity is None or identity.kind == "person":
        return t("shell.identity.person")
    return identity.org_name


def role_label(role: str, t: Translator) -> str:
    """An organisation role in the page's language (an unknown role is shown as stored)."""
    key = f"shell.role.{role}"
    return t(key) if t.has(key) else role


def is_external(target: str) -> bool:
    return target.startswith("https://")


def tile_href(service: ServiceRead) -> str:
    """Every tile opens through /go, which counts the use and then opens the service's target."""
    return f"/go/{service.key}"


def by_line(services: Sequence[ServiceRead]) -> list[tuple[str, list[ServiceRead]]]:
    """Services grouped by business line, keeping the catalogue's order (lines first seen first)."""
    groups: dict[str, list[ServiceRead]] = {}
    for s in services:
        groups.setdefault(s.line, []).append(s)
    return list(groups.items())


def organisation_services(services: Sequence[ServiceRead], kind: str, here: str) -> list[ServiceRead]:
    """Of the visible services, those offered to this organisation identity kind specifically (not also
    to the person), without the one that opens the page they are listed on."""
    return [s for s in services
            if kind in s.identity_kinds and "person" not in s.identity_kinds and s.target != here]
