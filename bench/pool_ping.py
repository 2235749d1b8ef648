"""CPU per pooled PostgreSQL checkout, with and without SQLAlchemy's `pool_pre_ping`, beside
Causerie's own check of a dead connection (`causerie.store.postgres`, `dead_on_checkout`), and
a read's statement in autocommit as `read()` ran it before and as it runs it now (`Reads`: a
SELECT found on a dead connection runs again on a new one):
`python -m bench.pool_ping --database postgresql://postgres@127.0.0.1:5432/postgres`.

Each case checks a connection out of a pool of Causerie's size and runs one `SELECT 1` on it, as
a read does; cases alternate round by round and the medians of `time.process_time` per checkout
are printed (microseconds of this process's CPU: a pre-ping's round trips cost the server too,
and wall time, which this does not count). Compare the difference with a renewal's CPU
(`python -m bench.inprocess --database ...`).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench.databases import Databases
from causerie.store.database import driver_url
from causerie.store.postgres import (
    POSTGRES_POOL_SIZE,
    Reads,
    dead_on_checkout,
    postgres_engine,
)


async def _per_checkout(engine: AsyncEngine, count: int) -> tuple[float, float]:
    """(µs of CPU, µs of wall time) per checkout and statement."""
    select = text("SELECT 1")
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        async with engine.connect() as conn:
            await conn.execute(select)
    return (
        (time.process_time() - cpu) / count * 1e6,
        (time.perf_counter() - wall) / count * 1e6,
    )


async def _per_read(engine: AsyncEngine, count: int) -> tuple[float, float]:
    """`_per_checkout` through `Reads`, as `read()` runs its statements."""
    select = text("SELECT 1")
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        reads = Reads(engine)
        try:
            await reads.execute(select)
        finally:
            await reads.close()
    return (
        (time.process_time() - cpu) / count * 1e6,
        (time.perf_counter() - wall) / count * 1e6,
    )


async def _check_alone(engine: AsyncEngine, count: int = 200_000) -> tuple[float, float]:
    """(µs of CPU, of wall time) of `dead_on_checkout` itself, on a live pooled connection."""
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(count):
            dead_on_checkout(raw.dbapi_connection, None, None)
        return (
            (time.process_time() - cpu) / count * 1e6,
            (time.perf_counter() - wall) / count * 1e6,
        )


async def measure(url: str, rounds: int, count: int) -> dict[str, list[tuple[float, float]]]:
    engines = {
        "plain": create_async_engine(driver_url(url), pool_size=POSTGRES_POOL_SIZE, max_overflow=0),
        "pre_ping": create_async_engine(
            driver_url(url), pool_size=POSTGRES_POOL_SIZE, max_overflow=0, pool_pre_ping=True
        ),
        "causerie": postgres_engine(url),
        "autocommit": postgres_engine(url),  # read() before, then now ("reads")
        "reads": postgres_engine(url),
    }
    autocommit = {"isolation_level": "AUTOCOMMIT"}
    engines["autocommit"] = engines["autocommit"].execution_options(**autocommit)
    engines["reads"] = engines["reads"].execution_options(**autocommit)
    run = {name: _per_read if name == "reads" else _per_checkout for name in engines}
    try:
        for name, engine in engines.items():
            await run[name](engine, count)  # warm-up: the pool's connection made
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in engines}
        names = list(engines)
        for round_ in range(rounds):  # each round in another order: no case always follows one
            shift = round_ % len(names)
            for name in names[shift:] + names[:shift]:
                times[name].append(await run[name](engines[name], count))
        times["check alone"] = [await _check_alone(engines["causerie"])]
        return times
    finally:
        for engine in engines.values():
            await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pool_ping")
    parser.add_argument("--database", required=True, help="a PostgreSQL URL (loopback)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--count", type=int, default=2000, help="checkouts per round and case")
    args = parser.parse_args()
    databases = Databases(args.database)
    try:
        url = databases.new(Path("."))
        times = asyncio.run(measure(url, args.rounds, args.count))
    finally:
        databases.drop_all()
    median = statistics.median
    for name, values in times.items():
        cpu = ", ".join(f"{c:.2f}" for c, _ in values)
        print(
            f"{name:11} CPU median {median(c for c, _ in values):7.2f} µs [{cpu}]  "
            f"wall median {median(w for _, w in values):6.1f} µs"
        )
    plain = median(c for c, _ in times["plain"])
    for name in ("pre_ping", "causerie"):
        extra = median(c for c, _ in times[name]) - plain
        print(f"{name} costs {extra:+.1f} µs of CPU per checkout over plain")
    extra = median(c for c, _ in times["reads"]) - median(c for c, _ in times["autocommit"])
    print(f"reads costs {extra:+.1f} µs of CPU per read over autocommit")


if __name__ == "__main__":
    main()
