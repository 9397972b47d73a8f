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


def client_address(peer: str, forwarded_for: str, trusted: list[Network]) -> Address | None:
    """The client's address: the direct peer, or behind a trusted proxy what it forwarded."""
    address = _address(peer)
    if address is None or not forwarded_for or not _within(address, trusted):
        return address
    for hop in reversed(forwarded_for.split(",")):
        address = _address(hop)
        if address is None:
            return None  # a mangled chain: refuse rather than guess
        if not _within(address, trusted):
            return address
    return address  # every hop is a proxy of ours: the leftmost is the client


def request_allowed(request: HttpRequest) -> bool:
    """Whether the request comes from MARKET_NOTIFICATION_SOURCES (settings read per request)."""
    address = client_address(request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR", ""),
                             networks(settings.TRUSTED_PROXIES))
    return address is not None and _within(address, networks(settings.MARKET_NOTIFICATION_SOURCES))
