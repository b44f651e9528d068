"""A coarse location for an IP address, for the login history and the session list (never for decisions).

- loopback, private (RFC 1918, unique-local) and link-local addresses: "local network" / "本地网络";
- otherwise the longest matching prefix of a CIDR → place table: a CSV file (`cidr,key,zh,en`, `#`
  comments) named by settings.protection.geo_table, by default the small sample next to this module
  (`geo_sample.csv`, documentation ranges only);
- anything else, or text that is not an address: "unknown" / "未知".
"""

from __future__ import annotations

import csv
import ipaddress
from functools import lru_cache
from pathlib import Path

from atrium.config import get_settings
from atrium.identity.protection.schemas import PlaceRead

SAMPLE_TABLE = Path(__file__).resolve().parent / "geo_sample.csv"
LOCAL = PlaceRead(key="local", zh="本地网络", en="local network")
UNKNOWN = PlaceRead(key="unknown", zh="未知", en="unknown")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_LOCAL_NETWORKS: tuple[Network, ...] = tuple(
    ipaddress.ip_network(n)
    for n in ("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
              "::1/128", "fc00::/7", "fe80::/10")
)


class GeoTableError(ValueError):
    """The configured table has a line that is not `cidr,key,zh,en`."""


@lru_cache(maxsize=4)
def load_table(path: Path) -> tuple[tuple[Network, PlaceRead], ...]:
    """The table's networks, longest prefix first (so the first match is the most specific)."""
    rows: list[tuple[Network, PlaceRead]] = []
    with path.open(encoding="utf-8", newline="") as f:
        for number, line in enumerate(csv.reader(f), start=1):
            if not line or not line[0].strip() or line[0].lstrip().startswith("#"):
                continue
            if len(line) != 4:
                raise GeoTableError(f"{path.name}:{number}: expected cidr,key,zh,en")
            cidr, key, zh, en = (cell.strip() for cell in line)
            try:
                network = ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise GeoTableError(f"{path.name}:{number}: not a network") from exc
            if not key or key in (LOCAL.key, UNKNOWN.key):
                raise GeoTableError(f"{path.name}:{number}: the key must be set and not reserved")
            rows.append((network, PlaceRead(key=key, zh=zh or en, en=en or zh)))
    rows.sort(key=lambda r: r[0].prefixlen, reverse=True)
    return tuple(rows)


def table_path() -> Path:
    configured = get_settings().protection.geo_table
    return Path(configured) if configured else SAMPLE_TABLE


def parse(ip: str) -> Address | None:
    try:
        address = ipaddress.ip_address(ip.strip().split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def locate(ip: str, *, table: Path | None = None) -> PlaceRead:
    address = parse(ip or "")
    if address is None:
        return UNKNOWN
    if any(address.version == n.version and address in n for n in _LOCAL_NETWORKS):
        return LOCAL
    for network, place in load_table(table or table_path()):
        if address.version == network.version and address in network:
            return place
    return UNKNOWN


def describe(ip: str, locale: str) -> str:
    return locate(ip).name(locale)
