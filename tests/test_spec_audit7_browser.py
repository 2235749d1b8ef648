"""SPEC.md's chatbox seen from a host page in real headless Chromium, on points the other chatbox
tests leave out (audit 7): the `$causerie` SDK called with wrong arguments, before and after the
chatbox has loaded (a console warning naming what is wrong, nothing sent, nothing broken); a
visitor's file heard by the page as `message:sent`; events once per message in each of two tabs
and none for what a reload restores; the cookie's attributes on an https page as the page and
the browser see them.

Only SQLite here; the set-up: tests/widget_support.py.
"""

from __future__ import annotations

import json
import time
from typing import Any

from playwright.sync_api import Browser, Page, Route, expect

from tests import widget_support
from tests.browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    CauserieServer,
    HostSite,
    NewContext,
    ThreadedHarness,
    host_page,
    open_context,
)
from tests.live import Live
from tests.widget_support import Chatbox, Desk, Shop, StartServer, make_shop, visit

database_url = widget_support.database_url
harness = widget_support.harness
shop = widget_support.shop
start_causerie = widget_support.start_causerie
causerie = widget_support.causerie
desks = widget_support.desks

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site, host

IGNORED = "Causerie: $causerie command ignored"
SEND_TAKES = "message:send takes a text of 1-10000 characters"

# Queued before widget.js loads, as a website owner might get them wrong; the last push carries
# two commands at once (Array.prototype.push takes several), both right.
WRONG_BEFORE_LOAD = """<script>
  window.__events = [];
  window.$causerie = window.$causerie || [];
  $causerie.push("chat:open");
  $causerie.push(["fly", "chat:open"]);
  $causerie.push(["do", "chat:fly"]);
  $causerie.push(["set", "user:age", 42]);
  $causerie.push(["set", "user:nickname", 42]);
  $causerie.push(["set", "session:data", "pro"]);
  $causerie.push(["set", "session:data",["pro"]]);
  $causerie.push(["do","message:send",{"text":"hello"}]);
  $causerie.push(["on", "message:received", "not a function"]);
  $causerie.push(["on", "chat:openned", () => __events.push("typo")]);
  $causerie.push(
    ["set", "user:email", "a@b.example"],
    ["on", "chat:opened", () => __events.push("chat:opened")],
  );
</script>"""


# Every console warning and error the page's scripts make, in order, each argument after the
# text as JSON (a function shown as "fn"), kept in the page: Playwright's console events may
# come out of order once their arguments are read.
_RECORD_CONSOLE = """(() => {
  window.__said = [];
  const shown = (value) => typeof value === "string" ? value
    : JSON.stringify(value, (key, item) => typeof item === "function" ? "fn" : item);
  for (const type of ["warn", "error"]) {
    const original = console[type];
    console[type] = (...args) => {
      __said.push(`${type}: ${args.map(shown).join(" ")}`);
      original.apply(console, args);
    };
  }
  window.addEventListener("error", (event) => __said.push(`uncaught: ${event.message}`));
})();"""


def _said(page: Page) -> list[str]:
    said: list[str] = page.evaluate("() => __said.splice(0)")
    return said


