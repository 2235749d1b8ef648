"""What the host page sets through the SDK (`["set", "user:email", ...]`) on a website that asks
for consent (P9, docs/widget.md): held in the page while the visitor has not accepted, sent when
they accept, dropped when they refuse. In real headless Chromium against a real server.

Same set-up as tests/test_widget.py (tests/widget_support.py): a host page on another origin than
the Causerie server, SQLite; what the server stored is read through the agent API.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from playwright.sync_api import Page, WebSocket, expect

from tests import widget_support
from tests.browser_support import CauserieServer, HostSite, NewContext, ThreadedHarness, host_page
from tests.test_widget_privacy import Privacy, opened, set_settings
from tests.widget_support import WAIT, Shop, visit

# tests/widget_support.py's fixtures: SQLite, the harness off Playwright's loop, a shop, a server.
database_url = widget_support.database_url
harness = widget_support.harness
shop = widget_support.shop
start_causerie = widget_support.start_causerie
causerie = widget_support.causerie

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site, host

EMPTY: dict[str, Any] = {"nickname": None, "email": None, "phone": None, "data": {}}


class Wire:
    """Everything the page sends to the Causerie server, in order: HTTP requests (method, path,
    body) and WebSocket frames. `mark` notes a step of the test among them.

    Playwright's sync API hands events over only while one of its calls runs: `sync` makes one
    round trip to the page, so that what the page sent before is in the log."""

    def __init__(self, page: Page, server_url: str) -> None:
        self.page = page
        self.server_url = server_url
        self.log: list[str] = []
        page.on("request", self._request)
        page.on("websocket", self._socket)

    def _request(self, request: Any) -> None:
        if request.url.startswith(self.server_url):
            body = request.post_data or ""
            self.log.append(f"{request.method} {request.url[len(self.server_url) :]} {body}")

    def _socket(self, socket: WebSocket) -> None:
        socket.on("framesent", lambda payload: self.log.append(f"WS {payload!s}"))

    def sync(self) -> None:
        self.page.evaluate("() => 0")

    def mark(self, step: str) -> None:
        self.sync()
        self.log.append(f"-- {step}")

    def before(self, step: str) -> list[str]:
        return self.log[: self.log.index(f"-- {step}")]

    def carrying(self, *values: str, upto: str | None = None) -> list[str]:
        """What was sent (up to the step `upto`) that holds any of these values."""
        self.sync()
        sent = self.before(upto) if upto else self.log
        return [line for line in sent if any(value in line for value in values)]

    def profile_patches(self) -> list[str]:
        self.sync()
        return [
            line for line in self.log if line.startswith("PATCH /api/widget/v1/session/profile")
        ]


class AgentApi:
    """The website's agent, reading a visitor's profile through /api/v1."""

    def __init__(self, server_url: str, shop: Shop) -> None:
        self.client = httpx.Client(
            base_url=server_url,
            headers={"Authorization": f"Bearer {shop.agent_token}"},
            timeout=5,
        )

    def profile(self, session_id: str) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/sessions/{session_id}")
        response.raise_for_status()
        profile: dict[str, Any] = response.json()["session"]["profile"]
        return profile

    def wait_profile(self, session_id: str, expected: dict[str, Any]) -> None:
        deadline = time.monotonic() + WAIT
        while (seen := self.profile(session_id)) != expected:
            assert time.monotonic() < deadline, f"the profile stayed {seen}, not {expected}"
            time.sleep(0.05)

    def close(self) -> None:
        self.client.close()


def queued(*commands: list[Any]) -> str:
    """A host page's script that queues SDK commands before the chatbox has loaded."""
    return f"<script>window.$causerie = {json.dumps(list(commands))};</script>"


def push(page: Page, *commands: list[Any]) -> None:
    page.evaluate("(commands) => commands.forEach((c) => $causerie.push(c))", list(commands))


def profile_patch(carrying: str) -> Any:
    """Matches the chatbox's request that saves a profile holding this value."""
    return lambda request: (
        request.method == "PATCH"
        and request.url.endswith("/api/widget/v1/session/profile")
        and carrying in (request.post_data or "")
    )


