"""The client's address behind the TLS proxy: believed only from the proxies gunicorn trusts. No Django."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_proxies(entries: str | Iterable[str]) -> list[Network]:
    """Loopback and TRUSTED_PROXIES (a comma-separated string or a list): the same peers docker/gunicorn.conf.py
    believes the scheme from (``*``, trusting everyone, is not followed here)."""
    if isinstance(entries, str):
        entries = entries.split(",")
    listed = [a.strip() for a in entries if a.strip() and a.strip() != "*"]
    return [ipaddress.ip_network(a, strict=False) for a in ["127.0.0.1", "::1", *listed]]


class ForwardedFor:
    """WSGI middleware: when the peer is a trusted proxy, REMOTE_ADDR becomes the address it put last in
    X-Forwarded-For (Caddy replaces the header, so that is the client); from anyone else the header is ignored.
    Login throttling and logs then see the packer's address, not the proxy's."""

    def __init__(self, app: WSGIApp, proxies: list[Network]) -> None:
        self.app = app
        self.proxies = proxies

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        forwarded = environ.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded and self._trusted(environ.get("REMOTE_ADDR", "")):
            client = forwarded.rsplit(",", 1)[-1].strip()
            try:
                ipaddress.ip_address(client)
            except ValueError:
                pass
            else:
                environ["fulfilment.proxy_addr"] = environ["REMOTE_ADDR"]
                environ["REMOTE_ADDR"] = client
        return self.app(environ, start_response)

    def _trusted(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.proxies)
