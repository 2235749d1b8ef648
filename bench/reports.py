"""A year's report from the rollups, beside a direct scan of the source rows (docs/performance.md,
"Reports"). Not part of the test run:

    python -m bench.reports [--postgresql postgresql://postgres@127.0.0.1/bench_reports]
        [--conversations 100000] [--messages-per-conversation 10]

Seeds one website with 100,000 conversations over a year (one session each, ten messages each:
1,000,000 messages; half of them answered, most resolved), builds the rollups with `causerie
reports rebuild`'s action (then `ANALYZE` on PostgreSQL), then times `get_report` over the year
(Europe/Paris) and a direct scan that computes the same counts and medians from `sessions`,
`conversations` and `messages`; then the CPU time of this process for a year's report in four
zones (SQLite: the database's work included; PostgreSQL: only the client's), steadier than wall
time on a shared machine. Each zone's first report is timed apart: it computes the local days
that the next ones read as kept (docs/reports.md "Speed").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text

from causerie.actions.operators import do_add_operator
from causerie.actions.reports import do_rebuild, get_report
from causerie.actions.websites import do_create_website
from causerie.clock import ManualClock
from causerie.domain.models import Actor, Role
from causerie.settings import load_settings
from causerie.store.migrate import upgrade
from causerie.store.schema.chat import conversations, messages, sessions
from causerie.store.schema.reports import report_conversations
from causerie.tokens import new_id
from causerie.wiring import build_runtime, close_runtime, start_runtime

START = datetime(2025, 1, 1, tzinfo=UTC)
RUNS = 7
ZONES = ("Europe/Paris", "UTC", "Asia/Kolkata", "America/New_York")


async def _seed(rt: Any, website_id: str, operator_id: str, n: int, per: int) -> None:
    rng = random.Random(7)
    batch_s: list[dict[str, Any]] = []
    batch_c: list[dict[str, Any]] = []
    batch_f: list[dict[str, Any]] = []
    batch_m: list[dict[str, Any]] = []

    async def flush() -> None:
        async with rt.store.transaction() as tx:
            for table, rows in (
                (sessions, batch_s),
                (conversations, batch_c),
                (report_conversations, batch_f),
                (messages, batch_m),
            ):
                if rows:
                    await tx.db.execute(table.insert(), rows)
        for rows in (batch_s, batch_c, batch_f, batch_m):
            rows.clear()

    for i in range(n):
        at = START + timedelta(seconds=rng.randrange(365 * 86_400))
        session_id, conversation_id = new_id(), new_id()
        batch_s.append(
            {
                "id": session_id,
                "website_id": website_id,
                "token_hash": new_id() + new_id(),
                "state": "permanent",
                "created_at": at,
                "last_access_at": at,
                "user_agent": "",
                "page_url": "",
                "page_title": "",
                "page_referrer": "",
                "data": {},
            }
        )
        resolved = at + timedelta(seconds=rng.randrange(600, 7200)) if i % 4 else None
        batch_c.append(
            {
                "id": conversation_id,
                "website_id": website_id,
                "session_id": session_id,
                "state": "resolved" if resolved else "open",
                "created_at": at,
                "updated_at": resolved or at,
                "last_message_at": at,
                "unread_by_visitor": 0,
                "unread_by_operator": 0,
            }
        )
        batch_f.append(
            {
                "conversation_id": conversation_id,
                "website_id": website_id,
                "started_at": at,
                "visitor_started": True,
                "resolved_at": resolved,
                "resolved_by": operator_id if resolved else None,
            }
        )
        when = at
        for k in range(per):
            operator = i % 2 == 0 and k % 2 == 1
            batch_m.append(
                {
                    "id": new_id(),
                    "conversation_id": conversation_id,
                    "author": "operator" if operator else "visitor",
                    "operator_id": operator_id if operator else None,
                    "type": "text",
                    "body": "a message of some length, as people write them",
                    "client_id": f"c{k}",
                    "created_at": when,
                }
            )
            when += timedelta(seconds=rng.randrange(5, 300))
        if len(batch_m) >= 20_000:
            await flush()
    await flush()


async def _direct_scan(rt: Any, website_id: str, start: datetime, end: datetime) -> None:
    """What a report without rollups reads: counts per day and every first response."""
    async with rt.store.long_read() as tx:
        day = func.date(messages.c.created_at)
        await tx.db.execute(
            select(day, messages.c.author, func.count())
            .join(conversations, conversations.c.id == messages.c.conversation_id)
            .where(
                conversations.c.website_id == website_id,
                messages.c.created_at >= start,
                messages.c.created_at < end,
            )
            .group_by(day, messages.c.author)
        )
        first = (
            select(conversations.c.created_at, func.min(messages.c.created_at))
            .join(conversations, conversations.c.id == messages.c.conversation_id)
            .where(
                conversations.c.website_id == website_id,
                conversations.c.created_at >= start,
                conversations.c.created_at < end,
                messages.c.author == "operator",
            )
            .group_by(messages.c.conversation_id, conversations.c.created_at)
        )
        waits = [(row[1] - row[0]).total_seconds() for row in await tx.db.execute(first)]
        statistics.median(waits or [0.0])
        await tx.db.execute(
            select(func.date(sessions.c.created_at), func.count())
            .where(sessions.c.website_id == website_id)
            .group_by(func.date(sessions.c.created_at))
        )


def _timed(runs: list[float]) -> str:
    return f"median {statistics.median(runs) * 1000:.1f} ms, best {min(runs) * 1000:.1f} ms"


async def bench(database_url: str, n: int, per: int) -> None:
    with tempfile.TemporaryDirectory() as data:
        settings = load_settings(environ={}, data_dir=data, database_url=database_url)
        await upgrade(settings.database_url)
        clock = ManualClock(START + timedelta(days=366))
        rt = build_runtime(settings, clock)
        await start_runtime(rt)
        try:
            website = await do_create_website(rt, Actor.cli(), "Bench", ["https://b.example"])
            added = await do_add_operator(
                rt, Actor.cli(), "bench@b.example", website_id=website.id, role=Role.OWNER
            )
            began = time.perf_counter()
            await _seed(rt, website.id, added.operator.id, n, per)
            took = time.perf_counter() - began
            print(f"  seeded {n} conversations, {n * per} messages in {took:.0f} s")
            began = time.perf_counter()
            await do_rebuild(rt, website_id=website.id)
            print(f"  rebuilt the rollups in {time.perf_counter() - began:.1f} s")
            async with rt.store.transaction() as tx:
                if tx.db.dialect == "postgresql":
                    # As autovacuum would by now on a server (it is off on some test servers):
                    # without statistics the planner reads every hour for a plan's `IN (...)`.
                    await tx.db.execute(text("ANALYZE"))
            owner = Actor("operator", added.operator.id)
            cold: dict[str, float] = {}
            for zone in ZONES:  # nothing kept yet at its offsets: computed, then kept
                began = time.perf_counter()
                await get_report(
                    rt, owner, website.id, first="2025-01-01", last="2025-12-31", tz=zone
                )
                cold[zone] = time.perf_counter() - began
            report_runs, scan_runs = [], []
            cpu_runs: dict[str, list[float]] = {zone: [] for zone in ZONES}
            for _ in range(RUNS):
                began = time.perf_counter()
                found = await get_report(
                    rt, owner, website.id, first="2025-01-01", last="2025-12-31", tz="Europe/Paris"
                )
                report_runs.append(time.perf_counter() - began)
                for zone in ZONES:  # this process's CPU (SQLite runs in one of its threads)
                    cpu = time.process_time()
                    await get_report(
                        rt, owner, website.id, first="2025-01-01", last="2025-12-31", tz=zone
                    )
                    cpu_runs[zone].append(time.process_time() - cpu)
                began = time.perf_counter()
                await _direct_scan(rt, website.id, START, START + timedelta(days=365))
                scan_runs.append(time.perf_counter() - began)
            totals = found["totals"]
            print(f"  report of a year: {_timed(report_runs)}")
            print(f"  direct scan:      {_timed(scan_runs)}")
            ratio = statistics.median(report_runs) / statistics.median(scan_runs)
            print(f"  report / direct scan (medians): {ratio:.3f}")
            for zone, runs in cpu_runs.items():
                print(f"  CPU of a year's report in {zone}: {_timed(runs)}")
            for zone, took in cold.items():
                print(
                    f"  first report in {zone} (its days computed, then kept): {took * 1000:.1f} ms"
                )
            print(f"  load average: {os.getloadavg()[0]:.1f}")
            print(
                f"  (totals: {totals['conversations_started']} conversations,"
                f" {totals['messages_visitor'] + totals['messages_operator']} messages,"
                f" first response median {totals['first_response_median']} s)"
            )
        finally:
            await close_runtime(rt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgresql", help="a PostgreSQL URL (its database must exist, empty)")
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages-per-conversation", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for name, url in (
            ("SQLite", f"sqlite:///{folder}/bench.db"),
            ("PostgreSQL", args.postgresql),
        ):
            if url:
                print(name)
                asyncio.run(bench(url, args.conversations, args.messages_per_conversation))


if __name__ == "__main__":
    main()
