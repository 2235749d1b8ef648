"""The chatbox's browser tests' set-up (tests/test_widget*.py and the others that drive the
chatbox): fixtures that put the harness off Playwright's loop on SQLite, a website on the host
page's origin with an agent, and a Causerie server that can be restarted; the two sides of a
chat, an agent's socket (`Desk`) and the chatbox in the page (`Chatbox`).

A test module takes the fixtures by assigning them (`harness = widget_support.harness`): as its
own, they win over tests/conftest.py's (SQLite only, the threaded harness).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from causerie.actions.operators import do_add_operator, do_create_api_token
from causerie.actions.websites import do_create_website
from causerie.clock import ManualClock
from causerie.domain.models import Actor, Role, Scope
from causerie.settings import Settings
from tests.browser_support import (
    CauserieServer,
    HostSite,
    NewContext,
    ThreadedHarness,
)
from tests.live import Live, agent

WAIT = 10.0  # seconds: the longest any single step may take


# -- fixtures: SQLite only, the harness off Playwright's loop, a website on the host's origin ---


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'causerie.db'}"


@pytest.fixture
def harness(settings: Settings, clock: ManualClock) -> Iterator[ThreadedHarness]:
    h = ThreadedHarness(settings, clock)
    yield h
    h.close()


@dataclass
class Shop:
    website_id: str
    agent_token: str
    agent_id: str


def make_shop(harness: ThreadedHarness, origin: str, agent_name: str = "Camille") -> Shop:
    rt, cli = harness.rt, Actor.cli()
    website = harness.run(do_create_website(rt, cli, "Demo shop", [origin]))
    email = "camille@shop.example"
    added = harness.run(
        do_add_operator(rt, cli, email, website_id=website.id, role=Role.AGENT, name=agent_name)
    )
    _, token = harness.run(do_create_api_token(rt, cli, email, name="t", scopes=frozenset(Scope)))
    return Shop(website.id, token, added.operator.id)


@pytest.fixture
def shop(harness: ThreadedHarness, host: HostSite) -> Shop:
    """A website whose allowed origin is the host page's, with an agent and their API token."""
    return make_shop(harness, host.origin)


StartServer = Callable[..., CauserieServer]


@pytest.fixture
def start_causerie(
    make_settings: Callable[..., Settings], clock: ManualClock, harness: ThreadedHarness
) -> Iterator[StartServer]:
    started: list[CauserieServer] = []

    def start(**settings: str) -> CauserieServer:
        started.append(CauserieServer(make_settings(**settings), clock))
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def causerie(start_causerie: StartServer, shop: Shop) -> CauserieServer:
    return start_causerie()


@pytest.fixture
def desks() -> Iterator[list[Live]]:
    opened: list[Live] = []
    yield opened
    for live in opened:
        live.close()


# -- the two sides of a chat ---------------------------------------------------------------------


class Desk:
    """An agent over /ws/agent (tests/live.py), as the inbox or an integration would be."""

    def __init__(self, server_url: str, shop: Shop, desks: list[Live], after: int | None = None):
        self.live, self.ready = agent(server_url, shop.agent_token, shop.website_id, after=after)
        desks.append(self.live)
        self.sent = 0

    @property
    def seq(self) -> int:
        return max([f["seq"] for f in self.live.seen if isinstance(f.get("seq"), int)] or [0])

    def wait_message(self, body: str, timeout: float = WAIT) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            frame = self.live.expect("message.created", timeout=max(deadline - time.monotonic(), 0))
            if frame["message"]["body"] == body:
                message: dict[str, Any] = frame["message"]
                return message

    def reply(self, body: str, **target: str) -> dict[str, Any]:
        self.sent += 1
        client_id = f"desk-{self.sent}-{time.monotonic_ns()}"
        self.live.send({"type": "message.send", "client_id": client_id, "body": body, **target})
        message: dict[str, Any] = self.live.expect("message.ack", client_id=client_id)["message"]
        return message

    def close(self) -> None:
        self.live.close()


_LISTING = """() => {
  const root = document.querySelector("causerie-chatbox")?.shadowRoot;
  if (!root) return [];
  return [...root.querySelectorAll("article.message")].map((a) => ({
    id: a.dataset.id,
    author: a.classList.contains("operator") ? "operator" : "visitor",
    body: a.querySelector(".body").textContent,
    who: a.querySelector(".who").textContent,
    state: a.querySelector("[data-state]")?.dataset.state ?? null,
  }));
}"""


class Chatbox:
    """The chatbox on a host page, reached through its shadow root's stable `part`s."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.host = page.locator("causerie-chatbox")
        self.launcher = self.host.locator('[part="launcher"]')
        self.panel = self.host.locator('[part="panel"]')
        self.messages = self.host.locator('[part="messages"]')
        self.composer = self.host.locator('[part="composer"]')
        self.send_button = self.host.locator('[part="send"]')
        self.badge = self.host.locator('[part="badge"]')
        self.items = self.messages.locator("article.message")
        self.bodies = self.items.locator(".body")
        self.status = self.panel.locator(".status")

    def wait_started(self) -> Chatbox:
        """Mounted, and the SDK attached to a session."""
        self.page.wait_for_function("() => !!window.$causerie?.get?.('session:id')")
        # On a phone the open panel fills the screen and the launcher steps aside.
        shown = self.host.locator('[part="launcher"]:visible, [part="panel"]:visible')
        expect(shown.first).to_be_visible()
        return self

    def open(self) -> None:
        self.launcher.click()
        expect(self.panel).to_be_visible()

    def send(self, text: str) -> None:
        self.composer.fill(text)
        self.composer.press("Enter")

    def send_and_wait(self, text: str) -> dict[str, Any]:
        self.send(text)
        return self.wait_sent(text)

    def wait_sent(self, text: str) -> dict[str, Any]:
        self.page.wait_for_function(
            """(text) => [...document.querySelector("causerie-chatbox").shadowRoot
                .querySelectorAll("article.message.visitor")]
                .some((a) => a.querySelector(".body").textContent === text
                    && a.querySelector("[data-state]")?.dataset.state === "sent"
                    && a.dataset.id)""",
            arg=text,
        )
        return next(m for m in self.listing() if m["body"] == text)

    def listing(self) -> list[dict[str, Any]]:
        listing: list[dict[str, Any]] = self.page.evaluate(_LISTING)
        return listing

    def session_id(self) -> str:
        value: str = self.page.evaluate("() => window.$causerie.get('session:id')")
        return value

    def shadow_focus(self) -> str | None:
        """The `part` (or class) of what has the focus inside the chatbox, if it has it."""
        value: str | None = self.page.evaluate(
            """() => {
              const host = document.querySelector("causerie-chatbox");
              if (document.activeElement !== host) return null;
              const el = host.shadowRoot.activeElement;
              return el ? el.getAttribute("part") || el.className : null;
            }"""
        )
        return value


def visit(new_context: NewContext, url: str, **options: Any) -> tuple[Page, Chatbox]:
    page = new_context(**options).new_page()
    page.goto(url)
    return page, Chatbox(page).wait_started()


def fail_on_dialogs(page: Page) -> list[str]:
    """Any alert/confirm/prompt is recorded (and dismissed): the test then asserts none came."""
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs
