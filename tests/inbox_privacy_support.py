"""What the inbox's privacy tests (tests/test_inbox_privacy_*.py) share: one server per test module
with three websites and their team (`env`), visitors through the widget API, and the inbox signed
in, in headless Chromium. Each test works on visitors and websites of its own, or checks only what
it changed; every wait is on a DOM condition, never on time.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
HOSTILE = '<img src=x onerror="window.__xss=1">Café <b>Lune</b>'


# -- one server for the module ---------------------------------------------------------------------


@dataclass
class Env:
    url: str
    host: HostSite
    harness: ThreadedHarness
    shop_id: str  # Ada owner, Bruno admin, Camille agent
    studio_id: str  # Ada owner: consent is switched on there
    hostile_id: str  # Ada owner: a name made of markup, for the register
    owner: Operator
    admin: Operator
    agent: Operator
    server: CauserieServer
    http: httpx.Client  # the visitors' side, over the widget API


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, host_site: HostSite) -> Iterator[Env]:
    folder = tmp_path_factory.mktemp("inbox-privacy")
    url, port, settings = served_settings(folder, purge_interval="1h")
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    harness = ThreadedHarness(settings, clock)
    rt, cli = harness.rt, Actor.cli()
    shop = harness.run(do_create_website(rt, cli, "Demo shop", [host_site.origin]))
    studio = harness.run(do_create_website(rt, cli, "Atelier Lune", [host_site.origin]))
    hostile = harness.run(do_create_website(rt, cli, HOSTILE, [host_site.origin]))
    owner = add_operator(
        harness,
        "ada@shop.example",
        "Ada Lovelace",
        [(shop.id, Role.OWNER), (studio.id, Role.OWNER), (hostile.id, Role.OWNER)],
    )
    admin = add_operator(harness, "bruno@shop.example", "Bruno Costa", [(shop.id, Role.ADMIN)])
    agent = add_operator(harness, "camille@shop.example", "Camille Martin", [(shop.id, Role.AGENT)])
    server = CauserieServer(settings, clock, port=port)
    assert server.url == url
    with httpx.Client(base_url=url, timeout=10) as http:
        yield Env(
            url,
            host_site,
            harness,
            shop.id,
            studio.id,
            hostile.id,
            owner,
            admin,
            agent,
            server,
            http,
        )
    server.stop()
    harness.close()


# -- visitors, through the widget API (as the chatbox does) ---------------------------------------


@dataclass
class Visitor:
    env: Env
    token: str
    session_id: str

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Origin": self.env.host.origin}

    def say(self, body: str) -> httpx.Response:
        return self.env.http.post(
            "/api/widget/v1/session/messages",
            json={"client_id": secrets.token_hex(8), "type": "text", "body": body},
            headers=self._headers(),
        )

    def profile(self, **fields: Any) -> None:
        response = self.env.http.patch(
            "/api/widget/v1/session/profile", json=fields, headers=self._headers()
        )
        assert response.status_code == 200, response.text


def open_session(env: Env, website_id: str) -> httpx.Response:
    return env.http.post(
        f"/api/widget/v1/websites/{website_id}/session",
        json={"page": {"url": "https://shop.example/", "title": "Home", "referrer": ""}},
        headers={"Origin": env.host.origin},
    )


def new_visitor(env: Env, website_id: str | None = None) -> Visitor:
    response = open_session(env, website_id or env.shop_id)
    assert response.status_code == 201, response.text
    data = response.json()
    return Visitor(env, data["token"], data["session"]["id"])


def chatting(env: Env, *lines: str, **profile: Any) -> Visitor:
    """A visitor of the shop who wrote `lines` (so their session is permanent)."""
    visitor = new_visitor(env)
    for line in lines:
        response = visitor.say(line)
        assert response.status_code in (200, 201), response.text
    if profile:
        visitor.profile(**profile)
    return visitor


def conversation_of(env: Env, session_id: str) -> str:
    found = env.harness.scalar("SELECT id FROM conversations WHERE session_id = :s", s=session_id)
    assert found, f"no conversation for session {session_id}"
    return str(found)


def later(env: Env) -> None:
    """The server's clock moves on: what a test does comes after what the tests before did."""
    env.harness.clock.advance(timedelta(minutes=3))


def screenshot(page: Page, name: str) -> None:
    """docs/screenshots/NAME.png, without the passing toast."""
    page.evaluate("() => document.getElementById('toasts').replaceChildren()")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def stored_settings(env: Env, website_id: str) -> dict[str, Any]:
    raw = env.harness.scalar("SELECT settings FROM websites WHERE id = :id", id=website_id)
    found: dict[str, Any] = json.loads(raw) if isinstance(raw, str) else raw
    return found


# -- the inbox in a browser ------------------------------------------------------------------------


def watch_errors(page: Page) -> list[str]:
    """Console errors (CSP violations included) and dialogs (alert, confirm): none may come."""
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))

    def on_dialog(dialog: Any) -> None:
        errors.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return errors


def sign_in(new_context: NewContext, env: Env, who: Operator, hash_: str = "#/") -> Page:
    """Logged in through the API (tests/test_inbox.py tests the login screen), the website
    remembered (as the switcher does), then the inbox opened at `hash_`."""
    context: BrowserContext = new_context()
    log_in(context, env.url, who)
    page = context.new_page()
    page.goto(f"{env.url}/app{hash_}")
    expect(page.locator("#availability")).to_be_visible()
    return page


def on_website(page: Page, env: Env, website_id: str, hash_: str) -> None:
    """Choose the website in the switcher, then go to `hash_`."""
    page.select_option("#website", website_id)
    expect(page.locator("#website")).to_have_value(website_id)
    page.evaluate("(h) => { location.hash = h; }", hash_)


def save_website_settings(page: Page) -> None:
    """Submit the website's settings and wait until the page is drawn again with what was stored
    (a saved form is replaced by a new one): the next change is made on that one, not on a form
    about to be replaced, which would lose it."""
    form = page.locator("form[aria-label='Website settings']")
    before = form.element_handle()
    form.locator("button[type=submit]").click()
    page.wait_for_function("form => !form.isConnected", arg=before)


def api_as(page: Page, env: Env, method: str, path: str, body: Any = None) -> Any:
    """An /api/v1 call with the page's login (cookie and CSRF header), as the inbox makes it."""
    context = page.context
    csrf = context.request.get(f"{env.url}/api/v1/me").json()["csrf_token"]
    response = context.request.fetch(
        f"{env.url}/api/v1{path}",
        method=method,
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"},
        data=json.dumps(body) if body is not None else None,
    )
    return response
