"""Helpers shared by the tests that drive Causerie from outside: the `causerie` command as a real
subprocess or in this process, empty databases, reading a database without going through
Causerie's own store, and the agents' API as one operator with visitors who chat through the
chatbox's API.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import chdir, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
from sqlalchemy import Connection, make_url, text

from causerie.actions.batches import Batcher
from causerie.domain.events import Envelope
from tests.conftest import ORIGIN, PG_ADMIN_URL, Harness, ServerThread, Site
from tests.live import PATIENCE, STORED, Live, agent, visitor

CLI_TIMEOUT = 60


def free_port() -> int:
    """A TCP port nothing listens on now (nor, most likely, in the next second)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(done: Callable[[], bool], timeout: float, failure: Callable[[], str]) -> None:
    """Wait for `done()` to hold, checked every 10 ms, for something outside the test's clock (a
    process, another thread's loop); past `timeout` seconds, fail with `failure()`."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, failure()
        time.sleep(0.01)


async def until(done: Callable[[], bool], within: float, failure: Callable[[], str]) -> None:
    """`wait_until` on the test's own loop, for work running on that loop (a task, a batch): it
    checks `done()` every 10 ms, the loop free between checks; past `within` seconds it fails
    with `failure()`."""
    deadline = time.monotonic() + within
    while not done():
        assert time.monotonic() < deadline, failure()
        await asyncio.sleep(0.01)


async def until_pg_backend(harness: Harness, where: str, failure: str) -> None:
    """Wait, up to 10 s, until a backend of the test's PostgreSQL database matches `where` (a
    condition on `pg_stat_activity`), read through the store every 10 ms; else fail with
    `failure`."""
    query = text(
        f"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND {where}"
    )
    deadline = time.monotonic() + 10
    while True:
        async with harness.rt.store.read() as tx:
            if (await tx.db.execute(query)).scalar():  # type: ignore[attr-defined]
                return
        assert time.monotonic() < deadline, failure
        await asyncio.sleep(0.01)


def cli_env(data_dir: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a `causerie` subprocess: the runner's, minus any CAUSERIE_* of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAUSERIE_")}
    # Wide enough that rich never wraps a table row or a snippet; UTF-8 whatever the locale.
    env.update(COLUMNS="250", PYTHONIOENCODING="utf-8", CAUSERIE_DATA_DIR=str(data_dir))
    if database_url is not None:
        env["CAUSERIE_DATABASE_URL"] = database_url
    env.update(extra)
    return env


def run_cli(
    *args: str, env: Mapping[str, str], cwd: Path, timeout: float = CLI_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "causerie", *args],
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )


@dataclass(frozen=True)
class Ran:
    """What a command run in this process left, named as `subprocess.CompletedProcess` names it."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def invoke_cli(*args: str, env: Mapping[str, str], cwd: Path) -> Ran:
    """`causerie *args` in this process: click's CliRunner on the real command group, with exactly
    `env` as the environment and `cwd` as the working directory, as `run_cli` would start it, at a
    fraction of the cost (no interpreter to start, nothing to import; tests/test_cli.py keeps real
    processes for what only a process shows).

    Standard input is empty and no stream is a terminal. An exception the command lets through
    is a traceback on standard error and status 1, as Python prints it. The command's cached
    consoles are dropped before and after, so no stream or width carries over to the next run.
    """
    from click.testing import CliRunner

    from causerie import cli
    from causerie.cli import output

    # CliRunner sets these for the run and restores them after; None removes a variable.
    environment: dict[str, str | None] = {name: None for name in os.environ if name not in env}
    environment.update(env)
    output.reset()
    try:
        with chdir(cwd):
            result = CliRunner().invoke(cli.main, list(args), env=environment, prog_name="causerie")
    finally:
        output.reset()
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(*result.exc_info))
    return Ran(tuple(args), result.exit_code, result.stdout, stderr)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    assert database
    return Path(database)


def sqlite_files(url: str) -> dict[str, bytes]:
    """The bytes of the SQLite database and its companions (-wal, -shm); {} on PostgreSQL.

    Read by another process (`cat`): a file opened and closed in this one drops every POSIX
    lock this process holds on it, SQLite's own included, and a `causerie` command closing its
    last connection afterwards would delete the WAL the stores here still use
    (tests/test_private_files.py)."""
    if not is_sqlite(url):
        return {}
    path = sqlite_path(url)
    files = {p.name: _bytes_of(p) for p in path.parent.glob(path.name + "*")}
    assert files
    return files


