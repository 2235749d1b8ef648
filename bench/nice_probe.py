"""A long SQLite read beside an event loop on one core, its thread niced or not
(`python -m bench.nice_probe`).

What `causerie.thread_priority` changes, without the server, HTTP or the inbox's data: this
process pins itself to one core, runs an event loop whose probe sleeps 1 ms again and again and
records how late it wakes (as `bench.loop_lag`'s does), and, in a second thread, a statement that
keeps SQLite busy without the GIL (a recursive CTE counting to `--rows`), again and again for
`--seconds`. The thread runs at the loop's priority (`same`) or lowered as Causerie's reader
threads are (`lowered`); the two alternate `--runs` times, and the medians are printed with their
ratio. The loop's CPU wait is its thread's time runnable without a CPU (/proc schedstat).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sqlite3
import statistics
import threading
import time
from pathlib import Path

from causerie.thread_priority import lower_this_thread

COUNT = (
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < ?) "
    "SELECT count(*) FROM c"
)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)] if ordered else math.nan


def _wait_ns(tid: int) -> int:
    return int(Path(f"/proc/self/task/{tid}/schedstat").read_text().split()[1])


def _reader(lowered: bool, rows: int, stop: threading.Event, done: list[int]) -> None:
    if lowered:
        lower_this_thread()
    conn = sqlite3.connect(":memory:")
    while not stop.is_set():
        conn.execute(COUNT, (rows,)).fetchone()
        done[0] += 1
    conn.close()


async def _probe(seconds: float) -> list[float]:
    lags: list[float] = []
    end = time.perf_counter() + seconds
    while (now := time.perf_counter()) < end:
        await asyncio.sleep(0.001)
        lags.append((time.perf_counter() - now - 0.001) * 1000)
    return lags


def one_run(lowered: bool, rows: int, seconds: float) -> dict[str, float]:
    stop = threading.Event()
    done = [0]
    thread = threading.Thread(target=_reader, args=(lowered, rows, stop, done))
    tid = threading.get_native_id()
    waited = _wait_ns(tid)
    thread.start()
    try:
        lags = asyncio.run(_probe(seconds))
    finally:
        stop.set()
        thread.join()
    return {
        "lag p99 ms": p99(lags),
        "lag max ms": max(lags),
        "loop CPU wait ms": (_wait_ns(tid) - waited) / 1e6,
        "statements": float(done[0]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--core", type=int, default=0)
    options = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {options.core})
    results: dict[str, list[dict[str, float]]] = {"same": [], "lowered": []}
    for run in range(options.runs):
        for kind in ("same", "lowered"):
            figures = one_run(kind == "lowered", options.rows, options.seconds)
            results[kind].append(figures)
            shown = ", ".join(f"{k} {v:.1f}" for k, v in figures.items())
            print(f"run {run + 1} {kind}: {shown}  (load {os.getloadavg()[0]:.1f})", flush=True)
    print("medians (same | lowered | lowered/same):")
    for key in results["same"][0]:
        same = statistics.median(r[key] for r in results["same"])
        lowered = statistics.median(r[key] for r in results["lowered"])
        print(f"  {key}: {same:.1f} | {lowered:.1f} | {lowered / same:.2f}")


if __name__ == "__main__":
    main()
