"""The inbox with a large history: latency of the conversation list and of a thread.

Target (inbox issue, item 5): with 100,000 conversations and 1,000,000 messages in the database,
the conversation list's first page and a thread's latest messages each answer in under 100 ms, on
SQLite and on PostgreSQL.

The installation is made by `bench.seed_inbox` (or reused with `--inbox-data DIR`). A real
Causerie server process (pinned to core 0) and the bare Starlette server are started; this
process (pinned to core 1) sends sequential requests over one keep-alive connection with httpx,
as an agent's inbox would, with the operator's API token: a warm-up, then rounds in which every
path is requested once, so that drift on the machine touches all paths alike. Each latency is
from sending the request to having read the whole answer.
"""

from __future__ import annotations

import asyncio
import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import make_url

from bench.config import BenchConfig, progress
from bench.inbox_writes import admin_dsn, create_pg_database, drop_pg_database
from bench.seed_inbox import InboxSeed, database_size, seed_inbox
from bench.servers import HOST, LOAD_CORE, Server, can_pin
from causerie.domain.cursors import encode_cursor
from causerie.settings import load_settings

TARGET_MS = 100.0
DEEP_PAGE = 20
SEARCH_ROUNDS = 5  # searches are slow and informational: fewer rounds, 1 warm-up
TIMEOUT = 120.0


@dataclass
class PathTiming:
    key: str
    label: str
    url: str  # without the host
    target: bool  # given a verdict against TARGET_MS
    answer: str = ""  # what it answered (size), checked once
    samples: list[float] = field(default_factory=list)  # ms, request sent to answer read
    cpu: list[float] = field(default_factory=list)  # ms the server's threads ran meanwhile
    waits: list[float] = field(default_factory=list)  # ms they were runnable but had no CPU
    counted: bool = False  # part of the target (first pages and latest messages)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        return _p99(self.samples)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu) if self.cpu else float("nan")

    @property
    def p99_without_waits(self) -> float:
        """The p99 of each latency minus the time the server waited for a CPU (the other
        processes of a shared machine): what the latency would be on a machine of its own."""
        if not self.waits:
            return self.p99
        return _p99([t - w for t, w in zip(self.samples, self.waits, strict=True)])

    @property
    def verdict(self) -> str:
        if self.median >= TARGET_MS:
            return "MISS"
        if self.p99 < TARGET_MS:
            return "PASS"
        return "PASS*" if self.p99_without_waits < TARGET_MS else "MISS"


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


class ServerClock:
    """CPU time of processes: the ns their threads ran, and waited runnable for a CPU, from
    /proc/PID/task/*/schedstat."""

    def __init__(self, *pids: int) -> None:
        self.tasks = [Path(f"/proc/{pid}/task") for pid in pids]

    def read(self) -> tuple[int, int]:
        run = wait = 0
        for tasks in self.tasks:
            for task in tasks.iterdir():
                try:
                    fields = (task / "schedstat").read_text().split()
                except OSError:  # a thread that just ended
                    continue
                run += int(fields[0])
                wait += int(fields[1])
        return run, wait


def _backends(database_url: str) -> list[int]:
    """PostgreSQL's server processes connected to this database (Causerie's pool)."""
    if make_url(database_url).get_backend_name() != "postgresql":
        return []

    async def pids() -> list[int]:
        import asyncpg  # type: ignore[import-untyped]

        conn = await asyncpg.connect(admin_dsn(database_url))
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
            return [int(r["pid"]) for r in rows]
        finally:
            await conn.close()

    return asyncio.run(pids())


@dataclass
class InboxResult:
    seed: InboxSeed
    database: str  # sqlite / postgresql
    size_bytes: int
    seeded_here: bool
    rounds: int
    paths: list[PathTiming]


def _pin(core: str) -> set[int]:
    before = os.sched_getaffinity(0)
    if can_pin():
        os.sched_setaffinity(0, {int(core)})
    return before


def _get(client: httpx.Client, url: str) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    response = client.get(url)
    body = response.content
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}: {body[:300]!r}")
    return elapsed, response.json()


def _describe(answer: dict[str, Any]) -> str:
    if "conversations" in answer:
        more = "more" if answer.get("next_cursor") else "last page"
        return f"{len(answer['conversations'])} conversations, {more}"
    if "messages" in answer:
        return f"{len(answer['messages'])} messages"
    return "ok"


