"""The client's address: the peer's, or what trusted proxies say in X-Forwarded-For (P17, P18)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from causerie.settings import IpNetwork, Settings
from causerie.web.client import UNKNOWN, client_ip
from tests.conftest import ORIGIN, Harness, ServerThread, Site

XFF = "x-forwarded-for"


def proxies(*items: str) -> tuple[IpNetwork, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in items)


def scope(peer: str | None, *forwarded: str, **headers: str) -> dict[str, Any]:
    raw = [(XFF.encode(), value.encode("latin-1")) for value in forwarded]
    raw += [(name.encode(), value.encode()) for name, value in headers.items()]
    return {
        "type": "http",
        "client": None if peer is None else (peer, 51234),
        "headers": raw,
    }


def test_without_proxies_the_peer_is_the_client_and_the_header_is_ignored() -> None:
    assert client_ip(scope("198.51.100.9", "203.0.113.77"), ()) == "198.51.100.9"
    assert client_ip(scope("2001:db8::9", "203.0.113.77"), ()) == "2001:db8::9"


def test_an_untrusted_peer_cannot_set_the_client_address() -> None:
    trusted = proxies("127.0.0.1", "10.0.0.0/8")
    assert client_ip(scope("198.51.100.9", "203.0.113.77"), trusted) == "198.51.100.9"


def test_a_trusted_peer_gives_the_rightmost_untrusted_hop() -> None:
    trusted = proxies("127.0.0.1")
    # The visitor may write anything to the left; only the hop the proxy appended counts.
    assert client_ip(scope("127.0.0.1", "1.2.3.4, 203.0.113.77"), trusted) == "203.0.113.77"
    assert client_ip(scope("127.0.0.1", "203.0.113.77"), trusted) == "203.0.113.77"


def test_a_chain_of_trusted_proxies_is_walked_through() -> None:
    trusted = proxies("127.0.0.1", "10.0.0.0/8")
    header = "1.2.3.4, 203.0.113.77, 10.1.2.3, 10.4.5.6"
    assert client_ip(scope("127.0.0.1", header), trusted) == "203.0.113.77"


def test_several_header_lines_are_read_as_one_list() -> None:
    trusted = proxies("127.0.0.1", "10.0.0.0/8")
    got = client_ip(scope("127.0.0.1", "1.2.3.4, 203.0.113.77", "10.4.5.6"), trusted)
    assert got == "203.0.113.77"


def test_every_hop_trusted_gives_the_leftmost() -> None:
    trusted = proxies("127.0.0.1", "10.0.0.0/8")
    assert client_ip(scope("127.0.0.1", "10.1.1.1, 10.2.2.2"), trusted) == "10.1.1.1"


def test_a_trusted_peer_without_the_header_is_the_client() -> None:
    assert client_ip(scope("127.0.0.1"), proxies("127.0.0.1")) == "127.0.0.1"
    assert client_ip(scope("127.0.0.1", ""), proxies("127.0.0.1")) == "127.0.0.1"


@pytest.mark.parametrize("garbage", ["unknown", "203.0.113.77:4711", "_hidden", "not an ip"])
def test_garbage_stops_the_walk(garbage: str) -> None:
    trusted = proxies("127.0.0.1", "10.0.0.0/8")
    got = client_ip(scope("127.0.0.1", f"203.0.113.77, {garbage}, 10.4.5.6"), trusted)
    # Whoever wrote the garbage is not trusted, nor is anything to its left.
    assert got != "203.0.113.77"
    assert got == "10.4.5.6"
    assert client_ip(scope("127.0.0.1", f"203.0.113.77, {garbage}"), trusted) == "127.0.0.1"


def test_ipv6_hops() -> None:
    trusted = proxies("::1", "fd00::/8")
    assert client_ip(scope("::1", "2001:db8::77, fd00::1"), trusted) == "2001:db8::77"


def test_ipv4_mapped_hop_is_normalised() -> None:
    trusted = proxies("127.0.0.1")
    assert client_ip(scope("127.0.0.1", "::ffff:203.0.113.77"), trusted) == "203.0.113.77"


def test_ipv4_mapped_peer_is_normalised() -> None:
    # A dual-stack listener ("::") reports IPv4 peers as ::ffff:a.b.c.d.
    assert client_ip(scope("::ffff:203.0.113.77"), ()) == "203.0.113.77"


def test_ipv4_mapped_peer_is_recognised_as_a_trusted_proxy() -> None:
    trusted = proxies("127.0.0.1")
    assert client_ip(scope("::ffff:127.0.0.1", "203.0.113.77"), trusted) == "203.0.113.77"


def test_ipv4_mapped_hop_is_recognised_as_a_trusted_proxy() -> None:
    trusted = proxies("127.0.0.1", "10.0.0.0/8")
    got = client_ip(scope("127.0.0.1", "203.0.113.77, ::ffff:10.4.5.6"), trusted)
    assert got == "203.0.113.77"


def test_no_client_gives_the_placeholder() -> None:
    assert client_ip(scope(None, "203.0.113.77"), proxies("127.0.0.1")) == UNKNOWN
    assert client_ip({"type": "http", "headers": []}, ()) == UNKNOWN
    assert ipaddress.ip_address(UNKNOWN).is_unspecified


# -- over a real socket -----------------------------------------------------------------------


def _open_session(url: str, website_id: str, forwarded_for: str) -> str:
    response = httpx.post(
        f"{url}/api/widget/v1/websites/{website_id}/session",
        json={"page": {"url": "https://shop.example/", "title": "Home", "referrer": ""}},
        headers={"Origin": ORIGIN, "X-Forwarded-For": forwarded_for},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    session_id: str = response.json()["session"]["id"]
    return session_id


def test_p17_stored_ip_comes_from_x_forwarded_for_only_behind_a_trusted_proxy(
    start_server: Callable[[Settings], ServerThread],
    make_settings: Callable[..., Settings],
    settings: Settings,
    site: Site,
    harness: Harness,
) -> None:
    behind_proxy = start_server(make_settings(trusted_proxies="127.0.0.1"))
    direct = start_server(settings)

    proxied = _open_session(behind_proxy.url, site.website_id, "1.2.3.4, 203.0.113.77")
    spoofed = _open_session(direct.url, site.website_id, "203.0.113.77")

    ip = "SELECT ip FROM sessions WHERE id = :id"
    assert harness.scalar(ip, id=proxied) == "203.0.113.77"
    assert harness.scalar(ip, id=spoofed) == "127.0.0.1"


@pytest.mark.parametrize(
    "peer",
    [
        "198.51.100.9",
        "10.0.0.1",
        "0.0.0.0",
        "255.255.255.255",
        "010.0.0.1",
        "1.2.3",
        "1.2.3.4 ",
        "::ffff:192.0.2.1",
        "2001:db8::9",
        "2001:DB8:0::9",
        "not an address",
        "",
    ],
)
def test_the_fast_path_for_plain_ipv4_peers_agrees_with_the_parser(peer: str) -> None:
    parsed = ipaddress.ip_address(peer.strip()) if _is_address(peer) else None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    assert client_ip(scope(peer), ()) == (UNKNOWN if parsed is None else str(parsed))


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip())
    except ValueError:
        return False
    return True
