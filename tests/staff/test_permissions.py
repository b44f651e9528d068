"""The role → action table, pinned: a change to who may do what must be made here on purpose."""

from __future__ import annotations

import pytest

from atrium.staff import permissions
from atrium.staff.errors import PermissionDenied

EXPECTED = {
    "administrator": {
        "dashboard.view",
        "ledger.check",
        "customers.view",
        "customers.unlock",
        "audit.view",
        "limits.view",
        "limits.edit",
        "merchants.view",
        "merchants.manage",
        "phishing.manage",
        "customers.unmask",
        "catalog.view",
        "catalog.propose",
        "catalog.approve",
        "messages.manage",
        "risk.cases.view",
        "risk.cases.act",
        "risk.rules.view",
        "risk.rules.propose",
        "risk.rules.approve",
        "risk.lists.view",
        "risk.lists.manage",
        "risk.models.view",
        "risk.models.manage",
        "risk.models.approve",
    },
    "operator": {
        "dashboard.view",
        "ledger.check",
        "customers.view",
        "customers.unlock",
        "limits.view",
        "limits.edit",
        "merchants.view",
        "merchants.manage",
        "phishing.manage",
        # Issue 4: operators run the service catalogue (maker-checker between two of them) and the messages.
        "catalog.view",
        "catalog.propose",
        "catalog.approve",
        "messages.manage",
    },
    # Issue 3: a locked-out customer calls their account manager, who may lift the lock (with a reason).
    # Issue 4: account managers and analysts may reveal a masked field (with a reason; audited); account
    # managers see the catalogue their customers see; compliance reviews what was published and by whom.
    "account_manager": {
        "dashboard.view", "customers.view", "customers.unlock", "customers.unmask", "limits.view",
        "catalog.view",
    },
    "risk_analyst": {
        "dashboard.view", "ledger.check", "customers.view", "customers.unmask", "limits.view",
        "merchants.view",
        # Issue 5: the fraud team works cases, keeps rules and lists and trains models; one analyst checks
        # another's rule (the risk service refuses the maker as checker); compliance promotes the models.
        "risk.cases.view", "risk.cases.act", "risk.rules.view", "risk.rules.propose", "risk.rules.approve",
        "risk.lists.view", "risk.lists.manage", "risk.models.view", "risk.models.manage",
    },
    "compliance_officer": {
        "dashboard.view", "ledger.check", "audit.view", "limits.view", "merchants.view", "catalog.view",
        # Issue 5: compliance checks rules and promotes models the analysts trained; it works no cases.
        "risk.rules.view", "risk.rules.approve", "risk.lists.view", "risk.models.view", "risk.models.approve",
    },
}


def test_the_table_is_exactly_the_agreed_one() -> None:
    assert set(permissions.ROLES) == set(EXPECTED)
    for role, actions in EXPECTED.items():
        assert permissions.actions_of(role) == actions, role


def test_every_action_belongs_to_some_role_and_the_audit_only_to_admin_and_compliance() -> None:
    for action in permissions.ACTIONS:
        assert any(permissions.allowed(r, action) for r in permissions.ROLES), action
    assert {r for r in permissions.ROLES if permissions.allowed(r, "audit.view")} == {
        "administrator",
        "compliance_officer",
    }
    assert {r for r in permissions.ROLES if permissions.allowed(r, "limits.edit")} == {
        "administrator",
        "operator",
    }


def test_limit_editing_agrees_with_the_limits_domain() -> None:
    from atrium.limits.service import LIMIT_MANAGER_ROLES

    assert {r for r in permissions.ROLES if permissions.allowed(r, "limits.edit")} == set(LIMIT_MANAGER_ROLES)


@pytest.mark.parametrize("role", [None, "", "teller", "ADMINISTRATOR"])
def test_an_unknown_role_may_do_nothing(role: str | None) -> None:
    assert permissions.actions_of(role) == frozenset()
    for action in permissions.ACTIONS:
        assert not permissions.allowed(role, action)
        with pytest.raises(PermissionDenied):
            permissions.require(role, action)


def test_an_unknown_action_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown staff action"):
        permissions.allowed("administrator", "customers.delete")
