"""OpenID Connect provider (authorization code + PKCE, rotating refresh tokens, RP-initiated logout)
and the relying-party side used by the bank's own web clients (Atrium Life). See `service`."""