def test_sdk_commands_with_wrong_arguments_are_warned_and_change_nothing_before_or_after_load(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    harness: ThreadedHarness,
) -> None:
    host.pages["/"] = host_page(causerie.url, shop.website_id, before=WRONG_BEFORE_LOAD)
    page = new_context().new_page()
    page.add_init_script(_RECORD_CONSOLE)
    page.goto(host.url("/"))
    chat = Chatbox(page).wait_started()
    page.wait_for_function("() => $causerie.get('user:email') === 'a@b.example'")
    assert _said(page) == [
        f"warn: {IGNORED} (unknown verb): chat:open",
        f'warn: {IGNORED} (unknown verb): ["fly","chat:open"]',
        f'warn: {IGNORED} (unknown name): ["do","chat:fly"]',
        f'warn: {IGNORED} (unknown name): ["set","user:age",42]',
        f'warn: {IGNORED} (user:nickname takes a string): ["set","user:nickname",42]',
        f'warn: {IGNORED} (session:data takes an object): ["set","session:data","pro"]',
        f'warn: {IGNORED} (session:data takes an object): ["set","session:data",["pro"]]',
        f'warn: {IGNORED} ({SEND_TAKES}): ["do","message:send",{{"text":"hello"}}]',
        f'warn: {IGNORED} (not a function): ["on","message:received","not a function"]',
        f'warn: {IGNORED} (unknown event): ["on","chat:openned","fn"]',
    ]
    # Nothing wrong reached the server: no "[object Object]" message, no nickname, no data.
    assert harness.scalar("SELECT count(*) FROM messages") == 0
    assert harness.rows("SELECT email, nickname, data FROM sessions") == [
        ("a@b.example", None, "{}")
    ]
    expect(chat.panel).to_be_hidden()

    # The live object: the same warnings, and `push` takes several commands as the array did.
    assert _said(page) == []
    answers = page.evaluate("""() => [
      $causerie.push(42),
      $causerie.push(["do"]),
      $causerie.push(["do", "message:send"]),
      $causerie.on("message:received"),
      $causerie.off("chat:opened", "nope"),
      $causerie.is("chat:fly"),
      $causerie.get("constructor"),
      $causerie.get(7),
      $causerie.push(["do", "chat:open"], ["do", "message:send", "  two at once  "]),
    ]""")
    assert answers == [0, 0, 0, None, None, False, None, None, 0]
    expect(chat.panel).to_be_visible()
    chat.wait_sent("two at once")
    assert _said(page) == [
        f"warn: {IGNORED} (unknown verb): 42",
        f'warn: {IGNORED} (unknown name): ["do"]',
        f'warn: {IGNORED} ({SEND_TAKES}): ["do","message:send"]',
        f'warn: {IGNORED} (not a function): ["on","message:received",null]',
        f'warn: {IGNORED} (not a function): ["off","chat:opened","nope"]',
        "warn: Causerie: $causerie.is of an unknown name: chat:fly",
        "warn: Causerie: $causerie.get of an unknown name: constructor",
        "warn: Causerie: $causerie.get of an unknown name: 7",
    ]
    # The handler queued with the email still runs; `off` with a wrong handler removed nothing.
    assert page.evaluate("() => __events") == ["chat:opened"]
    assert page.evaluate("() => [$causerie.is('chat:opened'), $causerie.is('chat:closed')]") == [
        True,
        False,
    ]
    assert [r[0] for r in harness.rows("SELECT body FROM messages")] == ["two at once"]


_LISTEN = """<script>
  window.__events = [];
  window.$causerie = window.$causerie || [];
  $causerie.push(["on", "message:received", (m) => __events.push("received " + m.body)]);
  $causerie.push(["on", "message:sent", (m) => __events.push("sent " + (m.file?.name || m.body))]);
</script>"""


