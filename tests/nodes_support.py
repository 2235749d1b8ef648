"""Several real Causerie nodes (`python -m causerie serve` subprocesses) sharing one PostgreSQL
database and one Redis, for the multi-node tests (tests/test_nodes.py, docs/realtime.md).

A `Deployment` is one fresh PostgreSQL database of its own (created here, dropped after) plus the
settings every node shares; `Node` is one server process on a free port, which a test may kill
with SIGKILL. Node output goes to a log file per node, printed when the test ends (pytest shows it
for a failing test).
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx

from tests.conftest import ORIGIN, PG_ADMIN_URL
from tests.limits import RELAXED_LIMITS
from tests.live import Live
from tests.redis_support import unavailable
from tests.support import cli_env, free_port, invoke_cli, query

NODE_START_TIMEOUT = 30.0
PAGE = {"url": "https://shop.example/shoes", "title": "Shoes", "referrer": ""}


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _pg_url(database: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


@dataclass(frozen=True)
class SiteAccess:
    """A website with an owner, and the owner's API token."""

    website_id: str
    email: str
    api_token: str


class Node:
    """`python -m causerie serve` on 127.0.0.1 and a free port."""

    def __init__(self, name: str, env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"{name}-{self.port}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "causerie",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=env,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = NODE_START_TIMEOUT) -> None:
        """Poll `GET /api/health` until it answers 200; fail with the node's log otherwise."""
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1) as http:
            while True:
                if self.process.poll() is not None:
                    raise AssertionError(
                        f"node {self.name} exited with {self.process.returncode}:\n{self.log()}"
                    )
                try:
                    if http.get(self.url + "/api/health").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"node {self.name} not ready in {timeout} s:\n{self.log()}"
                    )
                time.sleep(0.05)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: the node gets no chance to finish anything."""
        if self.alive:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM (uvicorn shuts down gracefully), SIGKILL after 5 seconds."""
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.wait(timeout=10)
        self._log.close()

    def log(self, last: int = 4000) -> str:
        text = self.log_path.read_bytes().decode("utf-8", "replace")
        return text[-last:]


class Deployment:
    """One PostgreSQL database of its own, the `causerie` command on it, and nodes sharing it."""

    def __init__(self, workdir: Path, redis_url: str) -> None:
        self.workdir = workdir
        self.redis_url = redis_url
        self.secret_key = secrets.token_urlsafe(36)  # 48 characters, the same for every node
        assert len(self.secret_key) == 48
        self.name = f"causerie_nodes_{os.getpid()}_{secrets.token_hex(3)}"
        self.database_url = _pg_url(self.name)
        self._email: str | None = None
        self._api_token: str | None = None
        self._count = 0

    # -- the database ----------------------------------------------------------------------------

    def create(self) -> None:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{self.name}"'))

    def migrate(self) -> None:
        assert "schema updated" in self.cli("migrate")

    def drop(self) -> None:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows of `sql` (`?` parameters), read straight from PostgreSQL."""
        return query(self.database_url, sql, *params)

    def scalar(self, sql: str, *params: Any) -> Any:
        rows = self.query(sql, *params)
        return rows[0][0] if rows else None

    def stream_position(self, stream: str) -> int:
        return int(self.scalar("SELECT last_seq FROM streams WHERE stream = ?", stream) or 0)

    # -- the command -----------------------------------------------------------------------------

    def env(self, data_dir: Path, redis_url: str | None = None, **extra: str) -> dict[str, str]:
        return cli_env(
            data_dir,
            self.database_url,
            CAUSERIE_REDIS_URL=redis_url or self.redis_url,
            CAUSERIE_SECRET_KEY=self.secret_key,
            CAUSERIE_LOG_LEVEL="warning",
            **{f"CAUSERIE_{name.upper()}": rate for name, rate in RELAXED_LIMITS.items()},
            **extra,
        )

    def cli(self, *args: str) -> str:
        """`causerie *args`, run in the test's process: apart from the nodes, it reaches them
        through the database and Redis only, as a shell command does."""
        result = invoke_cli(*args, env=self.env(self.workdir / "cli-data"), cwd=self.workdir)
        assert result.returncode == 0, f"causerie {' '.join(args)}: {result.stderr}"
        return result.stdout

    def new_site(self) -> SiteAccess:
        """A fresh website (so presence and streams start empty) owned by the operator."""
        self._count += 1
        output = self.cli("website", "add", f"Shop {self._count}", "--origin", ORIGIN)
        match = re.search(r"^website id: (\S+)$", output, re.MULTILINE)
        assert match, output
        website_id = match.group(1)
        email = self._email or f"owner-{secrets.token_hex(3)}@shop.example"
        self.cli("operator", "add", email, "--website", website_id, "--role", "owner")
        if self._api_token is None:
            token = self.cli("token", "add", email, "--name", "nodes").strip()
            assert re.fullmatch(r"[A-Za-z0-9_-]{40,}", token), token
            self._email, self._api_token = email, token
        return SiteAccess(website_id, email, self._api_token)

    # -- nodes -----------------------------------------------------------------------------------

    def node(self, name: str, redis_url: str | None = None, **extra: str) -> Node:
        """A node started (not yet ready: call `wait_ready`, after starting its siblings)."""
        data_dir = self.workdir / f"{name}-{secrets.token_hex(3)}"
        return Node(name, self.env(data_dir, redis_url, **extra), self.workdir)


class Cluster:
    """What one test started: nodes and sockets, all ended when the test ends."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.nodes: list[Node] = []
        self.sockets: list[Live] = []

    def start(self, *names: str, redis_url: str | None = None, **extra: str) -> list[Node]:
        """Start nodes side by side, return once every one answers its health check."""
        started = [self.deployment.node(name, redis_url, **extra) for name in names]
        self.nodes.extend(started)
        for node in started:
            node.wait_ready()
        return started

    def track(self, live: Live) -> Live:
        self.sockets.append(live)
        return live

    def close(self) -> None:
        for live in self.sockets:
            try:
                live.close()
            except Exception as exc:  # a socket of a killed node may fail to close cleanly
                print(f"closing a test socket: {exc!r}")
        for node in self.nodes:
            node.stop()
        for node in self.nodes:
            print(f"---- log of node {node.name} ----\n{node.log()}")


def open_visitor_session(node_url: str, website_id: str) -> tuple[str, str]:
    """A new visitor session through the chatbox endpoint: (token, session id)."""
    with httpx.Client(base_url=node_url, timeout=10) as http:
        response = http.post(
            f"/api/widget/v1/websites/{website_id}/session",
            json={"page": PAGE},
            headers={"Origin": ORIGIN},
        )
    assert response.status_code == 201, response.text
    body = response.json()
    return str(body["token"]), str(body["session"]["id"])


def postgres_reachable() -> None:
    """Skip (fail under CI) when PostgreSQL does not answer."""
    try:
        asyncio.run(_pg_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        unavailable(f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc}")


def deployment(workdir: Path, redis_url: str) -> Iterator[Deployment]:
    """A created deployment, dropped after (generator for a fixture)."""
    postgres_reachable()
    created = Deployment(workdir, redis_url)
    created.create()
    try:
        created.migrate()
        yield created
    finally:
        created.drop()
