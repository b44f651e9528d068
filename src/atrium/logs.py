"""Structured logs without PII: a processor drops known-sensitive keys before anything is written."""

from __future__ import annotations

import logging
import sys

import structlog

SENSITIVE_KEYS = frozenset(
    {"password", "token", "authorization", "cookie", "secret", "id_number", "phone", "email", "address",
     "legal_name", "pan", "card_number", "pin", "otp", "code"}
)


def _drop_sensitive(_logger, _name, event_dict):  # type: ignore[no-untyped-def]
    for key in list(event_dict):
        if key.lower() in SENSITIVE_KEYS:
            event_dict[key] = "[redacted]"
    return event_dict


def configure_logging(level: str = "INFO", *, json_logs: bool = False) -> None:
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=level.upper(), force=False)
    renderer = (
        structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _drop_sensitive,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str):  # type: ignore[no-untyped-def]
    return structlog.get_logger(name)
