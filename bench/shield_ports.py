"""The CPU of the shield's calls to its ports, in process: `python -m bench.shield_ports
--redis-url URL --database-url postgresql://...`.

What bench/shield_cost.py counts per request (round trips to Redis, statements), priced in this
process's CPU (`time.process_time`, so other processes disturb it little), each way of making
the same calls alternating with the other, medians of `--rounds`:

- a new session's rate limits: three `take` (one Redis script each, as before `take_each`)
  against one `take_each`;
- a script sent in full (`EVAL`) against by its digest (`EVALSHA`, `register_script`);
- a short read on PostgreSQL: `SELECT` of a website in a transaction (`BEGIN`, `ROLLBACK`)
  against on its own (autocommit), through the store's repository.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import uvloop

from bench.databases import Databases
from causerie.counters.redis import _TAKE, RedisCounters
from causerie.store.db import Db
from causerie.store.migrate import upgrade
from causerie.store.postgres import postgres_engine
from causerie.store.tx import Repositories, SqlTx

CALLS = 500  # per round and way

Case = Callable[[], Awaitable[object]]


async def _cpu_per_call(case: Case) -> float:
    started = time.process_time()
    for _ in range(CALLS):
        await case()
    return (time.process_time() - started) / CALLS * 1e6


async def _compare(name: str, ways: Mapping[str, Case], rounds: int) -> None:
    for case in ways.values():  # warm: connections open, scripts loaded, statements prepared
        for _ in range(20):
            await case()
    results: dict[str, list[float]] = {way: [] for way in ways}
    for _ in range(rounds):
        for way, case in ways.items():
            results[way].append(await _cpu_per_call(case))
    medians = {way: statistics.median(values) for way, values in results.items()}
    first, *others = medians
    line = ", ".join(f"{way} {value:.0f} µs" for way, value in medians.items())
    ratios = ", ".join(f"{way} / {first} {medians[way] / medians[first]:.2f}" for way in others)
    print(f"{name}: {line} (medians of {rounds} rounds of {CALLS}); {ratios}")


async def _counters(url: str, rounds: int) -> None:
    counters = RedisCounters(url)
    now = datetime.now(UTC)
    buckets = [(f"bench:take:{n}", 1e9, 1e9) for n in range(3)]  # never empty

    async def three_takes() -> None:
        for key, rate, burst in buckets:
            await counters.take(key, now, rate, burst)

    async def take_each() -> None:
        await counters.take_each(buckets, now)

    redis = counters._redis  # the same client: only the way the script is sent differs
    args = ("1000000000.0", "1000000000.0", repr(now.timestamp()), 60)

    async def by_text() -> None:
        await redis.eval(_TAKE, 1, "bench:take:0", *args)

    script = redis.register_script(_TAKE)

    async def by_digest() -> None:
        await script(keys=["bench:take:0"], args=args)

    try:
        ways = {"3 take": three_takes, "take_each": take_each}
        await _compare("a new session's three limits", ways, rounds)
        await _compare("one script", {"EVAL": by_text, "EVALSHA": by_digest}, rounds)
    finally:
        await counters.close()


async def _reads(url: str, rounds: int) -> None:
    await upgrade(url)
    engine = postgres_engine(url)
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    def read_with(source: object) -> Case:
        async def read() -> None:
            async with source.connect() as conn:  # type: ignore[attr-defined]
                tx = SqlTx(Repositories(Db(conn.execute, "postgresql")))
                await tx.websites.get("no-such-website")

        return read

    try:
        await _compare(
            "a short read on PostgreSQL",
            {"in a transaction": read_with(engine), "autocommit": read_with(autocommit)},
            rounds,
        )
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--database-url", required=True, help="a PostgreSQL server")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    databases = Databases(args.database_url)
    try:
        with tempfile.TemporaryDirectory() as folder:
            url = databases.new(Path(folder))
            uvloop.run(_counters(args.redis_url, args.rounds))  # the nodes' loop
            uvloop.run(_reads(url, args.rounds))
    finally:
        databases.drop_all()


if __name__ == "__main__":
    main()
