"""I/O shapes of the OpenID Connect provider."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ClientRead:
    client_id: str
    name: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    kind: str  # public | confidential
    allowed_scopes: tuple[str, ...]
    first_party: bool


@dataclass(frozen=True)
class AuthorizationRequest:
    """A checked authorization request (RFC 6749 §4.1.1 + PKCE + OIDC), ready for consent or a code."""

    client: ClientRead
    redirect_uri: str
    scope: tuple[str, ...]
    state: str | None
    nonce: str | None
    code_challenge: str
    prompt: frozenset[str] = field(default_factory=frozenset)

    def as_form(self) -> dict[str, str]:
        """The request's parameters, to carry through the consent form unchanged."""
        out = {
            "response_type": "code",
            "client_id": self.client.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": " ".join(self.scope),
            "code_challenge": self.code_challenge,
            "code_challenge_method": "S256",
        }
        if self.state is not None:
            out["state"] = self.state
        if self.nonce is not None:
            out["nonce"] = self.nonce
        return out


@dataclass(frozen=True)
class SignInFacts:
    """What the provider asserts about the customer's browser session (from `atrium.identity.sessions`)."""

    customer_id: str
    sid: str
    acr: str
    amr: tuple[str, ...]
    auth_time: datetime


@dataclass(frozen=True)
class RelyingPartyView:
    """A signed-in Atrium Life session as its pages see it."""

    customer_id: str
    sid: str
    name: str
    locale: str | None = None
