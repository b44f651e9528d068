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
    # Anti-fraud (issue 5). Makers and checkers may share a role: the risk service refuses a checker who
    # is the maker of the same rule or promotion, whatever the role says.
    "risk.cases.view",  # the case queue and one case (a customer's transaction; every open is audited)
    "risk.cases.act",  # release, confirm fraud, close as genuine, block or list what a case shows (a note)
    "risk.rules.view",  # the rules, their versions and who wrote and approved them; backtests
    "risk.rules.propose",  # propose a new or changed rule, or its switch shadow ↔ live (maker); retire a rule
    "risk.rules.approve",  # approve or reject another person's rule proposal, after a backtest (checker)
    "risk.lists.view",  # the block, allow and watch lists (values masked) and their audit trail
    "risk.lists.manage",  # add and remove list entries (a reason, an expiry; audited)
    "risk.models.view",  # the model registry: versions, roles, training windows, metrics
    "risk.models.manage",  # start a training run of a challenger (maker)
    "risk.models.approve",  # promote a challenger to champion (checker: a role that cannot train one)
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
            # The fraud team works cases, writes and checks each other's rules (a second analyst is the
            # checker; never the maker of the same rule), keeps the lists and trains models. It does not
            # promote its own models: compliance does (separation of duties by role).
            "risk.cases.view",
            "risk.cases.act",
            "risk.rules.view",
            "risk.rules.propose",
            "risk.rules.approve",
            "risk.lists.view",
            "risk.lists.manage",
            "risk.models.view",
            "risk.models.manage",
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
            # The second line of defence: it checks rules and promotes the models the analysts trained,
            # reads the lists, but works no cases (they are customers' transactions) and proposes nothing.
            "risk.rules.view",
            "risk.rules.approve",
            "risk.lists.view",
            "risk.models.view",
            "risk.models.approve",
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
