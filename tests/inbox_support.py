"""The inbox's browser tests' set-up (tests/test_inbox.py, test_inbox_navigation.py,
test_inbox_settings.py): one server per test module with three websites, an owner and agents
(`env`, SQLite), visitors who write through the chatbox's API, and the inbox signed in in
headless Chromium with what it shows.

One server per module: every test works on conversations of its own visitors, so the tests do
not depend on each other's order. Only SQLite: what the browser sees does not depend on the
database. Every wait is on a DOM condition, never on time.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from causerie.actions.websites import do_create_website
from causerie.clock import ManualClock
from causerie.domain.models import Actor, Role
from tests.browser_support import (
    CauserieServer,
    HostSite,
    NewContext,
    Operator,
    ThreadedHarness,
    add_operator,
    log_in,
    screenshots_folder,
    served_settings,
)

SCREENSHOTS = screenshots_folder()
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Safari/605.1.15"
)


# -- one server for the module ---------------------------------------------------------------------


@dataclass
class Env:
    url: str
    host: HostSite
    harness: ThreadedHarness
    shop_id: str
    blog_id: str
    studio_id: str
    owner: Operator
    agent: Operator
    server: CauserieServer
    http: httpx.Client  # the visitors' side, over the widget API


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, host_site: HostSite) -> Iterator[Env]:
    folder = tmp_path_factory.mktemp("inbox")
    # The inbox's socket and API trust the server's own origin only: it must be the real one.
    url, port, settings = served_settings(folder, purge_interval="1h")
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    harness = ThreadedHarness(settings, clock)
    rt, cli = harness.rt, Actor.cli()
    shop = harness.run(do_create_website(rt, cli, "Demo shop", [host_site.origin]))
    blog = harness.run(do_create_website(rt, cli, "Blog", [host_site.origin]))
    studio = harness.run(do_create_website(rt, cli, "Atelier Lune", [host_site.origin]))
    owner = add_operator(
        harness,
        "ada@shop.example",
        "Ada Lovelace",
        [(shop.id, Role.OWNER), (blog.id, Role.OWNER), (studio.id, Role.OWNER)],
    )
    agent = add_operator(harness, "camille@shop.example", "Camille Martin", [(shop.id, Role.AGENT)])
    add_operator(harness, "noor@shop.example", "Noor Haddad", [(studio.id, Role.AGENT)])
    server = CauserieServer(settings, clock, port=port)
    assert server.url == url
    with httpx.Client(base_url=url, timeout=10) as http:
        yield Env(url, host_site, harness, shop.id, blog.id, studio.id, owner, agent, server, http)
    server.stop()
    harness.close()


# -- visitors, through the widget API (as the chatbox does) -------------------------------------


@dataclass
class Visitor:
    env: Env
    token: str
    session_id: str

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Origin": self.env.host.origin}

    def say(self, body: str) -> dict[str, Any]:
        response = self.env.http.post(
            "/api/widget/v1/session/messages",
            json={"client_id": secrets.token_hex(8), "type": "text", "body": body},
            headers=self._headers(),
        )
        assert response.status_code in (200, 201), response.text
        message: dict[str, Any] = response.json()["message"]
        return message

    def profile(self, **fields: Any) -> None:
        response = self.env.http.patch(
            "/api/widget/v1/session/profile", json=fields, headers=self._headers()
        )
        assert response.status_code == 200, response.text

    def messages(self) -> list[dict[str, Any]]:
        response = self.env.http.get("/api/widget/v1/session/messages", headers=self._headers())
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["messages"]
        return found


def new_visitor(
    env: Env,
    website_id: str | None = None,
    *,
    url: str = "https://shop.example/",
    title: str = "Home",
    locale: str = "fr-FR",
    timezone: str = "Europe/Paris",
) -> Visitor:
    response = env.http.post(
        f"/api/widget/v1/websites/{website_id or env.shop_id}/session",
        json={
            "page": {"url": url, "title": title, "referrer": ""},
            "locale": locale,
            "timezone": timezone,
        },
        headers={"Origin": env.host.origin, "User-Agent": UA},
    )
    assert response.status_code == 201, response.text
    data = response.json()
    return Visitor(env, data["token"], data["session"]["id"])


def conversation_of(env: Env, session_id: str) -> str:
    found = env.harness.scalar("SELECT id FROM conversations WHERE session_id = :s", s=session_id)
    assert found, f"no conversation for session {session_id}"
    return str(found)


# -- the inbox in a browser ------------------------------------------------------------------------


def fail_on_dialogs(page: Page) -> list[str]:
    """alert/confirm/prompt are recorded and dismissed; the tests assert none came."""
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


def watch_csp(page: Page) -> list[str]:
    """Console errors, CSP violations included: the inbox must run under its own policy."""
    errors: list[str] = []
    # A refused request (401 before signing in, 429) is logged by Chromium: not an app error.
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def sign_in(context: BrowserContext, env: Env, who: Operator, path: str = "/app") -> Page:
    """Logged in through the API (the login screen has its own test), then the inbox opened."""
    log_in(context, env.url, who)
    page = context.new_page()
    page.goto(env.url + path)
    expect(page.locator("#availability")).to_be_visible()
    return page


def inbox(new_context: NewContext, env: Env, who: Operator, **options: Any) -> Page:
    return sign_in(new_context(**options), env, who)


def choose_website(page: Page, website_id: str) -> None:
    page.select_option("#website", website_id)
    expect(page.locator("#website")).to_have_value(website_id)


def item(page: Page, conversation_id: str) -> Any:
    return page.locator(f"#conv-{conversation_id}")


def thread_bodies(page: Page) -> Any:
    return page.locator(".log article.message .body")
