"""A probe inside a Causerie node that a bench starts: where a request's time goes, from inside.

`CAUSERIE_BENCH_PROBE=PATH` in the environment of `python -m bench.serve causerie` (the benches
start their servers through `bench/servers.py`, whose `Server` passes its `env`) makes
`bench/serve.py` wrap the app with it; without the variable this module is never imported, and
nothing of it is in the package or on a request's path. It times, in milliseconds:

- each HTTP request, by kind (its method and route template, `POST /api/widget/v1/websites/
  {website_id}/session`; a request refused before routing, as the shield's gate does, by its
  status), from when the app is called until it returns, its answer sent;
- each store transaction (`SqliteStore` and `PostgresStore`, `transaction()`), durable or not:
  its wait for its turn (SQLite: the connection's lock, and a group of the other durability to
  commit; PostgreSQL: a pooled connection, and for one not durable its `BEGIN` and `SET LOCAL`),
  then how long it held it, until its commit was done;
- on PostgreSQL, each checkout of a pooled connection (SQLAlchemy's `AsyncConnection.start`:
  `read()`, `long_read()` and `transaction()` all take theirs there);
- the event loop's lateness: a task sleeps 5 ms again and again, and how late it wakes is noted;
- each of Python's cyclic garbage collections, by generation (`gc.callbacks`): its wall time
  ("gen0" ...) and the CPU time of the thread that ran it ("gen0 cpu" ...), so that a pause the
  machine stretched (another process on the core) is told from one the collector spent.

SIGUSR1 ends a part (a bench's phase: `bench/botnet.py` sends it between its phases) and starts
the next. When the server stops (SIGINT or SIGTERM: uvicorn's lifespan shutdown; at the
interpreter's exit otherwise) the parts' percentiles are written to PATH as JSON. `summary`
reads such a file back as lines for a bench to print.
"""

from __future__ import annotations

import asyncio
import atexit
import gc
import json
import math
import os
import signal
import time
from array import array
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

VARIABLE = "CAUSERIE_BENCH_PROBE"
LATENESS_TIMER = 0.005  # seconds the loop's watcher sleeps each time
PERCENTILES = (50, 90, 99, 99.9)
REQUESTS, STORE, LOOP, COLLECTOR = "requests", "store", "loop", "collector"


class Probe:
    """The samples of the part under way, and the summaries of the parts ended."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.parts: list[dict[str, Any]] = []
        self._samples: dict[tuple[str, str], array[float]] = {}
        self._part_started = time.monotonic()
        self._written = False
        self._watcher: asyncio.Task[None] | None = None

    def note(self, group: str, kind: str, seconds: float) -> None:
        samples = self._samples.get((group, kind))
        if samples is None:
            samples = self._samples[(group, kind)] = array("d")
        samples.append(seconds * 1000)

    def end_part(self) -> None:
        """Summarize what was noted since the last part ended, and start afresh."""
        now = time.monotonic()
        part: dict[str, Any] = {
            "seconds": round(now - self._part_started, 3),
            REQUESTS: {},
            STORE: {},
            LOOP: {},
            COLLECTOR: {},
        }
        for (group, kind), samples in sorted(self._samples.items()):
            part[group][kind] = percentiles(samples)
        self.parts.append(part)
        self._samples = {}
        self._part_started = now

    def write(self) -> None:
        """The parts, the one under way ended, as JSON to `path` (once)."""
        if self._written:
            return
        self._written = True
        self.end_part()
        document = {"pid": os.getpid(), "unit": "ms", "parts": self.parts}
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(document, indent=1))
        temporary.replace(self.path)

    def start_watching(self) -> None:
        """On the server's loop, once it runs: the lateness watcher, and SIGUSR1."""
        loop = asyncio.get_running_loop()
        self._watcher = loop.create_task(self._watch_loop(), name="bench-probe-lateness")
        loop.add_signal_handler(signal.SIGUSR1, self.end_part)

    def stop_watching(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            self._watcher = None

    async def _watch_loop(self) -> None:
        # Not `loop.time()`: uvloop's counts whole milliseconds. A timer may fire up to a
        # millisecond before its due time on this clock: that is on time.
        while True:
            due = time.perf_counter() + LATENESS_TIMER
            await asyncio.sleep(LATENESS_TIMER)
            self.note(LOOP, "lateness", max(0.0, time.perf_counter() - due))


def percentiles(samples: array[float]) -> dict[str, float]:
    """Count, mean, PERCENTILES (nearest rank) and max of `samples`, rounded to microseconds."""
    ordered = sorted(samples)
    count = len(ordered)
    summary: dict[str, float] = {"count": count, "mean": round(sum(ordered) / count, 3)}
    for p in PERCENTILES:
        rank = max(1, math.ceil(p / 100 * count))
        summary[f"p{p:g}"] = round(ordered[rank - 1], 3)
    summary["max"] = round(ordered[-1], 3)
    return summary


class ProbedApp:
    """The ASGI app, each HTTP request timed by kind; the probe started and written with the
    server's lifespan."""

    def __init__(self, app: ASGIApp, probe: Probe) -> None:
        self.app = app
        self.probe = probe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self.app(scope, self._lifespan(receive), send)
            return
        if kind != "http":  # a socket lasts: its handshake is not a request's time
            await self.app(scope, receive, send)
            return
        status = 0

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, noting_status)
        finally:
            took = time.perf_counter() - started
            self.probe.note(REQUESTS, f"{scope['method']} {route_template(scope, status)}", took)

    def _lifespan(self, receive: Receive) -> Receive:
        async def probed() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.probe.start_watching()
            elif message["type"] == "lifespan.shutdown":
                self.probe.stop_watching()
                self.probe.write()
            return message

        return probed


