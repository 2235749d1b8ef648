"""Resident memory of the server process, from /proc/PID/status.

At rest (started, one request served) for the bare server and for Causerie; then Causerie again
after N sessions were created through the chatbox endpoint (a creation load bounded in count and
in time).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import uvloop

from bench.config import BenchConfig, progress
from bench.loads import ChatboxLoad, LoadResult, Wrk
from bench.servers import Installation, Server, install_causerie
from causerie.domain.retention import Rule
from causerie.store.database import open_store


@dataclass(frozen=True)
class ProcessMemory:
    rss_kib: int  # VmRSS: resident now
    peak_kib: int  # VmHWM: the most it was resident
    threads: int

    @property
    def rss_mib(self) -> float:
        return self.rss_kib / 1024

    @property
    def peak_mib(self) -> float:
        return self.peak_kib / 1024


def read_memory(pid: int) -> ProcessMemory:
    fields: dict[str, str] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            fields[name] = value.strip()
    return ProcessMemory(
        rss_kib=int(fields["VmRSS"].split()[0]),
        peak_kib=int(fields["VmHWM"].split()[0]),
        threads=int(fields["Threads"]),
    )


@dataclass(frozen=True)
class MemoryResult:
    bare_rest: ProcessMemory
    causerie_rest: ProcessMemory
    causerie_loaded: ProcessMemory
    creation: LoadResult
    sessions_in_db: int

    @property
    def bytes_per_session(self) -> float:
        grown = (self.causerie_loaded.rss_kib - self.causerie_rest.rss_kib) * 1024
        return grown / self.sessions_in_db if self.sessions_in_db else 0.0


def run_memory(cfg: BenchConfig) -> MemoryResult:
    site = install_causerie(cfg.workdir, "memory", cfg.databases)
    with Server("bare", cfg.log("memory-bare")) as bare:
        bare.open_session(site.website_id)
        time.sleep(1)
        bare_rest = read_memory(bare.pid)
    with Server("causerie", cfg.log("memory-causerie"), site.env()) as causerie:
        causerie.open_session(site.website_id)
        time.sleep(1)
        causerie_rest = read_memory(causerie.pid)
        progress(f"memory: creating {cfg.sessions:,} sessions (at most {cfg.memory_cap:.0f}s)")
        creation = Wrk(
            causerie.port,
            ChatboxLoad(site.website_id),
            cfg.memory_cap,
            cfg.connections,
            limit=cfg.sessions,
        ).run()
        time.sleep(1)
        causerie_loaded = read_memory(causerie.pid)
        sessions = count_temporary_sessions(site)
    return MemoryResult(bare_rest, causerie_rest, causerie_loaded, creation, sessions)


def count_temporary_sessions(site: Installation) -> int:
    async def count() -> int:
        store = open_store(site.database_url)
        try:
            async with store.transaction() as tx:
                later = datetime.now(UTC) + timedelta(days=1)
                return await tx.retention.count_expired(Rule.TEMPORARY_SESSIONS, later)
        finally:
            await store.close()

    return uvloop.run(count())
