"""The client's address for rate limits: the connection's peer, unless that peer is a trusted reverse proxy.

Only a peer listed in ``TEPAT_TRUSTED_PROXIES`` may name the client in
``X-Forwarded-For``; then the client is the rightmost address in that header
that is not itself a trusted proxy (a client can put anything on the left of the
header, but not on the right of what its proxy appended). With no trusted proxy
(the default) the header is ignored, so rotating it changes nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from starlette.requests import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=32)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(request: Request, trusted_proxies: tuple[str, ...]) -> str:
    """The address rate limits count against (see the module docstring)."""
    peer = request.client.host if request.client else "unknown"
    networks = _networks(trusted_proxies)
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop
    return peer
