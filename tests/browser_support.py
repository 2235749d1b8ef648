"""Browser test support: headless Chromium through Playwright, a host website on its own origin,
and a Causerie server that can be restarted on the same port.

Playwright's own browser download is not used: the tests drive the system's Chromium
(`/usr/bin/chromium`). Without it the browser tests are skipped with a reason, except under CI
(`CI` set), where they fail, as the PostgreSQL tests do.

Playwright's sync API keeps its event loop marked as running in the main thread for as long as
it is started. So the browser lives for one test module (a session-wide one would break every
later test that runs an event loop), and the database harness runs its loop in a thread of its
own (`ThreadedHarness`).

The browser test modules load this module as a plugin (`pytest_plugins`) for its fixtures, after
importing its classes; it holds no assertion to rewrite: PYTEST_DONT_REWRITE.
"""

from __future__ import annotations

import html
import os
import threading
from collections.abc import Callable, Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from causerie.actions.operators import do_add_operator
from causerie.app import create_app
from causerie.clock import ManualClock
from causerie.domain.models import Actor, Role
from causerie.server import uvicorn_options
from causerie.settings import Settings, load_settings
from tests.conftest import Harness
from tests.limits import RELAXED_LIMITS
from tests.prompt_server import PromptServer
from tests.support import free_port


def screenshots_folder() -> Path:
    """Where the browser tests save their screenshots: docs/screenshots/ when
    `CAUSERIE_UPDATE_SCREENSHOTS=1` (to refresh the pictures in the docs), else a temporary
    folder, so that a test run leaves the work tree as it found it."""
    if os.environ.get("CAUSERIE_UPDATE_SCREENSHOTS") == "1":
        return Path(__file__).resolve().parent.parent / "docs" / "screenshots"
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"causerie-screenshots-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


T = TypeVar("T")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000  # every Playwright wait and action is bounded by this
# ... and every `expect` (its own default is 5 s: a seen mark, a reply and its read on a loaded
# machine took longer once in CI).
expect.set_options(timeout=TIMEOUT_MS)


# -- the browser -------------------------------------------------------------------------------


@contextmanager
def chromium_browser() -> Iterator[Browser]:
    """Headless Chromium for a test that needs a browser of its own (e.g. a function-scoped
    `browser` fixture, so that no Playwright loop runs while its other fixtures set up), with the
    module fixture's rules: skipped without Chromium, except under CI."""
    if not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"the browser tests need Chromium under CI: {reason}")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium, launched once per test module."""
    with chromium_browser() as chromium:
        yield chromium


NewContext = Callable[..., BrowserContext]

# A browser context's defaults: a 1280x800 window, English, UTC (times on screen do not depend on
# the machine), no service worker (the push tests allow theirs).
CONTEXT_DEFAULTS: dict[str, Any] = {
    "viewport": {"width": 1280, "height": 800},
    "locale": "en-US",
    "timezone_id": "UTC",
    "service_workers": "block",
}


def open_context(browser: Browser, **options: Any) -> BrowserContext:
    """A fresh context (own cookies, own storage): CONTEXT_DEFAULTS overridden by `options`,
    every wait bounded by TIMEOUT_MS. The caller closes it."""
    context = browser.new_context(**{**CONTEXT_DEFAULTS, **options})
    context.set_default_timeout(TIMEOUT_MS)
    return context


def log_in(context: BrowserContext, url: str, operator: Operator) -> None:
    """The operator signs in through the API: the context holds their session cookie."""
    login = context.request.post(
        f"{url}/api/v1/auth/login", data={"email": operator.email, "password": operator.password}
    )
    assert login.ok, login.text()


@contextmanager
def inbox_page(context: BrowserContext, url: str) -> Iterator[Page]:
    """The inbox at /app#/, shown (availability switch visible); no script error on the page
    until the block ends, checked then."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{url}/app#/")
    expect(page.locator("#availability")).to_be_visible()
    yield page
    assert errors == [], errors


@pytest.fixture
def new_context(browser: Browser) -> Iterator[NewContext]:
    """Fresh browser contexts (`open_context`: a visitor each), closed after the test."""
    opened: list[BrowserContext] = []

    def new(**options: Any) -> BrowserContext:
        context = open_context(browser, **options)
        opened.append(context)
        return context

    yield new
    for context in opened:
        context.close()


# -- the host website: a page on another origin that embeds the chatbox -------------------------


def snippet(causerie_url: str, website_id: str) -> str:
    """The embed code of SPEC.md, exactly as a website owner pastes it."""
    return (
        f'<script>window.CAUSERIE_WEBSITE_ID = "{website_id}";</script>\n'
        f'<script src="{causerie_url}/widget.js" async></script>'
    )


