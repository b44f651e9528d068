"""Every table of every domain, imported in one place: Alembic's target metadata and the test schema."""

from __future__ import annotations

from atrium.accounts import models as _accounts  # noqa: F401
from atrium.antiphishing import models as _antiphishing  # noqa: F401
from atrium.catalog import models as _catalog  # noqa: F401
from atrium.db import idempotency  # noqa: F401
from atrium.db.base import Base
from atrium.events import models as _events  # noqa: F401
from atrium.identity import models as _identity  # noqa: F401
from atrium.identity.devices import models as _devices  # noqa: F401
from atrium.identity.oidc import models as _oidc  # noqa: F401
from atrium.identity.otp import models as _otp  # noqa: F401
from atrium.identity.passkeys import models as _passkeys  # noqa: F401
from atrium.identity.profile import models as _profile  # noqa: F401
from atrium.identity.protection import models as _protection  # noqa: F401
from atrium.ledger import ddl as _ledger_ddl
from atrium.ledger import models as _ledger  # noqa: F401
from atrium.limits import models as _limits  # noqa: F401
from atrium.messages import models as _messages  # noqa: F401
from atrium.notify import models as _notify  # noqa: F401
from atrium.payments import models as _payments  # noqa: F401
from atrium.payments.merchants import models as _merchants  # noqa: F401
from atrium.payments.orders import models as _orders  # noqa: F401
from atrium.payments.qr import models as _qr  # noqa: F401
from atrium.payments.rail import models as _rail  # noqa: F401
from atrium.risk import channel_models as _risk_channels  # noqa: F401
from atrium.risk import ddl as _risk_ddl
from atrium.risk import models as _risk  # noqa: F401
from atrium.staff import ddl as _staff_ddl
from atrium.staff import models as _staff  # noqa: F401

metadata = Base.metadata


def install_extras(conn) -> None:  # type: ignore[no-untyped-def]
    """Database objects the models cannot declare (PostgreSQL triggers). Migrations call the same code."""
    _ledger_ddl.install(conn)
    _staff_ddl.install(conn)
    _risk_ddl.install(conn)