def nothing_stored_in_the_browser(page: Page, *values: str) -> None:
    """The held values are in the page's memory only: in no cookie and no storage."""
    storage = page.evaluate("""async () => ({
      local: localStorage.length,
      session: sessionStorage.length,
      databases: (await indexedDB.databases()).length,
    })""")
    assert storage == {"local": 0, "session": 0, "databases": 0}
    cookies = json.dumps(page.context.cookies())
    assert not [value for value in values if value in cookies]


# -- consent asked: held until the visitor accepts (P9) ------------------------------------------


def test_p9_sdk_profile_set_before_consent_waits_in_the_page_and_goes_on_accept(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    harness: ThreadedHarness,
) -> None:
    set_settings(harness, shop, consent_required=True, consent_notice="We keep chats a year.")
    host.pages["/"] = host_page(
        causerie.url,
        shop.website_id,
        before=queued(
            ["set", "user:email", "old@shop.example"],
            ["set", "user:nickname", "Old Nick"],
            ["set", "user:phone", "+33 1 23 45 67 89"],
            ["set", "session:data", {"plan": "free", "order": "A-1042"}],
        ),
    )
    page = new_context().new_page()
    wire = Wire(page, causerie.url)
    page.goto(host.url("/"))
    chat = widget_support.Chatbox(page).wait_started()
    session_id = chat.session_id()
    api = AgentApi(causerie.url, shop)
    try:
        # Set again before the visitor decides: the later value replaces the held one (custom
        # data merges key by key, as the server would have merged it).
        push(
            page,
            ["set", "user:email", "ada@example.org"],
            ["set", "user:nickname", "Ada Lovelace"],
            ["set", "session:data", {"plan": "pro"}],
        )
        privacy: Privacy = opened(chat)
        accept = privacy.sheet.get_by_role("button", name="Accept")
        expect(accept).to_be_visible()

        # Before Accept: nothing stored on the server, nothing sent, nothing kept in the browser.
        assert api.profile(session_id) == EMPTY
        assert harness.rows("SELECT email, nickname, phone FROM sessions") == [(None, None, None)]
        personal = ("old@shop.example", "Old Nick", "+33 1 23 45 67 89", "A-1042")
        latest = ("ada@example.org", "Ada Lovelace", '"pro"')
        wire.mark("accept")
        assert wire.carrying(*personal, *latest, upto="accept") == []
        assert wire.profile_patches() == []
        nothing_stored_in_the_browser(page, *personal, *latest)

        with page.expect_request(profile_patch('"order":"A-1042"')):
            accept.click()
        expect(privacy.form).to_be_visible()
        api.wait_profile(
            session_id,
            {
                "nickname": "Ada Lovelace",
                "email": "ada@example.org",
                "phone": "+33 1 23 45 67 89",
                "data": {"plan": "pro", "order": "A-1042"},
            },
        )
        # The replaced values never left the page.
        assert wire.carrying("old@shop.example", "Old Nick", '"free"') == []
        nothing_stored_in_the_browser(page, *personal, *latest)

        # Once consent is given, a value set goes at once.
        push(page, ["set", "user:email", "ada@work.example"])
        api.wait_profile(
            session_id,
            {
                "nickname": "Ada Lovelace",
                "email": "ada@work.example",
                "phone": "+33 1 23 45 67 89",
                "data": {"plan": "pro", "order": "A-1042"},
            },
        )
    finally:
        api.close()


