"""A fresh, empty database for each Causerie the benches start, removed at the end.

SQLite (the default): a file in the installation's own data folder, removed with the bench's
temporary folder. PostgreSQL (`--database postgresql://USER@127.0.0.1:5432/MAINTENANCE_DB`): the
URL names the server and a database to connect to for CREATE/DROP; each installation gets a new
database `causerie_bench_<run>_<n>` on that server, dropped when the bench ends.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

from sqlalchemy import make_url


class Databases:
    def __init__(self, postgres_url: str | None) -> None:
        if postgres_url is not None:
            url = make_url(postgres_url)
            if url.get_backend_name() != "postgresql":
                raise ValueError("--database takes a postgresql:// URL")
            if url.host not in ("127.0.0.1", "localhost", "::1"):
                raise ValueError("--database must point at a loopback address")
        self._server = postgres_url
        self._run = secrets.token_hex(3)
        self._created: list[str] = []

    @property
    def server(self) -> str | None:
        """The PostgreSQL URL given (None: SQLite)."""
        return self._server

    @property
    def kind(self) -> str:
        return "sqlite" if self._server is None else "postgresql"

    def new(self, data_dir: Path) -> str:
        """The URL of a new empty database for an installation whose data folder is `data_dir`."""
        if self._server is None:
            return f"sqlite:///{data_dir / 'causerie.db'}"
        name = f"causerie_bench_{self._run}_{len(self._created)}"
        asyncio.run(self._admin(f'CREATE DATABASE "{name}"'))
        self._created.append(name)
        return make_url(self._server).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        for name in self._created:
            asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._created.clear()

    async def _admin(self, sql: str) -> None:
        import asyncpg  # type: ignore[import-untyped]

        assert self._server is not None
        dsn = make_url(self._server).set(drivername="postgresql")
        conn = await asyncpg.connect(dsn.render_as_string(hide_password=False))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()
