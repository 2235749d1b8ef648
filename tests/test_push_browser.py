"""The inbox as an installable app, in headless Chromium against a real server (docs/inbox.md,
"Installable app"): a valid manifest with its icons, the service worker registered with the
scope /app/, a push shown as a notification (delivered through the DevTools protocol, as a push
service would), the notification's conversation opened, and what was read kept for offline
reading. Only SQLite: the browser's side does not depend on the database."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from causerie.actions.messages import do_send_session_message
from causerie.actions.sessions import do_open_session
from causerie.actions.websites import do_create_website
from causerie.clock import ManualClock
from causerie.domain.models import Actor, PageView, Role
from causerie.tokens import new_id
from tests.browser_support import (
    CauserieServer,
    NewContext,
    Operator,
    ThreadedHarness,
    add_operator,
    log_in,
    open_context,
    served_settings,
)
from tests.support import wait_until

pytest_plugins = ["tests.browser_support"]  # browser, new_context

ORIGIN = "https://shop.example"


@dataclass
class Env:
    url: str
    harness: ThreadedHarness
    website_id: str
    agent: Operator
    conversation_id: str
    server: CauserieServer


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    folder = tmp_path_factory.mktemp("installable")
    url, port, settings = served_settings(folder)
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    harness = ThreadedHarness(settings, clock)
    rt = harness.rt
    shop = harness.run(do_create_website(rt, Actor.cli(), "Demo shop", [ORIGIN]))
    agent = add_operator(harness, "camille@shop.example", "Camille Martin", [(shop.id, Role.AGENT)])

    async def visitor() -> str:
        opened = await do_open_session(
            rt, website_id=shop.id, token=None, page=PageView(url=f"{ORIGIN}/"), ip="198.51.100.9",
            origin=ORIGIN,
        )  # fmt: skip
        sent = await do_send_session_message(
            rt, opened.session.id, client_id=new_id(), body="Do you ship to Lyon?"
        )
        return sent.message.conversation_id

    conversation_id = harness.run(visitor())
    server = CauserieServer(settings, clock, port=port)
    yield Env(url, harness, shop.id, agent, conversation_id, server)
    server.stop()
    harness.close()


@pytest.fixture(scope="module")
def installed(browser: Any, env: Env) -> Iterator[tuple[BrowserContext, Page]]:
    """The agent's inbox at /app/, its service worker registered and in control, notifications
    allowed: one page for the module's tests, which run in order."""
    context = open_context(browser, service_workers="allow")
    context.grant_permissions(["notifications"], origin=env.url)
    log_in(context, env.url, env.agent)
    page = context.new_page()
    page.goto(env.url + "/app/")
    expect(page.locator("#availability")).to_be_visible()
    scope = page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == env.url + "/app/"
    page.reload()  # now under the worker's control
    expect(page.locator("#availability")).to_be_visible()
    assert page.evaluate("Boolean(navigator.serviceWorker.controller)")
    yield context, page
    context.close()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_manifest_is_valid_and_its_icons_are_served(env: Env) -> None:
    with httpx.Client(base_url=env.url) as http:
        shell = http.get("/app/")
        assert '<link rel="manifest" href="/app/manifest.webmanifest">' in shell.text
        answer = http.get("/app/manifest.webmanifest")
        assert answer.headers["content-type"].startswith("application/manifest+json")
        manifest = answer.json()
        assert manifest["name"] and manifest["short_name"]
        assert manifest["start_url"].startswith(manifest["scope"]) and manifest["scope"] == "/app/"
        assert manifest["display"] in ("standalone", "fullscreen", "minimal-ui")
        sizes = set()
        for icon in manifest["icons"]:
            fetched = http.get(icon["src"])
            assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/png"
            width, height = png_size(fetched.content)
            assert icon["sizes"] == f"{width}x{height}"
            sizes.add(width)
        assert {192, 512} <= sizes  # what browsers require to offer installing
        assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])
        worker = http.get("/app/sw.js")
        assert worker.headers["content-type"].startswith("text/javascript")
        assert "__VERSION__" not in worker.text and "__SHELL__" not in worker.text
        assert http.get("/app/icons/nope.png").status_code == 404


def test_a_push_is_shown_as_a_notification(
    installed: tuple[BrowserContext, Page], env: Env
) -> None:
    context, page = installed
    cdp = context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    wait_until(
        # Playwright hands over protocol events while it runs: `evaluate` lets it run.
        lambda: (
            page.evaluate("0") == 0
            and any(r["scopeURL"] == env.url + "/app/" for r in registrations)
        ),
        10,
        lambda: f"no registration reported: {registrations}",
    )
    (registration,) = {r["registrationId"] for r in registrations if not r["isDeleted"]}
    data = {
        "type": "conversation.new",
        "conversation_id": env.conversation_id,
        "title": "New conversation · Demo shop",
        "body": "A visitor wrote on Demo shop. Open the inbox to read it.",
        "url": f"/app/#/c/{env.conversation_id}",
    }
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": env.url, "registrationId": registration, "data": json.dumps(data)},
    )
    shown = """async () => {
        const registration = await navigator.serviceWorker.ready;
        return (await registration.getNotifications()).map((n) => ({
            title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url }));
    }"""
    notes: list[dict[str, Any]] = []

    def arrived() -> bool:
        notes[:] = page.evaluate(shown)
        return bool(notes)

    wait_until(arrived, 10, lambda: "no notification shown")
    assert notes == [
        {
            "title": data["title"],
            "body": data["body"],
            "tag": f"causerie-{env.conversation_id}",
            "url": data["url"],
        }
    ]
    cdp.detach()


def test_a_clicked_notification_opens_its_conversation(
    installed: tuple[BrowserContext, Page], env: Env
) -> None:
    _, page = installed
    # What the worker tells an open inbox when its notification is clicked (sw.js).
    page.evaluate(
        """(id) => navigator.serviceWorker.dispatchEvent(
            new MessageEvent("message", { data: { type: "open", conversation_id: id } }))""",
        env.conversation_id,
    )
    expect(page).to_have_url(f"{env.url}/app/#/c/{env.conversation_id}")
    expect(page.locator(".log article.message .body").first).to_have_text("Do you ship to Lyon?")


def test_what_was_read_stays_readable_offline(
    installed: tuple[BrowserContext, Page], env: Env
) -> None:
    context, page = installed
    expect(page.locator(".log article.message .body").first).to_have_text("Do you ship to Lyon?")
    context.set_offline(True)
    try:
        page.reload()
        expect(page.locator(".log article.message .body").first).to_have_text(
            "Do you ship to Lyon?"
        )
    finally:
        context.set_offline(False)


def test_the_settings_page_has_the_device_switch_and_previews(
    installed: tuple[BrowserContext, Page], env: Env, new_context: NewContext
) -> None:
    _, page = installed
    page.goto(f"{env.url}/app/#/settings/account")
    expect(page.locator("#push-device")).to_be_visible()
    expect(page.get_by_label("Notifications on this device")).to_be_visible()
    previews = page.locator("#push-previews")
    expect(previews).not_to_be_checked()
    previews.check()
    wait_until(
        lambda: page.evaluate(
            "fetch('/api/v1/push/preferences').then((r) => r.json()).then((d) => d.push_previews)"
        ),
        10,
        lambda: "previews not saved",
    )
