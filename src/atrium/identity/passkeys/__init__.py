"""Passkeys: WebAuthn credentials for signing in (discoverable, user-verified: level 2) and stepping up.
See `service` for the invariants."""
