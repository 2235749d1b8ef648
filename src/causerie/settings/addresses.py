"""Settings that name a place: URLs of the server, its database, Redis, SMTP, mail addresses and
domains, a listening address, trusted proxies.

Each parser takes the setting's text and raises ValueError with what was expected.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from causerie.settings.units import from_text

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_MAIL_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_MAIL_FROM = re.compile(r"^(?:[^<>]*<([^<>]+)>|([^<>]+))$")
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"  # a DNS label: no hyphen first or last
_DOMAIN = re.compile(rf"^(?=.{{1,253}}$)({_LABEL}\.)*{_LABEL}$")


def parse_data_dir(text: str) -> Path:
    return Path(text or "./causerie-data").expanduser().resolve()


def _url(text: str) -> str:
    """`HTTPS://Chat.Example:443/` -> `https://chat.example`: browsers send the server's origin
    that way (`Origin`, which the inbox's requests are checked against), with no default port.
    A user, a query or a fragment could not be followed by the paths appended to it."""
    text = text.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        if "port" in str(exc).lower():
            raise ValueError("the port must be a number from 1 to 65535") from None
        raise ValueError(f"expected an http:// or https:// address ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected an http:// or https:// address")
    if parts.username is not None or parts.password is not None:
        raise ValueError("no user or password in this address")
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise ValueError("no query (?...) or fragment (#...) in this address")
    if port == 0:
        raise ValueError("the port must be a number from 1 to 65535")
    if any(char.isspace() for char in text):
        raise ValueError("no spaces in this address")
    host = parts.hostname  # lower case
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[scheme]
    netloc = host if port in (None, default) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path}".rstrip("/")


def _optional_url(text: str) -> str | None:
    return _url(text) if text.strip() else None


def _database_url(text: str) -> str:
    text = text.strip()
    if not (text.startswith("sqlite") or text.startswith("postgres")):
        raise ValueError("expected sqlite:///PATH or postgresql://USER@HOST:PORT/DB")
    return text


def _redis_url(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    if not text.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("expected redis://HOST:PORT/DB")
    return text


def _proxies(text: str) -> tuple[IpNetwork, ...]:
    networks = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or CIDR network") from None
    return tuple(networks)


def _smtp_url(text: str) -> str | None:
    """`smtp://user:pass@host:port`, `smtps://...` (TLS from the start), `?starttls=true`."""
    text = text.strip()
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("expected smtp://USER:PASSWORD@HOST:PORT or smtps://...")
    if parts.query and parts.query.lower() not in ("starttls=true", "starttls=false"):
        raise ValueError("the only option is ?starttls=true")
    if parts.scheme == "smtps" and parts.query.lower() == "starttls=true":
        # Every mail would fail: TLS from the start and an upgrade to TLS exclude each other.
        raise ValueError(
            "?starttls=true goes with smtp:// (smtps:// speaks TLS from the start): "
            "use one or the other"
        )
    try:
        port = parts.port  # None without one; raises on one that is no number or too large
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        raise ValueError("the port must be a number from 1 to 65535")
    if bool(parts.username) != bool(parts.password):
        # Either half alone failed every mail: aiosmtplib logs in with an empty password, or
        # skips a password given without its user and sends unauthenticated.
        raise ValueError(
            "a user goes with its password: smtp://USER:PASSWORD@HOST:PORT, or neither"
        )
    if parts.path not in ("", "/") or parts.fragment:
        raise ValueError("nothing but ?starttls=true may follow HOST:PORT")
    return text


def _mail_from(text: str) -> str | None:
    """`chat@example.org` or `Example Chat <chat@example.org>`."""
    text = text.strip()
    if not text:
        return None
    match = _MAIL_FROM.match(text)
    address = (match.group(1) or match.group(2)).strip() if match else ""
    if not _MAIL_ADDRESS.match(address):
        raise ValueError("expected an address such as chat@example.org or Name <chat@example.org>")
    return text


def _mail_domain(text: str) -> str | None:
    text = text.strip().lower()
    if not text:
        return None
    if not _DOMAIN.match(text):
        raise ValueError("expected a domain name such as reply.example.org")
    return text


def _emails(text: str) -> frozenset[str]:
    emails = frozenset(e.strip().lower() for e in text.split(",") if e.strip())
    for email in emails:
        if "@" not in email:
            raise ValueError(f"{email!r} is not an email address")
    return emails


def _listen(text: str) -> tuple[str, int] | None:
    """`HOST:PORT` (`[::1]:2525` for IPv6)."""
    text = text.strip()
    if not text:
        return None
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("expected HOST:PORT, such as 0.0.0.0:25 or 127.0.0.1:2525")
    return host, int(port)


def _push_contact(text: str) -> str | None:
    value = text.strip()
    if not value:
        return None
    if not (value.startswith("mailto:") and "@" in value) and not value.startswith("https://"):
        raise ValueError("expected mailto:ADDRESS or an https:// URL")
    return value


DataDir = Annotated[Path, from_text(parse_data_dir)]
DatabaseUrl = Annotated[str, from_text(_database_url)]
Url = Annotated[str, from_text(_url)]  # without its trailing slash
OptionalUrl = Annotated[str | None, from_text(_optional_url)]
RedisUrl = Annotated[str | None, from_text(_redis_url)]
Proxies = Annotated[tuple[IpNetwork, ...], from_text(_proxies)]
SmtpUrl = Annotated[str | None, from_text(_smtp_url)]
MailFrom = Annotated[str | None, from_text(_mail_from)]
MailDomain = Annotated[str | None, from_text(_mail_domain)]
Emails = Annotated[frozenset[str], from_text(_emails)]  # lower case
ListenAddress = Annotated[tuple[str, int] | None, from_text(_listen)]
PushContact = Annotated[str | None, from_text(_push_contact)]
