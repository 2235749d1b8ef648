"""The visitor's privacy controls in the chatbox, in real headless Chromium (docs/widget.md):
the menu (download, erase, notice, withdraw), the consent gate, strict mode
(`CAUSERIE_SESSION_START=open`) and links in messages.

Same set-up as tests/test_widget.py (tests/widget_support.py): a host page on another origin than
the Causerie server, SQLite, a real agent socket.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Page, Route, expect

from causerie.actions.operators import do_add_operator, do_create_api_token
from causerie.actions.websites import do_update_website
from causerie.domain.models import Actor, Role, Scope
from tests import widget_support
from tests.browser_support import CauserieServer, HostSite, NewContext, ThreadedHarness, host_page
from tests.live import Live
from tests.widget_support import Chatbox, Desk, Shop, StartServer, fail_on_dialogs, visit

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
    """The server ends the deleted session's socket; the chatbox forgets the thread and starts a
    new session, where the visitor writes on (it showed the deleted thread until a reload)."""
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
    chat.page.wait_for_function(
        "(old) => ![null, undefined, old].includes(window.$causerie.get('session:id'))", arg=old_id
    )
    chat.send_and_wait("A new question")
    assert desk.wait_message("A new question")["conversation_id"] != conversation_id
    expect(chat.bodies).to_have_text(["A new question"])


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


# -- consent (P9) ---------------------------------------------------------------------------------


def test_p9_consent_is_asked_before_the_first_message_and_recorded_with_its_version(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    harness: ThreadedHarness,
) -> None:
    settings = set_settings(harness, shop, consent_required=True, consent_notice="Version one.")
    assert settings["consent_version"] == 1
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    page, chat = visit(new_context, host.url("/"))
    privacy = opened(chat)

    # The composer is replaced by the notice, a link to the full notice and "Accept".
    expect(privacy.sheet).to_be_visible()
    expect(privacy.form).to_be_hidden()
    expect(privacy.sheet.locator(".notice-text")).to_have_text("Version one.")
    link = privacy.sheet.get_by_role("link", name="Read the privacy notice")
    expect(link).to_have_attribute("href", f"{causerie.url}/privacy/{shop.website_id}?lang=en")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    accept = privacy.sheet.get_by_role("button", name="Accept")
    expect(accept).to_be_focused()

    # The website changes its notice while the visitor reads version one. (Changed first: the
    # server checks messages against a website cached for up to 5 s, see docs/widget.md.)
    settings = set_settings(harness, shop, consent_notice="Version two.")
    assert settings["consent_version"] == 2
    # No message can be sent meanwhile, not even through the SDK, nor a profile saved.
    page.evaluate("""() => {
      $causerie.push(["do", "message:send", "sneaky"]);
      $causerie.push(["set", "user:email", "ada@example.org"]);
    }""")
    page.wait_for_timeout(300)
    expect(chat.items).to_have_count(0)
    assert harness.scalar("SELECT count(*) FROM messages") == 0
    assert harness.scalar("SELECT email FROM sessions") is None

    # Accepting version one is refused as stale; the chatbox shows version two, to accept in turn.
    accept.click()
    expect(privacy.sheet.locator(".notice-text")).to_have_text("Version two.")
    assert harness.scalar("SELECT consent_version FROM sessions") is None
    privacy.sheet.get_by_role("button", name="Accept").click()
    expect(privacy.sheet).to_be_hidden()
    expect(privacy.form).to_be_visible()
    expect(chat.composer).to_be_focused()
    [(version, accepted_at)] = harness.rows("SELECT consent_version, consent_at FROM sessions")
    assert version == 2
    assert accepted_at is not None

    chat.send_and_wait("Now I may write")
    assert harness.rows("SELECT body FROM messages") == [("Now I may write",)]

    # The same visitor on another page: consent is remembered, no gate.
    page.reload()
    chat = Chatbox(page).wait_started()
    privacy = opened(chat)
    expect(privacy.form).to_be_visible()
    expect(privacy.sheet).to_be_hidden()


def test_p9_consent_gate_in_french_with_the_default_sentence(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    harness: ThreadedHarness,
) -> None:
    set_settings(harness, shop, consent_required=True, locale="fr")
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    _, chat = visit(new_context, host.url("/"))
    privacy = opened(chat)
    expect(privacy.sheet.locator(".notice-text")).to_contain_text("Avant d'écrire")
    link = privacy.sheet.get_by_role("link", name="Lire l'information sur la confidentialité")
    expect(link).to_have_attribute("href", f"{causerie.url}/privacy/{shop.website_id}?lang=fr")
    expect(privacy.sheet.get_by_role("button", name="J'accepte")).to_be_visible()
    expect(privacy.toggle).to_have_accessible_name("Options de la discussion")


def test_p9_withdrawing_consent_stops_collection_and_offers_erasure(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    harness: ThreadedHarness,
) -> None:
    set_settings(harness, shop, consent_required=True, consent_notice="We keep chats a year.")
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    page, chat = visit(new_context, host.url("/"))
    privacy = opened(chat)
    privacy.sheet.get_by_role("button", name="Accept").click()
    expect(privacy.form).to_be_visible()
    chat.send_and_wait("Hello")
    assert privacy.item_names() == [*MENU, "Withdraw consent"]

    privacy.choose("Withdraw consent")
    expect(privacy.sheet).to_contain_text("nothing more is collected")
    expect(privacy.form).to_be_hidden()
    assert harness.rows("SELECT consent_version, consent_at FROM sessions") == [(None, None)]
    assert privacy.item_names() == MENU  # nothing left to withdraw

    # Nothing more is collected: neither from the chatbox nor by calling the API directly.
    page.evaluate("() => $causerie.push(['do', 'message:send', 'after withdrawal'])")
    [cookie] = session_cookies(page)
    refused = httpx.post(
        f"{causerie.url}/api/widget/v1/session/messages",
        headers={"Authorization": f"Bearer {cookie['value']}"},
        json={"client_id": "after-withdrawal", "type": "text", "body": "direct"},
        timeout=5,
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "consent_required"
    page.wait_for_timeout(300)
    assert harness.rows("SELECT body FROM messages") == [("Hello",)]

    # Erasure is offered right there.
    privacy.sheet.get_by_role("button", name="Delete this conversation").click()
    expect(privacy.sheet).to_contain_text("IP address")
    privacy.sheet.get_by_role("button", name="Delete for good").click()
    expect(privacy.sheet).to_contain_text("nothing of it is left")
    assert counts(harness) == (0, 0, 0)
    assert session_cookies(page) == []


# -- the privacy notice (P8) -----------------------------------------------------------------------


def test_p8_chatbox_links_to_the_privacy_notice(
    new_context: NewContext,
    host: HostSite,
    start_causerie: StartServer,
    shop: Shop,
) -> None:
    causerie = start_causerie(chat_ip_retention="90d", temporary_session_ttl="20m")
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    for locale, lang, label, title, retention in (
        ("en-US", "en", "Privacy notice", "Privacy of Demo shop's chat", "90 days"),
        ("fr-FR", "fr", "Information sur la confidentialité", "Confidentialité", "90 jours"),
    ):
        page, chat = visit(new_context, host.url("/"), locale=locale)
        privacy = opened(chat)
        privacy.open_menu()
        link = privacy.item(label)
        expect(link).to_have_attribute(
            "href", f"{causerie.url}/privacy/{shop.website_id}?lang={lang}"
        )
        expect(link).to_have_attribute("target", "_blank")
        expect(link).to_have_attribute("rel", "noopener noreferrer")
        with page.context.expect_page() as info:
            link.click()
        notice = info.value
        notice.wait_for_load_state()
        assert notice.url == f"{causerie.url}/privacy/{shop.website_id}?lang={lang}"
        expect(notice.locator("html")).to_have_attribute("lang", lang)
        expect(notice.locator("h1")).to_contain_text(title)
        body = notice.locator("body")
        expect(body).to_contain_text(retention)  # the live chat_ip_retention
        expect(body).to_contain_text("20 minutes")  # the live temporary_session_ttl
        assert notice.evaluate("() => window.opener") is None
        assert notice.evaluate("() => document.referrer") == ""
        expect(privacy.menu).to_be_hidden()
        expect(chat.panel).to_be_visible()


# -- strict mode: CAUSERIE_SESSION_START=open ------------------------------------------------------

_STORAGE = """async () => ({
  cookie: document.cookie,
  local: localStorage.length,
  session: sessionStorage.length,
  idb: (await indexedDB.databases()).length,
})"""


def test_p14_p15_p17_strict_mode_leaves_no_cookie_and_no_session_until_opened(
    new_context: NewContext,
    host: HostSite,
    start_causerie: StartServer,
    shop: Shop,
    harness: ThreadedHarness,
    desks: list[Live],
) -> None:
    ttl = 10 * 60
    causerie = start_causerie(session_start="open", temporary_session_ttl="10m")
    set_settings(harness, shop, color="#e03131", position="left")
    desk = Desk(causerie.url, shop, desks)
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    context = new_context()
    calls: list[str] = []
    context.on("request", lambda r: calls.append(f"{r.method} {urlsplit(r.url).path}"))
    page = context.new_page()
    page.goto(host.url("/"))
    chat = Chatbox(page)
    expect(chat.launcher).to_be_visible()
    # It looks like the website's chatbox already: its colour, on its side.
    box = chat.launcher.bounding_box()
    assert box is not None and box["x"] < 640
    colour = chat.launcher.evaluate("(b) => getComputedStyle(b).backgroundColor")
    assert colour == "rgb(224, 49, 49)"

    # Loaded: nothing on the device, nothing on the server.
    page.wait_for_timeout(300)
    assert page.evaluate(_STORAGE) == {"cookie": "", "local": 0, "session": 0, "idb": 0}
    assert context.cookies() == []
    assert harness.scalar("SELECT count(*) FROM sessions") == 0
    assert not [c for c in calls if c.endswith("/session")], calls
    assert page.evaluate("() => window.$causerie.get('session:id')") is None

    # Opened: one temporary session, and a cookie that lives no longer than it.
    chat.open()
    page.wait_for_function("() => !!window.$causerie.get('session:id')")
    opened_at = time.time()
    assert harness.rows("SELECT state FROM sessions") == [("temporary",)]
    [cookie] = context.cookies()
    assert cookie["name"] == f"causerie_session_{shop.website_id}"
    assert cookie["expires"] <= opened_at + ttl + 2
    assert cookie["expires"] >= opened_at + ttl - 30
    assert page.evaluate(_STORAGE)["local"] == 0

    # The first message makes it permanent: the cookie then lives cookie_max_age (P14).
    chat.send_and_wait("Hello from strict mode")
    desk.wait_message("Hello from strict mode")
    assert harness.scalar("SELECT state FROM sessions") == "permanent"
    [cookie] = context.cookies()  # rewritten in the same task that showed "Sent"
    assert abs(cookie["expires"] - (time.time() + 182 * 86400)) < 60

    # Coming back with the cookie restores the session on load, as in the default mode (P13).
    session_id = chat.session_id()
    page.reload()
    page.wait_for_function("() => !!window.$causerie?.get?.('session:id')")
    assert chat.session_id() == session_id
    expect(chat.bodies).to_have_text(["Hello from strict mode"])
    assert harness.scalar("SELECT count(*) FROM sessions") == 1


def test_widget_js_carries_the_session_start_and_ttl_with_a_matching_etag(
    start_causerie: StartServer, shop: Shop
) -> None:
    for start, ttl, seconds in (("load", "30m", 1800), ("open", "5m", 300)):
        causerie = start_causerie(session_start=start, temporary_session_ttl=ttl)
        with httpx.Client(base_url=causerie.url, timeout=5) as http:
            first = http.get("/widget.js")
            assert first.status_code == 200
            assert f'{{"sessionStart": "{start}", "temporaryTtl": {seconds}}}' in first.text
            assert first.headers["cache-control"] == "public, max-age=300"
            etag = first.headers["etag"]
            again = http.get("/widget.js", headers={"If-None-Match": etag})
            assert again.status_code == 304 and again.content == b""
            assert again.headers["etag"] == etag
            assert http.get("/widget.js", headers={"If-None-Match": '"other"'}).status_code == 200
            look = http.get(f"/widget/websites/{shop.website_id}/look")
            assert look.json() == {"name": "Demo shop", "settings": {}}
            assert look.headers["access-control-allow-origin"] == "*"
            assert http.get("/widget/websites/nope/look").status_code == 404
        causerie.stop()


# -- links in messages (P19) -----------------------------------------------------------------------


def test_p19_links_in_messages_open_safely(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    desks: list[Live],
) -> None:
    desk = Desk(causerie.url, shop, desks)
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    context = new_context()
    outside: list[dict[str, Any]] = []

    def other_site(route: Route) -> None:
        outside.append({"url": route.request.url, "headers": route.request.headers})
        route.fulfill(status=200, content_type="text/html", body="<title>Elsewhere</title>ok")

    context.route("https://elsewhere.example/**", other_site)
    page = context.new_page()
    page.goto(host.url("/?ref=private-campaign"))
    chat = Chatbox(page).wait_started()
    chat.open()
    desk.reply("Tracking: https://elsewhere.example/track?id=7.", session_id=chat.session_id())
    link = chat.messages.get_by_role("link")
    expect(link).to_have_text("https://elsewhere.example/track?id=7")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
    with context.expect_page() as info:
        link.click()
    other = info.value
    other.wait_for_load_state()
    assert other.url == "https://elsewhere.example/track?id=7"
    # The page it opens gets neither the chat, nor the host page's address, nor a handle on it.
    assert other.evaluate("() => window.opener") is None
    assert other.evaluate("() => document.referrer") == ""
    [request] = outside
    assert "referer" not in {name.lower() for name in request["headers"]}
    token = session_cookies(page)[0]["value"]
    assert token not in request["url"] and chat.session_id() not in request["url"]
    assert page.url == host.url("/?ref=private-campaign")  # the host page stays


def test_a_queued_chat_open_makes_one_session_call_and_one_socket(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    harness: ThreadedHarness,
) -> None:
    """Opening the chatbox asks for its session only if it has none: a page that opens it at once
    (the SDK queue) still costs one session call and one socket."""
    before = '<script>window.$causerie = [["do", "chat:open"]];</script>'
    host.pages["/"] = host_page(causerie.url, shop.website_id, before=before)
    context = new_context()
    calls: list[str] = []
    context.on("request", lambda r: calls.append(urlsplit(r.url).path))
    page = context.new_page()
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page.goto(host.url("/"))
    chat = Chatbox(page).wait_started()
    expect(chat.panel).to_be_visible()
    expect(Privacy(chat).toggle).to_be_visible()
    chat.send_and_wait("once")
    assert [c for c in calls if c.endswith("/session")] == [
        f"/api/widget/v1/websites/{shop.website_id}/session"
    ]
    assert len(sockets) == 1
    assert harness.scalar("SELECT count(*) FROM sessions") == 1
