"""Scheduled jobs of every domain: importing this module registers them with the runtime."""

from __future__ import annotations

import atrium.accounts.tasks  # noqa: F401
import atrium.identity.devices.tasks  # noqa: F401
import atrium.identity.passkeys.tasks  # noqa: F401
import atrium.identity.protection.tasks  # noqa: F401
import atrium.ledger.tasks  # noqa: F401
import atrium.messages.tasks  # noqa: F401
import atrium.payments.orders.tasks  # noqa: F401
import atrium.payments.tasks  # noqa: F401
import atrium.risk.tasks  # noqa: F401
