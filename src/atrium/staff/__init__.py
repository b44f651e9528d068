"""Staff work on customers' data: who may do what (`permissions`), how customer data is masked for staff
(`domain`), and the audit of every staff read of a customer's data (`service.record_access`).

Invariants:
- Every use case that shows staff a customer's data (`service.search_customers`, `service.view_customer`)
  records one `AuditRecord` in the same transaction as the read: who (staff id and the role they held),
  what (the action), which customer, when, and why (the reason the staff member gave, or the default
  reason). No record, no data: if the record cannot be written, the read fails with it.
- Audit records are append-only (PostgreSQL refuses UPDATE and DELETE on them, see `ddl`), and they keep
  no customer PII beyond the customer id: a search records how many customers it showed, not the words
  searched for.
- Names and usernames reach staff screens masked (`domain.mask_name`, `domain.mask_username`).
"""