def host_page(
    causerie_url: str,
    website_id: str,
    *,
    title: str = "Shop",
    head: str = "",
    body: str = "<h1>Shop</h1><p>Welcome.</p>",
    before: str = "",
) -> str:
    """A host page: `before` runs ahead of the snippet (e.g. `window.$causerie = [...]`)."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="icon" href="data:,">
{head}
</head><body>
{body}
{before}
{snippet(causerie_url, website_id)}
</body></html>"""


class _UvicornThread:
    """uvicorn serving `app` on 127.0.0.1 in a thread with its own event loop."""

    def __init__(self, app: Any, port: int, **options: Any) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, **options)
        self.server = PromptServer(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        for _ in range(1000):
            if self.server.started or not self.thread.is_alive():
                break
            threading.Event().wait(0.01)
        if not self.server.started:
            self.stop()
            raise RuntimeError(f"the test server did not start on port {port}")
        self.port: int = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.stop()
        self.thread.join(timeout=15)
        if self.thread.is_alive():
            raise RuntimeError("the test server did not stop within 15 s")


class HostSite:
    """The website that embeds the chatbox: pages by path, set by each test, on its own origin."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}

        async def page(request: Request) -> Response:
            found = self.pages.get(request.url.path)
            if found is None:
                return Response("not found", status_code=404, media_type="text/plain")
            return HTMLResponse(found, headers={"Cache-Control": "no-store"})

        app = Starlette(routes=[Route("/{path:path}", page)])
        self._thread = _UvicornThread(
            app, 0, log_config=None, access_log=False, lifespan="off", ws="none"
        )
        self.origin = self._thread.url

    def url(self, path: str = "/") -> str:
        return self.origin + path

    def stop(self) -> None:
        self._thread.stop()


@pytest.fixture(scope="module")
def host_site() -> Iterator[HostSite]:
    site = HostSite()
    yield site
    site.stop()


@pytest.fixture
def host(host_site: HostSite) -> Iterator[HostSite]:
    """The host website with no page yet: each test serves its own."""
    host_site.pages.clear()
    yield host_site
    host_site.pages.clear()


# -- the Causerie server, restartable on the same port ------------------------------------------


class Served(NamedTuple):
    """Where a module's server will listen, and its settings."""

    url: str
    port: int
    settings: Settings


def served_settings(folder: Path, **overrides: str) -> Served:
    """Settings for a server on a free local port, its data and SQLite file in `folder`: the
    tests' relaxed limits, no purge while the module runs; `overrides` win."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    options: dict[str, str] = {"purge_interval": "36500d", **RELAXED_LIMITS, **overrides}
    settings = load_settings(
        environ={},
        data_dir=str(folder / "data"),
        database_url=f"sqlite:///{folder / 'causerie.db'}",
        public_url=url,
        **options,
    )
    return Served(url, port, settings)


class CauserieServer:
    """The real application on a real socket, like tests/conftest.py's ServerThread, but on a
    port of our choice: `restart()` stops it and serves the same settings on the same port;
    `plugins`, as (name, plugin), as `create_app` takes them."""

    def __init__(
        self,
        settings: Settings,
        clock: ManualClock,
        port: int = 0,
        plugins: Sequence[tuple[str, object]] = (),
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.plugins = plugins
        options = {**uvicorn_options(settings), "log_config": None}
        app = create_app(settings, clock, plugins)
        self._thread = _UvicornThread(app, port, lifespan="on", **options)
        self.port = self._thread.port
        self.url = self._thread.url
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.running = False
            self._thread.stop()

    def start_again(self) -> None:
        self._thread = _UvicornThread(
            create_app(self.settings, self.clock, self.plugins),
            self.port,
            lifespan="on",
            **{**uvicorn_options(self.settings), "log_config": None},
        )
        self.running = True


# -- the database, from outside Playwright's loop ------------------------------------------------


class ThreadedHarness(Harness):
    """tests/conftest.py's Harness, with its event loop run in a worker thread: the main thread
    is where Playwright's sync API keeps its own loop marked as running."""

    def __init__(self, settings: Settings, clock: ManualClock) -> None:
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="harness")
        super().__init__(settings, clock)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._worker.submit(self.loop.run_until_complete, coro).result(timeout=30)

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._worker.shutdown(wait=True)


@dataclass
class Operator:
    id: str
    email: str
    name: str
    password: str


def add_operator(
    harness: ThreadedHarness, email: str, name: str, grants: list[tuple[str, Role]]
) -> Operator:
    """An operator with a role on each website of `grants`, as `causerie operator add` makes one;
    the one-time password to log in with."""
    password = ""
    operator_id = ""
    for website_id, role in grants:
        added = harness.run(
            do_add_operator(
                harness.rt, Actor.cli(), email, website_id=website_id, role=role, name=name
            )
        )
        operator_id = added.operator.id
        password = added.one_time_password or password
    return Operator(operator_id, email, name, password)
