"""Notifications to customers: text messages (SMS) and push notifications, each through a pluggable sender.

Invariants:
- Every message the bank sends carries a verifiable reference code ("K7Q2-9M4X", from an alphabet without
  look-alike characters) appended to its text and stored with it, so a customer who doubts a message can
  ask the bank (`find_by_verify_code`) whether it really sent it. A message without a known code is a fake.
- A recipient is stored only as a blind index (HMAC, for look-ups) and a masked form ("138****5678"); the
  number itself never reaches the database or a log line.
- Secrets inside a message (one-time codes) are passed as `redact`: stored in clear only when the sender is
  the development outbox (there the row *is* the delivery), replaced by bullets when a real gateway sends.
- The sender is chosen by settings (`notify.sms_sender`): "outbox" records only (development and tests),
  "http" posts JSON to an SMS gateway. A gateway failure is `SmsDeliveryFailed` (502) and the caller's
  transaction rolls back, so no message is recorded as sent that was not handed over.

- Push (`notify.push`): a browser's Web Push subscription (endpoint and keys) is stored per customer
  (`subscribe_push`; the same endpoint is one subscription, moved to whoever subscribed it last). The
  sender is chosen by settings (`push.sender`): "outbox" records only, "webpush" sends with VAPID, "off"
  sends nothing. A subscription the push service reports gone (404/410) is revoked, never tried again.
  The endpoint is a capability URL: never logged or shown.

This domain sits below identity: it knows phones, browsers and texts, not customers' records.
"""
