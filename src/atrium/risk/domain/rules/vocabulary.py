"""The names a rule may read and their types.

A vocabulary maps a name to "number" or "string". Features are numbers (flags are 0/1); the event fields
`channel` and `currency` are strings. Compiling against an explicit vocabulary keeps the rule language
independent of the feature code: tests pass their own, the service passes the engine's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from atrium.kit.money import CURRENCY_EXPONENT
from atrium.risk.domain.events import RiskEvent

NUMBER: Final = "number"
STRING: Final = "string"
VALUE_TYPES: Final = (NUMBER, STRING)

# Fields of the event itself, always readable by a rule (features may define `amount` and `hour_of_day`
# too; the types agree).
EVENT_FIELDS: Final[Mapping[str, str]] = {
    "amount": NUMBER,
    "hour_of_day": NUMBER,
    "channel": STRING,
    "currency": STRING,
}

Vocabulary = Mapping[str, str]


def make_vocabulary(numbers: Iterable[str] = (), strings: Iterable[str] = ()) -> dict[str, str]:
    """A vocabulary from name lists, on top of the event fields."""
    vocabulary = dict(EVENT_FIELDS)
    vocabulary.update((name, NUMBER) for name in numbers)
    vocabulary.update((name, STRING) for name in strings)
    return vocabulary


def default_vocabulary() -> dict[str, str]:
    """The engine's features (numbers) plus the event fields.

    Imported at call time: the feature module is the source of the names and the rule language must not
    depend on it to import (nor create a cycle with the engine, which imports both)."""
    from atrium.risk.domain.features import FEATURE_NAMES

    return make_vocabulary(numbers=FEATURE_NAMES)


def event_fields(event: RiskEvent) -> dict[str, float | str]:
    """The event-field part of a rule's environment. `amount` is in major units, as the features have it;
    `hour_of_day` here is UTC. The engine's features, merged over this, win where both define a name."""
    exponent = CURRENCY_EXPONENT.get(event.currency, 2)
    return {
        "amount": event.amount_minor / 10**exponent,
        "hour_of_day": float(int(event.at // 3600) % 24),
        "channel": event.channel,
        "currency": event.currency,
    }
