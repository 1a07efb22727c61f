"""Who the client is: the socket's peer, or — only behind a configured proxy — X-Forwarded-For.

The failed-authentication limit counts per client address, so the address must be one a client
cannot choose: X-Forwarded-For is read only when the connection comes from a trusted proxy
(`EPORT_API_TRUSTED_PROXIES`), never otherwise, not even from loopback.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

Network = IPv4Network | IPv6Network
FORWARDED_FOR: Final = b"x-forwarded-for"


def parse_networks(text: str) -> tuple[Network, ...]:
    """Comma-separated addresses or networks (`10.0.0.5, 192.168.0.0/24`); ValueError if one
    is neither."""
    return tuple(ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def forwarded_client(peer: str, forwarded_for: str | None, proxies: Sequence[Network]) -> str:
    """The client's address: `peer` unless it is a trusted proxy; then the last address of
    X-Forwarded-For that is not itself a trusted proxy (each proxy appends the one it saw)."""
    if not forwarded_for or not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            ip_address(hop)
        except ValueError:  # garbage in the header: trust nothing to its left
            return peer
        if not _trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer


class ClientAddressMiddleware:
    """Sets the request's client (`request.client`) to the address found by `forwarded_client`."""

    def __init__(self, app: ASGIApp, proxies: Sequence[Network]) -> None:
        self.app = app
        self.proxies = tuple(proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Rewrite `scope["client"]` for requests that came through a trusted proxy."""
        client = scope.get("client")
        if self.proxies and scope["type"] in ("http", "websocket") and client:
            header = ",".join(  # several headers are one list, in order
                value.decode("latin-1")
                for name, value in scope.get("headers", ())
                if name == FORWARDED_FOR
            )
            address = forwarded_client(str(client[0]), header, self.proxies)
            if address != client[0]:
                scope = {**scope, "client": (address, 0)}
        await self.app(scope, receive, send)
