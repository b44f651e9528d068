"""OAuth 2.0 / OpenID Connect errors. Each carries its RFC 6749 `error` code (sent as is by the protocol
endpoints: a JSON body, or a redirect back to the client) and its HTTP status (RFC 9457 elsewhere)."""

from __future__ import annotations

from typing import ClassVar

from atrium.kit.errors import AtriumError


class OAuthError(AtriumError):
    status = 400
    code = "oauth-error"
    title = "The OAuth request was refused"
    error: ClassVar[str] = "invalid_request"


class InvalidRequest(OAuthError):
    code = "oauth-invalid-request"
    error = "invalid_request"


class InvalidClient(OAuthError):
    status = 401
    code = "oauth-invalid-client"
    title = "Client authentication failed"
    error = "invalid_client"


class InvalidGrant(OAuthError):
    code = "oauth-invalid-grant"
    title = "The grant is invalid, expired or revoked"
    error = "invalid_grant"


class UnauthorizedClient(OAuthError):
    code = "oauth-unauthorized-client"
    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    code = "oauth-unsupported-grant-type"
    error = "unsupported_grant_type"


class UnsupportedResponseType(OAuthError):
    code = "oauth-unsupported-response-type"
    error = "unsupported_response_type"


class InvalidScope(OAuthError):
    code = "oauth-invalid-scope"
    error = "invalid_scope"


class AccessDenied(OAuthError):
    status = 403
    code = "oauth-access-denied"
    error = "access_denied"


class LoginRequired(OAuthError):
    code = "oauth-login-required"
    error = "login_required"


class ConsentRequired(OAuthError):
    code = "oauth-consent-required"
    error = "consent_required"


class InvalidToken(OAuthError):
    status = 401
    code = "oauth-invalid-token"
    title = "The access token is invalid, expired or revoked"
    error = "invalid_token"


class BadRedirect(OAuthError):
    """The client or redirect_uri cannot be trusted: the error is shown to the customer, never redirected."""

    code = "oauth-bad-redirect"
    title = "The application's sign-in request is not valid"
    error = "invalid_request"


class RelyingPartyFailed(AtriumError):
    """A first-party relying party (Atrium Life) could not complete a sign-in."""

    status = 400
    code = "oidc-sign-in-failed"
    title = "Sign-in could not be completed"
