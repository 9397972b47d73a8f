"""The client's address: X-Forwarded-For is believed only when the request came through a trusted proxy.

``TRUSTED_PROXIES`` (settings) lists the proxies' addresses or networks; with none, the peer address
is the client, whatever the headers say, so no one can pick the address a login throttle counts.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    try:
        return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip())
    except ValueError as exc:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {exc} (give IP addresses or networks like 10.0.0.0/8)") from exc


def trusted_networks() -> tuple[Network, ...]:
    """The parsed ``TRUSTED_PROXIES``; a malformed entry raises ImproperlyConfigured naming the setting."""
    return _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: Sequence[Network]) -> bool:
    return any(address in net for net in networks)


def client_ip(request: HttpRequest) -> str:
    """The address of the client: the peer, or the nearest hop before the trusted proxies.

    X-Forwarded-For is read right to left (each proxy appends the address it saw), skipping trusted
    proxies; the first address that is not one is the client. Anything to its left is the client's
    own claim and is ignored, as is a malformed entry.
    """
    peer = request.META.get("REMOTE_ADDR", "")
    current = _address(peer)
    networks = trusted_networks()
    if current is None or not networks or not _is_trusted(current, networks):
        return peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed([h for h in forwarded.split(",") if h.strip()]):
        if not _is_trusted(current, networks):
            break
        address = _address(hop)
        if address is None:
            break
        current = address
    return str(current)
