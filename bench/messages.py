"""CPU per stored message in process: `python -m bench.messages [--database URL]`.

The server's own path without sockets: `senders` tasks on one website, each sending its next
message through `do_send_session_message` (its website's batch, `actions/batches.py`) once the
last one is stored, as a socket that waits for its ack; a follower of the website's stream on
the hub hears every event. Each round is timed with `time.process_time` (this process's CPU, so
a shared machine disturbs it far less than a rate) and the wall clock, after a warm-up round.
Run it pinned (`taskset -c 0`) and on an export of another commit (`PYTHONPATH=/tmp/x/src`) to
compare trees; `python -m bench --only relay` measures the same over real sockets.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.databases import Databases
from bench.servers import ORIGIN, install_causerie

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class _Backends:
    """The CPU of the PostgreSQL backends serving this process (`/proc`, so only when the
    server runs on this machine): read around each round, as PostgreSQL's share of a message
    (docs/performance.md, `pg3`). None on SQLite, or where `/proc` does not show them."""

    def __init__(self, url: str | None) -> None:
        self._url = url

    async def seconds(self) -> float | None:
        if self._url is None:
            return None
        import asyncpg  # type: ignore[import-untyped]
        from sqlalchemy import make_url

        url = make_url(self._url).set(drivername="postgresql")
        raw = await asyncpg.connect(url.render_as_string(hide_password=False))
        try:
            pids = await raw.fetch(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await raw.close()
        total = 0
        for (pid,) in pids:
            try:
                with open(f"/proc/{pid}/stat") as stat:  # noqa: ASYNC230 (a pseudo-file)
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                return None
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / _TICK


class _Heard:
    """A follower of the website's stream: counts what the hub hands it."""

    def __init__(self) -> None:
        self.count = 0

    def offer(self, envelope: Any) -> None:
        self.count += 1

    def resync(self) -> None:
        pass


async def measure(
    website_id: str, senders: int, rounds: int, count: int, database: str | None = None
) -> tuple[list[float], list[float], float, float, list[float]]:
    """(µs of CPU per message, messages/s of wall time) per round, parts per batch, the share
    of parts run in a bulk form (actions/message_batch.py), and on a PostgreSQL of this
    machine µs of its backends' CPU per message per round."""
    from bench.inprocess import _lifespan
    from causerie.actions.messages import do_send_session_message
    from causerie.actions.sessions import do_open_session
    from causerie.app import create_app
    from causerie.domain.events import Stream
    from causerie.domain.models import PageView
    from causerie.settings import load_settings
    from causerie.web import encoded

    app = create_app(load_settings())
    stop = await _lifespan(app)
    try:
        # The static files compressed now, not in the app's worker thread 5 s after its start:
        # Brotli at quality 11 is about a second of CPU, which `process_time` counted in
        # whichever round it fell (docs/performance.md, `pgcpu`).
        encoded.warm()
        rt = app.state.rt
        heard = _Heard()
        await rt.hub.follow(Stream.of_website(website_id).key, heard)
        sessions = []
        for n in range(senders):
            opened = await do_open_session(
                rt,
                website_id=website_id,
                token=None,
                page=PageView(url="https://shop.example/", title="Shop"),
                ip=f"198.51.100.{n + 1}",
                origin=ORIGIN,
            )
            sessions.append(opened.session.id)
        each = max(1, count // senders)

        async def sender(session_id: str, tag: str) -> None:
            for k in range(each):
                await do_send_session_message(
                    rt, session_id, client_id=f"{tag}-{k}", body="hello", website_id=website_id
                )

        backends = _Backends(database)
        postgres_each: list[float] = []

        async def one_round(tag: str) -> tuple[float, float]:
            before = await backends.seconds()
            cpu, wall = time.process_time(), time.perf_counter()
            await asyncio.gather(*(sender(s, f"{tag}{i}") for i, s in enumerate(sessions)))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            after = await backends.seconds()
            if before is not None and after is not None:
                postgres_each.append((after - before) / (each * senders) * 1e6)
            return cpu / (each * senders) * 1e6, each * senders / wall

        await one_round("w")
        postgres_each.clear()
        batches, parts = rt.batches.batches, rt.batches.parts
        bulk_parts = getattr(rt.batches, "bulk_parts", 0)
        cpu_each, rates = [], []
        for r in range(rounds):
            cpu, rate = await one_round(f"r{r}-")
            cpu_each.append(cpu)
            rates.append(rate)
        per_batch = (rt.batches.parts - parts) / max(1, rt.batches.batches - batches)
        in_bulk = (getattr(rt.batches, "bulk_parts", 0) - bulk_parts) / max(
            1, rt.batches.parts - parts
        )
        return cpu_each, rates, per_batch, in_bulk, postgres_each
    finally:
        await stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.messages")
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--count", type=int, default=1000, help="messages per round")
    parser.add_argument("--database", default=None, help="a PostgreSQL URL (default SQLite)")
    args = parser.parse_args()
    import uvloop

    with tempfile.TemporaryDirectory(prefix="causerie-messages-") as work:
        databases = Databases(args.database)
        try:
            site = install_causerie(Path(work), "causerie", databases)
            os.environ.update(
                site.env(
                    CAUSERIE_MESSAGE_RATE="1000000/s",
                    CAUSERIE_NETWORK_MESSAGE_RATE="1000000/s",
                    # The senders' first messages come at once after their sessions opened: not
                    # a bot's pace to hold here (docs/security.md).
                    CAUSERIE_SHIELD_HASTY_DELAY="0",
                )
            )
            cpu, rates, per_batch, in_bulk, postgres = uvloop.run(
                measure(
                    site.website_id,
                    args.senders,
                    args.rounds,
                    args.count,
                    args.database and site.database_url,
                )
            )
        finally:
            databases.drop_all()
    print(f"causerie measured: {Path(sys.modules['causerie'].__file__ or '').parent}")
    print(f"database: {'postgresql' if args.database else 'sqlite'}, {args.senders} senders")
    print(
        f"CPU per message: median {statistics.median(cpu):,.0f} µs, best {min(cpu):,.0f} µs "
        f"[{', '.join(f'{v:,.0f}' for v in cpu)}]"
    )
    print(
        f"messages/s (wall): median {statistics.median(rates):,.0f}, best {max(rates):,.0f} "
        f"[{', '.join(f'{v:,.0f}' for v in rates)}]; {per_batch:.1f} messages per batch, "
        f"{in_bulk:.0%} of them stored in bulk"
    )
    if postgres:
        print(
            f"PostgreSQL backends' CPU per message: median {statistics.median(postgres):,.0f} µs "
            f"[{', '.join(f'{v:,.0f}' for v in postgres)}]"
        )


if __name__ == "__main__":
    main()
