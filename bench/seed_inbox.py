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
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import secrets
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import make_url
from sqlalchemy.dialects import sqlite as sqlite_dialect

from causerie.actions.operators import do_add_operator, do_create_api_token
from causerie.actions.websites import do_create_website
from causerie.clock import SystemClock
from causerie.domain.models import Actor, Role, Scope
from causerie.files import open_file_store
from causerie.runtime import Runtime
from causerie.settings import load_settings
from causerie.store.database import open_store
from causerie.store.migrate import upgrade

SEED_FILE = "inbox-seed.json"
DEFAULT_CONVERSATIONS = 100_000
DEFAULT_MESSAGES = 1_000_000
OTHER_SHARE = 0.10  # of the conversations, on the second website
SPAN = timedelta(days=730)
BATCH = 100_000  # rows per transaction (SQLite) or per COPY (PostgreSQL)
SIGMA = 1.1  # of the log-normal number of messages per conversation
ME = "me@bench.example"
AGENTS = ("ana", "bruno", "chloe", "dev")
OTHER_AGENT = "eve"
ORIGINS = {"Bench shop": "https://shop.example", "Other shop": "https://other.example"}
PG_PREFIX = "causerie_bench_inbox_"
US = 1_000_000  # microseconds per second
EPOCH = datetime(1970, 1, 1)

# Words the bench searches for (`q=`): one in about 1 message in 60, one in about 1 in 100,000.
COMMON_WORD = "refund"
RARE_WORD = "chargeback"

VISITOR_LINES = (
    "Hello, is anyone there?",
    "Hi! I have a question about my order #{n}.",
    "When will my parcel arrive? It has been a week.",
    "Can I change the delivery address of order #{n}?",
    "I would like a refund for the blue sweater, it is too small.",
    "Do you ship to Belgium and Switzerland?",
    "The promo code SPRING{n} does not work at checkout.",
    "Thanks a lot, that was quick!",
    "Is the {item} available in size M? The page says out of stock.",
    "My payment was taken twice, can you check please? Order #{n}.",
    "ok",
    "Perfect, thank you.",
    "I can't log in to my account, the reset email never arrives.",
    "What is the difference between the classic and the premium {item}?",
    "Hello, I ordered on Monday and still have no tracking number. The confirmation email "
    "says it should ship within 48 hours, and I need it before the weekend. Could you tell me "
    "where it is, or cancel it if it has not left yet? Order #{n}, thanks.",
    "Can I pick it up in store instead?",
    "Yes",
    "No, that's all. Have a nice day!",
)
OPERATOR_LINES = (
    "Hello! Let me check that for you.",
    "Your order #{n} left our warehouse yesterday; the tracking link is in your email.",
    "I have refunded the difference, you will see it in 3 to 5 days.",
    "Yes, we ship to all EU countries; delivery takes 3 to 6 working days.",
    "The code has expired, but I applied the same discount to your order.",
    "Could you send me the email address used for the order?",
    "Done! Anything else I can help with?",
    "The {item} is back in stock on Friday. Shall I reserve one?",
    "I am sorry for the trouble. I have forwarded this to our logistics team, who will contact "
    "the carrier today and get back to you by email within 24 hours with news of your parcel.",
    "You're welcome, have a great day!",
)
NOTE_LINES = (
    "Customer since 2021, VIP: be generous.",
    "Asked logistics about this one, waiting for their answer.",
    "Second complaint this month about the same carrier.",
    "Refund approved by Marie.",
)
ITEMS = ("sweater", "raincoat", "backpack", "kettle", "lamp", "sneakers", "scarf", "mug")
NAMES = (
    "Alice",
    "Bob",
    "Camille",
    "Dmitri",
    "Elena",
    "Farid",
    "Gina",
    "Hugo",
    "Ines",
    "Jonas",
    "Kenji",
    "Lea",
    "Marta",
    "Noah",
    "Olga",
    "Pablo",
    "Quentin",
    "Rosa",
    "Sami",
    "Zoe",
)
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0",
)
LOCALES = (
    ("en", "Europe/London"),
    ("fr", "Europe/Paris"),
    ("de", "Europe/Berlin"),
    ("en", "America/New_York"),
    (None, None),
)