def route_template(scope: Scope, status: int) -> str:
    """The template of the route the router chose (`scope["route"]`), else "(not routed, STATUS)":
    refused before the router (the shield's gate), or no route at that path."""
    route = scope.get("route")
    template = getattr(route, "path_format", None)
    if not isinstance(template, str):
        return f"(not routed, {status})"
    if hasattr(route, "routes") and not hasattr(route, "endpoint"):  # a Mount: its prefix
        return f"{template}/..."
    return template


def _time_transactions(probe: Probe, store_class: Any) -> None:
    """`store_class.transaction` timed: the wait for its turn, then how long it held it."""
    original: Callable[..., AbstractAsyncContextManager[Any]] = store_class.transaction

    @asynccontextmanager
    async def transaction(self: Any, durable: bool = True) -> AsyncIterator[Any]:
        which = "durable" if durable else "not durable"
        asked = time.perf_counter()
        began: float | None = None
        try:
            async with original(self, durable=durable) as tx:
                began = time.perf_counter()
                probe.note(STORE, f"transaction wait ({which})", began - asked)
                yield tx
        finally:
            if began is not None:  # until its commit is done (or it failed)
                probe.note(STORE, f"transaction held ({which})", time.perf_counter() - began)

    store_class.transaction = transaction


def _time_collections(probe: Probe) -> None:
    """Each cyclic garbage collection, by generation: wall and thread CPU time."""
    started: list[float] = [0.0, 0.0]

    def collection(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0], started[1] = time.perf_counter(), time.thread_time()
            return
        generation = f"gen{info['generation']}"
        probe.note(COLLECTOR, generation, time.perf_counter() - started[0])
        probe.note(COLLECTOR, f"{generation} cpu", time.thread_time() - started[1])

    gc.callbacks.append(collection)


def _time_checkouts(probe: Probe) -> None:
    """Each `AsyncConnection.start`: a pooled connection checked out (PostgreSQL only: the
    SQLite store runs on connections of its own)."""
    from sqlalchemy.ext.asyncio import AsyncConnection

    original = AsyncConnection.start

    async def start(self: AsyncConnection, is_ctxmanager: bool = False) -> AsyncConnection:
        started = time.perf_counter()
        try:
            return await original(self, is_ctxmanager)
        finally:
            probe.note(STORE, "pool checkout", time.perf_counter() - started)

    AsyncConnection.start = start  # type: ignore[method-assign]


def install(app: ASGIApp, path: Path) -> ASGIApp:
    """`app` probed, its samples written to `path` when the process stops."""
    from causerie.store.database import SqliteStore
    from causerie.store.postgres import PostgresStore

    probe = Probe(path)
    _time_transactions(probe, SqliteStore)
    _time_transactions(probe, PostgresStore)
    _time_checkouts(probe)
    _time_collections(probe)
    atexit.register(probe.write)  # stopped without a lifespan shutdown
    return ProbedApp(app, probe)


def from_environment(app: ASGIApp) -> ASGIApp:
    """`app`, probed when CAUSERIE_BENCH_PROBE names a file (bench/serve.py)."""
    path = os.environ.get(VARIABLE)
    return install(app, Path(path)) if path else app


# reading a probe's file back


def summary(path: Path, names: Sequence[str] = (), kinds: int = 6) -> list[str]:
    """Lines for a bench to print: each part of the node's file (named by `names`, in order),
    the loop's lateness, the store's waits, and the `kinds` requests seen most."""
    document = json.loads(path.read_text())
    lines = []
    for index, part in enumerate(document["parts"]):
        name = names[index] if index < len(names) else f"part {index + 1}"
        lines.append(f"{path.stem}, {name} ({part['seconds']:.0f} s), ms:")
        for group in (LOOP, STORE, COLLECTOR):
            for kind, stats in part.get(group, {}).items():
                lines.append(f"  {kind}: {_stats_line(stats)}")
        ranked = sorted(part[REQUESTS].items(), key=lambda item: -item[1]["count"])
        for kind, stats in ranked[:kinds]:
            lines.append(f"  {kind}: {_stats_line(stats)}")
    return lines


def _stats_line(stats: dict[str, float]) -> str:
    return (
        f"{stats['count']:.0f}, p50 {stats['p50']:.2f}, p90 {stats['p90']:.2f}, "
        f"p99 {stats['p99']:.2f}, p99.9 {stats['p99.9']:.2f}, max {stats['max']:.1f}"
    )