def test_a_visitors_file_is_heard_as_message_sent_once(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    harness: ThreadedHarness,
) -> None:
    host.pages["/"] = host_page(causerie.url, shop.website_id, before=_LISTEN)
    page, chat = visit(new_context, host.url("/"))
    chat.open()
    chat.send_and_wait("Here is my receipt")
    with page.expect_file_chooser() as chooser:
        chat.host.locator('[part="attach"]').click()
    chooser.value.set_files(
        {"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}
    )
    expect(chat.items).to_have_count(2)
    page.wait_for_function("() => __events.length === 2")
    page.wait_for_timeout(300)  # a second event for the same file would come now
    assert page.evaluate("() => __events") == ["sent Here is my receipt", "sent receipt.pdf"]
    assert harness.scalar("SELECT count(*) FROM messages WHERE type = 'file'") == 1


def test_each_tab_hears_each_reply_once_and_a_reload_hears_none_of_the_history(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    desks: list[Live],
) -> None:
    desk = Desk(causerie.url, shop, desks)
    host.pages["/"] = host_page(causerie.url, shop.website_id, before=_LISTEN)
    context = new_context()
    first = context.new_page()
    first.goto(host.url("/"))
    one = Chatbox(first).wait_started()
    second = context.new_page()
    second.goto(host.url("/"))
    two = Chatbox(second).wait_started()
    assert one.session_id() == two.session_id()

    one.open()
    assert [first.evaluate("() => $causerie.is('chat:opened')")] == [True]
    assert [second.evaluate("() => $causerie.is('chat:opened')")] == [False]
    one.send_and_wait("From the first tab")
    seen = desk.wait_message("From the first tab")
    expect(two.bodies).to_have_text(["From the first tab"])
    desk.reply("Reply one", conversation_id=seen["conversation_id"])
    desk.reply("Reply two", conversation_id=seen["conversation_id"])
    for page, chat in ((first, one), (second, two)):
        expect(chat.bodies).to_have_text(["From the first tab", "Reply one", "Reply two"])
        page.wait_for_timeout(300)  # a doubled event would come now
    assert first.evaluate("() => __events") == [
        "sent From the first tab",
        "received Reply one",
        "received Reply two",
    ]
    assert second.evaluate("() => __events") == ["received Reply one", "received Reply two"]

    second.reload()
    two = Chatbox(second).wait_started()
    expect(two.bodies).to_have_text(["From the first tab", "Reply one", "Reply two"])
    assert second.evaluate("() => [__events, $causerie.is('chat:opened')]") == [[], False]
    desk.reply("Reply three", conversation_id=seen["conversation_id"])
    second.wait_for_function("() => __events.length === 1")
    assert second.evaluate("() => __events") == ["received Reply three"]


def test_p14_on_an_https_page_the_cookie_is_secure_lax_and_lives_cookie_max_age(
    browser: Browser,
    start_causerie: StartServer,
    harness: ThreadedHarness,
) -> None:
    site = "https://shop.example"
    shop = make_shop(harness, site)
    causerie = start_causerie(cookie_max_age="7d")
    page_html = host_page(causerie.url, shop.website_id)

    def serve(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html", body=page_html)

    # The page is public (https://shop.example, served by the route) and Causerie is on the
    # loopback here: Chromium's Local Network Access would ask the visitor for leave, as it would
    # not for a Causerie on a public name.
    args = [*CHROMIUM_ARGS, "--disable-features=LocalNetworkAccessChecks"]
    other = browser.browser_type.launch(executable_path=str(CHROMIUM), args=args, headless=True)
    try:
        context = open_context(other)
        context.route(f"{site}/**", serve)
        page = context.new_page()
        page.goto(f"{site}/")
        Chatbox(page).wait_started()
        loaded_at = time.time()

        name = f"causerie_session_{shop.website_id}"
        seen_by_page: str = page.evaluate("() => document.cookie")
        [(_, token)] = [pair.split("=", 1) for pair in seen_by_page.split("; ")]
        assert seen_by_page.startswith(f"{name}=")
        cdp = context.new_cdp_session(page)
        cookies: list[dict[str, Any]] = cdp.send("Network.getCookies", {"urls": [f"{site}/"]})[
            "cookies"
        ]
        [cookie] = cookies
        assert (cookie["name"], cookie["value"], cookie["domain"], cookie["path"]) == (
            name,
            token,
            "shop.example",
            "/",
        )
        assert (cookie["secure"], cookie["sameSite"], cookie["httpOnly"]) == (True, "Lax", False)
        assert abs(cookie["expires"] - (loaded_at + 7 * 24 * 3600)) < 30, json.dumps(cookie)
    finally:
        other.close()
