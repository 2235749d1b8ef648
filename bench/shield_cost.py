"""What one chatbox request costs the nodes, in CPU and in round trips to Redis and the database:
`python -m bench.shield_cost [--database-url URL] [--redis-url URL] [--nodes 2]`.

The botnet bench (bench/botnet.py) shows what a node does under a flood; this one says why, per
request. It starts the nodes (pinned to core 0, as the other benches), measures their CPU at
rest, then runs each case for `--requests` requests over a few kept-alive connections spread
over the nodes and prints, per request: the nodes' CPU (user + system from /proc, less what
they spend at rest over the same time), the Redis commands (the server's `INFO commandstats`,
by command) and the database's statements and transactions (PostgreSQL's
`pg_stat_statements` when the server loads it, else `pg_stat_database`'s transactions only).
Point it at a Redis and a PostgreSQL of its own: every other client's commands are counted too.

The cases: a new session (a chatbox load without a token, each from a network of its own), a
renewal (a load with the token), a visitor's message, a message over the session's burst (429)
and a chatbox load from a network the defence blocked (refused at the door,
web/shield_gate.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import redis

from bench.botnet import BROWSER, ORIGIN, _cpu_seconds, start_nodes
from bench.databases import Databases
from bench.lean_http import LeanConnection
from bench.servers import can_pin

SETTLE = 8.0  # seconds after the start (whose first seconds are busy) before anything is measured
SETTLE_MAX = 60.0  # seconds waited at most for the nodes to come back to rest between cases
REST = 5.0  # seconds the nodes' CPU at rest is measured over
LOOPS = 4  # concurrent connections per case

# (the request number, the loop's connection) -> the HTTP status
Request = Callable[[int, LeanConnection], Awaitable[int]]


class Probe:
    def __init__(self, pids: list[int], redis_url: str | None, database_url: str) -> None:
        self.pids = pids
        self.redis = redis.Redis.from_url(redis_url) if redis_url else None
        self.database_url = database_url if database_url.startswith("postgresql") else None
        self.idle = 0.0  # the nodes' CPU seconds per second at rest
        self.profile: Path | None = None

    def redis_calls(self) -> Counter[str]:
        if self.redis is None:
            return Counter()
        stats = self.redis.info("commandstats")
        return Counter(
            {
                name.removeprefix("cmdstat_"): int(value["calls"])
                for name, value in stats.items()
                if name not in ("cmdstat_info",)
            }
        )

    def statements(self) -> tuple[Counter[str], int]:
        """(calls by statement, transactions committed) of the bench's database."""
        if self.database_url is None:
            return Counter(), 0
        name = self.database_url.rsplit("/", 1)[1]
        query = (
            "select coalesce(sum(xact_commit), 0) from pg_stat_database "
            f"where datname = '{name}';"
            "select calls, regexp_replace(query, '\\s+', ' ', 'g') from pg_stat_statements "
            f"where dbid = (select oid from pg_database where datname = '{name}')"
        )
        out = _psql(self.database_url.rsplit("/", 1)[0] + "/postgres", query)
        lines = out.splitlines()
        commits = int(lines[0]) if lines and lines[0].isdigit() else 0
        calls: Counter[str] = Counter()
        for line in lines[1:]:
            count, _, text = line.partition("|")
            if count.isdigit():
                calls[text[:90]] += int(count)
        return calls, commits


def _psql(url: str, query: str) -> str:
    done = subprocess.run(
        ["psql", url, "-At", "-c", query], capture_output=True, text=True, check=False
    )
    return done.stdout if done.returncode == 0 else ""


async def _drive(urls: list[str], requests: int, make: Request) -> Counter[int]:
    statuses: Counter[int] = Counter()
    numbers = iter(range(requests))

    async def loop(conn: LeanConnection) -> None:
        try:
            for n in numbers:
                statuses[await make(n, conn)] += 1
        finally:
            conn.close()

    # LOOPS connections to each node, each used by one loop at a time.
    await asyncio.gather(*(loop(LeanConnection(url)) for url in urls for _ in range(LOOPS)))
    return statuses