def _bytes_of(path: Path) -> bytes:
    return subprocess.run(["cat", "--", str(path)], capture_output=True, check=True).stdout


def query(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows of `sql` (positional `?` parameters) read straight from the database."""
    if is_sqlite(url):
        conn = sqlite3.connect(sqlite_path(url))
        try:
            return [tuple(row) for row in conn.execute(sql, params)]
        finally:
            conn.close()

    async def fetch() -> list[tuple[Any, ...]]:
        numbered = sql
        for i in range(len(params)):
            numbered = numbered.replace("?", f"${i + 1}", 1)
        conn = await asyncpg.connect(url, timeout=5)
        try:
            return [tuple(row) for row in await conn.fetch(numbered, *params)]
        finally:
            await conn.close()

    return asyncio.run(fetch())


def execute(url: str, sql: str) -> None:
    """Run one statement outside Causerie, committed."""
    if is_sqlite(url):
        conn = sqlite3.connect(sqlite_path(url))
        try:
            with conn:
                conn.execute(sql)
        finally:
            conn.close()
        return

    async def run() -> None:
        conn = await asyncpg.connect(url, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


def table_names(url: str) -> set[str]:
    if is_sqlite(url):
        sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
    else:
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    return {row[0] for row in query(url, sql)}


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def empty_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all, of the same kind as `database_url`."""
    if is_sqlite(database_url):
        yield f"sqlite:///{tmp_path / 'empty' / 'causerie.db'}"
        return
    name = f"causerie_empty_{os.getpid()}_{secrets.token_hex(4)}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def in_one_transaction(url: str, step: Callable[[Connection], object]) -> None:
    """`step` with a connection of `url` in one transaction, on the store's own engines, as the
    migrations run (a PostgreSQL one through `run_sync`)."""
    from causerie.store.database import sqlite_engine
    from causerie.store.postgres import postgres_engine

    if is_sqlite(url):
        engine = sqlite_engine(url)
        try:
            with engine.begin() as conn:
                step(conn)
        finally:
            engine.dispose()
        return

    async def run() -> None:
        async_engine = postgres_engine(url, pool_size=1)
        try:
            async with async_engine.begin() as conn:
                await conn.run_sync(step)
        finally:
            await async_engine.dispose()

    asyncio.run(run())


def migrate_on(conn: Connection, way: str, revision: str) -> None:
    """Alembic's `upgrade` or `downgrade` (`way`) to `revision` on `conn`, in its transaction."""
    from alembic import command

    from causerie.store.migrate import alembic_config

    config = alembic_config()
    config.attributes["connection"] = conn
    getattr(command, way)(config, revision)


def migrate(url: str, way: str, revision: str) -> None:
    """`migrate_on` in one transaction of `url`."""
    in_one_transaction(url, lambda conn: migrate_on(conn, way, revision))


def open_sessions(harness: Harness, website_id: str, count: int) -> list[str]:
    """The ids of `count` new chatbox sessions of `website_id`, each from an address of its own."""
    from causerie.actions.sessions import do_open_session
    from causerie.domain.models import PageView

    ids = []
    for n in range(count):
        opened = harness.run(
            do_open_session(
                harness.rt,
                website_id=website_id,
                token=None,
                page=PageView(url="https://shop.example/", title="Shop"),
                ip=f"203.0.113.{n + 1}",
                origin=ORIGIN,
            )
        )
        assert opened.session is not None
        ids.append(opened.session.id)
    return ids


# -- the agents' API as one operator, and visitors through the chatbox's API ------------------

PAGE = {"url": "https://shop.example/shoes", "title": "Shoes", "referrer": "https://search.example"}
VISITOR_IP = "203.0.113.77"
_client_ids = itertools.count(1)


class As:
    """Calls to `/api/v1` with one operator's API token."""

    def __init__(self, http: httpx.Client, site: Site, who: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {site.tokens[who]}"}

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get("/api/v1" + path, params=params, headers=self.headers)

    def post(self, path: str, body: Any = None) -> httpx.Response:
        return self.http.post("/api/v1" + path, json=body, headers=self.headers)

    def patch(self, path: str, body: Any) -> httpx.Response:
        return self.http.patch("/api/v1" + path, json=body, headers=self.headers)

    def delete(self, path: str) -> httpx.Response:
        return self.http.delete("/api/v1" + path, headers=self.headers)

    def ok(self, response: httpx.Response, status: int = 200) -> dict[str, Any]:
        assert response.status_code == status, response.text
        body: dict[str, Any] = response.json()
        return body


@dataclass
class Visitor:
    token: str
    session_id: str
    origin: str
    conversation_id: str | None = None

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Origin": self.origin}


def new_visitor(
    http: httpx.Client,
    website_id: str,
    *,
    origin: str = ORIGIN,
    headers: dict[str, str] | None = None,
    **body: Any,
) -> Visitor:
    response = http.post(
        f"/api/widget/v1/websites/{website_id}/session",
        json={"page": PAGE, **body},
        headers={"Origin": origin, **(headers or {})},
    )
    assert response.status_code == 201, response.text
    data = response.json()
    return Visitor(data["token"], data["session"]["id"], origin)


def say(
    http: httpx.Client, who: Visitor, body: str, client_id: str | None = None
) -> dict[str, Any]:
    """The visitor sends a message over the widget API; returns it."""
    response = http.post(
        "/api/widget/v1/session/messages",
        json={"client_id": client_id or f"v{next(_client_ids)}", "type": "text", "body": body},
        headers=who.headers(),
    )
    assert response.status_code == 201, response.text
    message: dict[str, Any] = response.json()["message"]
    who.conversation_id = message["conversation_id"]
    return message


def chat(
    http: httpx.Client,
    website_id: str,
    body: str,
    *,
    origin: str = ORIGIN,
    nickname: str | None = None,
    email: str | None = None,
) -> Visitor:
    """A visitor with a conversation: one message, and the profile they give in the chatbox."""
    who = new_visitor(http, website_id, origin=origin)
    if nickname or email:
        profile = {k: v for k, v in (("nickname", nickname), ("email", email)) if v}
        response = http.patch("/api/widget/v1/session/profile", json=profile, headers=who.headers())
        assert response.status_code == 200, response.text
    say(http, who, body)
    return who


def ids(page: dict[str, Any]) -> list[str]:
    return [c["id"] for c in page["conversations"]]


def stored(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in frames if f.get("type") in STORED]


def stored_until(live: Live, seq: int, timeout: float = PATIENCE) -> list[dict[str, Any]]:
    """The stored events `live` receives up to the one numbered `seq`, then any the server had
    queued for it by the time it answers a ping (a duplicate would show there)."""
    frames = []
    deadline = time.monotonic() + timeout
    while not frames or frames[-1]["seq"] < seq:
        left = deadline - time.monotonic()
        assert left > 0, f"no event {seq}; got {frames}"
        frame = live.recv(left)
        if frame.get("type") in STORED:
            frames.append(frame)
    return frames + stored(live.barrier())


def agent_socket(
    server: ServerThread, sockets: list[Live], site: Site, who: str = "admin", **kw: Any
) -> tuple[Live, dict[str, Any]]:
    live, ready = agent(server.url, site.tokens[who], site.website_id, **kw)
    sockets.append(live)
    return live, ready


def visitor_socket(
    server: ServerThread, sockets: list[Live], who: Visitor, website_id: str
) -> tuple[Live, dict[str, Any]]:
    live, ready = visitor(server.url, who.token, website_id=website_id)
    sockets.append(live)
    return live, ready


def conversations_path(site: Site) -> str:
    return f"/websites/{site.website_id}/conversations"


class Heard:
    """A follower of one channel on the runtime's hub: every event it was handed."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()

    def offer(self, envelope: Envelope) -> None:
        self.frames.append(envelope.frame)
        self.arrived.set()

    def bodies(self) -> list[str]:
        return [f["message"]["body"] for f in self.frames if f["type"] == "message.created"]

    async def until_bodies(self, count: int) -> None:
        """Until `count` messages were handed (the hub delivers from a task of its own)."""
        async with asyncio.timeout(5):
            while len(self.bodies()) < count:
                self.arrived.clear()
                await self.arrived.wait()

    def resync(self) -> None:
        pass


def batcher_of(harness: Harness) -> Batcher:
    """The runtime's message batcher (the tests' runtimes all have one)."""
    batches = harness.rt.batches
    assert isinstance(batches, Batcher)
    return batches


def push_subscription(endpoint: str) -> dict[str, object]:
    """A browser's push subscription to `endpoint` as `POST /api/v1/push/subscriptions` takes
    it: a fresh P-256 public key and an authentication secret."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return {
        "endpoint": endpoint,
        "keys": {
            "p256dh": base64.urlsafe_b64encode(point).decode().rstrip("="),
            "auth": base64.urlsafe_b64encode(b"0123456789abcdef").decode().rstrip("="),
        },
    }
