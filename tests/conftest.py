"""Test fixtures: real databases (SQLite and PostgreSQL), a real server on a real socket, a clock
the tests move. Every store-touching test runs on both databases; PostgreSQL tests are skipped
with a reason when the server is unreachable, except under CI (`CI=true`), where they fail.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable, Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg
import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher
from sqlalchemy import make_url

from causerie.actions.operators import do_add_operator, do_create_api_token
from causerie.actions.websites import do_create_website
from causerie.app import create_app
from causerie.clock import ManualClock
from causerie.domain.models import Actor, Role, Scope
from causerie.runtime import Runtime
from causerie.server import uvicorn_options
from causerie.settings import Settings, load_settings
from causerie.store.migrate import upgrade
from causerie.store.schema import metadata
from causerie.wiring import build_runtime, close_runtime, start_runtime
from tests.limits import RELAXED_LIMITS
from tests.prompt_server import PromptServer

if TYPE_CHECKING:
    from tests.live import Live  # which imports this module

T = TypeVar("T")

# The modules that take longest, longest first: handed out first (scripts/test passes
# --no-loadscope-reorder, else pytest-xdist orders modules by their number of tests), so that the
# two workers end about together instead of one of them running the last long module alone. The
# others follow in their usual order. Every module of 18 s or more, by the sum of its tests'
# times (setup and teardown included) in a whole run (`--junitxml`, 2 workers, --dist loadfile,
# branch suite, 2026-12-08, load 4-20; test_spec_audit6 and test_realtime less what that branch
# took off them): test_api_roles 148, test_nodes 89, test_reports_offsets 87, test_realtime 71,
# test_api_fuzz 61, test_widget_assets 58, test_lifecycle 57, test_logs 54, ... test_accounts 19.
# docs/performance.md "The test suite within CI's budget, again" has the whole list.
SLOWEST_FIRST = [
    "test_api_roles",
    "test_nodes",
    "test_reports_offsets",
    "test_realtime",
    "test_api_fuzz",
    "test_widget_assets",
    "test_lifecycle",
    "test_logs",
    "test_cli_upkeep",
    "test_widget_ui",
    "test_errors",
    "test_nodes_access",
    "test_spec_audit6",
    "test_cli",
    "test_inbox_team_browser",
    "test_spec_audit4_cli",
    "test_inbox_navigation",
    "test_demo",
    "test_reports_layers",
    "test_spec_audit11",
    "test_search",
    "test_spec_audit5",
    "test_webhooks",
    "test_reports",
    "test_shield_api",
    "test_inbox",
    "test_widget",
    "test_privacy_requests",
    "test_invitations",
    "test_hostile_input",
    "test_outside_client_contracts",
    "test_lean_route",
    "test_spec_audit10",
    "test_migrations",
    "test_privacy_consent",
    "test_file_store_contract",
    "test_widget_privacy",
    "test_message_bulk",
    "test_hostile_fuzz",
    "test_inbox_settings",
    "test_shield_browser",
    "test_accounts",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: at for at, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))  # stable: tests keep order


PG_ADMIN_URL = os.environ.get(
    "CAUSERIE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
ORIGIN = "https://shop.example"
OTHER_ORIGIN = "https://other.example"


@pytest.fixture(autouse=True, scope="session")
def _cheap_argon2() -> Iterator[None]:
    """Real argon2 with light parameters: each fixture operator costs milliseconds, not 100 ms.

    tests/test_tokens.py checks the production parameters.
    """
    import causerie.tokens

    production = causerie.tokens._hasher
    causerie.tokens._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    causerie.tokens._hasher = production


# -- PostgreSQL: one database per test run, emptied before each test ---------------------------


def _pg_url(database: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


# Databases this process brought up to date and whose schema no test changes (the run's own
# PostgreSQL database: tests empty its rows, never its tables): a harness on one skips `upgrade`,
# which on a current PostgreSQL schema still costs a connection and Alembic's version query
# (~34 ms a test, median of 8 at load 9).
_current_schemas: set[str] = set()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str | None]:
    """The URL of this run's own PostgreSQL database, or None when PostgreSQL is unreachable."""
    name = f"causerie_test_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required under CI and is unreachable: {exc}")
        yield None
        return
    url = _pg_url(name)
    asyncio.run(upgrade(url))
    _current_schemas.add(url)
    yield url
    _current_schemas.discard(url)
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _emptying() -> str:
    """The statements that empty every table, children first, in one transaction.

    DELETE, not TRUNCATE: TRUNCATE gives each table new files, 1.3-2.7 s per test for the 40
    tables on a loaded machine, against 12-75 ms to delete the few rows a test leaves. Deleted rows
    count in PostgreSQL's statistics (`n_tup_del`, which the search's index rebuild reads): a test
    that waits for its own deletions to be counted compares with the count before them."""
    return "".join(f'DELETE FROM "{t.name}";' for t in reversed(metadata.sorted_tables))


