"""create_app(): one ASGI app mounting the API, the customer mobile web app and the staff console."""

from __future__ import annotations

import sys
from contextlib import asynccontextmanager

from fastapi import FastAPI

from atrium import __version__
from atrium.config import get_settings
from atrium.db.runtime import get_db
from atrium.kit import collector
from atrium.logs import configure_logging, get_logger
from atrium.risk import endpoints as risk_endpoints
from atrium.risk import seams as risk_seams
from atrium.risk.endpoints import log as risk_decision_log
from atrium.risk.service import setup as risk_setup
from atrium.web import life as life_app
from atrium.web import mobile, oauth2, problems, security_headers
from atrium.web import staff as staff_console
from atrium.web.api.router import api


def create_app(*, start_background: bool = True) -> FastAPI:
    settings = get_settings()
    configure_logging(settings.log_level, json_logs=settings.log_json)
    if settings.risk_api.gil_switch_ms:
        sys.setswitchinterval(settings.risk_api.gil_switch_ms / 1000)

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        from atrium.runtime import BackgroundRuntime

        # A serving process checkpoints SQLite's WAL on a thread, not in its COMMITs (atrium.db.checkpoint);
        # before the background threads start, so the pool it renews has nothing checked out.
        get_db().checkpoint_in_background(settings.database.sqlite_checkpoint_ms,
                                          settings.database.sqlite_wal_restart_mb)
        # The model library and configuration, before a first payment or sign-in waits for them.
        risk_setup.preload_at_start(get_db())
        runtime = BackgroundRuntime(settings) if start_background else None
        if runtime:
            await runtime.start()
        collector.WATCH.install()
        collector.tune(settings.gc_young_threshold)
        if settings.gc_freeze:  # everything is imported and set up: what is alive now lives as long as we do
            get_logger("atrium.app").info("heap_frozen", objects=collector.freeze_static_heap())
        try:
            yield
        finally:
            if runtime:
                await runtime.stop()
            risk_decision_log.close()  # decisions submitted to the group commit are committed before exit
            get_logger("atrium.app").info("gc_pauses", **collector.WATCH.summary())
            if (checkpointer := get_db().checkpointer) is not None:
                checkpointer.report()

    app = FastAPI(
        title="Atrium API",
        version=__version__,
        description="One-stop financial service platform: accounts, ledger, transfers and payments.",
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        # No OpenTelemetry here (structlog writes the logs). Left on, FastAPI's native telemetry asks for
        # the global providers on every request — environment lookups that cost a quarter of a decision's
        # CPU in `atrium bench risk`.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    problems.install(app)
    # Sign-ins, device and credential changes and new payees pass the anti-fraud decision (identity's seams).
    risk_seams.install()
    security_headers.install(app)  # nosniff, frame and referrer policies, HSTS, no-store on the API
    # Card authorisations: POST /api/v1/risk/decisions answered before the router (same functions, same
    # answers; anything unusual is handed on to the route). Inside the security headers.
    risk_endpoints.install(app)
    app.include_router(api)
    mobile.install(app)  # the customer PWA at /: its pages, static files and page errors
    staff_console.install(app)  # the staff console at /staff: its pages, static files and page errors
    oauth2.install(app)  # the OpenID Connect provider: /.well-known/openid-configuration, /oauth2/*
    life_app.install(app)  # Atrium Life at /life, a relying party of the provider (one login, no second)
    return app
