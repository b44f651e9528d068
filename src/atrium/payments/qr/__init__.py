"""QR pay ("scan code replaces card"): a merchant presents a signed QR code, a customer scans and pays it.

The payload is a compact string, `ATRQR1.<base64url JSON claims>.<base64url Ed25519 signature>`, small
enough for a low-version QR code. The claims name the merchant, the signing key, an optional fixed amount,
the currency, the merchant's order reference, issue and expiry times and a random nonce; the signature
covers the version prefix and the claims exactly as sent (like a JWS compact serialisation).

Why one key pair per merchant (not a single bank QR key)
--------------------------------------------------------
- Blast radius: a leaked key forges codes for one merchant only, and rotating it (`rotate_key`) voids
  that merchant's printed codes and nobody else's.
- Each payload names its key (`k`), so keys rotate without a flag day; verification needs only the public
  key, stored in clear, and the key must belong to the merchant the claims name — a payload re-pointed at
  another merchant fails even if it carried a valid signature of some other key.
- The bank holds the keys today; a merchant terminal could later be given its own seed to sign dynamic
  codes offline, and the verifier would not change.
The 32-byte private seed is stored sealed with AES-256-GCM under a key derived by HKDF-SHA256 from
`settings.security.secret_key`, with the key id and merchant id as associated data: a database dump alone
cannot forge codes, and a sealed seed copied onto another key's row does not open.

Invariants:
- `parse_qr` trusts nothing in a payload before its signature verifies with the merchant's own key;
  every refusal (malformed, bad signature, revoked key, expired, unavailable merchant, currency) is a
  422 problem, and nothing is written.
- Paying goes through `payments.service.execute` (method `qr_payment`: the customer's QR switch and QR
  limits apply), to the merchant's settlement ledger account, in the request's transaction.
- A QR code with a fixed amount is paid at most once: a `qr_payments` row unique on (merchant, reference)
  is written with the payment. A second attempt is a 409, unless it is the same idempotent request
  (same customer, Idempotency-Key and body), which replays the first payment.
"""
