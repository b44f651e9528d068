"""Messages (M21): the in-app inbox and notifications through pluggable senders.

Invariants:
- Every message lives in one customer's inbox, rendered in their language when it was sent, from a
  template version it names; a customer reaches only their own messages (another's id is "not found").
- Every write is idempotent: a message's dedup key (an event's id, a notice's id, a broadcast's id) is
  unique per customer, so an event delivered twice, a job run twice or a form posted twice adds nothing.
- Marketing reaches only customers who consented (off by default); security alerts reach everyone, on
  every channel, and cannot be switched off.
- Nothing is sent inside a request: a message and its pending notifications (SMS, push) commit together,
  and the delivery job hands them to notify's senders with retries, marking each sent, skipped or failed —
  never losing one. Broadcasts to many customers are walked by a job in batches.
- Templates change by versions (staff edits are recorded with who made them); built-ins come from
  `definitions.json` and are written insert-only.

Layer: above payments (it reads transfers and accounts to word its messages), beside the catalogue.
"""
