"""Which hosts Causerie may send to (webhooks, push): the addresses that are not public, and the
host names that can be told private without asking DNS.

A delivery checks every address a name resolves to (outbound/guard.py), since DNS can change
between the creation of a webhook and its deliveries. A webhook's URL is checked as well when it
is created or changed, for what needs no DNS: an address literal in any form a resolver reads
(`127.0.0.1`, `2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1`, `[::1]`, `[fe80::1%eth0]`), and
the names reserved for the machine or a private network (docs/api.md, "Webhooks").
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from causerie.domain.errors import shown

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Names that are never public (RFC 6761 `localhost`, RFC 6762 `local`, RFC 8375 `home.arpa`,
# ICANN's private-use `internal`, which holds the cloud metadata names such as
# `metadata.google.internal`), matched as the name itself or any name under it.
PRIVATE_SUFFIXES = ("localhost", "local", "internal", "home.arpa")

# A part of a numeric IPv4 form as inet_aton reads it: decimal, octal (leading 0) or hex (0x).
_NUMERIC_PART = re.compile(r"^(0[xX][0-9a-fA-F]*|[0-9]+)$")


# IPv6 prefixes that carry an IPv4 address in their last 32 bits and reach it through a
# translator: NAT64's well-known prefix (RFC 6052) and its local-use one (RFC 8215). A public
# IPv4 address behind them is public (a DNS64 network names every host that way).
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one leads to: IPv4-mapped (`::ffff:a.b.c.d`), NAT64
    (`64:ff9b::a.b.c.d`) or 6to4 (`2002:AABB:CCDD::`); None for any other."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in prefix for prefix in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def why_refused(address: IpAddress) -> str | None:
    """Why `address` may not be a target (loopback, private, link-local, metadata, multicast,
    reserved...), or None when it is a public address. An IPv6 address leading to an IPv4 one
    (mapped, NAT64, 6to4) is judged by that IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = embedded_ipv4(address)
        if embedded is not None:
            reason = why_refused(embedded)
            if reason is None or address.ipv4_mapped is not None:
                return reason
            return f"{reason} ({embedded} behind a translation prefix)"
        if address.is_site_local:
            return "a site-local address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (cloud metadata services live there)"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private address"
    # `is_reserved` holds IPv6's `::/8`, the IPv4-compatible `::a.b.c.d` among them, which
    # Python counts as global.
    if address.is_reserved or not address.is_global:
        return "a reserved or non-public address"
    return None


def numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The address a resolver reads in a numeric host (one to four dotted parts, each decimal,
    octal or hex, the last filling the remaining bytes, as inet_aton does); None when `host` is
    not numeric. Raises ValueError when it is numeric but no address (a part too large)."""
    parts = host.split(".")
    if len(parts) > 4 or not all(_NUMERIC_PART.match(part) for part in parts):
        return None
    values = []
    for part in parts:
        if part[:2].lower() == "0x":
            values.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part[0] == "0":
            if set(part) & {"8", "9"}:
                raise ValueError(f"{part} is no octal number")
            values.append(int(part, 8))
        else:
            values.append(int(part))
    *leading, last = values
    if any(value > 0xFF for value in leading) or last >= 256 ** (4 - len(leading)):
        raise ValueError("a part is too large")
    number = last
    for index, value in enumerate(leading):
        number += value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


def why_host_refused(host: str) -> str | None:
    """Why `host` (a URL's host name, lower case, without brackets) is no public target, as far
    as can be told without DNS; None when only its resolution can tell."""
    name = host.rstrip(".")
    try:
        literal: IpAddress | None = ipaddress.ip_address(name)
    except ValueError:
        literal = None
    if literal is None:
        try:
            literal = numeric_ipv4(name)
        except ValueError:
            return f"{host} is a number that is no IPv4 address"
    if literal is not None:
        reason = why_refused(literal)
        return None if reason is None else f"{host} is {reason}"
    for suffix in PRIVATE_SUFFIXES:
        if name == suffix or name.endswith("." + suffix):
            return f"{host} is a name of this machine or a private network (.{suffix})"
    if "." not in name:  # resolved through the server's search domains: its own network
        return f"{host} is a name of the local network (it has no domain)"
    return None


# What a URL never holds (RFC 3986): spaces and control characters, which an HTTP client either
# refuses at each delivery or sends somewhere else than the URL shown.
_NOT_IN_URL = re.compile(r"[\x00-\x20\x7f\s]")
# A host name's characters: letters (any script, made ASCII by IDNA), digits, `-`, `_` and the
# dots between labels; an IPv6 literal's hex digits and colons, with its `%zone`.
_HOST = re.compile(r"^[\w.:%-]+$")


def why_url_malformed(url: str, host: str) -> str | None:
    """Why `url` (whose host is `host`) cannot be a target whatever DNS says, or None."""
    if _NOT_IN_URL.search(url):
        return "a URL holds no spaces or control characters"
    if "#" in url:  # elsewhere in a URL a `#` is written %23
        return (
            "a target URL has no #fragment (a client never sends it: the server would not see it)"
        )
    if not _HOST.match(host):
        return f"{shown(host)} is no host name"
    if ":" not in host:  # a name (an IPv6 literal alone holds colons, and its zone a `%`)
        labels = host.removesuffix(".").split(".")
        if "%" in host or "" in labels or any(len(label) > 63 for label in labels):
            # DNS resolves none of them: every delivery would fail
            return f"{shown(host)} is no host name (labels of 1 to 63 characters, no %)"
    try:
        port = urlsplit(url).port
    except ValueError:  # not a number, or over 65535: no client can send to it
        port = 0
    if port == 0:
        return "the port must be a number from 1 to 65535"
    return None