def _profilers(probe: Probe, what: str) -> list[subprocess.Popen[bytes]]:
    """py-spy sampling each node while a case runs (`--profile DIR`): raw stacks per node."""
    if probe.profile is None:
        return []
    spy = str(Path(sys.executable).with_name("py-spy"))
    name = re.sub(r"\W+", "-", what)
    return [
        subprocess.Popen(
            [
                spy,
                "record",
                "-p",
                str(pid),
                "-r",
                "250",
                "-f",
                "raw",
                "--nonblocking",
                "-o",
                str(probe.profile / f"{name}-{n}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n, pid in enumerate(probe.pids)
    ]


def _settle(probe: Probe) -> None:
    """Until the nodes are back at rest: the work a case left behind (the notification jobs of
    the conversations it started, run by the nodes afterwards) is not the next case's."""
    deadline = time.monotonic() + SETTLE_MAX
    while time.monotonic() < deadline:
        before = _cpu_seconds(probe.pids)
        time.sleep(1)
        if _cpu_seconds(probe.pids) - before <= max(2 * probe.idle, 0.02):
            return


def _measure(probe: Probe, what: str, requests: int, run: Callable[[], Counter[int]]) -> None:
    _settle(probe)
    spies = _profilers(probe, what)
    if spies:
        time.sleep(1)  # py-spy attached
    redis_before = probe.redis_calls()
    sql_before, commits_before = probe.statements()
    cpu_before, started = _cpu_seconds(probe.pids), time.monotonic()
    statuses = run()
    cpu, took = _cpu_seconds(probe.pids) - cpu_before, time.monotonic() - started
    for spy in spies:
        spy.send_signal(signal.SIGINT)
        spy.wait(30)
    sql_after, commits_after = probe.statements()
    redis_delta = probe.redis_calls() - redis_before
    redis_delta.pop("pg_stat_statements", None)
    sql_delta = sql_after - sql_before
    busy = max(0.0, cpu - probe.idle * took)
    print(
        f"{what}: {requests} requests {dict(statuses)} in {took:.1f} s; nodes' CPU "
        f"{cpu / requests * 1000:.2f} ms per request ({busy / requests * 1000:.2f} ms above rest)"
    )
    if probe.redis is not None:
        print(
            f"  Redis: {redis_delta.total() / requests:.2f} commands per request: "
            + ", ".join(f"{k} {v / requests:.2f}" for k, v in redis_delta.most_common())
        )
    if probe.database_url is not None:
        ours = {k: v for k, v in sql_delta.items() if "pg_stat" not in k and "xact_commit" not in k}
        total = sum(ours.values())
        print(
            f"  SQL: {total / requests:.2f} statements and "
            f"{(commits_after - commits_before) / requests:.2f} transactions per request"
        )
        for text, calls in sorted(ours.items(), key=lambda kv: -kv[1])[:12]:
            print(f"    {calls / requests:6.2f}  {text}")


def _headers(ip: str, token: str | None = None) -> dict[str, str]:
    headers = {"Origin": ORIGIN, "X-Forwarded-For": ip, "User-Agent": BROWSER}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _address(n: int) -> str:
    return f"100.{64 + n // 250}.{n % 250}.10"  # a network of its own


def run_cases(probe: Probe, urls: list[str], website_id: str, requests: int) -> None:
    load = f"/api/widget/v1/websites/{website_id}/session"
    page = {"page": {"url": f"{ORIGIN}/"}}
    tokens: dict[int, str] = {}

    async def new_session(n: int, conn: LeanConnection) -> int:
        status, answer = await conn.post(load, page, _headers(_address(n)))
        if status == 201:
            tokens[n] = str(answer["token"])
        return status

    async def renewal(n: int, conn: LeanConnection) -> int:
        body = {**page, "token": tokens.get(n, "")}
        return (await conn.post(load, body, _headers(_address(n))))[0]

    async def message(n: int, conn: LeanConnection) -> int:
        body = {"client_id": f"m{n}-{time.monotonic_ns()}", "body": "a question"}
        path = "/api/widget/v1/session/messages"
        return (await conn.post(path, body, _headers(_address(n), tokens.get(n))))[0]

    def case(what: str, make: Request) -> None:
        _measure(probe, what, requests, lambda: asyncio.run(_drive(urls, requests, make)))

    case("new session", new_session)
    case("renewal", renewal)
    case("message starting a conversation", message)
    case("message in a conversation", message)

    # One network over the session's burst until the defence blocks it, then its loads.
    flood_ip = "198.18.7.1"
    flood: dict[str, str] = {}

    async def flood_session(conn: LeanConnection) -> None:
        status, answer = await conn.post(load, page, _headers(flood_ip))
        if status == 201:
            flood["token"] = str(answer["token"])

    async def over_burst(n: int, conn: LeanConnection) -> int:
        if n % 12 == 0 or "token" not in flood:
            await flood_session(conn)
        body = {"client_id": f"f{n}", "body": "buy cheap watches"}
        path = "/api/widget/v1/session/messages"
        return (await conn.post(path, body, _headers(flood_ip, flood.get("token"))))[0]

    # Not measured: the network goes over its sessions' bursts until the defence blocks it.
    print("flooding from one network:", dict(asyncio.run(_drive(urls[:1], 120, over_burst))))

    async def blocked(n: int, conn: LeanConnection) -> int:
        return (await conn.post(load, page, _headers(flood_ip)))[0]

    case("load from a blocked network", blocked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (default SQLite)")
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--nodes", type=int, default=1)
    parser.add_argument("--requests", type=int, default=400, help="per case")
    parser.add_argument("--profile", type=Path, default=None, help="py-spy stacks into DIR")
    args = parser.parse_args()
    if can_pin():
        os.sched_setaffinity(0, {1})
    databases = Databases(args.database_url)
    try:
        with tempfile.TemporaryDirectory(prefix="causerie-shield-cost-") as folder:
            workdir = Path(folder)
            database_url = databases.new(workdir)
            servers, website_id = start_nodes(workdir, database_url, args.redis_url, args.nodes)
            try:
                pids = [s.pid for s in servers]
                probe = Probe(pids, args.redis_url, database_url)
                probe.profile = args.profile
                time.sleep(SETTLE)  # past the start's own work
                before = _cpu_seconds(pids)
                time.sleep(REST)
                probe.idle = (_cpu_seconds(pids) - before) / REST
                print(
                    f"nodes: {args.nodes}, database: {databases.kind}, redis: "
                    f"{bool(args.redis_url)}; at rest the nodes use {probe.idle * 1000:.1f} ms "
                    "of CPU a second"
                )
                run_cases(
                    probe,
                    [f"http://127.0.0.1:{s.port}" for s in servers],
                    website_id,
                    args.requests,
                )
            finally:
                for server in servers:
                    server.stop()
    finally:
        databases.drop_all()


if __name__ == "__main__":
    main()
