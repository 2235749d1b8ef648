"""A server on SQLite, with neither Redis, mail, push nor webhooks in use yet, starts and answers
without the libraries only those need: each adapter imports its own at first use
(docs/performance.md, "Lighter at rest"). The check reads `sys.modules` of a fresh process that
built the app, started it on a migrated database and answered a request; it times nothing.
`causerie serve` is checked the same way, over a real socket, and must not load rich either
(the other commands print through it)."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from pathlib import Path

from causerie.store.migrate import upgrade
from tests.support import CLI_TIMEOUT, cli_env

# Imported at first use only: by push, webhooks, images, the mail listener and sender, a
# PostgreSQL store, Redis, an S3 file store, a password; Alembic only when a migration is due.
NOT_AT_START = (
    "PIL",
    "aiohttp",
    "cryptography",
    "pywebpush",
    "py_vapid",
    "httpx",
    "aiosmtpd",
    "aiosmtplib",
    "alembic",
    "asyncpg",
    "redis",
    "obstore",
    "argon2",
    "sqlalchemy.ext.asyncio",
    "sqlalchemy.orm",
    "sqlalchemy.dialects.postgresql",
    "pydantic.v1",  # FastAPI imports it as it builds a route's fields (web/lean_route.py)
)

_SERVER = """
import asyncio, json, sys

from causerie.app import create_app
from causerie.settings import load_settings

app = create_app(load_settings())


async def status(path):
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }
    await app(scope, receive, send)
    return sent[0]["status"]


async def serve():
    async with app.router.lifespan_context(app):
        return await status("/api/health")


answered = asyncio.run(serve())
from causerie.web.lean_route import LeanRoute

built = [r.path for r in app.routes if isinstance(r, LeanRoute) and r.__dict__["_declared"] is None]
print(json.dumps({"status": answered, "modules": sorted(sys.modules), "built": built}))
"""


def test_a_server_on_sqlite_starts_without_the_libraries_of_unused_adapters(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'causerie.db'}"
    asyncio.run(upgrade(url))  # as a restarted server finds its database
    done = subprocess.run(
        [sys.executable, "-c", _SERVER],
        env=cli_env(tmp_path / "data", url),
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["status"] == 200
    modules = set(found["modules"])
    assert {"causerie.app", "fastapi", "sqlalchemy"} <= modules  # the check sees imports
    assert _loaded(modules, NOT_AT_START) == []
    assert found["built"] == ["/api/health"]  # the other routes are built at their first use


# `causerie serve` in the main thread; another thread asks /api/health until it answers, then
# prints the modules the process has loaded and ends it.
_SERVE = """
import http.client, json, os, sys, threading, time

PORT = int(sys.argv[1])


def watch():
    deadline = time.monotonic() + 50
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=1)
        try:
            conn.request("GET", "/api/health")
            status = conn.getresponse().status
        except OSError:
            status = None
        finally:
            conn.close()
        if status is not None:
            print(json.dumps({"status": status, "modules": sorted(sys.modules)}), flush=True)
            os._exit(0)
        time.sleep(0.02)
    os._exit(3)


threading.Thread(target=watch, daemon=True).start()
from causerie.cli import main

main(["serve", "--port", str(PORT)])
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(
        name for name in names if any(m == name or m.startswith(name + ".") for m in modules)
    )


def test_causerie_serve_answers_without_rich_nor_the_libraries_of_unused_adapters(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'causerie.db'}"
    asyncio.run(upgrade(url))
    done = subprocess.run(
        [sys.executable, "-c", _SERVE, str(_free_port())],
        env=cli_env(tmp_path / "data", url),
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("Causerie serving on http://127.0.0.1:") for line in lines)
    found = json.loads(lines[-1])
    assert found["status"] == 200
    modules = set(found["modules"])
    assert {"causerie.app", "causerie.cli", "click", "uvicorn"} <= modules
    assert _loaded(modules, ("rich", *NOT_AT_START)) == []
