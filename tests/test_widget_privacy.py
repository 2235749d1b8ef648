"""The visitor's privacy controls in the chatbox, in real headless Chromium (docs/widget.md):
the menu (download, erase, notice, withdraw) and what erasing leaves. The consent gate and the
notice are in tests/test_widget_privacy_consent.py; strict mode (`CAUSERIE_SESSION_START=open`)
and links in messages in tests/test_widget_privacy_strict.py; both use this module's helpers.

Same set-up as tests/test_widget.py (tests/widget_support.py): a host page on another origin than
the Causerie server, SQLite, a real agent socket.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from causerie.actions.operators import do_add_operator, do_create_api_token
from causerie.actions.websites import do_update_website
from causerie.clock import ManualClock
from causerie.domain.models import Actor, Role, Scope
from tests import widget_support
from tests.browser_support import CauserieServer, HostSite, NewContext, ThreadedHarness, host_page
from tests.live import Live
from tests.widget_support import Chatbox, Desk, Shop, fail_on_dialogs, visit

# tests/widget_support.py's fixtures: SQLite, the harness off Playwright's loop, a shop, a server.
database_url = widget_support.database_url
harness = widget_support.harness
shop = widget_support.shop
start_causerie = widget_support.start_causerie
causerie = widget_support.causerie
desks = widget_support.desks

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site, host


class Privacy:
    """The chatbox's privacy controls, through its shadow root."""

    def __init__(self, chat: Chatbox) -> None:
        self.chat = chat
        self.page = chat.page
        self.toggle = chat.host.locator('[part="menu-button"]')
        self.menu = chat.host.locator('[part="menu"]')
        self.sheet = chat.host.locator('[part="privacy"]')
        self.form = chat.host.locator("form.compose")

    def item(self, name: str) -> Any:
        return self.menu.get_by_role("menuitem", name=name)

    def open_menu(self) -> None:
        self.toggle.click()
        expect(self.menu).to_be_visible()

    def choose(self, name: str) -> None:
        self.open_menu()
        self.item(name).click()
        expect(self.menu).to_be_hidden()

    def item_names(self) -> list[str]:
        self.open_menu()
        names: list[str] = self.menu.get_by_role("menuitem").all_inner_texts()
        self.page.keyboard.press("Escape")
        expect(self.menu).to_be_hidden()
        return names


def opened(chat: Chatbox) -> Privacy:
    """Open the panel and wait for the privacy controls (loaded on first opening)."""
    chat.open()
    privacy = Privacy(chat)
    expect(privacy.toggle).to_be_visible()
    return privacy


def set_settings(harness: ThreadedHarness, shop: Shop, **settings: Any) -> dict[str, Any]:
    website = harness.run(
        do_update_website(
            harness.rt, Actor.cli(), shop.website_id, name=None, origins=None, settings=settings
        )
    )
    return website.settings


def session_cookies(page: Page) -> list[dict[str, Any]]:
    return [c for c in page.context.cookies() if c["name"].startswith("causerie_session_")]


def counts(harness: ThreadedHarness) -> tuple[int, int, int]:
    return (
        harness.scalar("SELECT count(*) FROM sessions"),
        harness.scalar("SELECT count(*) FROM conversations"),
        harness.scalar("SELECT count(*) FROM messages"),
    )


# This server sends no mail: no "Email me this conversation" (it could only answer that it
# cannot; tests/test_mail.py sends one).
MENU = [
    "Download my data",
    "Delete this conversation",
    "Privacy notice",
]


# -- the menu: download, erase (P9) ----------------------------------------------------------------


