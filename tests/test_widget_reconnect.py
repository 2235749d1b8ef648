"""The chatbox across a server restart, in real headless Chromium (docs/widget.md): it reconnects
and loses or doubles no message, says it is reconnecting meanwhile, and its status dot is green
only while connected to someone online.

Only SQLite here; the set-up: tests/widget_support.py.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests import widget_support
from tests.browser_support import (
    CauserieServer,
    HostSite,
    NewContext,
    ThreadedHarness,
    host_page,
)
from tests.live import Live
from tests.widget_support import (
    Chatbox,
    Desk,
    Shop,
    visit,
)

# tests/widget_support.py's fixtures: SQLite, the harness off Playwright's loop, a shop, the
# server.
database_url = widget_support.database_url
harness = widget_support.harness
shop = widget_support.shop
start_causerie = widget_support.start_causerie
causerie = widget_support.causerie
desks = widget_support.desks

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site, host


# -- a server restart while the chatbox is open ---------------------------------------------------


def test_the_chatbox_reconnects_after_a_server_restart_and_loses_or_doubles_no_message(
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
    chat.open()
    chat.send_and_wait("before 1")
    chat.send_and_wait("before 2")
    conversation_id = desk.wait_message("before 1")["conversation_id"]
    desk.wait_message("before 2")
    desk.reply("reply 1", conversation_id=conversation_id)
    expect(chat.bodies).to_have_text(["before 1", "before 2", "reply 1"])

    # 1. The server restarts while the visitor writes: the message waits, then goes, once.
    seq = desk.seq
    desk.close()
    causerie.stop()
    chat.send("during 1")
    expect(chat.items.last.locator("[data-state]")).to_have_attribute("data-state", "sending")
    page.wait_for_timeout(800)  # the chatbox sees its socket fail at least once
    causerie.start_again()
    desk = Desk(causerie.url, shop, desks, after=seq)
    desk.wait_message("during 1", timeout=15)
    desk.reply("reply 2", conversation_id=conversation_id)
    expect(chat.bodies).to_have_text(
        ["before 1", "before 2", "reply 1", "during 1", "reply 2"], timeout=15_000
    )

    # 2. The server restarts and the agent answers before the chatbox is back (its network is
    # cut meanwhile): the chatbox catches up from where it was (`after`).
    seq = desk.seq
    desk.close()
    page.context.set_offline(True)
    causerie.stop()
    causerie.start_again()
    desk = Desk(causerie.url, shop, desks, after=seq)
    assert desk.ready["visitors_online"] == []  # the chatbox is away
    desk.reply("reply while away", conversation_id=conversation_id)
    page.wait_for_timeout(300)
    expect(chat.bodies).to_have_count(5)
    page.context.set_offline(False)  # `online`: the chatbox reconnects at once
    expect(chat.bodies.last).to_have_text("reply while away", timeout=5_000)

    chat.send_and_wait("after 1")
    desk.wait_message("after 1")
    desk.reply("reply 3", conversation_id=conversation_id)

    expected = [
        "before 1",
        "before 2",
        "reply 1",
        "during 1",
        "reply 2",
        "reply while away",
        "after 1",
        "reply 3",
    ]
    expect(chat.bodies).to_have_text(expected)
    page.wait_for_timeout(300)  # anything doubled would show by now
    listing = chat.listing()
    assert [m["body"] for m in listing] == expected
    assert chat.messages.locator("[data-id]").count() == len(expected)
    stored = [r[0] for r in harness.rows("SELECT id FROM messages ORDER BY seq")]
    assert [m["id"] for m in listing] == stored
    assert all(m["state"] in (None, "sent") for m in listing)

    # A fresh load shows the same, from the server.
    page.reload()
    chat = Chatbox(page).wait_started()
    assert chat.listing() == listing


def test_the_chatbox_says_it_is_reconnecting_while_the_server_is_down(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
) -> None:
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    _, chat = visit(new_context, host.url("/"))
    chat.open()
    chat.send_and_wait("hello")  # the socket is up
    expect(chat.status).to_have_text("We'll reply as soon as we can", use_inner_text=True)
    causerie.stop()
    try:
        expect(chat.status).to_have_text("Reconnecting…", use_inner_text=True, timeout=4000)
    finally:
        causerie.start_again()
    expect(chat.status).to_have_text(
        "We'll reply as soon as we can", use_inner_text=True, timeout=15_000
    )


_DOT = "(node) => getComputedStyle(node, '::before').backgroundColor"
GREEN = "rgb(63, 208, 122)"


def test_the_status_dot_is_green_only_while_connected_to_someone_online(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    desks: list[Live],
) -> None:
    Desk(causerie.url, shop, desks)  # an agent is online
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    _, chat = visit(new_context, host.url("/"))
    chat.open()
    chat.send_and_wait("hello")  # the socket is up
    expect(chat.status).to_have_text("We're online", use_inner_text=True)
    assert chat.status.evaluate(_DOT) == GREEN
    causerie.stop()
    try:
        expect(chat.status).to_have_text("Reconnecting…", use_inner_text=True, timeout=4000)
        # "Reconnecting…" under a green dot would say that someone can read the visitor now.
        expect(chat.status).to_have_class(re.compile(r"\breconnecting\b"))
        expect(chat.status).not_to_have_class(re.compile(r"\bonline\b"))
        assert chat.status.evaluate(_DOT) not in (GREEN, "rgb(201, 206, 214)")  # amber
    finally:
        causerie.start_again()
    expect(chat.status).not_to_have_class(re.compile(r"\breconnecting\b"), timeout=15_000)
