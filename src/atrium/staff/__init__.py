"""Staff work on customers' data: who may do what (`permissions`), how customer data is masked for staff
(`domain`), and the audit of every staff read of a customer's data (`service.record_access`).

Invariants:
- Every use case that shows staff a customer's data (search, the 360 page and each of its sections, the
  sign-in lock page, one account with its entries, one transfer with its history, a revealed field)
  records one `AuditRecord` in the same transaction as the read: who (staff id and the role they held;
  through the console also from where: the sign-in session's public id, never its token, and the client
  address — `service.bind_origin`; none for a job's or the CLI's records), what (the action and the
  screen; the section, field, account or transfer in `detail`), which customer, when, and why (the
  reason the staff member gave, or the default reason). No record, no data: if the record cannot be
  written, the read fails with it. Input that is refused (an unknown id, a bad reason) records nothing.
- Audit records are append-only (PostgreSQL refuses UPDATE and DELETE on them, see `ddl`), and they keep
  no customer PII beyond the customer id: a search records how many customers it showed, not the words
  searched for; a reveal records the field's name, never its value.
- Names, usernames, KYC fields, account numbers and sign-in addresses reach staff screens masked
  (`domain.mask_*`, identity's `pii.mask_*`). One KYC field is shown in clear only through
  `service.reveal_field`: it needs `customers.unmask`, a reason category and a reason in words, and stays
  under a per-staff limit of reveals in a sliding window (`settings.staff`).
"""
