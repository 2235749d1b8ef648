"""P1: data stays where it is hosted. A whole chat — the chatbox in Chromium, the real server run
as `python -m causerie serve` in a subprocess, an agent answering over the REST API — calls
nothing but this machine.

The server process carries a Python audit hook (PEP 578, installed by a `sitecustomize` module put
on its PYTHONPATH only) that writes down every socket connect, bind, send-to and name lookup it
attempts, wherever in the process it comes from (the app, asyncpg, redis, httpx, a library's
telemetry...). The browser records every request and socket it makes; any request to a host that
is not this machine is aborted and recorded.
"""

from __future__ import annotations

import ipaddress
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Route, expect

from causerie.clock import ManualClock
from causerie.settings import Settings
from tests.browser_support import (
    HostSite,
    NewContext,
    ThreadedHarness,
    chromium_browser,
    host_page,
)
from tests.redis_support import shared_redis_url
from tests.support import cli_env, free_port
from tests.test_demo import _wait_healthy
from tests.widget_support import Chatbox, make_shop

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site, host

AUDIT_HOOK = '''"""Test-only: record every network call this Python process attempts (test_p1)."""
import json
import os
import sys

_LOG = os.environ["CAUSERIE_TEST_AUDIT_LOG"]
_EVENTS = {
    "socket.connect": 1,
    "socket.bind": 1,
    "socket.sendto": 2,
    "socket.sendmsg": 2,
    "socket.getaddrinfo": 0,
    "socket.gethostbyname": 0,
    "socket.gethostbyname_ex": 0,
    "socket.gethostbyaddr": 0,
}


def _hook(event, args):
    at = _EVENTS.get(event)
    if at is None:
        return
    try:
        where = args[at]
        if isinstance(where, tuple):
            where = [where[0], where[1]]
        elif isinstance(where, bytes):
            where = where.decode("utf-8", "replace")
        line = json.dumps({"event": event, "address": where, "pid": os.getpid()}, default=str)
        with open(_LOG, "a", encoding="utf-8") as log:
            log.write(line + "\\n")
    except Exception:  # an audit hook must never break the process it watches
        pass


sys.addaudithook(_hook)
'''

LOCAL_NAMES = {"localhost", "", "None"}


def is_local(host: Any) -> bool:
    """Loopback, a wildcard bind address, or a Unix socket path."""
    if host is None or (isinstance(host, str) and (host in LOCAL_NAMES or host.startswith("/"))):
        return True
    try:
        address = ipaddress.ip_address(str(host).strip("[]").split("%")[0])
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


@pytest.fixture
def browser() -> Iterator[Browser]:
    """A browser per test here, started after the database fixtures: the PostgreSQL ones run an
    event loop, which Playwright's running one would forbid."""
    with chromium_browser() as chromium:
        yield chromium


@pytest.fixture
def harness(settings: Settings, clock: ManualClock) -> Iterator[ThreadedHarness]:
    h = ThreadedHarness(settings, clock)
    yield h
    h.close()


def _serve(tmp_path: Path, settings: Settings, port: int, extra: dict[str, str]) -> Any:
    hooks = tmp_path / "audit-hook"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(AUDIT_HOOK, "utf-8")
    log = tmp_path / "server-network.jsonl"
    env = cli_env(
        Path(settings.data_dir),
        settings.database_url,
        PYTHONPATH=str(hooks),
        CAUSERIE_TEST_AUDIT_LOG=str(log),
        **extra,
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "causerie", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, log


def _stop(process: Any) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_p1_server_and_chatbox_call_no_outside_service(
    harness: ThreadedHarness,
    settings: Settings,
    tmp_path: Path,
    host: HostSite,
    new_context: NewContext,
) -> None:
    postgres = settings.database_url.startswith("postgres")
    # With PostgreSQL, Redis too: the scale-out set-up, whose every connection must be local.
    extra = {"CAUSERIE_REDIS_URL": shared_redis_url()} if postgres else {}
    shop = make_shop(harness, host.origin)
    port = free_port()
    server = f"http://127.0.0.1:{port}"
    process, log = _serve(tmp_path, settings, port, extra)
    try:
        _wait_healthy(server, process)
        host.pages["/"] = host_page(server, shop.website_id)

        context = new_context()
        seen: list[str] = []
        outside: list[str] = []

        def only_this_machine(route: Route) -> None:
            url = route.request.url
            seen.append(url)
            if urlsplit(url).scheme in ("data", "blob") or is_local(urlsplit(url).hostname):
                route.continue_()
            else:
                outside.append(url)
                route.abort()

        context.route("**/*", only_this_machine)
        sockets: list[str] = []
        page = context.new_page()
        page.on("websocket", lambda socket: sockets.append(socket.url))
        page.goto(host.url("/"))
        chat = Chatbox(page).wait_started()
        chat.open()
        chat.send_and_wait("Is my data kept here?")

        api = httpx.Client(
            base_url=server, headers={"Authorization": f"Bearer {shop.agent_token}"}, timeout=5
        )
        with api:
            reply = api.post(
                f"/api/v1/sessions/{chat.session_id()}/messages",
                json={"client_id": "p1-reply", "body": "Yes, only on our own server."},
            )
            assert reply.status_code == 201, reply.text
        expect(chat.bodies).to_have_text(["Is my data kept here?", "Yes, only on our own server."])
        # The privacy controls and the notice page too.
        chat.host.locator('[part="menu-button"]').click()
        with context.expect_page() as notice:
            chat.host.locator('[part="menu"]').get_by_role(
                "menuitem", name="Privacy notice"
            ).click()
        notice.value.wait_for_load_state()
        time.sleep(0.3)  # anything the server might do after answering
    finally:
        _stop(process)

    assert outside == [], outside
    assert any(url.startswith(server) for url in seen)
    assert sockets and all(is_local(urlsplit(url).hostname) for url in sockets), sockets

    calls = [json.loads(line) for line in log.read_text("utf-8").splitlines()]

    def host_of(call: dict[str, Any]) -> Any:
        address = call["address"]
        return address[0] if isinstance(address, list) else address

    # The hook did watch the server: it saw it listen on its port (and, with PostgreSQL and
    # Redis, connect to them).
    binds = [c for c in calls if c["event"] == "socket.bind"]
    assert any(isinstance(c["address"], list) and c["address"][1] == port for c in binds), calls
    if postgres:
        assert [c for c in calls if c["event"] == "socket.connect"], calls
    far = [c for c in calls if not is_local(host_of(c))]
    assert far == [], far
