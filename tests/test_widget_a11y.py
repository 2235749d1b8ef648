"""The chatbox for visitors who do not see it or do not use a mouse, and on a phone, in real
headless Chromium (docs/widget.md, "Accessibility"): what screen readers are told (the
accessibility tree, the unread count while it is closed, in both languages), the page behind the
full-screen panel of a phone out of reach, the connection lost shown at once, and long words,
links, right-to-left text and emoji kept inside the panel.

Only SQLite here; the set-up: tests/widget_support.py.
"""

from __future__ import annotations

import json

from playwright.sync_api import Page, expect

from tests import widget_support
from tests.browser_support import CauserieServer, HostSite, NewContext, ThreadedHarness, host_page
from tests.live import Live
from tests.widget_support import Chatbox, Desk, Shop, visit

# tests/widget_support.py's fixtures: SQLite, the harness off Playwright's loop, a shop, the
# server.
database_url = widget_support.database_url
harness = widget_support.harness
shop = widget_support.shop
start_causerie = widget_support.start_causerie
causerie = widget_support.causerie
desks = widget_support.desks

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site, host

PHONE = {"viewport": {"width": 375, "height": 667}, "is_mobile": True, "has_touch": True}
# A page with things of its own to reach: on a phone, none may take the focus behind the panel.
BUSY_PAGE = (
    '<h1>Shop</h1><a id="shop-link" href="#x">Offers</a><button id="shop-button">Buy</button>'
)

_FOCUSED = """() => {
  const active = document.activeElement;
  if (active?.localName === "causerie-chatbox") {
    const inner = active.shadowRoot.activeElement;
    return "chatbox:" + (inner?.getAttribute("part") || inner?.className || "");
  }
  return active?.id || active?.localName || null;
}"""


def _said(chat: Chatbox) -> str:
    """What the chatbox's status region says to screen readers (nothing shown on screen)."""
    said = chat.host.locator('[role="status"].sr')
    expect(said).to_have_count(1)
    box = said.bounding_box()
    assert box is not None and box["width"] <= 1 and box["height"] <= 1, box
    return said.text_content() or ""


def _conversation(chat: Chatbox, desk: Desk, text: str) -> str:
    """The visitor writes `text` (the chatbox open) and closes it; the conversation's id."""
    chat.open()
    chat.send_and_wait(text)
    conversation_id: str = desk.wait_message(text)["conversation_id"]
    chat.page.keyboard.press("Escape")
    expect(chat.panel).to_be_hidden()
    return conversation_id


# -- what screen readers are told ------------------------------------------------------------------


def test_the_unread_count_is_said_while_the_chatbox_is_closed_in_both_languages(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    desks: list[Live],
) -> None:
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    desk = Desk(causerie.url, shop, desks)
    page, chat = visit(new_context, host.url("/"))
    assert chat.host.aria_snapshot() == '- button "Open chat"\n- status'
    assert _said(chat) == ""
    conversation_id = _conversation(chat, desk, "Where is my parcel?")

    # Closed: the log is hidden with the panel, so a polite status region says the count; the
    # launcher's name carries it too ("1 unread messages" was said before).
    desk.reply("It left this morning.", conversation_id=conversation_id)
    expect(chat.badge).to_have_text("1")
    assert _said(chat) == "1 unread"
    expect(chat.launcher).to_have_attribute("aria-label", "Open chat (1 unread)")
    desk.reply("Tracking number: 42.", conversation_id=conversation_id)
    expect(chat.badge).to_have_text("2")
    assert _said(chat) == "2 unread"

    # Open: the log speaks for itself; the count is read, and nothing is left to say.
    chat.launcher.press("Enter")
    expect(chat.badge).to_be_hidden()
    assert _said(chat) == ""
    expect(chat.launcher).to_have_attribute("aria-label", "Close chat")
    # Once opened, the files' controls come (files.js): no upload, no list to speak of.
    expect(chat.host.locator('[part="attach"]')).to_be_visible()
    snapshot = chat.panel.aria_snapshot()
    assert "- list" not in snapshot, snapshot
    for line in (
        '- dialog "Demo shop"',
        '- heading "Demo shop" [level=2]',
        '- button "Chat options"',
        '- button "Close chat"',
        '- log "Demo shop"',
        '- article "Camille"',
        "It left this morning.",
        '- textbox "Message"',
        '- button "Send"',
    ):
        assert line in snapshot, snapshot

    # The same in French.
    french, chat_fr = visit(new_context, host.url("/"), locale="fr-FR")
    conversation_fr = _conversation(chat_fr, desk, "Où est mon colis ?")
    desk.reply("Il est parti ce matin.", conversation_id=conversation_fr)
    expect(chat_fr.badge).to_have_text("1")
    assert _said(chat_fr) == "non lus : 1"
    expect(chat_fr.launcher).to_have_attribute("aria-label", "Ouvrir la discussion (non lus : 1)")
    page.close()
    french.close()


