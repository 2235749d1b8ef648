"""IP aggregation for the shield (P18): the network a visitor's address belongs to."""

from __future__ import annotations

import ipaddress
from functools import lru_cache


@lru_cache(maxsize=4096)  # counted on every visitor message: the same few addresses, parsed once
def network_of(ip: str) -> str:
    """The /24 of an IPv4 address or the /48 of an IPv6 one, as CIDR text."""
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
