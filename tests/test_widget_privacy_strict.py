"""Strict mode (`CAUSERIE_SESSION_START=open`: no cookie and no session until the chatbox is
opened, P14, P15, P17), the loader's settings, links in messages (P19) and a chatbox opened at
once by the page, in real headless Chromium (docs/widget.md). Same set-up as
tests/test_widget_privacy.py, whose helpers it uses.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Route, expect

from tests import widget_support
from tests.browser_support import CauserieServer, HostSite, NewContext, ThreadedHarness, host_page
from tests.live import Live
from tests.test_widget_privacy import Privacy, session_cookies, set_settings
from tests.widget_support import Chatbox, Desk, Shop, StartServer

# tests/widget_support.py's fixtures: SQLite, the harness off Playwright's loop, a shop, a server.
database_url = widget_support.database_url
harness = widget_support.harness
shop = widget_support.shop
start_causerie = widget_support.start_causerie
causerie = widget_support.causerie
desks = widget_support.desks

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site, host


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
