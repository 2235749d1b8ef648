"""`python -m bench.seed_inbox`: a fresh Causerie installation filled with a large, realistic inbox.

    python -m bench.seed_inbox --data-dir /tmp/inbox --conversations 100000 --messages 1000000
    python -m bench.seed_inbox --data-dir /tmp/inbox-pg \
        --database postgresql://postgres@127.0.0.1:5432/postgres

The schema is made by `causerie.store.migrate.upgrade`, as `causerie serve` does; the websites,
operators and the API token go through Causerie's own actions. Sessions, conversations and
messages are then written in bulk, bypassing the store (through it, a message costs about 1 ms):
raw `executemany` in transactions of 100,000 rows on SQLite, `COPY` on PostgreSQL (followed by
`VACUUM ANALYZE`, as autovacuum would have done on a live database). SQLite gets no `ANALYZE`:
Causerie never runs one, so the planner works without statistics, as on a real installation.

What is made (deterministic for a given --seed):

- two websites: "Bench shop" with 90% of the conversations and "Other shop" with the rest (so that
  every query has to filter by website); five operators on the first (the token's operator, `me`,
  owner of both, and four agents) and one more agent on the second;
- one permanent session per conversation, 40% with a nickname and an email;
- conversations started over the last two years; messages per conversation log-normally
  distributed (median about 5, mean exactly --messages / --conversations, the largest several
  hundred); within a conversation a reply every minute or so, sometimes days later; authors the
  visitor (50%), operators (47%) and private notes (3%); messages inserted in time order, so that
  `seq` grows with time and a thread's messages are spread over the table, as in real life;
- `last_message_at` (and `updated_at`) = the conversation's last message, notes included, as
  `touch_conversation` does; open when the last message is under 3 days old (70%) or else 8%;
  35% unassigned, the rest spread over the website's operators; read marks and unread counts
  consistent with the messages.

It writes `inbox-seed.json` into the data folder (ids, the API token, the figures the bench
needs) and prints how to serve the installation. On PostgreSQL it creates a database
`causerie_bench_inbox_<random>` on the server the URL names (connecting to the URL's database for
`CREATE DATABASE`); the standalone command keeps it and prints how to drop it.

The rows are planned in `bench/inbox_plan.py` and written by `bench/inbox_writes.py` (which also
creates and drops the PostgreSQL databases); this module makes the installation around them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

from bench.inbox_plan import COMMON_WORD, RARE_WORD, make_plan
from bench.inbox_writes import (
    PG_PREFIX,
    admin_dsn,
    create_pg_database,
    write_postgres,
    write_sqlite,
)
from causerie.actions.operators import do_add_operator, do_create_api_token
from causerie.actions.websites import do_create_website
from causerie.clock import SystemClock
from causerie.domain.models import Actor, Role, Scope
from causerie.runtime import Runtime
from causerie.settings import load_settings
from causerie.wiring import running

SEED_FILE = "inbox-seed.json"
DEFAULT_CONVERSATIONS = 100_000
DEFAULT_MESSAGES = 1_000_000
ME = "me@bench.example"
AGENTS = ("ana", "bruno", "chloe", "dev")
OTHER_AGENT = "eve"
ORIGINS = {"Bench shop": "https://shop.example", "Other shop": "https://other.example"}


@dataclass
class InboxSeed:
    """What was seeded, saved as `inbox-seed.json` in the data folder."""

    data_dir: str
    database_url: str
    website_id: str
    other_website_id: str
    operator_id: str  # `me`: the token's operator
    token: str
    conversations: int
    messages: int
    on_website: dict[str, int] = field(default_factory=dict)  # the first website's counts
    big_conversation_id: str = ""
    big_messages: int = 0
    typical_conversation_id: str = ""
    typical_messages: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # step -> seconds
    common_word: str = COMMON_WORD
    rare_word: str = RARE_WORD
    created_database: str | None = None  # on PostgreSQL: the database this seeding created

    def save(self) -> Path:
        path = Path(self.data_dir) / SEED_FILE
        path.write_text(json.dumps(asdict(self), indent=2))
        return path

    @classmethod
    def load(cls, data_dir: Path) -> InboxSeed:
        return cls(**json.loads((data_dir / SEED_FILE).read_text()))

    def env(self) -> dict[str, str]:
        return {"CAUSERIE_DATA_DIR": self.data_dir, "CAUSERIE_DATABASE_URL": self.database_url}


# the installation


async def _accounts(rt: Runtime) -> tuple[tuple[str, str], dict[str, list[str]], str, str]:
    """Websites, operators and a read token, through Causerie's actions."""
    cli = Actor.cli()
    site = await do_create_website(rt, cli, "Bench shop", [ORIGINS["Bench shop"]])
    other = await do_create_website(rt, cli, "Other shop", [ORIGINS["Other shop"]])
    me = await do_add_operator(rt, cli, ME, website_id=site.id, role=Role.OWNER, name="Me")
    await do_add_operator(rt, cli, ME, website_id=other.id, role=Role.OWNER)
    operators = {site.id: [me.operator.id], other.id: [me.operator.id]}
    for name in AGENTS:
        added = await do_add_operator(
            rt, cli, f"{name}@bench.example", website_id=site.id, role=Role.AGENT
        )
        operators[site.id].append(added.operator.id)
    added = await do_add_operator(
        rt, cli, f"{OTHER_AGENT}@bench.example", website_id=other.id, role=Role.AGENT
    )
    operators[other.id].append(added.operator.id)
    _, token = await do_create_api_token(rt, cli, ME, name="bench", scopes=frozenset({Scope.READ}))
    return (site.id, other.id), operators, me.operator.id, token