def _paths(client: httpx.Client, seed: InboxSeed) -> list[PathTiming]:
    """The requests to time; cursors and message ids are found through the API first."""
    site = f"/api/v1/websites/{seed.website_id}/conversations"

    def cursor(query: str, page: int) -> str:
        url = f"{site}?{query}"
        found = ""
        for _ in range(page - 1):
            _, answer = _get(client, f"{url}&cursor={found}" if found else url)
            found = answer["next_cursor"]
            if not found:
                raise RuntimeError(f"fewer than {page} pages for {query}")
        return found

    # A cursor a year back, as the API encodes one (causerie.domain.cursors, signed with the
    # server's key): the position after every conversation last active at that moment; about
    # page 1,800.
    year = (datetime.now(UTC) - timedelta(days=365)).replace(microsecond=0)
    key = load_settings(seed.env()).secret_key
    far = encode_cursor(key, "conversations", year, "z" * 24)
    big = f"/api/v1/conversations/{seed.big_conversation_id}"
    _, thread = _get(client, big)
    oldest = thread["messages"][0]["id"]
    paths = [
        PathTiming("list_open", "list, first page: `state=open` (the inbox's default)",
                   f"{site}?state=open&limit=25", True),
        PathTiming("list_all", "list, first page: `state=all`", f"{site}?state=all&limit=25",
                   True),
        PathTiming("list_resolved", "list, first page: `state=resolved`",
                   f"{site}?state=resolved&limit=25", True),
        PathTiming("list_none", "list, first page: `state=open&assignee=none` (unassigned)",
                   f"{site}?state=open&assignee=none&limit=25", True),
        PathTiming("list_me", "list, first page: `state=open&assignee=me`",
                   f"{site}?state=open&assignee=me&limit=25", True),
        PathTiming("list_all_me", "list, first page: `state=all&assignee=me`",
                   f"{site}?state=all&assignee=me&limit=25", True),
        PathTiming("deep_open", f"list, page {DEEP_PAGE} by cursor: `state=open`",
                   f"{site}?state=open&limit=25&cursor={cursor('state=open&limit=25', DEEP_PAGE)}",
                   True),
        PathTiming("deep_all", f"list, page {DEEP_PAGE} by cursor: `state=all`",
                   f"{site}?state=all&limit=25&cursor={cursor('state=all&limit=25', DEEP_PAGE)}",
                   True),
        PathTiming("deep_year", "list, a cursor a year back (about page 1,800): `state=all`",
                   f"{site}?state=all&limit=25&cursor={far}", True),
        PathTiming("thread_big", f"thread, latest 50: the largest ({seed.big_messages} messages)",
                   big, True),
        PathTiming("thread_typical",
                   f"thread, latest 50: a typical one ({seed.typical_messages} messages)",
                   f"/api/v1/conversations/{seed.typical_conversation_id}", True),
        PathTiming("older", "older messages: `/messages?before=` (the largest thread's 2nd page)",
                   f"{big}/messages?before={oldest}&limit=50", True),
        PathTiming("search_common", f"search `state=all&q={seed.common_word}` (frequent word)",
                   f"{site}?state=all&q={seed.common_word}&limit=25", False),
        PathTiming("search_rare", f"search `state=all&q={seed.rare_word}` (in ~10 messages)",
                   f"{site}?state=all&q={seed.rare_word}&limit=25", False),
    ]  # fmt: skip
    for path in paths:
        path.counted = path.key.startswith(("list_", "thread_"))
    return paths


def _warm(targets: list[tuple[httpx.Client, ServerClock, PathTiming]], warmup: int) -> None:
    for client, _, path in targets:
        for _ in range(1 if path.key.startswith("search") else warmup):
            _, answer = _get(client, path.url)
        path.answer = _describe(answer)


def _measure(
    targets: list[tuple[httpx.Client, ServerClock, PathTiming]], rounds: int, me: ServerClock
) -> None:
    """`rounds` rounds of every path; the waits are the server's (with its database's) and this
    process's."""
    for n in range(rounds):
        for client, clock, path in targets:
            if path.key.startswith("search") and n >= SEARCH_ROUNDS:
                continue
            run, wait = clock.read()
            _, my_wait = me.read()
            elapsed, _ = _get(client, path.url)
            _, my_wait_after = me.read()
            run_after, wait_after = clock.read()
            path.samples.append(elapsed)
            path.cpu.append((run_after - run) / 1e6)
            path.waits.append((wait_after - wait + my_wait_after - my_wait) / 1e6)


def prepare_seed(cfg: BenchConfig, section: str) -> tuple[InboxSeed, bool, Callable[[], None]]:
    """The seeded installation, whether this run made it, and how to clean up after it (the
    `inbox` and `lag` sections)."""
    if cfg.inbox_data is not None:
        return InboxSeed.load(cfg.inbox_data), False, lambda: None
    data_dir = cfg.workdir / section
    server = cfg.databases.server
    created = None
    if server is None:
        url = f"sqlite:///{data_dir / 'causerie.db'}"
    else:
        created, url = create_pg_database(server)

    def cleanup() -> None:
        if created is None or server is None:
            return
        if cfg.keep:
            progress(f"{section}: database kept: {created}")
        else:
            drop_pg_database(server, created)

    try:
        progress(
            f"{section}: seeding {cfg.inbox_conversations:,} conversations, "
            f"{cfg.inbox_messages:,} messages"
        )
        seed = seed_inbox(
            data_dir,
            url,
            cfg.inbox_conversations,
            cfg.inbox_messages,
            log=progress,
        )
    except BaseException:
        cleanup()
        raise
    seed.created_database = created
    seed.save()
    return seed, True, cleanup


