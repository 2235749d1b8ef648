"""The idle sockets bench: the server's RSS before and after opening many idle authenticated
visitor sockets, beside the same number of plain sockets to a bare Starlette echo server.

Every loop is bounded in count and in time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import uvloop
from websockets.asyncio.client import ClientConnection

from bench.config import BenchConfig, progress
from bench.memory import read_memory
from bench.servers import HOST, Server, install_causerie
from bench.socket_clients import (
    causerie_env,
    connect_socket,
    load_core,
    raise_open_files,
    visitor_socket,
)

SOCKET_RATIO = 1.5  # KB per idle visitor socket, at most this many times the echo's
OPEN_CONCURRENCY = 200


@dataclass(frozen=True)
class SocketsCase:
    opened: int
    rss_before_kib: int
    rss_after_kib: int
    seconds: float

    @property
    def kib_per_socket(self) -> float:
        return (self.rss_after_kib - self.rss_before_kib) / self.opened if self.opened else 0.0


@dataclass(frozen=True)
class SocketsResult:
    wanted: int
    echo: SocketsCase
    visitor: SocketsCase

    @property
    def ratio(self) -> float:
        echo = self.echo.kib_per_socket
        return self.visitor.kib_per_socket / echo if echo > 0 else float("inf")


async def _open_many(
    count: int, opener: Callable[[], Awaitable[ClientConnection]], cap: float
) -> list[ClientConnection]:
    limit = asyncio.Semaphore(OPEN_CONCURRENCY)
    deadline = time.monotonic() + cap

    async def one() -> ClientConnection | None:
        async with limit:
            if time.monotonic() > deadline:
                return None
            try:
                return await opener()
            except Exception:
                return None

    opened = await asyncio.gather(*(one() for _ in range(count)))
    return [c for c in opened if c is not None]


async def _hold(
    pid: int, count: int, opener: Callable[[], Awaitable[ClientConnection]], cap: float
) -> SocketsCase:
    await asyncio.sleep(0.5)
    before = read_memory(pid).rss_kib
    start = time.monotonic()
    conns = await _open_many(count, opener, cap)
    seconds = time.monotonic() - start
    try:
        await asyncio.sleep(2.0)  # let the server settle
        after = read_memory(pid).rss_kib
    finally:
        for i in range(0, len(conns), 500):
            await asyncio.gather(*(c.close() for c in conns[i : i + 500]), return_exceptions=True)
    return SocketsCase(len(conns), before, after, seconds)


def run_sockets(cfg: BenchConfig, count: int) -> SocketsResult:
    hard = raise_open_files()
    if hard < count + 1000:
        count = hard - 1000
        progress(f"sockets: open-file limit {hard}; opening {count:,}")
    cap = 300.0
    site = install_causerie(cfg.workdir, "sockets", cfg.databases)
    env = causerie_env(site)
    # One socket first, so that the first connection's one-off costs are not counted.
    with Server("bare", cfg.log("sockets-echo")) as echo, load_core():
        url = f"ws://{HOST}:{echo.port}/ws/echo"

        async def echo_case() -> SocketsCase:
            first = await connect_socket(url, None)
            try:
                return await _hold(echo.pid, count, lambda: connect_socket(url, None), cap)
            finally:
                await first.close()

        echo_result = uvloop.run(echo_case())
    progress(f"sockets: echo {echo_result.opened:,} sockets, {echo_result.kib_per_socket:.1f} KB")
    with Server("causerie", cfg.log("sockets-causerie"), env) as causerie:
        token = causerie.open_session(site.website_id)["token"]
        with load_core():

            async def visitor_case() -> SocketsCase:
                first = await visitor_socket(causerie.port, token, site.website_id)
                try:
                    return await _hold(
                        causerie.pid,
                        count,
                        lambda: visitor_socket(causerie.port, token, site.website_id),
                        cap,
                    )
                finally:
                    await first.close()

            visitor_result = uvloop.run(visitor_case())
    progress(
        f"sockets: causerie {visitor_result.opened:,} sockets, "
        f"{visitor_result.kib_per_socket:.1f} KB"
    )
    return SocketsResult(count, echo_result, visitor_result)


def render_idle_sockets(sockets: SocketsResult | None) -> list[str]:
    """The report's section (none when the section did not run)."""
    if sockets is None:
        return []
    verdict = {True: "PASS", False: "MISS"}
    lines: list[str] = []
    lines += [
        f"## Memory per idle WebSocket ({sockets.wanted:,} sockets asked)",
        "",
        "| server | sockets open | RSS before MiB | RSS after MiB | KB per socket | open time s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, c in (
        ("bare Starlette echo (plain sockets)", sockets.echo),
        ("Causerie (authenticated idle visitor sockets)", sockets.visitor),
    ):
        lines.append(
            f"| {label} | {c.opened:,} | {c.rss_before_kib / 1024:.1f} | "
            f"{c.rss_after_kib / 1024:.1f} | {c.kib_per_socket:.1f} | {c.seconds:.1f} |"
        )
    lines += [
        "",
        f"Target: <= {SOCKET_RATIO}x the echo's KB per socket: "
        f"**{verdict[sockets.ratio <= SOCKET_RATIO]}** ({sockets.ratio:.2f}x).",
        "",
    ]
    return lines
