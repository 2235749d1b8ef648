"""A year's report from the rollups, beside a direct scan of the source rows (docs/performance.md,
"Reports"). Not part of the test run:

    python -m bench.reports [--postgresql postgresql://postgres@127.0.0.1/bench_reports]
        [--sqlite sqlite:////path/bench.db] [--only-postgresql]
        [--conversations 100000] [--messages-per-conversation 10]

Seeds one website with 100,000 conversations over a year (one session each, ten messages each:
1,000,000 messages; half of them answered, most resolved), or reuses the seed a database given
already holds (website "Bench": seed once, then run on copies). Builds the rollups with
`causerie reports rebuild`'s action (which keeps every zone's local days; then `ANALYZE` on
PostgreSQL), and times keeping them from nothing kept, as `do_keep_days` does after an upgrade.
Then it times, CPU (SQLite: the database's work included; PostgreSQL: only the client's) and
wall: the first report of a year in eight zones, 7 rounds of a year's report in four zones beside
a direct scan that computes the same counts and medians from `sessions`, `conversations` and
`messages` (docs/reports.md "Speed"), `do_keep_days` passes after a change, and last the first
report in two zones with nothing kept (their days computed from the hours, as before any
keeping: what a report costs in the seconds after an upgrade).
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
from causerie.actions.reports import (
    do_flush_counts,
    do_keep_days,
    do_rebuild,
    get_report,
    keep_website_days,
    note_load,
)
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
FIRST = (*ZONES, "Asia/Tokyo", "America/Chicago", "Australia/Lord_Howe", "Asia/Kathmandu")
COLD = ("Asia/Tokyo", "America/Chicago")  # with nothing kept: the report computes its days


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


async def _year(rt: Any, owner: Actor, website_id: str, zone: str) -> tuple[float, float]:
    """A year's report in `zone`: (CPU of this process, wall), in seconds."""
    cpu, wall = time.process_time(), time.perf_counter()
    await get_report(rt, owner, website_id, first="2025-01-01", last="2025-12-31", tz=zone)
    return time.process_time() - cpu, time.perf_counter() - wall


def _ms(cpu: float, wall: float) -> str:
    return f"CPU {cpu * 1000:.1f} ms, wall {wall * 1000:.1f} ms"


async def _seeded(rt: Any) -> tuple[str, str] | None:
    """The website and owner of an earlier seed in this database (`--keep`), if any."""
    async with rt.store.read() as tx:
        found = await tx.db.execute(
            text(
                "SELECT w.id, o.id FROM websites AS w JOIN memberships AS m ON m.website_id = w.id"
                " JOIN operators AS o ON o.id = m.operator_id"
                " WHERE w.name = 'Bench' AND o.email = 'bench@b.example'"
            )
        )
        row = found.first()
    return None if row is None else (str(row[0]), str(row[1]))


