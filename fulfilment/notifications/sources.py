"""Who may send notifications: the Market's published source ranges, seen through a trusted proxy.

The Market signs nothing; HTTPS, the secret in the URL and its source addresses are the checks.
X-Forwarded-For is believed only when the direct peer is one of TRUSTED_PROXIES (anyone else could
write it), and then read from the right: the first address that is not a trusted proxy is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest

from fulfilment.client_ip import client_ip

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped  # ::ffff:5.45.207.1 from a dual-stack listener
    return address


def networks(ranges: Iterable[str]) -> list[Network]:
    """``["5.45.207.0/25", "127.0.0.1"]`` → networks (a bare address is a /32 or /128)."""
    return [ipaddress.ip_network(r.strip(), strict=False) for r in ranges if r.strip()]


def _within(address: Address, nets: list[Network]) -> bool:
    return any(address.version == net.version and address in net for net in nets)


def request_allowed(request: HttpRequest) -> bool:
    """Whether the request comes from MARKET_NOTIFICATION_SOURCES (settings read per request)."""
    address = _address(client_ip(request))  # one reading of X-Forwarded-For for the whole site
    return address is not None and _within(address, networks(settings.MARKET_NOTIFICATION_SOURCES))