def seed_inbox(
    data_dir: Path,
    database_url: str,
    conversations: int = DEFAULT_CONVERSATIONS,
    messages: int = DEFAULT_MESSAGES,
    seed: int = 1,
    log: Any = print,
) -> InboxSeed:
    """Migrate a fresh database, create the accounts, and bulk-load the inbox."""
    if messages < conversations:
        raise ValueError("at least one message per conversation")
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = load_settings(
        environ={"CAUSERIE_DATA_DIR": str(data_dir), "CAUSERIE_DATABASE_URL": database_url}
    )
    seconds: dict[str, float] = {}
    started = time.perf_counter()

    async def setup() -> tuple[tuple[str, str], dict[str, list[str]], str, str]:
        async with running(settings, SystemClock()) as rt:
            return await _accounts(rt)

    websites, operators, me, token = asyncio.run(setup())
    seconds["migrate and accounts"] = time.perf_counter() - started
    log(f"seed: generating {conversations:,} conversations and {messages:,} messages")
    step = time.perf_counter()
    now = datetime.now(UTC)
    plan = make_plan(random.Random(seed), conversations, messages, websites, operators, now)
    seconds["generate"] = time.perf_counter() - step
    log(f"seed: generated in {seconds['generate']:.1f}s; writing")
    step = time.perf_counter()
    if make_url(database_url).get_backend_name() == "sqlite":
        database = make_url(database_url).database
        assert database is not None
        write_sqlite(Path(database), plan)
    else:
        asyncio.run(write_postgres(database_url, plan))
    seconds["write"] = time.perf_counter() - step
    seconds["total"] = time.perf_counter() - started
    log(f"seed: written in {seconds['write']:.1f}s (total {seconds['total']:.1f}s)")
    result = InboxSeed(
        data_dir=str(data_dir),
        database_url=database_url,
        website_id=websites[0],
        other_website_id=websites[1],
        operator_id=me,
        token=token,
        conversations=conversations,
        messages=messages,
        on_website=plan.on_website,
        big_conversation_id=plan.big[0],
        big_messages=plan.big[1],
        typical_conversation_id=plan.typical[0],
        typical_messages=plan.typical[1],
        seconds=seconds,
    )
    result.save()
    return result


def database_size(seed: InboxSeed) -> int:
    """Bytes on disk: the SQLite file and its WAL, or `pg_database_size`."""
    url = make_url(seed.database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        return sum(
            os.path.getsize(p) for p in (url.database, url.database + "-wal") if os.path.exists(p)
        )

    async def size() -> int:
        import asyncpg

        conn = await asyncpg.connect(admin_dsn(seed.database_url))
        try:
            return int(await conn.fetchval("SELECT pg_database_size(current_database())"))
        finally:
            await conn.close()

    return asyncio.run(size())


def _check_sizes(conversations: int, messages: int) -> None:
    if conversations < 100 or messages < conversations:
        raise SystemExit("seed_inbox: at least 100 conversations, and a message for each")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.seed_inbox",
        description="A fresh Causerie installation with a large inbox, for `python -m bench "
        "--only inbox --inbox-data DIR` or for trying the inbox by hand.",
    )
    parser.add_argument("--data-dir", type=Path, required=True, help="a new (or empty) folder")
    parser.add_argument("--conversations", type=int, default=DEFAULT_CONVERSATIONS)
    parser.add_argument("--messages", type=int, default=DEFAULT_MESSAGES)
    parser.add_argument(
        "--database",
        metavar="postgresql://USER@127.0.0.1:5432/DB",
        help=f"PostgreSQL server: a new database {PG_PREFIX}<random> is created there "
        "(connecting to DB) and kept; default SQLite in the data folder",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = parser.parse_args(argv)
    _check_sizes(args.conversations, args.messages)
    if args.data_dir.exists() and any(args.data_dir.iterdir()):
        raise SystemExit(f"seed_inbox: {args.data_dir} is not empty")
    args.data_dir.mkdir(parents=True, exist_ok=True)
    data_dir = args.data_dir.resolve()
    created = None
    if args.database:
        created, url = create_pg_database(args.database)
    else:
        url = f"sqlite:///{data_dir / 'causerie.db'}"
    seed = seed_inbox(data_dir, url, args.conversations, args.messages, args.seed)
    if created:
        seed.created_database = created
        seed.save()
    site = seed.on_website
    print(
        f"website {seed.website_id}: {site['conversations']:,} conversations "
        f"({site['open']:,} open), {site['messages']:,} messages; the largest thread "
        f"{seed.big_conversation_id} ({seed.big_messages} messages)\n"
        f"database: {make_url(url).render_as_string(hide_password=True)} "
        f"({database_size(seed) / 2**20:,.0f} MiB)\n"
        f"API token (read) of {ME}: {seed.token}\n"
        f"serve it: CAUSERIE_DATA_DIR={data_dir} CAUSERIE_DATABASE_URL={url} causerie serve\n"
        f"bench it: python -m bench --only inbox --inbox-data {data_dir}"
    )
    if created:
        print(f"drop it:  psql -c 'DROP DATABASE \"{created}\" WITH (FORCE)'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
