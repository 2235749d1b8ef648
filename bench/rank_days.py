"""A pass of the reports' day ranking with nothing to rank, the case of almost every pass (every
node runs one every 5 s): `python -m bench.rank_days [--database postgresql://USER@127.0.0.1/DB]`.

One website with a year of ranked day histograms (and one day whose entries went back to 0,
which is never to rank). Two ways of a pass that finds nothing, alternating round by round:
`write`, as before this branch (a write transaction running the ranking UPDATE), and `read`, as now
(`do_rank_days`: a read of whether any day is left, no transaction). Printed: medians of this
process's CPU per pass (`time.process_time`; on SQLite the database's work is in this process,
on PostgreSQL only the client's) and of wall time, and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.databases import Databases
from causerie.actions.reports import do_rank_days
from causerie.actions.websites import do_create_website
from causerie.clock import ManualClock
from causerie.domain.models import Actor
from causerie.domain.reports import Dimension, HourRow
from causerie.runtime import Runtime
from causerie.settings import load_settings
from causerie.store.migrate import upgrade
from causerie.store.repositories.report_sql import RANK_DAYS, UNRANKED
from causerie.wiring import build_runtime, close_runtime, start_runtime

START = datetime(2025, 1, 1, 10, tzinfo=UTC)


async def _year(rt: Runtime, website_id: str) -> None:
    async with rt.store.transaction() as tx:
        for day in range(365):
            durations = {"first_response": {30 + day % 50: 1}, "resolution": {600: 1}}
            row = HourRow(START + timedelta(days=day), Dimension.WEBSITE, "", {}, durations)
            await tx.reports.add(website_id, row)
        back = {"first_response": {30: -1}}  # 2025-01-01's entry back to 0: never to rank
        await tx.reports.add(website_id, HourRow(START, Dimension.WEBSITE, "", {}, back))
    assert await do_rank_days(rt) > 0
    assert await do_rank_days(rt) == 0


async def _per_pass(run: Callable[[], Awaitable[int]], count: int) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        if await run():
            raise RuntimeError("a day was left to rank")
    return (
        (time.process_time() - cpu) / count * 1e6,
        (time.perf_counter() - wall) / count * 1e6,
    )


async def bench(database_url: str, rounds: int, count: int) -> None:
    with tempfile.TemporaryDirectory() as data:
        settings = load_settings(environ={}, data_dir=data, database_url=database_url)
        await upgrade(settings.database_url)
        rt = build_runtime(settings, ManualClock(START + timedelta(days=400)))
        await start_runtime(rt)
        try:
            website = await do_create_website(rt, Actor.cli(), "Bench", ["https://b.example"])
            await _year(rt, website.id)

            async def write() -> int:  # the pass before this branch: its statement, as it was
                async with rt.store.transaction(durable=False) as tx:
                    db: Any = tx.db  # type: ignore[attr-defined]
                    ranking = text(f"{RANK_DAYS[db.dialect]} {UNRANKED[db.dialect]}")
                    return int((await db.execute(ranking)).rowcount)

            cases = {"write": write, "read": lambda: do_rank_days(rt)}
            for run in cases.values():
                await _per_pass(run, count)  # warm-up
            times: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
            for round_ in range(rounds):
                names = list(cases) if round_ % 2 == 0 else list(reversed(cases))
                for name in names:
                    times[name].append(await _per_pass(cases[name], count))
        finally:
            await close_runtime(rt)
    median = statistics.median
    for name, values in times.items():
        cpu = ", ".join(f"{c:.0f}" for c, _ in values)
        print(
            f"  {name:5} CPU median {median(c for c, _ in values):7.1f} µs [{cpu}]  "
            f"wall median {median(w for _, w in values):7.1f} µs"
        )
    ratio = median(c for c, _ in times["read"]) / median(c for c, _ in times["write"])
    print(f"  read / write (CPU medians): {ratio:.1%}; load average {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rank_days")
    parser.add_argument("--database", default=None, help="a PostgreSQL URL (default: SQLite)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--count", type=int, default=300, help="passes per round and case")
    args = parser.parse_args()
    databases = Databases(args.database)
    with tempfile.TemporaryDirectory() as folder:
        try:
            url = databases.new(Path(folder))
            print(databases.kind)
            asyncio.run(bench(url, args.rounds, args.count))
        finally:
            databases.drop_all()


if __name__ == "__main__":
    main()
