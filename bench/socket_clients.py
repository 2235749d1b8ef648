"""What the real-time benches (bench/relay.py, bench/idle_sockets.py, bench/writes.py,
bench/loop_lag.py) share: WebSocket clients of Causerie's visitor and agent sockets, the
installation they talk to, the load generator's core and the server's CPU time.

The load runs in this process (asyncio, `websockets` client) on core 1; servers on core 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from bench.servers import HOST, LOAD_CORE, ORIGIN, Installation, can_pin

AGENT_EMAIL = "bench-agent@shop.example"
CONNECT_TIMEOUT = 10.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextlib.contextmanager
def load_core(core: str = LOAD_CORE) -> Iterator[None]:
    """This process on the load generator's core (or `core`) while the block runs."""
    before = os.sched_getaffinity(0)
    if can_pin():
        os.sched_setaffinity(0, {int(core)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def raise_open_files() -> int:
    """The soft open-file limit up to the hard one; servers started afterwards inherit it."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def _cli(site: Installation, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "causerie", *args],
        env={**os.environ, **site.env()},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def add_agent_token(site: Installation) -> str:
    """An operator with a role on the website, and an API token acting as them (the CLI's)."""
    _cli(site, "operator", "add", AGENT_EMAIL, "--website", site.website_id, "--role", "agent")
    lines = [line.strip() for line in _cli(site, "token", "add", AGENT_EMAIL).splitlines()]
    secret = next((line for line in reversed(lines) if line), "")
    if not secret:
        raise RuntimeError("causerie token add printed no token")
    return secret


def causerie_env(site: Installation) -> dict[str, str]:
    # Every visitor is on 127.0.0.1, writing far faster than a person: the message limits (per
    # session and per network) are still counted, never reached. Before they were raised here,
    # each sender of a long enough run met `rate_limited` after its first ten messages.
    return site.env(
        CAUSERIE_FRAME_RATE="100000/s",
        CAUSERIE_WS_IDLE_TIMEOUT="3600s",
        CAUSERIE_MESSAGE_RATE="1000000/s",
        CAUSERIE_NETWORK_MESSAGE_RATE="1000000/s",
    )


async def connect_socket(url: str, origin: str | None) -> ClientConnection:
    return await connect(
        url,
        origin=origin,  # type: ignore[arg-type]
        compression=None,
        open_timeout=CONNECT_TIMEOUT,
        max_queue=None,
    )


async def expect_frame(conn: ClientConnection, type_: str, within: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(conn.recv(), left))
        if frame.get("type") == type_:
            return frame
        if frame.get("type") == "error":
            raise RuntimeError(f"server error frame: {frame}")
    raise TimeoutError(f"no {type_} frame within {within}s")


async def visitor_socket(port: int, token: str, website_id: str) -> ClientConnection:
    conn = await connect_socket(f"ws://{HOST}:{port}/ws/visitor?website_id={website_id}", ORIGIN)
    await conn.send(json.dumps({"type": "auth", "token": token}))
    await expect_frame(conn, "ready")
    return conn


async def agent_socket(port: int, token: str, website_id: str) -> ClientConnection:
    conn = await connect_socket(f"ws://{HOST}:{port}/ws/agent", None)
    frame = {"type": "auth", "token": token, "website_id": website_id, "status": "online"}
    await conn.send(json.dumps(frame))
    await expect_frame(conn, "ready")
    return conn


def each_run(values: list[float]) -> str:
    """A report's "each run" column: every run's figure, whole."""
    return ", ".join(f"{v:,.0f}" for v in values)