# -- a phone ---------------------------------------------------------------------------------------


def _page_names(page: Page) -> set[str]:
    """The page's own link and button, as Chromium's accessibility tree exposes them."""
    tree = page.context.new_cdp_session(page).send("Accessibility.getFullAXTree")
    return {
        node["name"]["value"]
        for node in tree["nodes"]
        if not node.get("ignored")
        and node.get("role", {}).get("value") in ("link", "button")
        and node.get("name", {}).get("value") in ("Offers", "Buy")
    }


def _tab_around(page: Page, times: int) -> list[str | None]:
    seen = []
    for _ in range(times):
        page.keyboard.press("Tab")
        seen.append(page.evaluate(_FOCUSED))
    return seen


def test_on_a_phone_the_page_behind_the_panel_is_out_of_reach_as_it_turns_and_escape_gives_it_back(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
) -> None:
    host.pages["/"] = host_page(causerie.url, shop.website_id, body=BUSY_PAGE)
    page, chat = visit(new_context, host.url("/"), **PHONE)
    # Closed, the page is the visitor's: its link and button come first, then the launcher.
    assert _tab_around(page, 3) == ["shop-link", "shop-button", "chatbox:launcher"]
    page.keyboard.press("Enter")
    expect(chat.panel).to_be_visible()
    assert chat.panel.bounding_box() == {"x": 0, "y": 0, "width": 375, "height": 667}
    expect(chat.panel).to_have_attribute("aria-modal", "true")

    # The panel covers the page: the keyboard goes round the chatbox only (it used to walk on
    # into the hidden page), and screen readers no longer find the page.
    reached = _tab_around(page, 12)
    assert not {"shop-link", "shop-button"} & set(reached), reached
    assert {"chatbox:composer", "chatbox:send", "chatbox:close"} <= set(reached), reached
    assert page.evaluate("() => document.body.inert") is True
    assert _page_names(page) == set()

    # Turned sideways, the phone is wider than the breakpoint: the panel no longer covers the
    # page, which is the visitor's again (it stayed inert); turned back, out of reach again.
    page.set_viewport_size({"width": 667, "height": 375})
    expect(chat.panel).to_have_attribute("aria-modal", "false")
    assert chat.panel.bounding_box()["width"] < 667  # type: ignore[index]
    assert page.evaluate("() => document.body.inert") is False
    assert _page_names(page) == {"Offers", "Buy"}
    page.set_viewport_size({"width": 375, "height": 667})
    expect(chat.panel).to_have_attribute("aria-modal", "true")
    assert page.evaluate("() => document.body.inert") is True
    assert _page_names(page) == set()

    # Escape closes it: the page is back, and the focus is on the launcher, shown again.
    chat.composer.focus()
    page.keyboard.press("Escape")
    expect(chat.panel).to_be_hidden()
    expect(chat.launcher).to_be_visible()
    assert page.evaluate(_FOCUSED) == "chatbox:launcher"
    assert page.evaluate("() => document.body.inert") is False
    assert _page_names(page) == {"Offers", "Buy"}


def test_on_a_desktop_the_page_stays_usable_and_its_own_inertness_is_left_alone(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
) -> None:
    host.pages["/"] = host_page(causerie.url, shop.website_id, body=BUSY_PAGE)
    page, chat = visit(new_context, host.url("/"))
    chat.open()
    expect(chat.panel).to_have_attribute("aria-modal", "false")
    assert page.evaluate("() => document.body.inert") is False
    page.keyboard.press("Escape")
    # A page that made its body inert itself (its own dialog open) keeps it so.
    page.evaluate("() => { document.body.inert = true; }")
    chat.launcher.click()
    expect(chat.panel).to_be_visible()
    chat.launcher.click()
    expect(chat.panel).to_be_hidden()
    assert page.evaluate("() => document.body.inert") is True