def run_inbox(cfg: BenchConfig) -> InboxResult:
    seed, seeded_here, cleanup = prepare_seed(cfg, "inbox")
    try:
        size = database_size(seed)
        env = {**seed.env(), "CAUSERIE_ACCESS_LOG": "false"}
        with (
            Server("bare", cfg.log("inbox-bare")) as bare,
            Server("causerie", cfg.log("inbox-causerie"), env) as server,
        ):
            before = _pin(LOAD_CORE)
            headers = {"Authorization": f"Bearer {seed.token}"}
            try:
                with (
                    httpx.Client(base_url=f"http://{HOST}:{bare.port}", timeout=TIMEOUT) as plain,
                    httpx.Client(
                        base_url=f"http://{HOST}:{server.port}", headers=headers, timeout=TIMEOUT
                    ) as client,
                ):
                    paths = [
                        PathTiming(
                            "bare", "baseline: bare Starlette endpoint (`GET /api/health`)",
                            "/api/health", False,
                        ),
                        PathTiming(
                            "health", "Causerie `GET /api/health` (FastAPI, no database)",
                            "/api/health", False,
                        ),
                    ]  # fmt: skip
                    progress("inbox: finding cursors")
                    measured = _paths(client, seed)
                    bare_clock, clock = ServerClock(bare.pid), ServerClock(server.pid)
                    targets = [(plain, bare_clock, paths[0]), (client, clock, paths[1])]
                    targets += [(client, clock, p) for p in measured]
                    _warm(targets, cfg.inbox_warmup)
                    # After the warm-up: the database's processes serving Causerie's pool.
                    clock = ServerClock(server.pid, *_backends(seed.database_url))
                    targets = [(c, clock if k is not bare_clock else k, p) for c, k, p in targets]
                    progress(f"inbox: {cfg.inbox_rounds} rounds of {len(targets)} requests")
                    _measure(targets, cfg.inbox_rounds, ServerClock(os.getpid()))
            finally:
                os.sched_setaffinity(0, before)
        return InboxResult(
            seed=seed,
            database=make_url(seed.database_url).get_backend_name(),
            size_bytes=size,
            seeded_here=seeded_here,
            rounds=cfg.inbox_rounds,
            paths=paths + measured,
        )
    finally:
        cleanup()


def render_inbox(result: InboxResult | None) -> list[str]:
    if result is None:
        return []
    seed = result.seed
    site = seed.on_website
    seeded = (
        f"seeded in {seed.seconds.get('total', 0):.0f}s "
        f"(generation {seed.seconds.get('generate', 0):.0f}s, "
        f"writing {seed.seconds.get('write', 0):.0f}s)"
        if result.seeded_here
        else f"reused from {seed.data_dir}"
    )
    lines = [
        f"## Inbox with {seed.conversations:,} conversations ({result.database})",
        "",
        f"{seed.conversations:,} conversations and {seed.messages:,} messages "
        f"({result.size_bytes / 2**20:,.0f} MiB on disk), {seeded}. The website measured holds "
        f"{site.get('conversations', 0):,} conversations ({site.get('open', 0):,} open, "
        f"{site.get('unassigned_open', 0):,} of them unassigned; "
        f"{site.get('mine', 0):,} assigned to the token's operator) and "
        f"{site.get('messages', 0):,} messages. Sequential requests over one keep-alive "
        f"connection; {result.rounds} rounds (searches {min(result.rounds, SEARCH_ROUNDS)}), "
        "each path once per round.",
        "",
        "| request | answered | median ms | p99 ms | server CPU ms (median) | p99 ms without "
        "CPU waits | < 100 ms |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for path in result.paths:
        verdict = f"**{path.verdict}**" if path.target else "(no target)"
        lines.append(
            f"| {path.label} | {path.answer} | {path.median:.1f} | {path.p99:.1f} | "
            f"{path.cpu_median:.1f} | {path.p99_without_waits:.1f} | {verdict} |"
        )
    held = [p for p in result.paths if p.counted]
    missed = [p.key for p in held if p.verdict == "MISS"]
    starred = [p.key for p in held if p.verdict == "PASS*"]
    lines += [
        "",
        "Server CPU: the time the server's threads ran during the request, with those of the "
        "PostgreSQL processes serving its pool on PostgreSQL (/proc/PID/task/*/schedstat). "
        f"PASS: median and p99 under {TARGET_MS:.0f} ms. PASS*: the median is, and the p99 is "
        "too once the time the server, its database processes and this client spent runnable "
        "but waiting for a CPU (taken by other processes on this shared machine) is subtracted "
        "from each request.",
        "",
        "Target (the `list, first page` and `thread` rows; deeper pages and older messages are "
        f"given a verdict but not counted): under {TARGET_MS:.0f} ms: "
        f"**{'PASS' if not missed else 'MISS'}**"
        + (f" (missed: {', '.join(missed)})" if missed else "")
        + (f" (p99 over only by CPU waits: {', '.join(starred)})" if starred else "")
        + ".",
        "",
    ]
    return lines


def inbox_data_dir(text: str) -> Path:
    return Path(text).resolve()
