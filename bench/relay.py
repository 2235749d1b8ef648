"""The relay bench: visitors send `message.send` (closed loop: each waits for its
`message.ack`), one agent socket receives `message.created`; beside a bare Starlette WebSocket
echo under the same uvicorn WebSocket options, loaded by as many clients doing send -> echo round
trips, and beside the relay's floor (bench/relay_floor.py: the same frames and one durable row,
nothing else), loaded by the same clients as Causerie. Then, on the same Causerie server, the
20-senders shape, one sender, and a paced load for the visitor -> agent latency.

Every loop is bounded in count and in time.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import uvloop
from websockets.asyncio.client import ClientConnection

from bench.config import BenchConfig, progress
from bench.disk import PAGES, commit_latencies
from bench.servers import HOST, Server, cpu_seconds, install_causerie
from bench.socket_clients import (
    add_agent_token,
    agent_socket,
    causerie_env,
    connect_socket,
    each_run,
    load_core,
    percentile,
    visitor_socket,
)

RELAY_RATIO = 0.5  # relayed messages/s, as a share of the echo server's round trips/s
FLOOR_RATIO = 0.5  # relayed messages/s, as a share of the relay floor's (issue 19)
# The 20-senders shape: 20 sockets each sending a message.send as soon as the last one is acked.
# Matrix Synapse's published figure for it is 106 messages/s; the target is 50 times that.
SENDERS = 20
SENDERS_TARGET = 50 * 106
PACED_RATE = 1000  # messages/s, spread over the relay's visitors, for the latency target
PACED_P99_MS = 10.0  # visitor -> agent p99 at that rate, at most


@dataclass(frozen=True)
class RelayRun:
    rate: float  # messages relayed (or round trips) per second
    p50_ms: float
    p99_ms: float
    count: int
    errors: int
    server_cpu: float = 0.0  # the server's CPU seconds per second of the run (1.0 = its core)
    acked: float = 0.0  # message.ack frames received per second (senders' view)


@dataclass
class RelayCase:
    runs: list[RelayRun] = field(default_factory=list)

    def median(self, name: str) -> float:
        return statistics.median(getattr(r, name) for r in self.runs) if self.runs else 0.0

    def capacity(self) -> float:
        """Messages (or round trips) per second of the server's CPU: the rate it would reach
        with its core to itself, whether or not the load generator could drive it there."""
        per_cpu = [r.rate / r.server_cpu for r in self.runs if r.server_cpu > 0]
        return statistics.median(per_cpu) if per_cpu else 0.0


@dataclass
class RelayResult:
    clients: int
    seconds: float
    echo: RelayCase = field(default_factory=RelayCase)
    floor: RelayCase = field(default_factory=RelayCase)
    relay: RelayCase = field(default_factory=RelayCase)
    senders: RelayCase = field(default_factory=RelayCase)  # Causerie, SENDERS sockets
    one: RelayCase = field(default_factory=RelayCase)  # Causerie, one socket
    paced: RelayCase = field(default_factory=RelayCase)  # Causerie, PACED_RATE on a schedule
    # The disk's own commits (bench/disk.py), ms, measured after each paced run: its baseline.
    disk_ms: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.share(self.relay)

    def share(self, case: RelayCase, of: RelayCase | None = None) -> float:
        """`case`'s median rate as a share of the echo's (or of `of`'s)."""
        base = (of or self.echo).median("rate")
        return case.median("rate") / base if base else 0.0

    def capacity_share(self, case: RelayCase, of: RelayCase | None = None) -> float:
        """`case`'s rate per second of server CPU as a share of the echo's (or of `of`'s)."""
        base = (of or self.echo).capacity()
        return case.capacity() / base if base else 0.0


async def _echo_run(port: int, pid: int, clients: int, seconds: float) -> RelayRun:
    conns = await asyncio.gather(
        *(connect_socket(f"ws://{HOST}:{port}/ws/echo", None) for _ in range(clients))
    )
    latencies: list[float] = []
    errors = 0
    payload = json.dumps({"type": "message.send", "client_id": "c" * 20, "body": "hello " * 4})

    async def client(conn: ClientConnection, stop: float) -> None:
        nonlocal errors
        while time.monotonic() < stop:
            sent = time.perf_counter()
            try:
                await conn.send(payload)
                await asyncio.wait_for(conn.recv(), 5.0)
            except (TimeoutError, OSError, Exception):
                errors += 1
                return
            latencies.append(time.perf_counter() - sent)

    try:
        cpu = cpu_seconds(pid)
        start = time.monotonic()
        await asyncio.gather(*(client(c, start + seconds) for c in conns))
        elapsed = time.monotonic() - start
        cpu = cpu_seconds(pid) - cpu
    finally:
        await asyncio.gather(*(c.close() for c in conns), return_exceptions=True)
    return RelayRun(
        len(latencies) / elapsed,
        percentile(latencies, 0.5) * 1000,
        percentile(latencies, 0.99) * 1000,
        len(latencies),
        errors,
        cpu / elapsed,
    )


class _Relayed:
    """One run's sockets (an agent's and the visitors') and what the agent's reader heard: each
    `message.created` whose `client_id` is in `started` gives a latency from that time."""

    def __init__(self, agent: ClientConnection, visitors: list[ClientConnection]) -> None:
        self.agent, self.visitors = agent, visitors
        self.started: dict[str, float] = {}  # client_id -> when its latency starts
        self.latencies: list[float] = []
        self.errors = 0
        self.acked = 0
        self.stop = asyncio.Event()

    @classmethod
    async def open(
        cls, port: int, tokens: list[str], agent_token: str, website_id: str
    ) -> _Relayed:
        agent = await agent_socket(port, agent_token, website_id)
        visitors = await asyncio.gather(*(visitor_socket(port, t, website_id) for t in tokens))
        return cls(agent, list(visitors))

    async def agent_reader(self) -> None:
        while not self.stop.is_set():
            try:
                raw = await asyncio.wait_for(self.agent.recv(), 0.5)
            except TimeoutError:
                continue
            frame = json.loads(raw)
            if frame.get("type") == "message.created":
                at = self.started.pop(frame.get("message", {}).get("client_id"), None)
                if at is not None:
                    self.latencies.append(time.perf_counter() - at)

    async def last_ones(self, tries: int) -> None:
        """The last messages' created frames: waited for briefly (`tries` x 10 ms at most)."""
        for _ in range(tries):
            if not self.started:
                break
            await asyncio.sleep(0.01)

    async def close(self, readers: list[asyncio.Task[None]]) -> None:
        self.stop.set()
        await asyncio.gather(*readers, return_exceptions=True)
        await asyncio.gather(
            *(c.close() for c in [self.agent, *self.visitors]), return_exceptions=True
        )

    def run(self, elapsed: float, server_cpu: float) -> RelayRun:
        return RelayRun(
            len(self.latencies) / elapsed,
            percentile(self.latencies, 0.5) * 1000,
            percentile(self.latencies, 0.99) * 1000,
            len(self.latencies),
            self.errors + len(self.started),
            server_cpu,
            self.acked / elapsed,
        )


async def _relay_run(
    port: int,
    pid: int,
    tokens: list[str],
    agent_token: str,
    website_id: str,
    seconds: float,
    tag: str,
) -> RelayRun:
    """Each visitor sends its next message once the last one is acked; each latency runs from
    the send to its message.created on the agent's socket."""
    run = await _Relayed.open(port, tokens, agent_token, website_id)

    async def visitor(n: int, conn: ClientConnection, until: float) -> None:
        i = 0
        while time.monotonic() < until:
            client_id = f"{tag}-{n}-{i}"
            i += 1
            run.started[client_id] = time.perf_counter()
            try:
                await conn.send(
                    json.dumps({"type": "message.send", "client_id": client_id, "body": "hello"})
                )
                deadline = time.monotonic() + 10.0
                while True:
                    left = deadline - time.monotonic()
                    frame = json.loads(await asyncio.wait_for(conn.recv(), max(left, 0.001)))
                    if frame.get("type") == "message.ack" and frame.get("client_id") == client_id:
                        run.acked += 1
                        break
                    if frame.get("type") == "error":
                        raise RuntimeError(str(frame))
            except Exception:
                run.errors += 1
                return

    readers = [asyncio.create_task(run.agent_reader())]
    try:
        cpu = cpu_seconds(pid)
        start = time.monotonic()
        await asyncio.gather(*(visitor(n, c, start + seconds) for n, c in enumerate(run.visitors)))
        elapsed = time.monotonic() - start
        cpu = cpu_seconds(pid) - cpu
        await run.last_ones(200)
    finally:
        await run.close(readers)
    return run.run(elapsed, cpu / elapsed)


async def _paced_run(
    port: int,
    pid: int,
    tokens: list[str],
    agent_token: str,
    website_id: str,
    seconds: float,
    rate: float,
    tag: str,
) -> RelayRun:
    """`rate` messages a second on a fixed schedule, round robin over the visitors' sockets,
    none waiting for its ack; each latency runs from the message's scheduled time to its
    message.created on the agent's socket (a late send counts as late: no coordinated
    omission)."""
    run = await _Relayed.open(port, tokens, agent_token, website_id)

    async def visitor_reader(conn: ClientConnection) -> None:
        while not run.stop.is_set():
            try:
                raw = await asyncio.wait_for(conn.recv(), 0.5)
            except TimeoutError:
                continue
            except Exception:
                run.errors += 1
                return
            kind = json.loads(raw).get("type")
            if kind == "message.ack":
                run.acked += 1
            elif kind == "error":
                run.errors += 1

    readers = [asyncio.create_task(run.agent_reader())]
    readers += [asyncio.create_task(visitor_reader(c)) for c in run.visitors]
    total = int(rate * seconds)
    try:
        cpu = cpu_seconds(pid)
        start = time.perf_counter()
        for k in range(total):
            due = start + k / rate
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            client_id = f"{tag}-{k}"
            run.started[client_id] = due
            frame = {"type": "message.send", "client_id": client_id, "body": "hello"}
            await run.visitors[k % len(run.visitors)].send(json.dumps(frame))
        elapsed = time.perf_counter() - start
        await run.last_ones(300)
        cpu = cpu_seconds(pid) - cpu
        window = time.perf_counter() - start  # the server's CPU share: over the wait too
    finally:
        await run.close(readers)
    return run.run(elapsed, cpu / window)


def _paced_runs(
    result: RelayResult,
    server: Server,
    tokens: list[str],
    agent_token: str,
    website_id: str,
    cfg: BenchConfig,
    seconds: float,
    data_dir: Path,
) -> None:
    """The paced runs, each followed by the disk's own commits in the data folder (its
    baseline: measured between the runs, not during them, so that neither waits on the other's
    fsyncs)."""
    port, pid = server.port, server.pid
    with load_core():
        for run in range(cfg.runs):
            one = uvloop.run(
                _paced_run(
                    port, pid, tokens, agent_token, website_id, seconds, PACED_RATE, f"p{run}"
                )
            )
            result.paced.runs.append(one)
            disk = [s * 1000 for s in commit_latencies(data_dir)]
            result.disk_ms += disk
            progress(
                f"relay: paced {PACED_RATE:,}/s run {run + 1}: p50 {one.p50_ms:.1f} ms, "
                f"p99 {one.p99_ms:.1f} ms, {one.errors} errors; the disk's commits p99 "
                f"{percentile(disk, 0.99):.1f} ms"
            )


def _relay_runs(
    case: RelayCase,
    server: Server,
    tokens: list[str],
    agent_token: str,
    website_id: str,
    cfg: BenchConfig,
    seconds: float,
    tag: str = "",
) -> None:
    """`tag`: new client_ids for a second case on the same server (a client_id sent again
    stores nothing)."""
    port, pid = server.port, server.pid
    with load_core():
        uvloop.run(_relay_run(port, pid, tokens, agent_token, website_id, 1.0, f"{tag}w"))
        for run in range(cfg.runs):
            one = uvloop.run(
                _relay_run(port, pid, tokens, agent_token, website_id, seconds, f"{tag}r{run}")
            )
            case.runs.append(one)
            progress(
                f"relay: {server.kind} ({len(tokens)} senders) run {run + 1}: "
                f"{one.rate:,.0f}/s relayed, {one.acked:,.0f}/s acked"
            )


def run_relay(cfg: BenchConfig, clients: int = 50) -> RelayResult:
    seconds = min(cfg.seconds, 5.0)
    result = RelayResult(clients, seconds)
    site = install_causerie(cfg.workdir, "relay", cfg.databases)
    agent_token = add_agent_token(site)
    env = causerie_env(site)
    with Server("bare", cfg.log("relay-echo")) as echo, load_core():
        uvloop.run(_echo_run(echo.port, echo.pid, clients, 1.0))  # warm-up
        for run in range(cfg.runs):
            result.echo.runs.append(uvloop.run(_echo_run(echo.port, echo.pid, clients, seconds)))
            progress(f"relay: echo run {run + 1}: {result.echo.runs[-1].rate:,.0f}/s")
    # The floor's database is a file beside Causerie's, on the same disk.
    floor_env = {"BENCH_FLOOR_DB": str(site.data_dir / "floor.db")}
    with Server("floor", cfg.log("relay-floor"), floor_env) as floor:
        tokens = [f"floor-{n}" for n in range(clients)]
        _relay_runs(result.floor, floor, tokens, "floor", "floor", cfg, seconds)
    with Server("causerie", cfg.log("relay-causerie"), env) as causerie:
        tokens = [causerie.open_session(site.website_id)["token"] for _ in range(clients)]
        # Not while it compresses its static files: that CPU went into the first run's figures.
        from causerie.app import COMPRESS_DELAY

        causerie.settle(COMPRESS_DELAY)
        _relay_runs(result.relay, causerie, tokens, agent_token, site.website_id, cfg, seconds)
        # The 20-senders shape on the same server: acked messages per second.
        senders = tokens[:SENDERS]
        _relay_runs(
            result.senders, causerie, senders, agent_token, site.website_id, cfg, seconds, "s"
        )
        # One sender, each message after the last one's ack: a commit's latency end to end.
        one = tokens[:1]
        _relay_runs(result.one, causerie, one, agent_token, site.website_id, cfg, seconds, "o")
        # A paced load well under capacity: the visitor-to-agent latency, not the throughput.
        _paced_runs(
            result, causerie, tokens, agent_token, site.website_id, cfg, seconds, site.data_dir
        )
    return result


def _us_each(case: RelayCase) -> str:
    rate = case.median("rate")
    return f"{case.median('server_cpu') / rate * 1e6:,.0f}" if rate else "-"


def render_relay(relay: RelayResult | None) -> list[str]:
    """The report's section (none when the section did not run)."""
    if relay is None:
        return []
    verdict = {True: "PASS", False: "MISS"}
    lines: list[str] = []
    lines += [
        f"## WebSocket message relay ({len(relay.relay.runs)} run"
        f"{'s' if len(relay.relay.runs) > 1 else ''} of {relay.seconds:.0f}s, "
        f"{relay.clients} clients; medians)",
        "",
        "| case | per second | p50 ms | p99 ms | server CPU | server us each | "
        "per second of server CPU | each run | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for label, case in (
        ("bare Starlette echo, send -> echo (baseline)", relay.echo),
        ("relay floor: the same frames, one durable row (bench/relay_floor.py)", relay.floor),
        ("Causerie: visitor message.send -> agent message.created", relay.relay),
    ):
        lines.append(
            f"| {label} | {case.median('rate'):,.0f} | {case.median('p50_ms'):.1f} | "
            f"{case.median('p99_ms'):.1f} | {case.median('server_cpu'):.0%} | "
            f"{_us_each(case)} | {case.capacity():,.0f} | "
            f"{each_run([r.rate for r in case.runs])} | {sum(r.errors for r in case.runs)} |"
        )
    senders = relay.senders
    acked = senders.median("acked")
    floor_share = relay.share(relay.relay, relay.floor)
    one, paced = relay.one, relay.paced
    one_acked = one.median("acked")
    p99 = paced.median("p99_ms")
    lines += [
        "",
        f"The {SENDERS}-senders shape, Causerie, the same server: {acked:,.0f} acked "
        f"message.send per second (runs: {each_run([r.acked for r in senders.runs])}), "
        f"server CPU {senders.median('server_cpu'):.0%}, "
        f"{senders.median('server_cpu') / acked * 1e6 if acked else 0:,.0f} us each, "
        f"p99 to the agent {senders.median('p99_ms'):.1f} ms.",
        "",
        f"One sender, Causerie, the same server: {one_acked:,.0f} acked message.send per "
        f"second (runs: {each_run([r.acked for r in one.runs])}), server CPU "
        f"{one.median('server_cpu'):.0%}, "
        f"{one.median('server_cpu') / one_acked * 1e6 if one_acked else 0:,.0f} us each.",
        "",
        f"Paced, {PACED_RATE:,} messages/s over {relay.clients} visitors (each latency from "
        f"its scheduled send): p50 {paced.median('p50_ms'):.1f} ms, p99 {p99:.1f} ms to the "
        f"agent (runs: {', '.join(f'{r.p99_ms:.1f}' for r in paced.runs)}), "
        f"{paced.median('rate'):,.0f}/s delivered, "
        f"server CPU {paced.median('server_cpu'):.0%}, "
        f"errors {sum(r.errors for r in paced.runs)}. "
        f"The disk's own commits, its baseline (bench/disk.py: {PAGES} pages appended and an "
        f"fdatasync, {len(relay.disk_ms):,} after the runs, in the data folder): "
        f"p50 {percentile(relay.disk_ms, 0.5):.1f} ms, p99 {percentile(relay.disk_ms, 0.99):.1f} "
        "ms; every message waits for one commit.",
        "",
        f"Target: relay >= {RELAY_RATIO:.0%} of the echo rate: "
        f"**{verdict[relay.ratio >= RELAY_RATIO]}** ({relay.ratio:.1%}).",
        f"Target: relay >= {FLOOR_RATIO:.0%} of the floor's rate: "
        f"**{verdict[floor_share >= FLOOR_RATIO]}** ({floor_share:.1%}).",
        f"Target: {SENDERS} senders >= {SENDERS_TARGET:,} acked messages/s (50x Synapse's "
        f"106): **{verdict[acked >= SENDERS_TARGET]}** ({acked:,.0f}/s).",
        f"Target: visitor -> agent p99 <= {PACED_P99_MS:.0f} ms at {PACED_RATE:,}/s: "
        f"**{verdict[bool(paced.runs) and p99 <= PACED_P99_MS]}** ({p99:.1f} ms).",
        "",
        "Per second of the server's CPU (what each server reaches with its core to itself, "
        "whatever the load generator manages): Causerie "
        f"{relay.capacity_share(relay.relay):.1%} of the echo; the floor "
        f"{relay.capacity_share(relay.floor):.1%} of the echo, the most that a relay "
        "answering each message.send with an ack after a durable write and a message.created "
        "on the sender's stream and the agent's can reach on this stack; Causerie "
        f"{relay.capacity_share(relay.relay, relay.floor):.1%} of the floor "
        f"({relay.share(relay.relay, relay.floor):.1%} by rate).",
        "",
        "Server CPU: the server's CPU seconds per second of the run (100% = its one core); "
        "a server below 100% waited on its clients (the load generator has one core) or on "
        "the disk. Rates of servers held back by the load generator understate what they can "
        "do: the ratios per second of CPU do not depend on it.",
        "",
    ]
    return lines
