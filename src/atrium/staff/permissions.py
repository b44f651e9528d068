"""Who may do what in the staff console: one table of role → allowed actions, checked on every page.

Roles are `staff_users.role`. The table is the single source: the console's pages check it, its sidebar
shows only what the role may open, and the tests walk every role × page against it. An unknown role may
do nothing. Domain services keep their own checks too (bank limits: `limits.service.require_limit_manager`),
so the console cannot grant what the domain refuses.
"""

from __future__ import annotations

from typing import Literal, get_args

from atrium.staff.errors import PermissionDenied

Role = Literal["administrator", "operator", "account_manager", "risk_analyst", "compliance_officer"]
ROLES: tuple[str, ...] = get_args(Role)

Action = Literal[
    "dashboard.view",  # counts and the ledger's trial balance
    "ledger.check",  # run the full ledger consistency check (slow on a large bank)
    "customers.view",  # search customers and open one (every open is audited)
    "audit.view",  # the log of staff reads of customer data
    "limits.view",  # the bank's limits per channel, method and currency
    "limits.edit",  # change a bank limit
    "merchants.view",  # merchants and their settlement balances
    "merchants.manage",  # create and suspend merchants, issue their QR codes and keys (the merchants API)
    "customers.unlock",  # lift a sign-in lock (with a reason; audited)
    "phishing.manage",  # the bank's registered numbers, short codes and domains (the phishing check)
    "customers.unmask",  # reveal one masked field of a customer (a reason is required; audited)
    "catalog.view",  # the service catalogue: services, tab layouts, pending changes and their history
    "catalog.propose",  # propose a new service or a change to one (maker)
    "catalog.approve",  # approve or reject another operator's proposal (checker; never one's own)
    "messages.manage",  # message templates and service notices sent to customers' inboxes
]
ACTIONS: tuple[str, ...] = get_args(Action)

PERMISSIONS: dict[str, frozenset[str]] = {
    "administrator": frozenset(ACTIONS),
    "operator": frozenset(
        {
            "dashboard.view",
            "ledger.check",
            "customers.view",
            "customers.unlock",
            "limits.view",
            "limits.edit",
            "merchants.view",
            "merchants.manage",
            "phishing.manage",
            "catalog.view",
            "catalog.propose",
            "catalog.approve",
            "messages.manage",
        }
    ),
    # Account managers serve their customers (a locked-out customer calls them); checking the bank's
    # books is not their job.
    "account_manager": frozenset(
        {
            "dashboard.view",
            "customers.view",
            "customers.unlock",
            "customers.unmask",
            "limits.view",
            "catalog.view",
        }
    ),
    "risk_analyst": frozenset(
        {
            "dashboard.view",
            "ledger.check",
            "customers.view",
            "customers.unmask",
            "limits.view",
            "merchants.view",
        }
    ),
    # Compliance reviews who looked at what; it does not browse customers itself.
    "compliance_officer": frozenset(
        {
            "dashboard.view",
            "ledger.check",
            "audit.view",
            "limits.view",
            "merchants.view",
            "catalog.view",
        }
    ),
}


def allowed(role: str | None, action: str) -> bool:
    if action not in ACTIONS:
        raise ValueError(f"unknown staff action {action!r}")
    return action in PERMISSIONS.get(role or "", frozenset())


def require(role: str | None, action: str) -> None:
    if not allowed(role, action):
        raise PermissionDenied(f"the role {role!r} may not {action}", action=action)


def actions_of(role: str | None) -> frozenset[str]:
    return PERMISSIONS.get(role or "", frozenset())
