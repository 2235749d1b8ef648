"""The writes bench: `do_send_session_message` from concurrent tasks on a fresh SQLite database
(group commit), beside raw sqlite3 batched inserts of the same 1 KB rows (WAL,
synchronous=FULL). Both writers run on the server's core, as a server would run them.

Every loop is bounded in count and in time.
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import uvloop

from bench.config import BenchConfig, progress
from bench.servers import SERVER_CORE, Installation, Server, install_causerie
from bench.socket_clients import causerie_env, each_run, load_core

BODY = "x" * 1000  # the writes bench's 1 KB rows


@dataclass
class WritesResult:
    tasks: int
    seconds: float
    causerie: list[float] = field(default_factory=list)  # messages/s per run
    raw: list[float] = field(default_factory=list)  # rows/s per run
    cpu: list[float] = field(default_factory=list)  # Causerie runs: CPU seconds per second
    batch: int = 100

    @property
    def ratio(self) -> float:
        raw = statistics.median(self.raw) if self.raw else 0.0
        return statistics.median(self.causerie) / raw if raw and self.causerie else 0.0


def _raw_sqlite(path: Path, seconds: float, batch: int) -> float:
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute(
            "CREATE TABLE messages (id INTEGER PRIMARY KEY, conversation_id TEXT, "
            "client_id TEXT, body TEXT, created_at TEXT)"
        )
        rows = 0
        start = time.monotonic()
        while time.monotonic() - start < seconds and rows < 10_000_000:
            db.execute("BEGIN")
            db.executemany(
                "INSERT INTO messages (conversation_id, client_id, body, created_at) "
                "VALUES (?, ?, ?, ?)",
                [("c" * 24, f"raw-{rows + i}", BODY, "2026-01-01T00:00:00Z") for i in range(batch)],
            )
            db.execute("COMMIT")
            rows += batch
        return rows / (time.monotonic() - start)
    finally:
        db.close()


async def _causerie_writes(
    site: Installation, session_ids: list[str], seconds: float, tag: str
) -> tuple[float, float]:
    """Messages written per second, and this process's CPU seconds per second meanwhile."""
    from causerie.actions.messages import do_send_session_message
    from causerie.clock import SystemClock
    from causerie.settings import load_settings
    from causerie.wiring import build_runtime, close_runtime

    settings = load_settings(causerie_env(site))  # the message limits out of reach
    rt = build_runtime(settings, SystemClock())
    count = 0
    try:
        start = time.monotonic()
        until = start + seconds

        async def writer(n: int, session_id: str) -> None:
            nonlocal count
            i = 0
            while time.monotonic() < until and i < 1_000_000:
                await do_send_session_message(rt, session_id, client_id=f"{tag}-{n}-{i}", body=BODY)
                i += 1
                count += 1

        cpu = time.process_time()
        await asyncio.gather(*(writer(n, s) for n, s in enumerate(session_ids)))
        elapsed = time.monotonic() - start
        return count / elapsed, (time.process_time() - cpu) / elapsed
    finally:
        await close_runtime(rt)


def run_writes(cfg: BenchConfig, tasks: int = 50) -> WritesResult:
    seconds = min(cfg.seconds, 3.0)
    result = WritesResult(tasks, seconds)
    site = install_causerie(cfg.workdir, "writes", cfg.databases)
    with Server("causerie", cfg.log("writes-causerie"), site.env()) as causerie:
        sessions = [causerie.open_session(site.website_id)["session"]["id"] for _ in range(tasks)]
    if not site.database_url.startswith("sqlite"):
        progress("writes: the raw baseline is SQLite's; the database is not")
    for run in range(cfg.runs):
        # Both writers on the server's core, as a server would run them.
        with load_core(SERVER_CORE):
            rate, cpu = uvloop.run(_causerie_writes(site, sessions, seconds, f"w{run}"))
            raw = _raw_sqlite(cfg.workdir / f"writes-raw-{run}.db", seconds, result.batch)
        result.causerie.append(rate)
        result.cpu.append(cpu)
        result.raw.append(raw)
        progress(f"writes: run {run + 1}: causerie {rate:,.0f}/s, raw sqlite3 {raw:,.0f}/s")
    return result


def render_writes(writes: WritesResult | None) -> list[str]:
    """The report's section (none when the section did not run)."""
    if writes is None:
        return []
    lines: list[str] = []
    c = statistics.median(writes.causerie) if writes.causerie else 0.0
    r = statistics.median(writes.raw) if writes.raw else 0.0
    cpu = statistics.median(writes.cpu) if writes.cpu else 0.0
    lines += [
        "## Durable message writes (SQLite, synchronous=FULL)",
        "",
        "| writer | per second (median) | each run |",
        "|---|---:|---|",
        f"| raw sqlite3, WAL, {writes.batch} rows of 1 KB per commit (baseline) | {r:,.0f} | "
        f"{each_run(writes.raw)} |",
        f"| Causerie `do_send_session_message`, {writes.tasks} tasks, 1 KB bodies | "
        f"{c:,.0f} | {each_run(writes.causerie)} |",
        "",
        f"Causerie writes at {writes.ratio:.1%} of raw batched inserts "
        f"({writes.seconds:.0f}s per run; group commit). Meanwhile the process used "
        f"{cpu:.0%} of a core, i.e. {cpu / c * 1e6 if c else 0:,.0f} us of CPU per message "
        "(100% means the writes are bound by the CPU, not by fsync).",
        "",
    ]
    return lines