SESSION_COLUMNS = (
    "id", "website_id", "token_hash", "state", "created_at", "last_access_at", "permanent_since",
    "ip", "ip_seen_at", "user_agent", "locale", "timezone", "page_url", "page_title",
    "page_referrer", "nickname", "email", "phone", "data",
)  # fmt: skip
CONVERSATION_COLUMNS = (
    "id", "website_id", "session_id", "state", "assignee_id", "created_at", "updated_at",
    "last_message_at", "unread_by_visitor", "unread_by_operator", "visitor_read_up_to",
    "operator_read_up_to",
)  # fmt: skip
MESSAGE_COLUMNS = (
    "id", "conversation_id", "author", "operator_id", "type", "body", "client_id", "created_at",
)  # fmt: skip
DATETIME_COLUMNS = {
    "created_at", "last_access_at", "permanent_since", "ip_seen_at", "updated_at",
    "last_message_at",
}  # fmt: skip


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


# PostgreSQL databases of their own


def admin_dsn(server_url: str, database: str | None = None) -> str:
    url = make_url(server_url).set(drivername="postgresql")
    if database is not None:
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


async def _admin(server_url: str, sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(admin_dsn(server_url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_pg_database(server_url: str) -> tuple[str, str]:
    """A new database `causerie_bench_inbox_<hex>` on that server: (its name, its URL)."""
    url = make_url(server_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError("--database takes a postgresql:// URL")
    if url.host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("--database must point at a loopback address")
    name = PG_PREFIX + secrets.token_hex(3)
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    return name, url.set(database=name).render_as_string(hide_password=False)


def drop_pg_database(server_url: str, name: str) -> None:
    assert name.startswith(PG_PREFIX)
    asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# the plan: every row, generated in memory


@dataclass
class _Plan:
    sessions: list[tuple[Any, ...]]
    conversations: list[tuple[Any, ...]]
    messages: list[tuple[Any, ...]]  # in time order; created_at (microseconds) last
    on_website: dict[str, int]
    big: tuple[str, int]
    typical: tuple[str, int]


def _counts(rng: random.Random, conversations: int, messages: int) -> list[int]:
    """Messages per conversation: log-normal, at least 1 each, summing to exactly `messages`."""
    weights = [rng.lognormvariate(0.0, SIGMA) for _ in range(conversations)]
    scale = messages / sum(weights)
    counts = [max(1, round(w * scale)) for w in weights]
    diff = messages - sum(counts)
    while diff:
        i = rng.randrange(conversations)
        if diff > 0:
            counts[i] += 1
            diff -= 1
        elif counts[i] > 1:
            counts[i] -= 1
            diff += 1
    return counts


def _line(rng: random.Random, lines: Sequence[str]) -> str:
    line = rng.choice(lines)
    if "{" in line:
        line = line.format(n=rng.randrange(10_000, 99_999), item=rng.choice(ITEMS))
    return line


def _id(rng: random.Random) -> str:
    # Like causerie.tokens.new_id (24 characters of [a-z2-7]), from the seeded generator.
    return base64.b32encode(rng.randbytes(15)).decode("ascii").lower()


def _times(rng: random.Random, start: int, count: int, now: int) -> list[int]:
    """`count` message times (microseconds) from `start`: a reply every minute or so, sometimes
    days later; squeezed to end before `now`."""
    times = [start]
    t = start
    for _ in range(count - 1):
        mean = 2 * 86_400 if rng.random() < 0.04 else 75
        t += int(rng.expovariate(1 / mean) * US) + US
        times.append(t)
    latest = now - 60 * US
    if t > latest:
        factor = (latest - start) / (t - start)
        times = [start + int((x - start) * factor) for x in times]
    return times


def make_plan(
    rng: random.Random,
    conversations: int,
    messages: int,
    websites: tuple[str, str],
    operators: dict[str, list[str]],  # website id -> operator ids
    now: datetime,
) -> _Plan:
    now_us = (now.replace(tzinfo=None) - EPOCH) // timedelta(microseconds=1)
    span_us = SPAN // timedelta(microseconds=1)
    counts = _counts(rng, conversations, messages)
    on_other = int(conversations * OTHER_SHARE)
    sessions: list[tuple[Any, ...]] = []
    convs: list[tuple[Any, ...]] = []
    msgs: list[tuple[Any, ...]] = []
    on_website = {"conversations": 0, "open": 0, "unassigned_open": 0, "mine": 0, "messages": 0}
    big = ("", 0)
    typical: tuple[str, int, int] = ("", 0, 0)  # id, messages, last message time
    for i, count in enumerate(counts):
        website = websites[1] if i < on_other else websites[0]
        ops = operators[website]
        conv_id, session_id = _id(rng), _id(rng)
        start = now_us - int(rng.random() * span_us)
        times = _times(rng, start, count, now_us)
        last = times[-1]
        recent = now_us - last < 3 * 86_400 * US
        is_open = rng.random() < (0.7 if recent else 0.08)
        assignee = None if rng.random() < 0.35 else rng.choice(ops)
        # (author, type, operator) of each message, then the read marks.
        kinds: list[tuple[str, str, str | None]] = [("visitor", "text", None)]
        for _ in range(count - 1):
            r = rng.random()
            who = assignee or rng.choice(ops)
            if r < 0.50:
                kinds.append(("visitor", "text", None))
            elif r < 0.97:
                kinds.append(("operator", "text", who))
            else:
                kinds.append(("operator", "note", who))
        ids = [_id(rng) for _ in range(count)]
        for k in range(count):
            author, type_, op = kinds[k]
            lines = (
                NOTE_LINES
                if type_ == "note"
                else VISITOR_LINES
                if author == "visitor"
                else OPERATOR_LINES
            )
            body = _line(rng, lines)
            if author == "visitor" and rng.random() < 2e-5:
                body += f" Otherwise I will file a {RARE_WORD} with my bank."
            client_id = f"{rng.getrandbits(128):032x}"
            msgs.append((ids[k], conv_id, author, op, type_, body, client_id, times[k]))
        visible = [k for k in range(count) if kinds[k][1] != "note"]
        trailing_visitor = 0
        for k in reversed(visible):
            if kinds[k][0] != "visitor":
                break
            trailing_visitor += 1
        seen_by_operator = [k for k in visible if kinds[k][0] == "operator"]
        if is_open:
            unread_by_operator = trailing_visitor
            op_mark = (
                visible[len(visible) - trailing_visitor - 1]
                if trailing_visitor < len(visible)
                else None
            )
            vis_mark = max((k for k in visible if kinds[k][0] == "visitor"), default=None)
            unread_by_visitor = sum(1 for k in seen_by_operator if vis_mark is None or k > vis_mark)
        else:
            unread_by_operator = unread_by_visitor = 0
            op_mark = vis_mark = visible[-1]
        state = "open" if is_open else "resolved"
        updated = last + (rng.randrange(60, 3_600) * US if not is_open else 0)
        updated = min(updated, now_us)
        convs.append(
            (
                conv_id,
                website,
                session_id,
                state,
                assignee,
                start - 1_000,
                updated,
                last,
                unread_by_visitor,
                unread_by_operator,
                None if vis_mark is None else ids[vis_mark],
                None if op_mark is None else ids[op_mark],
            )
        )
        sessions.append(_session(rng, session_id, website, start, last, now_us))
        if website == websites[0]:
            on_website["conversations"] += 1
            on_website["messages"] += count
            on_website["open"] += is_open
            on_website["unassigned_open"] += is_open and assignee is None
            on_website["mine"] += assignee == ops[0]
            if count > big[1]:
                big = (conv_id, count)
            # typical: the median-ish thread, as recent as can be
            if count == 10 and last > typical[2]:
                typical = (conv_id, count, last)
    msgs.sort(key=lambda m: m[-1])
    return _Plan(sessions, convs, msgs, on_website, big, typical[:2])


def _session(
    rng: random.Random, session_id: str, website: str, start: int, last: int, now: int
) -> tuple[Any, ...]:
    created = start - rng.randrange(5, 600) * US
    access = min(last + rng.randrange(0, 600) * US, now)
    named = rng.random() < 0.4
    name = rng.choice(NAMES)
    locale, timezone = rng.choice(LOCALES)
    data = {"plan": rng.choice(("free", "pro")), "customer": rng.randrange(1, 99_999)}
    return (
        session_id,
        website,
        f"{rng.getrandbits(256):064x}",
        "permanent",
        created,
        access,
        start,
        f"203.0.113.{rng.randrange(1, 255)}",
        access,
        rng.choice(USER_AGENTS),
        locale,
        timezone,
        f"https://shop.example/products/{rng.randrange(1, 500)}",
        f"{rng.choice(ITEMS).capitalize()} | Shop",
        rng.choice(("", "", "https://www.google.com/")),
        name if named else None,
        f"{name.lower()}.{rng.randrange(1, 9_999)}@mail.example" if named else None,
        None,
        json.dumps(data if rng.random() < 0.1 else {}),
    )


def _batches(rows: list[tuple[Any, ...]], size: int = BATCH) -> Iterator[list[tuple[Any, ...]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


# writers


def _converter(columns: Sequence[str], to_value: Any) -> Any:
    where = [i for i, c in enumerate(columns) if c in DATETIME_COLUMNS]

    def convert(row: tuple[Any, ...]) -> tuple[Any, ...]:
        out = list(row)
        for i in where:
            if out[i] is not None:
                out[i] = to_value(out[i])
        return tuple(out)

    return convert


def _message_converter(to_value: Any) -> Any:
    def convert(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return (*row[:-1], to_value(row[-1]))

    return convert


def write_sqlite(path: Path, plan: _Plan) -> None:
    text = sqlite_dialect.DATETIME().bind_processor(sqlite_dialect.dialect())
    assert text is not None

    def as_text(us: int) -> str:
        return str(text(EPOCH + timedelta(microseconds=us)))

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        # Seeding only: fewer fsyncs and a big page cache; the server uses its own pragmas.
        for pragma in ("synchronous=OFF", "cache_size=-400000", "foreign_keys=ON"):
            conn.execute(f"PRAGMA {pragma}")
        for table, columns, rows, convert in (
            ("sessions", SESSION_COLUMNS, plan.sessions, _converter(SESSION_COLUMNS, as_text)),
            (
                "conversations",
                CONVERSATION_COLUMNS,
                plan.conversations,
                _converter(CONVERSATION_COLUMNS, as_text),
            ),
            ("messages", MESSAGE_COLUMNS, plan.messages, _message_converter(as_text)),
        ):
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})"
            )
            for batch in _batches(rows):
                conn.execute("BEGIN")
                conn.executemany(sql, map(convert, batch))
                conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


async def write_postgres(url: str, plan: _Plan) -> None:
    import asyncpg

    def as_datetime(us: int) -> datetime:
        return (EPOCH + timedelta(microseconds=us)).replace(tzinfo=UTC)

    conn = await asyncpg.connect(admin_dsn(url))
    try:
        for table, columns, rows, convert in (
            (
                "sessions",
                SESSION_COLUMNS,
                plan.sessions,
                _converter(SESSION_COLUMNS, as_datetime),
            ),
            (
                "conversations",
                CONVERSATION_COLUMNS,
                plan.conversations,
                _converter(CONVERSATION_COLUMNS, as_datetime),
            ),
            ("messages", MESSAGE_COLUMNS, plan.messages, _message_converter(as_datetime)),
        ):
            for batch in _batches(rows):
                await conn.copy_records_to_table(
                    table, records=[convert(r) for r in batch], columns=list(columns)
                )
        # A live database has been analysed (and vacuumed) by autovacuum long ago.
        for table in ("sessions", "conversations", "messages"):
            await conn.execute(f"VACUUM (ANALYZE) {table}")
    finally:
        await conn.close()


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
        await upgrade(database_url)
        store = open_store(database_url)
        try:
            rt = Runtime(
                settings=settings,
                store=store,
                clock=SystemClock(),
                files=open_file_store(settings),
            )
            return await _accounts(rt)
        finally:
            await store.close()

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
