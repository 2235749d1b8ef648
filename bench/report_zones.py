"""A year's report per time zone, on a database seeded once, for comparing two source trees
(docs/performance.md, "A year's report in any zone from days kept per offset"). Not part of the
test run:

    python -m bench.report_zones URL --seed [--conversations 100000]   # prints WEBSITE OWNER
    PYTHONPATH=OTHER_TREE/src python -m bench.report_zones URL --website W --owner O \\
        [--runs 7] [--json DIR] [--zones UTC Europe/Paris ...]

`--seed` upgrades an empty database, seeds it as `bench.reports` does (two messages per
conversation: the report's cost does not depend on the messages) and rebuilds the rollups. The
timing run makes one report per zone (written to DIR as JSON with `--json`, to compare trees
byte for byte; it computes and keeps the zone's local days unless they are kept: timed apart),
then times `runs` more, each checked equal to the first, and prints the medians of CPU
(`time.process_time`: the SQLite work included, only the client's on PostgreSQL) and wall time,
and the load average. `--keep` (this branch on) first keeps every zone's days, as `do_keep_days`
does.
Alternate the trees (PYTHONPATH) on copies of one seeded database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import text

from bench.reports import START, _seed
from causerie.actions.operators import do_add_operator
from causerie.actions.reports import do_rebuild, get_report
from causerie.actions.websites import do_create_website
from causerie.clock import ManualClock
from causerie.domain.models import Actor, Role
from causerie.settings import load_settings
from causerie.store.migrate import upgrade
from causerie.wiring import build_runtime, close_runtime, start_runtime

ZONES = ("UTC", "Europe/Paris", "Asia/Kolkata", "America/New_York")
YEAR = {"first": "2025-01-01", "last": "2025-12-31"}


async def seed(url: str, conversations: int) -> None:
    settings = load_settings(environ={}, data_dir=tempfile.mkdtemp(), database_url=url)
    await upgrade(settings.database_url)
    rt = build_runtime(settings, ManualClock(START + timedelta(days=366)))
    await start_runtime(rt)
    try:
        website = await do_create_website(rt, Actor.cli(), "Bench", ["https://b.example"])
        added = await do_add_operator(
            rt, Actor.cli(), "bench@b.example", website_id=website.id, role=Role.OWNER
        )
        await _seed(rt, website.id, added.operator.id, conversations, 2)
        await do_rebuild(rt, website_id=website.id)
        async with rt.store.transaction() as tx:
            if tx.db.dialect == "postgresql":
                await tx.db.execute(text("ANALYZE"))
        print(website.id, added.operator.id)
    finally:
        await close_runtime(rt)


async def _keep(rt: Any, args: argparse.Namespace) -> None:
    """Keep every zone's local days of the last two years, as `do_keep_days` does after an
    upgrade (this tree on)."""
    from causerie.actions.reports import keep_website_days  # the tree compared with may lack it

    began_cpu, began = time.process_time(), time.perf_counter()
    kept = await keep_website_days(rt, args.website)
    print(
        f"{args.tag} kept {kept} days of every zone: CPU"
        f" {time.process_time() - began_cpu:.2f} s, wall {time.perf_counter() - began:.2f} s",
        flush=True,
    )


async def run(args: argparse.Namespace) -> None:
    settings = load_settings(environ={}, data_dir=tempfile.mkdtemp(), database_url=args.url)
    rt = build_runtime(settings, ManualClock(datetime(2026, 1, 2, tzinfo=UTC)))
    await start_runtime(rt)
    owner = Actor("operator", args.owner)
    try:
        if args.keep:
            await _keep(rt, args)
        for zone in args.zones:
            began_cpu, began = time.process_time(), time.perf_counter()
            first = await get_report(rt, owner, args.website, tz=zone, **YEAR)
            print(
                f"{args.tag} {zone:20} first report: CPU"
                f" {(time.process_time() - began_cpu) * 1000:6.1f} ms,"
                f" wall {(time.perf_counter() - began) * 1000:6.1f} ms",
                flush=True,
            )
            if args.json:
                name = f"{args.tag}-{zone.replace('/', '_')}.json"
                (Path(args.json) / name).write_bytes(orjson.dumps(first))
            cpu, wall = [], []
            for _ in range(args.runs):
                began_cpu, began = time.process_time(), time.perf_counter()
                found = await get_report(rt, owner, args.website, tz=zone, **YEAR)
                cpu.append(time.process_time() - began_cpu)
                wall.append(time.perf_counter() - began)
                assert found == first, zone
            print(
                f"{args.tag} {zone:20} CPU {statistics.median(cpu) * 1000:6.1f} ms"
                f"  wall {statistics.median(wall) * 1000:6.1f} ms (best {min(wall) * 1000:.1f})"
                f"  load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    finally:
        await close_runtime(rt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the database (SQLite or PostgreSQL URL)")
    parser.add_argument("--seed", action="store_true", help="seed it (an empty database)")
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--website")
    parser.add_argument("--owner")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--zones", nargs="+", default=list(ZONES))
    parser.add_argument("--json", help="a folder to write each zone's first report to")
    parser.add_argument("--tag", default="tree", help="a name for this tree in the output")
    parser.add_argument(
        "--keep", action="store_true", help="keep the zones' days first, as do_keep_days does"
    )
    args = parser.parse_args()
    if args.seed:
        asyncio.run(seed(args.url, args.conversations))
    else:
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