async def bench(database_url: str, n: int, per: int) -> None:
    with tempfile.TemporaryDirectory() as data:
        settings = load_settings(environ={}, data_dir=data, database_url=database_url)
        await upgrade(settings.database_url)
        clock = ManualClock(START + timedelta(days=366))
        rt = build_runtime(settings, clock)
        await start_runtime(rt)
        try:
            seeded = await _seeded(rt)
            if seeded is None:
                website = await do_create_website(rt, Actor.cli(), "Bench", ["https://b.example"])
                added = await do_add_operator(
                    rt, Actor.cli(), "bench@b.example", website_id=website.id, role=Role.OWNER
                )
                seeded = website.id, added.operator.id
                began = time.perf_counter()
                await _seed(rt, website.id, added.operator.id, n, per)
                took = time.perf_counter() - began
                print(f"  seeded {n} conversations, {n * per} messages in {took:.0f} s")
            else:
                print("  reusing the seed found in the database")
            website_id, owner_id = seeded
            owner = Actor("operator", owner_id)
            cpu, began = time.process_time(), time.perf_counter()
            await do_rebuild(rt, website_id=website_id)
            print(
                "  rebuilt the rollups and kept the local days of every zone:"
                f" {_ms(time.process_time() - cpu, time.perf_counter() - began)}"
            )
            async with rt.store.transaction() as tx:
                if tx.db.dialect == "postgresql":
                    # As autovacuum would by now on a server (it is off on some test servers):
                    # without statistics the planner reads every hour for a plan's `IN (...)`.
                    await tx.db.execute(text("ANALYZE"))
                await tx.db.execute(text("DELETE FROM report_offset_days"))
            cpu, began = time.process_time(), time.perf_counter()
            kept = await keep_website_days(rt, website_id)
            took = _ms(time.process_time() - cpu, time.perf_counter() - began)
            print(f"  kept {kept} local days of every zone from nothing: {took}")
            cpu, began = time.process_time(), time.perf_counter()
            kept = await do_keep_days(rt)  # every day is pending since the rebuild: cleared
            took = _ms(time.process_time() - cpu, time.perf_counter() - began)
            print(f"  the first do_keep_days pass after them: {kept} days kept, {took}")
            firsts = {zone: await _year(rt, owner, website_id, zone) for zone in FIRST}
            runs: dict[str, list[tuple[float, float]]] = {zone: [] for zone in ZONES}
            scan_runs = []
            for _ in range(RUNS):
                for zone in ZONES:
                    runs[zone].append(await _year(rt, owner, website_id, zone))
                began = time.perf_counter()
                await _direct_scan(rt, website_id, START, START + timedelta(days=365))
                scan_runs.append(time.perf_counter() - began)
            passes = []
            for label, at in (
                ("today", clock.now()),
                ("200 days ago", START + timedelta(days=166)),
            ):
                timed, kept_days = [], []
                for _ in range(RUNS):
                    note_load(rt, website_id, at)  # one change to a day, as any event makes
                    await do_flush_counts(rt)
                    cpu, began = time.process_time(), time.perf_counter()
                    kept_days.append(await do_keep_days(rt))
                    timed.append((time.process_time() - cpu, time.perf_counter() - began))
                passes.append(
                    f"  a do_keep_days pass after a change {label} ({max(kept_days)} days kept):"
                    f" CPU {_timed([c for c, _ in timed])}; wall {_timed([w for _, w in timed])}"
                )
            async with rt.store.transaction() as tx:
                await tx.db.execute(text("DELETE FROM report_offset_days"))
            cold = {zone: await _year(rt, owner, website_id, zone) for zone in COLD}
            for zone, (cpu_s, wall_s) in firsts.items():
                print(f"  first report of a year in {zone}: {_ms(cpu_s, wall_s)}")
            for zone, (cpu_s, wall_s) in cold.items():
                print(
                    f"  first report of a year in {zone} with nothing kept (its days computed):"
                    f" {_ms(cpu_s, wall_s)}"
                )
            for zone, timed in runs.items():
                print(
                    f"  a year's report in {zone}: CPU {_timed([c for c, _ in timed])};"
                    f" wall {_timed([w for _, w in timed])}"
                )
            print(f"  direct scan, wall: {_timed(scan_runs)}")
            print("\n".join(passes))
            paris = statistics.median(w for _, w in runs["Europe/Paris"])
            ratio = paris / statistics.median(scan_runs)
            print(f"  report in Paris / direct scan (wall medians): {ratio:.4f}")
            print(f"  load average: {os.getloadavg()[0]:.1f}")
        finally:
            await close_runtime(rt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgresql", help="a PostgreSQL URL (its database must exist)")
    parser.add_argument("--sqlite", help="a SQLite URL (default: a file in a temporary folder)")
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages-per-conversation", type=int, default=10)
    parser.add_argument(
        "--only-postgresql", action="store_true", help="skip SQLite (with --postgresql)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        sqlite = None if args.only_postgresql else args.sqlite or f"sqlite:///{folder}/bench.db"
        for name, url in (("SQLite", sqlite), ("PostgreSQL", args.postgresql)):
            if url:
                print(name)
                asyncio.run(bench(url, args.conversations, args.messages_per_conversation))


if __name__ == "__main__":
    main()