def test_long_words_links_right_to_left_text_and_emoji_stay_inside_a_phones_panel(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    desks: list[Live],
) -> None:
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    desk = Desk(causerie.url, shop, desks)
    page, chat = visit(new_context, host.url("/"), **PHONE)
    chat.open()
    link = "https://shop.example/orders/" + "9" * 240 + "?ref=" + "x" * 120
    arabic = "مرحبا، أين طلبي رقم ١٢٣؟ 😀👍🏽"
    chat.send_and_wait(f"See {link} please")
    chat.send_and_wait(arabic)
    conversation_id = desk.wait_message(arabic)["conversation_id"]
    desk.reply("w" * 600, conversation_id=conversation_id)
    desk.reply("🎉 👨‍👩‍👧 " + "é" * 300, conversation_id=conversation_id)
    expect(chat.items).to_have_count(4)

    widths = page.evaluate("""() => {
      const root = document.querySelector("causerie-chatbox").shadowRoot;
      const log = root.querySelector('[part="messages"]');
      return {
        log: [log.scrollWidth, log.clientWidth],
        page: [document.documentElement.scrollWidth, innerWidth],
        bodies: [...root.querySelectorAll(".body")].map((b) => b.getBoundingClientRect().right),
        rtl: getComputedStyle(root.querySelectorAll(".body")[1]).direction,
      };
    }""")
    assert widths["log"][0] <= widths["log"][1], widths
    assert widths["page"][0] <= widths["page"][1], widths
    assert all(right <= 375 for right in widths["bodies"]), widths
    assert widths["rtl"] == "rtl", widths
    expect(chat.bodies.nth(0).locator("a")).to_have_attribute("href", link)
    assert chat.bodies.nth(1).text_content() == arabic


def test_on_a_right_to_left_page_the_chatbox_keeps_its_own_language_and_direction(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
) -> None:
    page_html = host_page(causerie.url, shop.website_id, body="<h1>متجر</h1>")
    host.pages["/"] = page_html.replace('<html lang="en">', '<html lang="ar" dir="rtl">')
    page, chat = visit(new_context, host.url("/"))
    chat.open()
    chat.send_and_wait("Hello: is order 42 shipped?")
    chat.send_and_wait("مرحبا")
    shown = page.evaluate("""() => {
      const root = document.querySelector("causerie-chatbox").shadowRoot;
      const frame = root.querySelector(".frame");
      const style = (sel) => getComputedStyle(root.querySelector(sel)).direction;
      const right = (sel) => root.querySelector(sel).getBoundingClientRect().right;
      const bodies = root.querySelectorAll(".message.visitor .body");
      return {
        lang: frame.lang,
        panel: style(".panel"),
        composer: style(".composer"),
        arabic: getComputedStyle(bodies[1]).direction,
        gap: right(".panel") - bodies[0].getBoundingClientRect().right,
        launcher: right(".launcher"),
      };
    }""")
    # It was mirrored: "...Write a message", the visitor's messages on the operators' side.
    assert shown["lang"] == "en", shown
    assert (shown["panel"], shown["composer"], shown["arabic"]) == ("ltr", "ltr", "rtl"), shown
    assert shown["gap"] < 30, shown  # the visitor's own messages on the right
    assert abs(shown["launcher"] - (1280 - 20)) < 3, shown  # bottom right (scaled if hovered)


# -- the connection ------------------------------------------------------------------------------


def test_the_visitor_sees_at_once_that_the_connection_is_lost_and_back(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    harness: ThreadedHarness,
) -> None:
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    page, chat = visit(new_context, host.url("/"))
    chat.open()
    expect(chat.status).to_have_text("We'll reply as soon as we can")
    # The browser goes offline: its socket could look open for minutes (pings are 30 s apart);
    # the status says so within the test's usual wait, not after a ping fails.
    page.context.set_offline(True)
    expect(chat.status).to_have_text("Reconnecting…", timeout=3000)
    expect(chat.status).to_have_class("status reconnecting")
    chat.send("Written while offline")
    page.context.set_offline(False)
    expect(chat.status).to_have_text("We'll reply as soon as we can")
    chat.wait_sent("Written while offline")
    rows = harness.rows("SELECT body FROM messages")
    assert json.dumps(rows) == json.dumps([["Written while offline"]])
