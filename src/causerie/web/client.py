"""The client's address (the socket peer, or what a trusted proxy says in X-Forwarded-For), and
what its browser says of itself on a chatbox load (its user agent, its page's origin)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from starlette.types import Scope

from causerie.settings import IpNetwork

UNKNOWN = "0.0.0.0"  # noqa: S104 - a placeholder for a peer with no address (a Unix socket)


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address, with IPv4-mapped IPv6 (`::ffff:a.b.c.d`, seen on dual-stack sockets) as IPv4."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _plain_ipv4(text: str) -> str | None:
    """`text` if it is an IPv4 address written as `ipaddress` writes it, else None.

    The common case, checked in C: parsing with `ipaddress` costs more than the rest of a renewal's
    address handling.
    """
    try:
        packed = socket.inet_pton(socket.AF_INET, text)
    except OSError:
        return None
    return text if socket.inet_ntop(socket.AF_INET, packed) == text else None


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: Iterable[IpNetwork]
) -> bool:
    return any(address in network for network in proxies)


def client_ip(scope: Scope, proxies: tuple[IpNetwork, ...]) -> str:
    """Walk X-Forwarded-For from the right while the hops are trusted proxies.

    The first untrusted hop is the client. Entries that are not addresses stop the walk: what lies
    to the left of them was written by someone we do not trust.
    """
    client = scope.get("client")
    if client and not proxies and (plain := _plain_ipv4(client[0])) is not None:
        return plain
    peer = _parse(client[0]) if client else None
    if peer is None:
        return UNKNOWN
    if not proxies or not _trusted(peer, proxies):
        return str(peer)
    hops = [
        h
        for name, value in scope["headers"]
        if name == b"x-forwarded-for"
        for h in value.decode("latin-1").split(",")
    ]
    current = peer
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            break
        current = address
        if not _trusted(address, proxies):
            break
    return str(current)


def agent_and_origin(scope: Scope) -> tuple[str | None, str | None]:
    """The request's first `User-Agent` and first `Origin` header (None for one it has not), as
    Starlette's `request.headers.get` gives them (ASGI names are lower case; values decoded as
    latin-1), in one pass over the headers. Starlette's builds a `Headers` (its first use raises
    and catches an AttributeError) and searches again for each name through `Mapping.get`: about
    11 k instructions a chatbox load for these two."""
    agent = origin = None
    for name, value in scope["headers"]:
        if name == b"user-agent":
            if agent is None:
                agent = value.decode("latin-1")
        elif name == b"origin" and origin is None:
            origin = value.decode("latin-1")
    return agent, origin
