"""Event handlers of every domain: importing this module registers their subscriptions with the bus.

Each domain that reacts to integration events adds one import line here, for example
`from atrium.payments import handlers as _payments  # noqa: F401`. `atrium.events.consumers.load_handlers`
imports this module (by name: the events layer must not depend on the domains) before any bus delivers.
"""

from __future__ import annotations

from atrium.accounts import handlers as _accounts  # noqa: F401
from atrium.messages import handlers as _messages  # noqa: F401
from atrium.payments import handlers as _payments  # noqa: F401
from atrium.risk import handlers as _risk  # noqa: F401
