"""Structured logs without PII or secrets: before anything is written, a processor replaces the value of
every sensitive key (by name, also inside longer names such as `new_password` or `refresh_token`) and
scrubs what looks like a phone number, a resident ID number, a card number or a bearer token out of the
remaining text. Code should not log such things at all; this is the net under it."""

from __future__ import annotations

import logging
import re
import sys

import structlog

SENSITIVE_KEYS = frozenset(
    {"password", "token", "authorization", "cookie", "secret", "id_number", "phone", "email", "address",
     "legal_name", "pan", "card_number", "pin", "otp", "code"}
)


_SCRUB = [
    (re.compile(r"(?i)\bbearer\s+[\w.~+/=-]+"), "Bearer [redacted]"),
    (re.compile(r"(?<!\d)\d{17}[\dXx](?![\dA-Za-z])"), "[id-number]"),  # resident ID numbers
    (re.compile(r"(?<!\d)\d{15,19}(?!\d)"), "[number]"),  # card and account numbers
    (re.compile(r"(?<![\d+])(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)"), "[phone]"),  # mainland mobiles
]


def _sensitive(key: str) -> bool:
    lowered = key.lower()
    return lowered in SENSITIVE_KEYS or any(word in lowered for word in _SENSITIVE_PARTS)


_SENSITIVE_PARTS = ("password", "token", "secret", "cookie", "authorization", "phone", "email", "id_number")


def scrub(text: str) -> str:
    for pattern, replacement in _SCRUB:
        text = pattern.sub(replacement, text)
    return text


def _drop_sensitive(_logger, _name, event_dict):  # type: ignore[no-untyped-def]
    for key in list(event_dict):
        if _sensitive(key):
            event_dict[key] = "[redacted]"
        elif isinstance(event_dict[key], str):
            event_dict[key] = scrub(event_dict[key])
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
