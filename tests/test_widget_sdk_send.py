"""`$causerie.push(["do", "message:send", TEXT])` in real headless Chromium (SPEC.md "The
chatbox"; docs/widget.md "Commands"): a text the chatbox cannot send, blank or over the 10,000
characters a message holds, is warned in the console naming why, as every command it cannot run
is; it was dropped without a word, the page's script none the wiser. Only SQLite here; the
set-up: tests/widget_support.py."""

from __future__ import annotations

from playwright.sync_api import expect

from tests import widget_support
from tests.browser_support import CauserieServer, HostSite, NewContext, ThreadedHarness, host_page
from tests.test_spec_audit7_browser import _RECORD_CONSOLE, IGNORED, SEND_TAKES, _said
from tests.widget_support import Chatbox, Shop

database_url = widget_support.database_url
harness = widget_support.harness
shop = widget_support.shop
start_causerie = widget_support.start_causerie
causerie = widget_support.causerie
desks = widget_support.desks

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site, host

TAKES = SEND_TAKES


def test_a_blank_or_too_long_text_to_send_is_warned_and_nothing_is_sent(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    harness: ThreadedHarness,
) -> None:
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    page = new_context().new_page()
    page.add_init_script(_RECORD_CONSOLE)
    page.goto(host.url("/"))
    chat = Chatbox(page).wait_started()
    page.evaluate("""() => $causerie.push(
      ["do", "chat:open"],
      ["do", "message:send", ""],
      ["do", "message:send", " \\n "],
      ["do", "message:send", "x".repeat(10001)],
      ["do", "message:send", 7],
      ["do", "message:send", "  the one sent  "],
    )""")
    expect(chat.panel).to_be_visible()
    chat.wait_sent("the one sent")
    long = "x" * 10001
    assert _said(page) == [
        f'warn: {IGNORED} ({TAKES}): ["do","message:send",""]',
        f'warn: {IGNORED} ({TAKES}): ["do","message:send"," \\n "]',
        f'warn: {IGNORED} ({TAKES}): ["do","message:send","{long}"]',
        f'warn: {IGNORED} ({TAKES}): ["do","message:send",7]',
    ]
    assert harness.rows("SELECT body FROM messages") == [("the one sent",)]
