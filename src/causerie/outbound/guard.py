"""The SSRF guard: which addresses Causerie may send to, checked after resolution, and a network
backend for httpcore that connects to the very address it checked.

A name is resolved once per connection; every address it resolves to must be public (else the
request is refused and nothing is sent), and the connection goes to the first of them, by
address: a name that answers a public address to the check and a private one to the connection
(DNS rebinding) gets nowhere, since there is no second resolution.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore

from causerie.domain.targets import IpAddress, why_refused
from causerie.domain.webhooks import DeliveryRefused


async def resolve_checked(host: str, port: int, *, allow_private: bool) -> str:
    """The address to connect to for `host`: every address it resolves to checked. Raises
    `DeliveryRefused` when one is not public (unless allowed) or the name does not resolve."""
    try:
        literal: IpAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        found = [literal]
    else:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise DeliveryRefused(f"{host!r} does not resolve: {exc.strerror}") from None
        found = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        if not found:
            raise DeliveryRefused(f"{host!r} does not resolve")
    if not allow_private:
        for address in found:
            reason = why_refused(address)
            if reason is not None:
                raise DeliveryRefused(
                    f"{host!r} resolves to {address}, {reason}; set "
                    "CAUSERIE_WEBHOOK_ALLOW_PRIVATE=true to allow private targets"
                )
    return str(found[0])


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to checked addresses."""

    def __init__(self, allow_private: bool) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allow_private = allow_private

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        address = await resolve_checked(host, port, allow_private=self._allow_private)
        return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise DeliveryRefused("unix sockets are not webhook targets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
