"""The decision API for external channels (card network authorisations): /api/v1/risk.

Invariants:
- Only channel clients call it, with a channel key (`atrium.risk.channel_clients`); people's credentials
  are refused (403), and a client sees and labels only its own decisions (anyone else's is a 404).
- A client's transaction ids are its own namespace (the log's subject is `<client id>:<transaction id>`);
  the same (channel, transaction id) always gets its first decision.
- Every decision goes through `atrium.risk.service.screen` — the same feature state, lists, rules and model
  as the app's own payments — and an answered decision is committed (group commit, `log.py`).
- `router` is the FastAPI face (OpenAPI, validation, problems); `install(app)` adds the fast path that
  serves the decision route's ordinary case before the router (`fast.py`), answering exactly alike.
"""

from __future__ import annotations

from atrium.risk.endpoints.fast import DecisionFastPath, install
from atrium.risk.endpoints.routes import router

__all__ = ["DecisionFastPath", "install", "router"]
