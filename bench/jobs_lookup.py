"""`Jobs.of_payload` (a clicked webhook redelivery finds its delivery's job) on a jobs table of N
rows (about 1,000 visitors), as a redelivery calls it (given the delivery's session: read through
the index on `session_id`) and without a session (every job of the kind read: the payload has no
index). Timed against `Jobs.get` (a primary-key read) in the same run, on SQLite and, given
`--postgresql URL`, PostgreSQL.

    python -m bench.jobs_lookup --jobs 100000 [--postgresql postgresql://.../db]

The jobs table holds only pending and failed jobs (a done job is deleted), so N is the backlog:
100,000 is a website whose webhook target has been down for days at a high message rate.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from causerie.actions.websites import do_create_website
from causerie.clock import ManualClock
from causerie.domain.jobs import JobKind, JobState
from causerie.domain.models import Actor
from causerie.settings import load_settings
from causerie.store.migrate import upgrade
from causerie.store.schema.chat import sessions
from causerie.store.schema.upkeep import jobs
from causerie.wiring import build_runtime, close_runtime

RUNS = 9
CHUNK = 5_000


PEOPLE = 1_000


async def _seed(rt: Any, count: int) -> list[str]:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    site = await do_create_website(rt, Actor.cli(), "Bench", ["https://bench.example"])
    people = [f"s{n:023d}" for n in range(PEOPLE)]
    async with rt.store.transaction() as tx:
        await tx.jobs._db.execute(
            insert(sessions),
            [
                {
                    "id": person,
                    "website_id": site.id,
                    "token_hash": f"{n:064d}",
                    "state": "active",
                    "created_at": now,
                    "last_access_at": now,
                    "data": {},
                }
                for n, person in enumerate(people)
            ],
        )
    kinds = (JobKind.WEBHOOK_DELIVER, JobKind.WEBHOOK_DELIVER, JobKind.WEBHOOK_DELIVER, "mail.send")
    for start in range(0, count, CHUNK):
        rows = [
            {
                "id": f"job{n:021d}",
                "kind": str(kinds[n % len(kinds)]),
                "state": JobState.FAILED.value,
                "key": None,
                "session_id": people[n % PEOPLE],
                "payload": {"delivery_id": f"d{n:023d}", "window_from": now.isoformat()},
                "attempts": 8,
                "run_at": now,
                "lease_until": None,
                "last_error": "503 from the target",
                "created_at": now,
            }
            for n in range(start, min(start + CHUNK, count))
        ]
        async with rt.store.transaction() as tx:
            await tx.jobs._db.execute(insert(jobs), rows)
    return people


async def _median_ms(call: Callable[[], Awaitable[object]]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def _bench(database_url: str, count: int, folder: Path) -> None:
    settings = load_settings(
        environ={"CAUSERIE_DATA_DIR": str(folder), "CAUSERIE_DATABASE_URL": database_url}
    )
    await upgrade(settings.database_url)
    rt = build_runtime(settings, ManualClock(datetime(2026, 12, 1, tzinfo=UTC)))
    try:
        people = await _seed(rt, count)
        last = count - 2  # a webhook job (n % 4 != 3) near the end of the table

        async def lookup(session_id: str | None) -> None:
            async with rt.store.read() as tx:
                found = await tx.jobs.of_payload(
                    JobKind.WEBHOOK_DELIVER, "delivery_id", f"d{last:023d}", session_id=session_id
                )
                assert len(found) == 1, found

        async def by_id() -> None:
            async with rt.store.read() as tx:
                assert await tx.jobs.get(f"job{last:021d}") is not None

        person = people[last % PEOPLE]
        scan = await _median_ms(lambda: lookup(None))
        narrowed = await _median_ms(lambda: lookup(person))
        key = await _median_ms(by_id)
        name = "postgresql" if database_url.startswith("postgresql") else "sqlite"
        print(
            f"{name}: {count:,} jobs: of_payload without a session {scan:.1f} ms "
            f"({scan / key:.0f}x get), with its session {narrowed:.2f} ms "
            f"({narrowed / key:.1f}x get), get by id {key:.2f} ms; medians of {RUNS}"
        )
    finally:
        await close_runtime(rt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--postgresql", help="an empty PostgreSQL database's URL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        urls = [f"sqlite:///{folder}/causerie.db"]
        if args.postgresql:
            urls.append(args.postgresql)
        for url in urls:
            asyncio.run(_bench(url, args.jobs, Path(folder)))


if __name__ == "__main__":
    main()
