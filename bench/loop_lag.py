"""The server's event loop while long reads run (`python -m bench --only lag`).

Target (issue 11, item 2): with 1,000,000 messages in the database (`bench.seed_inbox`), and
searches and exports running back to back, the loop's lag (a task on the server's loop that
sleeps 1 ms and measures how late it wakes) has p99 <= 10 ms and max <= 50 ms, and an idle
socket's ping-to-pong p99 <= 20 ms.

The installation is the inbox bench's (seeded here, or reused with `--inbox-data DIR`). A Causerie
server with `bench.hooks` (pinned to core 0) runs the probe on its own loop (`LagProbe`:
`/__bench/lag-start`, `/__bench/lag-stop`). This process (core 1) keeps one agent socket open,
idle but for a `ping` every `PING_EVERY` seconds, timing each `pong`; and, in a thread, sends
the long requests one after another over one keep-alive connection, as an owner would: the
search for a rare word (every message read on SQLite), for a frequent word, the data-subject
export by email (every session's address lowered), the legal export of the largest
conversation, and a year of statistics. Each run has an idle phase (probe and pings only: the
machine's own noise) and a loaded phase of `--lag-seconds`; `--runs` runs, medians reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvloop
from sqlalchemy import make_url
from websockets.asyncio.client import ClientConnection

from bench.config import BenchConfig, progress
from bench.inbox import prepare_seed
from bench.seed_inbox import InboxSeed
from bench.servers import HOST, LOAD_CORE, Server, can_pin, request
from bench.socket_clients import agent_socket

LAG_P99_MS = 10.0
LAG_MAX_MS = 50.0
PONG_P99_MS = 20.0
PING_EVERY = 0.1  # seconds between pings: 10 frames/s, under the default frame rate (20/s)
IDLE_SECONDS = 3.0
TIMEOUT = 120.0


def p99(values: list[float]) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


@dataclass
class Phase:
    seconds: float
    lags: list[float]  # ms late, per wake-up of the server's probe
    pongs: list[float]  # ms from ping sent to pong read
    loop_wait_ms: float  # the loop's thread runnable without a CPU (other threads, processes)
    requests: dict[str, list[float]] = field(default_factory=dict)  # kind -> ms each
    errors: list[str] = field(default_factory=list)

    @property
    def lag_p99(self) -> float:
        return p99(self.lags)

    @property
    def lag_max(self) -> float:
        return max(self.lags, default=math.nan)

    @property
    def pong_p99(self) -> float:
        return p99(self.pongs)

    @property
    def met(self) -> bool:
        return (
            self.lag_p99 <= LAG_P99_MS
            and self.lag_max <= LAG_MAX_MS
            and self.pong_p99 <= PONG_P99_MS
            and not self.errors
        )


@dataclass
class LagRun:
    idle: Phase
    load: Phase


@dataclass
class LagResult:
    seed: InboxSeed
    database: str
    seconds: float
    requests: dict[str, str]  # kind -> what it asks
    runs: list[LagRun]

    def median(self, phase: str, name: str) -> float:
        return statistics.median(getattr(getattr(r, phase), name) for r in self.runs)


def _loop_wait_ns(pid: int) -> int:
    """How long the process's main thread (the event loop's) has been runnable without a CPU."""
    return int(Path(f"/proc/{pid}/task/{pid}/schedstat").read_text().split()[1])


def _requests(client: httpx.Client, seed: InboxSeed) -> dict[str, tuple[str, str, Any]]:
    """kind -> (method, url, JSON body): the long requests, found through the API."""
    site = f"/api/v1/websites/{seed.website_id}"
    listed = client.get(f"{site}/conversations?state=all&limit=100")
    listed.raise_for_status()
    email = next(
        c["visitor"]["email"] for c in listed.json()["conversations"] if c["visitor"]["email"]
    )
    return {
        "search_rare": ("GET", f"{site}/conversations?state=all&q={seed.rare_word}&limit=25", None),
        "search_common": (
            "GET",
            f"{site}/conversations?state=all&q={seed.common_word}&limit=25",
            None,
        ),
        "export_email": ("POST", "/api/v1/privacy/export", {"email": email}),
        "legal_export": (
            "POST",
            f"/api/v1/conversations/{seed.big_conversation_id}/legal-export",
            None,
        ),
        "stats_year": ("GET", f"{site}/stats?days=365", None),
    }


def _load(
    client: httpx.Client,
    requests: dict[str, tuple[str, str, Any]],
    stop: threading.Event,
    phase: Phase,
) -> None:
    """The requests one after another until `stop`; each answer read whole, not decoded."""
    while not stop.is_set():
        for kind, (method, url, body) in requests.items():
            if stop.is_set():
                return
            start = time.perf_counter()
            response = client.request(method, url, json=body)
            elapsed = (time.perf_counter() - start) * 1000
            if response.status_code != 200:
                phase.errors.append(f"{kind}: {response.status_code} {response.content[:200]!r}")
            phase.requests.setdefault(kind, []).append(elapsed)


async def _pings(conn: ClientConnection, stop: asyncio.Event, pongs: list[float]) -> None:
    while not stop.is_set():
        start = time.perf_counter()
        await conn.send('{"type": "ping"}')
        while json.loads(await conn.recv()).get("type") != "pong":
            pass  # other frames of the website's stream
        pongs.append((time.perf_counter() - start) * 1000)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), PING_EVERY)


async def _phase(
    server: Server,
    conn: ClientConnection,
    seconds: float,
    load: Callable[[threading.Event, Phase], None] | None,
) -> Phase:
    phase = Phase(seconds=0.0, lags=[], pongs=[], loop_wait_ms=0.0)
    await asyncio.to_thread(request, server.port, "POST", "/__bench/lag-start")
    wait_before = _loop_wait_ns(server.pid)
    start = time.perf_counter()
    stop_pings, stop_load = asyncio.Event(), threading.Event()
    pinger = asyncio.create_task(_pings(conn, stop_pings, phase.pongs))
    loader = None
    if load is not None:
        loader = asyncio.create_task(asyncio.to_thread(load, stop_load, phase))
    await asyncio.sleep(seconds)
    stop_load.set()
    if loader is not None:
        await loader  # the request in flight ends inside the phase
    stop_pings.set()
    await pinger
    phase.seconds = time.perf_counter() - start
    phase.loop_wait_ms = (_loop_wait_ns(server.pid) - wait_before) / 1e6
    _, answer = await asyncio.to_thread(request, server.port, "POST", "/__bench/lag-stop")
    phase.lags = [float(lag) for lag in answer["lags_ms"]]
    return phase


async def _runs(
    server: Server, seed: InboxSeed, client: httpx.Client, cfg: BenchConfig
) -> tuple[dict[str, tuple[str, str, Any]], list[LagRun]]:
    requests = await asyncio.to_thread(_requests, client, seed)
    conn = await agent_socket(server.port, seed.token, seed.website_id)
    try:
        progress("lag: warm-up (each request once)")
        for kind, (method, url, body) in requests.items():
            response = await asyncio.to_thread(client.request, method, url, json=body)
            if response.status_code != 200:
                raise RuntimeError(f"{kind} answered {response.status_code}: {response.text[:300]}")

        def load(stop: threading.Event, phase: Phase) -> None:
            _load(client, requests, stop, phase)

        runs = []
        for n in range(cfg.runs):
            progress(f"lag: run {n + 1}/{cfg.runs}: idle {IDLE_SECONDS:.0f}s, loaded "
                     f"{cfg.lag_seconds:.0f}s")  # fmt: skip
            idle = await _phase(server, conn, IDLE_SECONDS, None)
            loaded = await _phase(server, conn, cfg.lag_seconds, load)
            runs.append(LagRun(idle, loaded))
        return requests, runs
    finally:
        await conn.close()


def run_lag(cfg: BenchConfig) -> LagResult:
    seed, _, cleanup = prepare_seed(cfg, "lag")
    try:
        env = {
            **seed.env(),
            "CAUSERIE_ACCESS_LOG": "false",
            "CAUSERIE_PURGE_INTERVAL": "24h",  # no purge of its own during the runs
        }
        with Server("causerie", cfg.log("lag-causerie"), env, hooks=True) as server:
            before = os.sched_getaffinity(0)
            if can_pin():
                os.sched_setaffinity(0, {int(LOAD_CORE)})
            headers = {"Authorization": f"Bearer {seed.token}"}
            try:
                with httpx.Client(
                    base_url=f"http://{HOST}:{server.port}", headers=headers, timeout=TIMEOUT
                ) as client:
                    requests, runs = uvloop.run(_runs(server, seed, client, cfg))
            finally:
                os.sched_setaffinity(0, before)
        return LagResult(
            seed=seed,
            database=make_url(seed.database_url).get_backend_name(),
            seconds=cfg.lag_seconds,
            requests={kind: f"`{method} {url}`" for kind, (method, url, _) in requests.items()},
            runs=runs,
        )
    finally:
        cleanup()


def render_lag(result: LagResult | None) -> list[str]:
    if result is None:
        return []
    seed = result.seed
    lines = [
        f"## The event loop during long reads ({result.database})",
        "",
        f"{seed.conversations:,} conversations and {seed.messages:,} messages. Each run: "
        f"{IDLE_SECONDS:.0f} s idle (the probe and the pings only), then {result.seconds:.0f} s "
        "of long requests back to back over one connection. Lag: how late the server's loop "
        "woke a task sleeping 1 ms; pong: an idle agent socket's `ping` to `pong`, every "
        f"{PING_EVERY * 1000:.0f} ms. Loop's CPU wait: the time the server's event-loop thread "
        "was runnable but had no CPU (taken by other processes of the machine, or by the "
        "server's own threads: it is pinned to one core).",
        "",
        "| run | phase | lag p50 ms | lag p99 ms | lag max ms | pong p50 ms | pong p99 ms | "
        "pong max ms | loop's CPU wait ms | requests |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for n, run in enumerate(result.runs, 1):
        for name, phase in (("idle", run.idle), ("loaded", run.load)):
            done = ", ".join(
                f"{kind} {len(times)} times (median {statistics.median(times):.0f} ms)"
                for kind, times in phase.requests.items()
            )
            lines.append(
                f"| {n} | {name} | {statistics.median(phase.lags):.2f} | {phase.lag_p99:.2f} | "
                f"{phase.lag_max:.1f} | {statistics.median(phase.pongs):.2f} | "
                f"{phase.pong_p99:.2f} | {max(phase.pongs):.1f} | {phase.loop_wait_ms:.0f} | "
                f"{done or '-'} |"
            )
    errors = [e for run in result.runs for e in run.load.errors]
    lag_p99, lag_max = result.median("load", "lag_p99"), result.median("load", "lag_max")
    pong_p99 = result.median("load", "pong_p99")
    met = lag_p99 <= LAG_P99_MS and lag_max <= LAG_MAX_MS and pong_p99 <= PONG_P99_MS
    lines += [
        "",
        "Requests: " + "; ".join(f"{k}: {v}" for k, v in result.requests.items()) + ".",
        "",
        f"Target (medians of the loaded phases): lag p99 {lag_p99:.2f} ms (≤ {LAG_P99_MS:.0f}), "
        f"max {lag_max:.1f} ms (≤ {LAG_MAX_MS:.0f}), pong p99 {pong_p99:.2f} ms "
        f"(≤ {PONG_P99_MS:.0f}): **{'PASS' if met and not errors else 'MISS'}**"
        + (f" (errors: {'; '.join(errors[:3])})" if errors else "")
        + f"; runs passing on their own: {sum(r.load.met for r in result.runs)} of "
        f"{len(result.runs)}.",
        "",
    ]
    return lines