def test_p9_sdk_profile_set_before_a_refusal_is_dropped_and_never_sent(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    harness: ThreadedHarness,
) -> None:
    set_settings(harness, shop, consent_required=True, consent_notice="We keep chats a year.")
    host.pages["/"] = host_page(
        causerie.url,
        shop.website_id,
        before=queued(
            ["set", "user:email", "ada@example.org"],
            ["set", "session:data", {"plan": "pro"}],
        ),
    )
    page = new_context().new_page()
    wire = Wire(page, causerie.url)
    page.goto(host.url("/"))
    chat = widget_support.Chatbox(page).wait_started()
    session_id = chat.session_id()
    api = AgentApi(causerie.url, shop)
    try:
        push(page, ["set", "user:nickname", "Ada Lovelace"])
        privacy = opened(chat)
        refuse = privacy.sheet.get_by_role("button", name="Refuse")
        refuse.click()
        expect(privacy.sheet).to_contain_text("nothing about you is sent")
        expect(refuse).to_have_count(0)
        expect(privacy.form).to_be_hidden()
        # Set after the refusal: dropped too.
        push(page, ["set", "user:phone", "+33 1 23 45 67 89"])

        # The visitor changes their mind and accepts: what was set before is gone for good, and
        # only what the page sets from now on is sent (in order: the last set is stored last).
        privacy.sheet.get_by_role("button", name="Accept").click()
        expect(privacy.form).to_be_visible()
        with page.expect_request(profile_patch("After consent")):
            push(page, ["set", "user:nickname", "After consent"])
        expected = {**EMPTY, "nickname": "After consent"}
        api.wait_profile(session_id, expected)
        personal = ("ada@example.org", "Ada Lovelace", '"pro"', "+33 1 23 45 67 89")
        assert wire.carrying(*personal) == []
        assert len(wire.profile_patches()) == 1
        assert harness.rows("SELECT email, phone FROM sessions") == [(None, None)]
        nothing_stored_in_the_browser(page, *personal)
    finally:
        api.close()


def test_p9_sdk_profile_refused_for_a_changed_notice_waits_for_the_new_acceptance(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    harness: ThreadedHarness,
) -> None:
    set_settings(harness, shop, consent_required=True, consent_notice="Version one.")
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    page = new_context().new_page()
    wire = Wire(page, causerie.url)
    page.goto(host.url("/"))
    chat = widget_support.Chatbox(page).wait_started()
    session_id = chat.session_id()
    api = AgentApi(causerie.url, shop)
    try:
        privacy = opened(chat)
        privacy.sheet.get_by_role("button", name="Accept").click()
        expect(privacy.form).to_be_visible()

        # The website changes its notice while the page is open: the page still believes consent
        # is given, so its next value is sent, refused by the server, and then held.
        set_settings(harness, shop, consent_notice="Version two.")
        with page.expect_request(profile_patch("ada@example.org")):
            push(page, ["set", "user:email", "ada@example.org"])
        expect(privacy.sheet.locator(".notice-text")).to_have_text("Version two.")
        refused = wire.profile_patches()
        assert len(refused) == 1
        push(page, ["set", "user:email", "ada@work.example"])  # replaces it, and is not sent
        expect(privacy.sheet.get_by_role("button", name="Refuse")).to_be_visible()
        assert api.profile(session_id) == EMPTY

        with page.expect_request(profile_patch("ada@work.example")):
            privacy.sheet.get_by_role("button", name="Accept").click()
        expect(privacy.form).to_be_visible()
        api.wait_profile(session_id, {**EMPTY, "email": "ada@work.example"})
        assert wire.profile_patches() == [
            *refused,
            'PATCH /api/widget/v1/session/profile {"email":"ada@work.example"}',
        ]
    finally:
        api.close()


# -- no consent asked: nothing changes -----------------------------------------------------------


def test_without_consent_asked_sdk_profile_values_go_at_once(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
) -> None:
    host.pages["/"] = host_page(
        causerie.url,
        shop.website_id,
        before=queued(
            ["set", "user:email", "ada@example.org"],
            ["set", "session:data", {"plan": "pro"}],
        ),
    )
    page, chat = visit(new_context, host.url("/"))
    api = AgentApi(causerie.url, shop)
    try:
        # The chatbox is never opened: no gate, the values are stored at once.
        expected = {**EMPTY, "email": "ada@example.org", "data": {"plan": "pro"}}
        api.wait_profile(chat.session_id(), expected)
        push(page, ["set", "user:nickname", "Ada Lovelace"])
        api.wait_profile(chat.session_id(), {**expected, "nickname": "Ada Lovelace"})
    finally:
        api.close()
