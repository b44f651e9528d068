"""Staff use cases on customer data (the only door the console uses). Services flush, never commit.

Every function that returns customer data records the access first, in the caller's transaction, and
returns it masked (see the package docstring of `atrium.staff`):

- audit: `record_access`, `list_access`, `export_access` (the CSV of filtered records, itself recorded);
  `bind_origin` attributes the records of one console request to its staff session and client address
- customers: `search_customers`, `view_customer` (the 360 page), `view_section` (one of its sections)
- reveal: `reveal_field` (one KYC field in clear: a reason category and text, a per-staff limit)
- money: `view_account` (an account and a page of its entries), `view_transfer` (a transfer, its history)
"""

from atrium.staff.domain import (
    AUDITED_ACTIONS,
    DEFAULT_REASON,
    REVEAL_CATEGORIES,
    SCREENS,
    SECTIONS,
)
from atrium.staff.service.audit import (
    AccessOrigin,
    AuditQuery,
    bind_origin,
    current_origin,
    export_access,
    list_access,
    record_access,
    unbind_origin,
)
from atrium.staff.service.customers import search_customers, view_customer, view_section
from atrium.staff.service.money import view_account, view_transfer
from atrium.staff.service.reveal import KYC_FIELDS, reveal_field, reveals_left

__all__ = [
    "AUDITED_ACTIONS",
    "DEFAULT_REASON",
    "KYC_FIELDS",
    "REVEAL_CATEGORIES",
    "SCREENS",
    "SECTIONS",
    "AccessOrigin",
    "AuditQuery",
    "bind_origin",
    "current_origin",
    "export_access",
    "list_access",
    "record_access",
    "reveal_field",
    "reveals_left",
    "search_customers",
    "unbind_origin",
    "view_account",
    "view_customer",
    "view_section",
    "view_transfer",
]
