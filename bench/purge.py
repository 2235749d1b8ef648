"""The purge of expired temporary sessions: its rate, and what it does to live requests.

- Rate: in this process, on a fresh database, N temporary sessions are created through the
  store's `insert_session`, a `ManualClock` is moved past their TTL, and `do_purge` is timed.
- Stall: inside a running server (bench/hooks.py), renewals are loaded for a window without a
  purge, then N expired sessions are seeded and the same load runs while the server purges them
  on its own event loop, as its periodic purge task does.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import uvloop

from bench.config import BenchConfig, progress
from bench.loads import ChatboxLoad, LoadResult, Wrk
from bench.seed import PurgeTiming, seed_sessions, timed_purge
from bench.servers import SERVER_CORE, Server, can_pin, install_causerie, request
from causerie.actions.websites import do_create_website
from causerie.clock import ManualClock
from causerie.domain.models import Actor
from causerie.domain.retention import Rule
from causerie.settings import load_settings
from causerie.store.migrate import upgrade
from causerie.wiring import build_runtime, close_runtime

T = TypeVar("T")
PURGE_START = 1.0  # seconds into the loaded window at which the server is told to purge
PURGE_TAIL = 2.0  # seconds the load goes on after the purge
PURGE_TIMEOUT = 600.0


@dataclass(frozen=True)
class PurgeRateResult:
    sessions: int
    seed_seconds: float
    timing: PurgeTiming
    left: int  # temporary sessions still in the database after the purge (should be 0)


@dataclass(frozen=True)
class Window:
    """A span of `time.monotonic()`, in seconds."""

    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class StallResult:
    sessions: int
    reference: LoadResult  # renewals, no purge
    during: LoadResult  # the same load from PURGE_START s before the purge to PURGE_TAIL s after
    timing: PurgeTiming  # the purge, timed inside the server
    purge: Window  # when the purge ran, in the `during` run
    same_span: Window  # a span of the reference run as long as the purge (or the run allows)

    def _answers(self, load: LoadResult, window: Window) -> int:
        assert load.timeline is not None
        return load.timeline.answers_between(window.start, window.end)

    @property
    def rps_while_purging(self) -> float:
        return self._answers(self.during, self.purge) / self.purge.seconds

    @property
    def rps_same_span_without(self) -> float:
        return self._answers(self.reference, self.same_span) / self.same_span.seconds

    @property
    def silence_while_purging(self) -> float:
        """The longest time in which the server answered no renewal while it purged."""
        assert self.during.timeline is not None
        return self.during.timeline.longest_silence(self.purge.start, self.purge.end)

    @property
    def silence_same_span_without(self) -> float:
        assert self.reference.timeline is not None
        return self.reference.timeline.longest_silence(self.same_span.start, self.same_span.end)


def _on_server_core(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run `work` on uvloop, on the core the servers get, as a server would run it."""
    before = os.sched_getaffinity(0)
    if can_pin():
        os.sched_setaffinity(0, {int(SERVER_CORE)})
    try:
        return uvloop.run(work())
    finally:
        os.sched_setaffinity(0, before)


def run_purge_rate(cfg: BenchConfig) -> PurgeRateResult:
    data_dir = cfg.workdir / "purge-rate"
    data_dir.mkdir()
    settings = load_settings(
        environ={
            "CAUSERIE_DATA_DIR": str(data_dir),
            "CAUSERIE_DATABASE_URL": cfg.databases.new(data_dir),
        }
    )

    async def work() -> PurgeRateResult:
        await upgrade(settings.database_url)
        clock = ManualClock(datetime.now(UTC))
        rt = build_runtime(settings, clock)
        store = rt.store
        try:
            site = await do_create_website(rt, Actor.cli(), "Bench shop", ["https://shop.example"])
            progress(f"purge: creating {cfg.sessions:,} temporary sessions")
            seed_seconds = await seed_sessions(store, site.id, cfg.sessions, clock.now())
            clock.advance(settings.temporary_session_ttl + timedelta(minutes=1))
            progress("purge: purging them")
            timing = await timed_purge(rt)
            async with store.transaction() as tx:
                left = await tx.retention.count_expired(Rule.TEMPORARY_SESSIONS, clock.now())
            return PurgeRateResult(cfg.sessions, seed_seconds, timing, left)
        finally:
            await close_runtime(rt)

    return _on_server_core(work)


def run_purge_stall(cfg: BenchConfig) -> StallResult:
    site = install_causerie(cfg.workdir, "purge-stall", cfg.databases)
    # The server's own purge task must not run first: the bench tells it when to purge.
    env = site.env(CAUSERIE_PURGE_INTERVAL="24h")
    with Server("causerie", cfg.log("purge-stall"), env, hooks=True) as server:
        token = server.open_session(site.website_id)["token"]
        load = ChatboxLoad(site.website_id, token)
        Wrk(server.port, load, cfg.warmup, cfg.connections).run()
        progress(f"purge stall: renewals without a purge ({cfg.seconds:.0f}s)")
        began = time.monotonic()
        reference = Wrk(server.port, load, cfg.seconds, cfg.connections, timeline=True).run()
        progress(f"purge stall: seeding {cfg.sessions:,} expired sessions in the server")
        status, _ = request(
            server.port,
            "POST",
            f"/__bench/seed?website={site.website_id}&count={cfg.sessions}",
            timeout=PURGE_TIMEOUT,
        )
        if status != 200:
            raise RuntimeError(f"seeding answered {status}")
        progress("purge stall: renewals while the server purges")
        wrk = Wrk(server.port, load, PURGE_TIMEOUT, cfg.connections, timeline=True).start()
        try:
            time.sleep(PURGE_START)
            status, answer = request(server.port, "POST", "/__bench/purge", timeout=PURGE_TIMEOUT)
            answered = time.monotonic()
            time.sleep(PURGE_TAIL)
        finally:
            wrk.stop()
        during = wrk.result()
        if status != 200:
            raise RuntimeError(f"the purge hook answered {status}: {answer}")
    timing = PurgeTiming(
        removed=answer["removed"],
        seconds=answer["seconds"],
        transactions=answer["transactions"],
        longest_transaction=answer["longest_transaction"],
        after_purge=answer["after_purge"],
    )
    span = min(timing.seconds, reference.seconds - PURGE_START)
    return StallResult(
        sessions=cfg.sessions,
        reference=reference,
        during=during,
        timing=timing,
        purge=Window(answered - timing.seconds, answered),
        same_span=Window(began + PURGE_START, began + PURGE_START + span),
    )