def test_p9_visitor_downloads_their_data_from_the_menu(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    desks: list[Live],
    tmp_path: Path,
) -> None:
    desk = Desk(causerie.url, shop, desks)
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    page, chat = visit(new_context, host.url("/"))
    dialogs = fail_on_dialogs(page)
    privacy = opened(chat)
    chat.send_and_wait("Where is order A-1042?")
    seen = desk.wait_message("Where is order A-1042?")
    desk.reply("On its way.", conversation_id=seen["conversation_id"])
    expect(chat.bodies).to_have_text(["Where is order A-1042?", "On its way."])

    # The menu button: a real button that says it opens a menu, and whether it is open.
    expect(privacy.toggle).to_have_attribute("aria-haspopup", "menu")
    expect(privacy.toggle).to_have_attribute("aria-expanded", "false")
    expect(privacy.toggle).to_have_accessible_name("Chat options")
    # No consent asked by this website: no "Withdraw consent".
    assert privacy.item_names() == MENU

    # Keyboard alone: Enter opens it on its first item, arrows move, Escape closes the menu only.
    privacy.toggle.focus()
    page.keyboard.press("Enter")
    expect(privacy.menu).to_be_visible()
    expect(privacy.toggle).to_have_attribute("aria-expanded", "true")
    expect(privacy.item("Download my data")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(privacy.item("Delete this conversation")).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")  # wraps around to the last item
    expect(privacy.item("Privacy notice")).to_be_focused()
    page.keyboard.press("Escape")
    expect(privacy.menu).to_be_hidden()
    expect(privacy.toggle).to_have_attribute("aria-expanded", "false")
    expect(privacy.toggle).to_be_focused()
    expect(chat.panel).to_be_visible()

    # Download my data: a JSON file, and the page stays where it is.
    url = page.url
    privacy.toggle.focus()
    page.keyboard.press("Enter")
    with page.expect_download() as info:
        page.keyboard.press("Enter")  # on "Download my data"
    download = info.value
    assert download.suggested_filename == "my-chat-data.json"
    target = tmp_path / "my-chat-data.json"
    download.save_as(target)
    document = json.loads(target.read_text("utf-8"))
    assert document["query"] == {"session_id": chat.session_id()}
    text = json.dumps(document)
    assert "Where is order A-1042?" in text and "On its way." in text
    assert page.url == url
    expect(chat.panel).to_be_visible()
    assert len(page.context.pages) == 1
    assert dialogs == []


def test_p9_visitor_deletes_their_conversation_and_nothing_is_left(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    desks: list[Live],
    harness: ThreadedHarness,
) -> None:
    desk = Desk(causerie.url, shop, desks)
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    context = new_context()
    page = context.new_page()
    sockets: list[Any] = []
    page.on("websocket", lambda socket: sockets.append(socket))
    dialogs = fail_on_dialogs(page)
    page.goto(host.url("/"))
    chat = Chatbox(page).wait_started()
    privacy = opened(chat)
    page.evaluate("() => $causerie.push(['set', 'user:email', 'ada@example.org'])")
    chat.send_and_wait("Please forget me afterwards")
    seen = desk.wait_message("Please forget me afterwards")
    desk.reply("Sure.", conversation_id=seen["conversation_id"])
    expect(chat.bodies).to_have_count(2)
    old_id = chat.session_id()
    assert counts(harness) == (1, 1, 2)
    assert len(session_cookies(page)) == 1

    # A confirmation inside the chatbox says what goes, for good; Cancel changes nothing.
    privacy.choose("Delete this conversation")
    expect(privacy.sheet).to_be_visible()
    expect(privacy.sheet).to_contain_text("messages")
    expect(privacy.sheet).to_contain_text("profile")
    expect(privacy.sheet).to_contain_text("IP address")
    expect(privacy.sheet).to_contain_text("for good")
    expect(privacy.form).to_be_hidden()
    cancel = privacy.sheet.get_by_role("button", name="Cancel")
    expect(cancel).to_be_focused()  # the safe choice has the focus
    cancel.click()
    expect(privacy.sheet).to_be_hidden()
    expect(privacy.form).to_be_visible()
    assert counts(harness) == (1, 1, 2)

    privacy.choose("Delete this conversation")
    # The destructive choice looks destructive: red, whatever the website's accent colour.
    confirm = privacy.sheet.get_by_role("button", name="Delete for good")
    expect(confirm).to_have_class("danger")
    assert confirm.evaluate(BACKGROUND) == DANGER_RED
    assert privacy.sheet.get_by_role("button", name="Cancel").evaluate(BACKGROUND) != DANGER_RED
    confirm.click()
    expect(privacy.sheet).to_contain_text("nothing of it is left")
    expect(chat.items).to_have_count(0)

    # Nothing is left: no row on the server, no cookie on the host page, no open socket.
    assert counts(harness) == (0, 0, 0)
    assert harness.scalar("SELECT count(*) FROM events") == 0
    assert session_cookies(page) == []
    assert page.evaluate("() => document.cookie") == ""
    assert page.evaluate("() => window.$causerie.get('session:id')") is None
    assert sockets and all(socket.is_closed() for socket in sockets)
    page.wait_for_timeout(700)  # longer than the first reconnection delay: none is attempted
    assert len(sockets) == 1
    assert harness.scalar("SELECT count(*) FROM sessions") == 0

    # Opened again, the chatbox starts afresh: a new temporary session, a new cookie, no message.
    chat.launcher.click()
    expect(chat.panel).to_be_hidden()
    chat.open()
    page.wait_for_function("() => !!window.$causerie.get('session:id')")
    new_id = chat.session_id()
    assert new_id != old_id
    expect(privacy.sheet).to_be_hidden()
    expect(privacy.form).to_be_visible()
    assert harness.rows("SELECT id, state FROM sessions") == [(new_id, "temporary")]
    assert len(session_cookies(page)) == 1
    expect(chat.items).to_have_count(0)
    chat.send_and_wait("A fresh start")
    assert harness.scalar("SELECT count(*) FROM messages") == 1
    assert dialogs == []


BACKGROUND = "(node) => getComputedStyle(node).backgroundColor"
DANGER_RED = "rgb(180, 35, 24)"


def _erase(chat: Chatbox, privacy: Privacy) -> None:
    privacy.choose("Delete this conversation")
    privacy.sheet.get_by_role("button", name="Delete for good").click()
    expect(privacy.sheet).to_contain_text("nothing of it is left")
    expect(chat.items).to_have_count(0)


def test_p9_after_deleting_their_conversation_the_visitor_can_write_again_at_once(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    desks: list[Live],
    harness: ThreadedHarness,
) -> None:
    desk = Desk(causerie.url, shop, desks)
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    page, chat = visit(new_context, host.url("/"))
    privacy = opened(chat)
    chat.send_and_wait("Forget me, then let me ask again")
    old_id = chat.session_id()
    _erase(chat, privacy)

    # The composer stays, with the focus; nothing exists on the server until the visitor writes.
    expect(privacy.form).to_be_visible()
    expect(chat.composer).to_be_focused()
    assert counts(harness) == (0, 0, 0)
    assert session_cookies(page) == []

    # The next message opens a new temporary session, as a first visit would, and goes out.
    chat.send_and_wait("A new question")
    assert desk.wait_message("A new question")["body"] == "A new question"
    new_id = chat.session_id()
    assert new_id not in (None, old_id)
    assert harness.rows("SELECT id, state FROM sessions") == [(new_id, "permanent")]
    assert harness.rows("SELECT body FROM messages") == [("A new question",)]
    assert len(session_cookies(page)) == 1
    expect(privacy.sheet).to_be_hidden()  # the erasure's notice is gone with the old session
    expect(chat.bodies).to_have_text(["A new question"])


def test_p20_a_conversation_the_website_deletes_leaves_the_open_chatbox_at_once(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    desks: list[Live],
    harness: ThreadedHarness,
) -> None:
    """The server ends the deleted session's socket; the chatbox forgets the thread and the
    session (it showed the deleted thread until a reload), and the visitor's next message opens a
    new one."""
    owner = "owner@shop.example"
    harness.run(
        do_add_operator(harness.rt, Actor.cli(), owner, website_id=shop.website_id, role=Role.OWNER)
    )
    _, owner_token = harness.run(
        do_create_api_token(harness.rt, Actor.cli(), owner, name="t", scopes=frozenset(Scope))
    )
    desk = Desk(causerie.url, shop, desks)
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    _, chat = visit(new_context, host.url("/"))
    chat.open()
    chat.send_and_wait("Delete this thread, please")
    conversation_id = desk.wait_message("Delete this thread, please")["conversation_id"]
    old_id = chat.session_id()
    deleted = httpx.delete(
        f"{causerie.url}/api/v1/conversations/{conversation_id}",
        headers={"Authorization": f"Bearer {owner_token}"},
    )
    assert deleted.status_code == 200, deleted.text
    expect(chat.items).to_have_count(0)
    chat.page.wait_for_function("() => window.$causerie.get('session:id') === undefined")
    assert session_cookies(chat.page) == []
    chat.send_and_wait("A new question")
    assert desk.wait_message("A new question")["conversation_id"] != conversation_id
    assert chat.session_id() not in (None, old_id)
    expect(chat.bodies).to_have_text(["A new question"])


def test_p15_an_idle_tab_whose_session_expired_opens_no_other_until_the_visitor_writes(
    new_context: NewContext,
    host: HostSite,
    start_causerie: widget_support.StartServer,
    shop: Shop,
    harness: ThreadedHarness,
    clock: ManualClock,
) -> None:
    """The purge ends an expired temporary session's socket (`invalid_session`): the chatbox
    forgets it and opens no other by itself (an idle tab opened one, with its address, every
    time the last expired); the visitor's next message opens one."""
    causerie = start_causerie(purge_interval="1m")
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    page, chat = visit(new_context, host.url("/"))
    old_id = chat.session_id()
    assert harness.scalar("SELECT count(*) FROM sessions") == 1
    clock.advance(timedelta(minutes=31))
    page.wait_for_function("() => window.$causerie.get('session:id') === undefined")
    assert session_cookies(page) == []
    # Nothing opens by itself: the table stays empty while nobody uses the chatbox.
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        assert harness.scalar("SELECT count(*) FROM sessions") == 0
        page.wait_for_timeout(100)
    chat.open()
    chat.send_and_wait("Still there?")
    assert chat.session_id() not in (None, old_id)
    assert harness.rows("SELECT state FROM sessions") == [("permanent",)]


def test_p9_after_deleting_their_conversation_the_notice_comes_first_where_consent_is_asked(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    harness: ThreadedHarness,
) -> None:
    set_settings(harness, shop, consent_required=True, consent_notice="Our notice.")
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    _, chat = visit(new_context, host.url("/"))
    privacy = opened(chat)
    privacy.sheet.get_by_role("button", name="Accept").click()
    chat.send_and_wait("Forget me")
    _erase(chat, privacy)

    # No composer that would drop a message: a button starts again, and the notice comes first.
    expect(privacy.form).to_be_hidden()
    again = privacy.sheet.get_by_role("button", name="Start a new conversation")
    expect(again).to_be_focused()
    assert counts(harness) == (0, 0, 0)
    again.click()
    expect(privacy.sheet.locator(".notice-text")).to_have_text("Our notice.")
    assert harness.rows("SELECT state FROM sessions") == [("temporary",)]
    privacy.sheet.get_by_role("button", name="Accept").click()
    expect(privacy.form).to_be_visible()
    chat.send_and_wait("Starting over")
    assert harness.rows("SELECT body FROM messages") == [("Starting over",)]
