"""The clearing system's participant directory: the banks an interbank transfer can reach.

A real rail publishes this as a file that banks load daily; the simulated rail's members are fictional.
Atrium itself is a participant (it receives through the rail), but customers never send to it through the
rail: money between two Atrium accounts stays on the ledger.
"""

from __future__ import annotations

from atrium.payments.domain import ATRIUM_BANK_CODE
from atrium.payments.rail.interface import Participant

PARTICIPANTS: tuple[Participant, ...] = (
    Participant(ATRIUM_BANK_CODE, "Atrium Bank", "中庭银行", ("CNY", "USD", "HKD")),
    Participant("HCBK", "Harbour City Bank", "港城银行", ("CNY", "HKD")),
    Participant("JRCB", "Jade River Commercial Bank", "玉河商业银行", ("CNY",)),
    Participant("NMBK", "Northern Merchants Bank", "北方招商银行", ("CNY", "USD")),
    Participant("PLRC", "Pearl Rural Credit Cooperative", "珠江农村信用社", ("CNY",)),
    Participant("SKYB", "Skyline Digital Bank", "天际数字银行", ("CNY", "USD", "HKD", "EUR")),
    Participant("WLKB", "West Lake Bank", "西湖银行", ("CNY",)),
)

_BY_CODE = {p.code: p for p in PARTICIPANTS}


def find(code: str) -> Participant | None:
    return _BY_CODE.get(code)


def reachable() -> tuple[Participant, ...]:
    """Banks a customer can send to from Atrium (every participant but Atrium itself)."""
    return tuple(p for p in PARTICIPANTS if p.code != ATRIUM_BANK_CODE)