async def _truncate(url: str) -> None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"), timeout=5)
    try:
        sequences = await conn.fetch(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()"
        )
        restarts = "".join(f'ALTER SEQUENCE "{row[0]}" RESTART;' for row in sequences)
        await conn.execute(f"BEGIN; {_emptying()} {restarts} COMMIT")
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'causerie.db'}"
    url: str | None = request.getfixturevalue("postgres_database")
    if url is None:
        pytest.skip("PostgreSQL unreachable at " + PG_ADMIN_URL)
    asyncio.run(_truncate(url))
    return url


# -- settings, clock, runtime -----------------------------------------------------------------


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str) -> Callable[..., Settings]:
    def make(**overrides: str) -> Settings:
        values = {
            "data_dir": str(tmp_path / "data"),
            "database_url": database_url,
            # The server's own purge waits for the test: tests move the clock by years.
            "purge_interval": "36500d",
            **RELAXED_LIMITS,  # the clock stands still (tests/support.py)
            **overrides,
        }
        return load_settings(environ={}, **values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


_sqlite_schema: list[Path] = []  # this process's up-to-date SQLite database, made once


def _sqlite_from_template(url: str) -> bool:
    """A SQLite database file that does not exist yet starts as a copy of one `upgrade` brought
    up to date once per process: running every migration again cost about 0.2 s of CPU per test
    (tests/test_migrations.py runs them). True when it did (the copy is current); anything else
    is left to `upgrade`."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return False
    path = Path(parsed.database)
    if path.exists() or parsed.database == ":memory:":
        return False
    if not _sqlite_schema:
        folder = Path(tempfile.mkdtemp(prefix="causerie-schema-"))
        atexit.register(shutil.rmtree, folder, True)
        # In a thread of its own: the caller's thread may be running an event loop already
        # (Playwright's, in a browser module whose harness is the first of this process).
        with ThreadPoolExecutor(1) as once:
            once.submit(asyncio.run, upgrade(f"sqlite:///{folder / 'causerie.db'}")).result()
        _sqlite_schema.append(folder / "causerie.db")
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_sqlite_schema[0], path)
    return True


class Harness:
    """A runtime on the test's own event loop, for setting up data and inspecting it."""

    def __init__(self, settings: Settings, clock: ManualClock) -> None:
        self.loop = asyncio.new_event_loop()
        self.settings = settings
        self.clock = clock
        copied = _sqlite_from_template(settings.database_url)
        if not copied and settings.database_url not in _current_schemas:
            self.run(upgrade(settings.database_url))
        self.rt = build_runtime(settings, clock)
        self.run(start_runtime(self.rt))

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def scalar(self, sql: str, **params: Any) -> Any:
        rows = self.rows(sql, **params)
        return rows[0][0] if rows else None

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        from sqlalchemy import text

        async def query() -> list[tuple[Any, ...]]:
            async with self.rt.store.transaction() as tx:
                result = await tx.db.execute(text(sql).bindparams(**params))  # type: ignore[attr-defined]
                return [tuple(row) for row in result]

        return self.run(query())

    def reads(self, *queries: tuple[str, dict[str, Any]]) -> list[list[tuple[Any, ...]]]:
        """The rows of each `(sql, params)`, all read in one transaction: a test that checks many
        things at once pays one round trip of the loop and one transaction, not one each."""
        from sqlalchemy import text

        async def query() -> list[list[tuple[Any, ...]]]:
            async with self.rt.store.transaction() as tx:
                found = []
                for sql, params in queries:
                    result = await tx.db.execute(text(sql).bindparams(**params))  # type: ignore[attr-defined]
                    found.append([tuple(row) for row in result])
                return found

        return self.run(query())

    def execute(self, sql: str, **params: Any) -> None:
        from sqlalchemy import text

        async def run() -> None:
            async with self.rt.store.transaction() as tx:
                await tx.db.execute(text(sql).bindparams(**params))  # type: ignore[attr-defined]

        self.run(run())

    def close(self) -> None:
        self.run(close_runtime(self.rt))
        self.loop.close()


@pytest.fixture
def harness(settings: Settings, clock: ManualClock) -> Iterator[Harness]:
    h = Harness(settings, clock)
    yield h
    h.close()


@dataclass
class Site:
    website_id: str
    other_website_id: str
    tokens: dict[str, str]  # role name (and "other_owner") -> API token
    operator_ids: dict[str, str]
    passwords: dict[str, str]  # role name -> password; emails are f"{role}@shop.example"


@pytest.fixture
def site(harness: Harness) -> Site:
    """A website with an owner, an admin and an agent; another website with its own owner."""
    rt = harness.rt
    cli = Actor.cli()
    website = harness.run(do_create_website(rt, cli, "Shop", [ORIGIN]))
    other = harness.run(do_create_website(rt, cli, "Other", [OTHER_ORIGIN]))
    tokens, ids, passwords = {}, {}, {}
    for role, website_id in (
        ("owner", website.id),
        ("admin", website.id),
        ("agent", website.id),
        ("other_owner", other.id),
    ):
        email = f"{role}@shop.example"
        added = harness.run(
            do_add_operator(
                rt, cli, email, website_id=website_id, role=Role(role.removeprefix("other_"))
            )
        )
        _, secret = harness.run(
            do_create_api_token(rt, cli, email, name="t", scopes=frozenset(Scope))
        )
        tokens[role], ids[role] = secret, added.operator.id
        assert added.one_time_password is not None
        passwords[role] = added.one_time_password
    return Site(website.id, other.id, tokens, ids, passwords)


# -- a real server on a real socket ------------------------------------------------------------


class ServerThread:
    """uvicorn serving the app on 127.0.0.1 on a free port, in a thread with its own loop."""

    def __init__(
        self, settings: Settings, clock: ManualClock, plugins: Sequence[tuple[str, object]] = ()
    ) -> None:
        self.app = create_app(settings, clock, plugins)
        options = {**uvicorn_options(settings), "log_config": None}
        config = uvicorn.Config(self.app, host="127.0.0.1", port=0, lifespan="on", **options)
        self.server = PromptServer(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        for _ in range(500):
            if self.server.started or not self.thread.is_alive():
                break
            threading.Event().wait(0.01)
        if not self.server.started:
            raise RuntimeError("the test server did not start")
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    @property
    def rt(self) -> Runtime:
        rt: Runtime = self.app.state.rt
        return rt

    def stop(self) -> None:
        self.server.stop()
        self.thread.join(timeout=10)


@pytest.fixture
def start_server(clock: ManualClock) -> Iterator[Callable[[Settings], ServerThread]]:
    servers: list[ServerThread] = []

    def start(settings: Settings) -> ServerThread:
        servers.append(ServerThread(settings, clock))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server(
    start_server: Callable[[Settings], ServerThread], settings: Settings, harness: Harness
) -> ServerThread:
    return start_server(settings)


@pytest.fixture
def http(server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


@pytest.fixture
def sockets() -> Iterator[list[Live]]:
    """The test's sockets (tests/live.py), each closed when the test ends."""
    opened: list[Live] = []
    yield opened
    for live in opened:
        live.close()
