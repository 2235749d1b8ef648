"""The chatbox in a real browser: headless Chromium on a host page of ANOTHER origin than the
Causerie server, talking to a real server and a real agent socket (docs/widget.md).

Only SQLite here: what the browser sees does not depend on the database.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from causerie.actions.operators import do_add_operator, do_create_api_token
from causerie.actions.websites import do_create_website
from causerie.clock import ManualClock
from causerie.domain.models import Actor, Role, Scope
from causerie.settings import Settings
from causerie.web.assets import BEFORE_OPENING
from tests.browser_support import (
    CauserieServer,
    HostSite,
    NewContext,
    ThreadedHarness,
    host_page,
    screenshots_folder,
)
from tests.live import Live, agent

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site, host

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = screenshots_folder()
SIZE_BUDGET = 30 * 1024  # bytes the chatbox loads before it is opened, uncompressed
WAIT = 10.0  # seconds: the longest any single step may take


# -- fixtures: SQLite only, the harness off Playwright's loop, a website on the host's origin ---


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'causerie.db'}"


@pytest.fixture
def harness(settings: Settings, clock: ManualClock) -> Iterator[ThreadedHarness]:
    h = ThreadedHarness(settings, clock)
    yield h
    h.close()


@dataclass
class Shop:
    website_id: str
    agent_token: str
    agent_id: str


def make_shop(harness: ThreadedHarness, origin: str, agent_name: str = "Camille") -> Shop:
    rt, cli = harness.rt, Actor.cli()
    website = harness.run(do_create_website(rt, cli, "Demo shop", [origin]))
    email = "camille@shop.example"
    added = harness.run(
        do_add_operator(rt, cli, email, website_id=website.id, role=Role.AGENT, name=agent_name)
    )
    _, token = harness.run(do_create_api_token(rt, cli, email, name="t", scopes=frozenset(Scope)))
    return Shop(website.id, token, added.operator.id)


@pytest.fixture
def shop(harness: ThreadedHarness, host: HostSite) -> Shop:
    """A website whose allowed origin is the host page's, with an agent and their API token."""
    return make_shop(harness, host.origin)


StartServer = Callable[..., CauserieServer]


@pytest.fixture
def start_causerie(
    make_settings: Callable[..., Settings], clock: ManualClock, harness: ThreadedHarness
) -> Iterator[StartServer]:
    started: list[CauserieServer] = []

    def start(**settings: str) -> CauserieServer:
        started.append(CauserieServer(make_settings(**settings), clock))
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def causerie(start_causerie: StartServer, shop: Shop) -> CauserieServer:
    return start_causerie()


@pytest.fixture
def desks() -> Iterator[list[Live]]:
    opened: list[Live] = []
    yield opened
    for live in opened:
        live.close()


# -- the two sides of a chat ---------------------------------------------------------------------


class Desk:
    """An agent over /ws/agent (tests/live.py), as the inbox or an integration would be."""

    def __init__(self, server_url: str, shop: Shop, desks: list[Live], after: int | None = None):
        self.live, self.ready = agent(server_url, shop.agent_token, shop.website_id, after=after)
        desks.append(self.live)
        self.sent = 0

    @property
    def seq(self) -> int:
        return max([f["seq"] for f in self.live.seen if isinstance(f.get("seq"), int)] or [0])

    def wait_message(self, body: str, timeout: float = WAIT) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            frame = self.live.expect("message.created", timeout=max(deadline - time.monotonic(), 0))
            if frame["message"]["body"] == body:
                message: dict[str, Any] = frame["message"]
                return message

    def reply(self, body: str, **target: str) -> dict[str, Any]:
        self.sent += 1
        client_id = f"desk-{self.sent}-{time.monotonic_ns()}"
        self.live.send({"type": "message.send", "client_id": client_id, "body": body, **target})
        message: dict[str, Any] = self.live.expect("message.ack", client_id=client_id)["message"]
        return message

    def close(self) -> None:
        self.live.close()


_LISTING = """() => {
  const root = document.querySelector("causerie-chatbox")?.shadowRoot;
  if (!root) return [];
  return [...root.querySelectorAll("article.message")].map((a) => ({
    id: a.dataset.id,
    author: a.classList.contains("operator") ? "operator" : "visitor",
    body: a.querySelector(".body").textContent,
    who: a.querySelector(".who").textContent,
    state: a.querySelector("[data-state]")?.dataset.state ?? null,
  }));
}"""

_RECORD_STATES = """() => {
  const root = document.querySelector("causerie-chatbox").shadowRoot;
  const log = (window.__states = []);
  new MutationObserver(() => {
    const items = root.querySelectorAll("article.message.visitor");
    const state = items[items.length - 1]?.querySelector("[data-state]")?.dataset.state;
    if (state && log[log.length - 1] !== state) log.push(state);
  }).observe(root.querySelector('[part="messages"]'), { childList: true, subtree: true });
}"""


class Chatbox:
    """The chatbox on a host page, reached through its shadow root's stable `part`s."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.host = page.locator("causerie-chatbox")
        self.launcher = self.host.locator('[part="launcher"]')
        self.panel = self.host.locator('[part="panel"]')
        self.messages = self.host.locator('[part="messages"]')
        self.composer = self.host.locator('[part="composer"]')
        self.send_button = self.host.locator('[part="send"]')
        self.badge = self.host.locator('[part="badge"]')
        self.items = self.messages.locator("article.message")
        self.bodies = self.items.locator(".body")
        self.status = self.panel.locator(".status")

    def wait_started(self) -> Chatbox:
        """Mounted, and the SDK attached to a session."""
        self.page.wait_for_function("() => !!window.$causerie?.get?.('session:id')")
        # On a phone the open panel fills the screen and the launcher steps aside.
        shown = self.host.locator('[part="launcher"]:visible, [part="panel"]:visible')
        expect(shown.first).to_be_visible()
        return self

    def open(self) -> None:
        self.launcher.click()
        expect(self.panel).to_be_visible()

    def send(self, text: str) -> None:
        self.composer.fill(text)
        self.composer.press("Enter")

    def send_and_wait(self, text: str) -> dict[str, Any]:
        self.send(text)
        return self.wait_sent(text)

    def wait_sent(self, text: str) -> dict[str, Any]:
        self.page.wait_for_function(
            """(text) => [...document.querySelector("causerie-chatbox").shadowRoot
                .querySelectorAll("article.message.visitor")]
                .some((a) => a.querySelector(".body").textContent === text
                    && a.querySelector("[data-state]")?.dataset.state === "sent"
                    && a.dataset.id)""",
            arg=text,
        )
        return next(m for m in self.listing() if m["body"] == text)

    def listing(self) -> list[dict[str, Any]]:
        listing: list[dict[str, Any]] = self.page.evaluate(_LISTING)
        return listing

    def session_id(self) -> str:
        value: str = self.page.evaluate("() => window.$causerie.get('session:id')")
        return value

    def shadow_focus(self) -> str | None:
        """The `part` (or class) of what has the focus inside the chatbox, if it has it."""
        value: str | None = self.page.evaluate(
            """() => {
              const host = document.querySelector("causerie-chatbox");
              if (document.activeElement !== host) return null;
              const el = host.shadowRoot.activeElement;
              return el ? el.getAttribute("part") || el.className : null;
            }"""
        )
        return value


def visit(new_context: NewContext, url: str, **options: Any) -> tuple[Page, Chatbox]:
    page = new_context(**options).new_page()
    page.goto(url)
    return page, Chatbox(page).wait_started()


def fail_on_dialogs(page: Page) -> list[str]:
    """Any alert/confirm/prompt is recorded (and dismissed): the test then asserts none came."""
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


# -- a chat between a visitor and an agent -------------------------------------------------------


def test_a_visitor_and_an_agent_chat_across_origins_and_the_session_turns_permanent(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    desks: list[Live],
    harness: ThreadedHarness,
) -> None:
    assert urlsplit(host.origin).port != urlsplit(causerie.url).port  # two origins
    desk = Desk(causerie.url, shop, desks)
    host.pages["/"] = host_page(causerie.url, shop.website_id, title="Home")
    _, chat = visit(new_context, host.url("/"))
    assert harness.rows("SELECT state, page_url, page_title FROM sessions") == [
        ("temporary", host.url("/"), "Home")
    ]
    expect(chat.panel).to_be_hidden()
    expect(chat.status).to_have_text("We're online", use_inner_text=True)

    chat.open()
    chat.send_and_wait("Hello from the shop")
    seen = desk.wait_message("Hello from the shop")
    assert seen["author"] == "visitor"
    assert harness.scalar("SELECT state FROM sessions") == "permanent"

    desk.reply("Hello! How can I help?", conversation_id=seen["conversation_id"])
    expect(chat.bodies).to_have_text(["Hello from the shop", "Hello! How can I help?"])
    listing = chat.listing()
    assert [(m["author"], m["who"]) for m in listing] == [
        ("visitor", "You"),
        ("operator", "Camille"),
    ]
    assert [m["id"] for m in listing] == [
        r[0] for r in harness.rows("SELECT id FROM messages ORDER BY seq")
    ]
    # An agent is online: no email prompt.
    expect(chat.messages.locator("form.email")).to_have_count(0)
    assert harness.scalar("SELECT count(*) FROM sessions") == 1


# -- the session and its cookie (P13, P14, P16) ---------------------------------------------------


def _cookie_page(causerie_url: str, website_id: str, title: str) -> str:
    nav = '<nav><a href="/">Home</a> <a href="/shoes">Shoes</a></nav>'
    return host_page(causerie_url, website_id, title=title, body=f"{nav}<h1>{title}</h1>")


def test_p13_navigation_and_a_new_browser_with_the_cookie_restore_the_session_and_its_messages(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    desks: list[Live],
    harness: ThreadedHarness,
) -> None:
    desk = Desk(causerie.url, shop, desks)
    host.pages["/"] = _cookie_page(causerie.url, shop.website_id, "Home")
    host.pages["/shoes"] = _cookie_page(causerie.url, shop.website_id, "Shoes")
    page, chat = visit(new_context, host.url("/"))
    session_id = chat.session_id()
    chat.open()
    chat.send_and_wait("Do you have red shoes?")
    seen = desk.wait_message("Do you have red shoes?")
    desk.reply("We do, in every size.", conversation_id=seen["conversation_id"])
    expect(chat.bodies).to_have_text(["Do you have red shoes?", "We do, in every size."])
    before = chat.listing()

    # Another page of the site: the same session, its messages restored.
    page.click("a[href='/shoes']")
    page.wait_for_url(host.url("/shoes"))
    chat = Chatbox(page).wait_started()
    assert chat.session_id() == session_id
    assert chat.listing() == before
    assert harness.scalar("SELECT page_url FROM sessions WHERE id = :id", id=session_id) == (
        host.url("/shoes")
    )

    # Days later, another browser window holding the same cookie: the same session again.
    _, chat2 = visit(new_context, host.url("/"), storage_state=page.context.storage_state())
    assert chat2.session_id() == session_id
    assert chat2.listing() == before
    chat2.open()
    chat2.send_and_wait("Great, size 42 please.")
    again = desk.wait_message("Great, size 42 please.")
    assert again["conversation_id"] == seen["conversation_id"]

    # Without the cookie, a visitor is someone else.
    _, stranger = visit(new_context, host.url("/"))
    assert stranger.session_id() != session_id
    assert stranger.listing() == []
    assert harness.rows("SELECT state, count(*) FROM sessions GROUP BY state ORDER BY state") == [
        ("permanent", 1),
        ("temporary", 1),
    ]
    assert harness.scalar("SELECT count(*) FROM messages") == 3


def test_p14_the_cookie_is_first_party_lives_cookie_max_age_and_is_renewed_on_every_load(
    new_context: NewContext,
    host: HostSite,
    start_causerie: StartServer,
    shop: Shop,
    harness: ThreadedHarness,
) -> None:
    causerie = start_causerie(cookie_max_age="7d")
    max_age = 7 * 24 * 3600
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    page, _ = visit(new_context, host.url("/"))
    loaded_at = time.time()

    [cookie] = page.context.cookies()
    assert cookie["name"] == f"causerie_session_{shop.website_id}"
    # First-party: on the host page's own site, readable by its script (widget.js writes it).
    assert (cookie["domain"], cookie["path"]) == (urlsplit(host.origin).hostname, "/")
    assert cookie["sameSite"] == "Lax"
    assert cookie["httpOnly"] is False
    assert cookie["secure"] is False  # plain http here; widget.js adds Secure on https
    assert abs(cookie["expires"] - (loaded_at + max_age)) < 30
    # Its value is the session token; the server keeps only its hash.
    token = cookie["value"]
    assert harness.scalar("SELECT token_hash FROM sessions") == (
        hashlib.sha256(token.encode()).hexdigest()
    )

    time.sleep(2.2)
    page.reload()
    Chatbox(page).wait_started()
    [renewed] = page.context.cookies()
    assert renewed["value"] == token
    assert renewed["expires"] - cookie["expires"] >= 1.5, (cookie, renewed)
    assert abs(renewed["expires"] - (time.time() + max_age)) < 30
    assert harness.scalar("SELECT count(*) FROM sessions") == 1


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def test_p16_a_whole_chat_makes_no_outside_request_and_keeps_no_other_cookie_or_storage(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    desks: list[Live],
    harness: ThreadedHarness,
) -> None:
    desk = Desk(causerie.url, shop, desks)
    host.pages["/"] = _cookie_page(causerie.url, shop.website_id, "Home")
    host.pages["/shoes"] = _cookie_page(causerie.url, shop.website_id, "Shoes")
    context = new_context()
    requests: list[str] = []
    sockets: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.on("websocket", lambda socket: sockets.append(socket.url))
    dialogs = fail_on_dialogs(page)

    page.goto(host.url("/"))
    chat = Chatbox(page).wait_started()
    chat.open()
    page.evaluate("""() => {
      $causerie.push(["set", "user:nickname", "Ada"]);
      $causerie.push(["set", "session:data", {"plan": "pro"}]);
    }""")
    chat.send_and_wait("Where is my order?")
    seen = desk.wait_message("Where is my order?")
    desk.reply(
        "It left today: https://tracking.example/parcel/42 (see also http://help.example).",
        conversation_id=seen["conversation_id"],
    )
    expect(chat.items).to_have_count(2)
    page.click("a[href='/shoes']")
    page.wait_for_url(host.url("/shoes"))
    chat = Chatbox(page).wait_started()
    chat.open()
    chat.send_and_wait("Thanks!")
    desk.wait_message("Thanks!")
    page.keyboard.press("Escape")
    expect(chat.panel).to_be_hidden()

    allowed = {host.origin, causerie.url}
    assert requests, "no request recorded"
    assert {_origin(u) for u in requests} <= allowed, sorted(set(requests))
    ws_base = "ws" + causerie.url.removeprefix("http")
    assert sockets and all(u.startswith(f"{ws_base}/ws/visitor") for u in sockets), sockets
    assert all("token" not in u for u in sockets + requests)  # the token never is in a URL

    # One cookie, the chatbox's; no other storage of any kind.
    assert [c["name"] for c in context.cookies()] == [f"causerie_session_{shop.website_id}"]
    assert context.storage_state()["origins"] == []
    assert page.evaluate("""async () => [
        localStorage.length,
        sessionStorage.length,
        (await indexedDB.databases()).length,
        (await caches.keys()).length,
    ]""") == [0, 0, 0, 0]
    [(nickname, data)] = harness.rows("SELECT nickname, data FROM sessions")
    assert (nickname, json.loads(data)) == ("Ada", {"plan": "pro"})
    assert dialogs == []


# -- the host page cannot break it (shadow DOM) --------------------------------------------------

HOSTILE_CSS = """<style>
  /* Every element of the page, the chatbox's own element included. (A rule on html or body
     themselves would hide the whole page; nothing inside it could show then.) */
  body * { display: none !important; }
  * {
    visibility: hidden !important; opacity: 0.01 !important; pointer-events: none !important;
    font: italic 40px/5 cursive !important; color: red !important; letter-spacing: 9px !important;
    box-sizing: content-box !important; direction: rtl !important; cursor: none !important;
  }
  causerie-chatbox, causerie-chatbox * {
    display: none !important; opacity: 0 !important; visibility: hidden !important;
    position: static !important; transform: scale(0) !important; filter: blur(30px) !important;
    clip-path: inset(50%) !important; z-index: -1 !important; overflow: hidden !important;
    width: 0 !important; height: 0 !important; contain: strict !important;
    margin: -9999px !important; all: unset;
  }
  button, textarea, section, div, form, article, p, span, header, h2 {
    display: none !important; width: 1px !important; height: 1px !important;
    background: red !important; border: 20px solid lime !important;
    font-size: 1px !important; padding: 50px !important; margin: 80px !important;
  }
  textarea { resize: both !important; color: transparent !important; }
  [part], [role], .launcher, .panel, .composer, .send, .messages {
    display: none !important; visibility: hidden !important;
  }
</style>"""


def test_the_host_pages_hostile_css_does_not_break_the_chatbox(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    harness: ThreadedHarness,
) -> None:
    host.pages["/"] = host_page(
        causerie.url, shop.website_id, head=HOSTILE_CSS, body="<main><h1>Shop</h1></main>"
    )
    page, chat = visit(new_context, host.url("/"))
    expect(page.locator("h1")).to_be_hidden()  # the hostile rules do apply to the page

    box = chat.launcher.bounding_box()
    assert box is not None
    assert (round(box["width"]), round(box["height"])) == (60, 60)
    assert (box["x"] + box["width"], box["y"] + box["height"]) == (1280 - 20, 800 - 20)
    assert chat.launcher.evaluate("b => getComputedStyle(b).opacity") == "1"
    chat.open()  # a real click: Playwright checks nothing else receives it
    expect(chat.composer).to_be_focused()
    composer = chat.composer.bounding_box()
    assert composer is not None and composer["width"] > 200
    assert chat.composer.evaluate("t => getComputedStyle(t).fontSize") == "15px"
    chat.composer.fill("Still works")
    chat.send_button.click()
    chat.wait_sent("Still works")
    expect(chat.bodies).to_have_text(["Still works"])
    assert harness.scalar("SELECT body FROM messages") == "Still works"


# -- nothing a message says is ever run (P19) -----------------------------------------------------

XSS = [
    "<script>window.__xss = 'script'</script>",
    "<img src=x onerror=\"window.__xss = 'img'\">",
    "<svg onload=\"window.__xss = 'svg'\"><circle r=9></svg>",
    "<iframe src=\"javascript:parent.__xss = 'iframe'\"></iframe>",
    "<iframe srcdoc=\"<script>parent.__xss = 'srcdoc'</script>\"></iframe>",
    "<a href=\"javascript:window.__xss = 'a'\">click me</a>",
    '<div onmouseover="window.__xss = \'hover\'" style="position:fixed;inset:0">hover me</div>',
    "<body onload=\"alert('body')\">",
    '"><script>alert("attr")</script>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('mxss')>",
    "<style>*{display:none !important}</style>",
    "[click me](javascript:alert('markdown'))",
    "![image](javascript:alert('markdown image'))",
    "javascript:alert('bare')",
    "JaVaScRiPt:alert('case')",
    "data:text/html,<script>alert('data')</script>",
    "{{constructor.constructor('alert(\"template\")')()}} ${alert('template')}",
    "https://example.org/?q=<script>alert('in a link')</script>",
    'http://example.org/" onmouseover="alert(\'attr in a link\')" x="',
]
LINKS = (
    "Docs: https://example.org/docs/page?x=1&y=2#top, and http://example.com/a_b-c. "
    "Not javascript:alert('x'), nor www.example.net."
)
EXPECTED_HREFS = [  # the links in XSS, then in LINKS
    "https://example.org/?q=",
    "http://example.org/",
    "https://example.org/docs/page?x=1&y=2#top",
    "http://example.com/a_b-c",
]


def test_p19_agent_messages_and_names_render_as_text_run_nothing_and_links_are_safe(
    new_context: NewContext,
    host: HostSite,
    start_causerie: StartServer,
    harness: ThreadedHarness,
    desks: list[Live],
) -> None:
    shop = make_shop(harness, host.origin, agent_name="<img src=x onerror=alert('name')>Eve")
    causerie = start_causerie()
    desk = Desk(causerie.url, shop, desks)
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    context = new_context()
    page = context.new_page()
    dialogs = fail_on_dialogs(page)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(host.url("/"))
    chat = Chatbox(page).wait_started()
    chat.open()
    nickname = "<img src=x onerror=\"window.__xss = 'nickname'\"><script>alert(1)</script>"
    page.evaluate("(nick) => $causerie.push(['set', 'user:nickname', nick])", nickname)

    session_id = chat.session_id()
    for body in [*XSS, LINKS]:
        desk.reply(body, session_id=session_id)
    expect(chat.items).to_have_count(len(XSS) + 1)
    chat.send_and_wait("<b>bold?</b> <img src=x onerror=alert('mine')>")
    page.mouse.move(640, 400)
    for item in chat.bodies.all():
        item.hover(force=True)
    page.wait_for_timeout(300)  # time for any image error or load handler to run

    listing = chat.listing()
    assert [m["body"] for m in listing] == [
        *XSS,
        LINKS,
        "<b>bold?</b> <img src=x onerror=alert('mine')>",
    ]
    assert {m["who"] for m in listing if m["author"] == "operator"} == {
        "<img src=x onerror=alert('name')>Eve"
    }
    found = page.evaluate("""() => {
      const root = document.querySelector("causerie-chatbox").shadowRoot;
      const messages = root.querySelector('[part="messages"]');
      return {
        tags: [...new Set([...messages.querySelectorAll("*")].map((e) => e.localName))].sort(),
        handlers: [...root.querySelectorAll("*")].flatMap((e) =>
          [...e.attributes].map((a) => a.name).filter((n) => n.startsWith("on"))),
        links: [...messages.querySelectorAll("a")].map((a) =>
          ({ href: a.getAttribute("href"), text: a.textContent, target: a.target, rel: a.rel })),
        xss: window.__xss ?? null,
        frames: window.frames.length,
      };
    }""")
    assert found["xss"] is None
    assert found["frames"] == 0
    assert found["handlers"] == []
    assert set(found["tags"]) <= {"p", "article", "div", "span", "time", "a"}, found["tags"]
    assert [link["href"] for link in found["links"]] == EXPECTED_HREFS
    for link in found["links"]:
        assert link["text"] == link["href"]
        assert link["target"] == "_blank"
        assert link["rel"] == "noopener noreferrer nofollow"
        assert urlsplit(link["href"]).scheme in ("http", "https")
    assert harness.scalar("SELECT nickname FROM sessions") == nickname
    assert dialogs == []
    assert errors == []


# -- a server restart while the chatbox is open ---------------------------------------------------


def test_a_right_to_left_override_in_an_agents_name_or_message_stays_inside_it(
    new_context: NewContext,
    host: HostSite,
    start_causerie: StartServer,
    harness: ThreadedHarness,
    desks: list[Live],
) -> None:
    """Each name and message in the chatbox is isolated for the bidi algorithm: an override in
    an agent's name cannot reverse the time beside it (issue 12)."""
    shop = make_shop(harness, host.origin, agent_name="\u202eEve")
    causerie = start_causerie()
    desk = Desk(causerie.url, shop, desks)
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    page = new_context().new_page()
    page.goto(host.url("/"))
    chat = Chatbox(page).wait_started()
    chat.open()
    desk.reply("\u202egnp.exe see attached", session_id=chat.session_id())
    expect(chat.items).to_have_count(1)
    leaks = page.evaluate("""() => {
      const root = document.querySelector("causerie-chatbox").shadowRoot;
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      const leaks = [];
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!node.data.includes("\\u202e")) continue;
        const bidi = getComputedStyle(node.parentElement).unicodeBidi;
        if (!["isolate", "plaintext", "isolate-override"].includes(bidi)) {
          leaks.push(`${node.parentElement.localName}.${node.parentElement.className}: ${bidi}`);
        }
      }
      return leaks;
    }""")
    assert leaks == []


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


# -- keyboard, composer and accessibility --------------------------------------------------------


def test_keyboard_only_enter_sends_shift_enter_breaks_the_line_and_aria_is_right(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    harness: ThreadedHarness,
) -> None:
    host.pages["/"] = host_page(causerie.url, shop.website_id, body="<h1>Shop</h1>")
    page, chat = visit(new_context, host.url("/"))
    expect(chat.launcher).to_have_attribute("aria-expanded", "false")
    expect(chat.launcher).to_have_attribute("aria-label", "Open chat")
    expect(chat.panel).to_have_attribute("role", "dialog")
    expect(chat.messages).to_have_attribute("role", "log")
    expect(chat.composer).to_have_attribute("aria-label", "Message")
    expect(chat.send_button).to_have_attribute("aria-label", "Send")
    assert chat.panel.get_attribute("id") == chat.launcher.get_attribute("aria-controls")

    page.keyboard.press("Tab")
    assert chat.shadow_focus() == "launcher"
    page.keyboard.press("Enter")
    expect(chat.panel).to_be_visible()
    expect(chat.launcher).to_have_attribute("aria-expanded", "true")
    assert chat.shadow_focus() == "composer"

    page.evaluate(_RECORD_STATES)
    page.keyboard.type("first line")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("second line")
    assert chat.composer.input_value() == "first line\nsecond line"
    expect(chat.items).to_have_count(0)
    page.keyboard.press("Enter")
    expect(chat.composer).to_have_value("")
    chat.wait_sent("first line\nsecond line")
    assert page.evaluate("() => window.__states") == ["sending", "sent"]
    assert harness.scalar("SELECT body FROM messages") == "first line\nsecond line"

    page.keyboard.press("Escape")
    expect(chat.panel).to_be_hidden()
    expect(chat.launcher).to_have_attribute("aria-expanded", "false")
    assert chat.shadow_focus() == "launcher"
    page.keyboard.press("Space")  # a button: Space works too
    expect(chat.panel).to_be_visible()
    assert chat.shadow_focus() == "composer"


# -- the SDK -------------------------------------------------------------------------------------

QUEUED = """<script>
  window.__events = [];
  window.$causerie = [
    ["on", "chat:opened", () => __events.push("chat:opened")],
    ["on", "message:sent", (m) => __events.push("message:sent " + m.body)],
    ["set", "user:email", "a@b.example"],
    ["do", "chat:open"],
    ["do", "message:send", "queued hello"],
  ];
</script>"""


def test_sdk_queued_commands_run_in_order_and_every_command_works(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    desks: list[Live],
    harness: ThreadedHarness,
) -> None:
    desk = Desk(causerie.url, shop, desks)
    host.pages["/"] = host_page(causerie.url, shop.website_id, before=QUEUED)
    page, chat = visit(new_context, host.url("/"))
    expect(chat.panel).to_be_visible()
    chat.wait_sent("queued hello")
    assert page.evaluate("() => __events") == ["chat:opened", "message:sent queued hello"]
    assert page.evaluate("() => $causerie.is('chat:opened')") is True
    assert harness.rows("SELECT id, email, state FROM sessions") == [
        (chat.session_id(), "a@b.example", "permanent")
    ]
    assert harness.scalar("SELECT body FROM messages") == "queued hello"
    seen = desk.wait_message("queued hello")

    page.evaluate("""() => {
      window.__received = [];
      window.__onReceived = (m) => __received.push([m.author, m.body, m.operator.name]);
      $causerie.on("message:received", __onReceived);
      $causerie.push(["on", "chat:closed", () => __events.push("chat:closed")]);
    }""")
    desk.reply("Hello there", conversation_id=seen["conversation_id"])
    page.wait_for_function("() => __received.length === 1")
    assert page.evaluate("() => __received") == [["operator", "Hello there", "Camille"]]

    page.evaluate("() => $causerie.push(['do', 'chat:close'])")
    expect(chat.panel).to_be_hidden()
    assert page.evaluate("() => [$causerie.is('chat:opened'), $causerie.is('chat:closed')]") == [
        False,
        True,
    ]
    page.evaluate("() => $causerie.push(['do', 'chat:toggle'])")
    expect(chat.panel).to_be_visible()
    page.evaluate("() => $causerie.push(['do', 'chat:toggle'])")
    expect(chat.panel).to_be_hidden()
    assert page.evaluate("() => __events") == [
        "chat:opened",
        "message:sent queued hello",
        "chat:closed",
        "chat:opened",
        "chat:closed",
    ]

    # An unread reply while closed: the badge counts it; `off` stops a handler.
    page.evaluate("() => $causerie.off('message:received', __onReceived)")
    desk.reply("Still there?", conversation_id=seen["conversation_id"])
    expect(chat.badge).to_have_text("1")
    page.wait_for_timeout(200)
    assert page.evaluate("() => __received.length") == 1
    assert page.evaluate("() => $causerie.get('chat:unread:count')") == 1

    page.evaluate("""() => {
      $causerie.push(["set", "user:nickname", "Ada"]);
      $causerie.push(["set", "user:phone", "+33 1 23 45 67 89"]);
      $causerie.push(["set", "session:data", {"plan": "pro", "seats": 3}]);
      $causerie.push(["do", "message:send", "sent by the SDK"]);
    }""")
    chat.wait_sent("sent by the SDK")
    page.wait_for_function("() => $causerie.get('session:data')?.plan === 'pro'")
    assert page.evaluate(
        "() => ['user:email', 'user:nickname', 'user:phone'].map((n) => $causerie.get(n))"
    ) == ["a@b.example", "Ada", "+33 1 23 45 67 89"]
    [(*profile, data)] = harness.rows("SELECT email, nickname, phone, data FROM sessions")
    assert profile == ["a@b.example", "Ada", "+33 1 23 45 67 89"]
    assert json.loads(data) == {"plan": "pro", "seats": 3}
    assert [r[0] for r in harness.rows("SELECT body FROM messages ORDER BY seq")] == [
        "queued hello",
        "Hello there",
        "Still there?",
        "sent by the SDK",
    ]


# -- website settings ----------------------------------------------------------------------------


def test_website_settings_colour_position_greeting_and_french_and_the_email_prompt(
    new_context: NewContext,
    host: HostSite,
    shop: Shop,
    start_causerie: StartServer,
    harness: ThreadedHarness,
) -> None:
    harness.execute(
        "UPDATE websites SET settings = :s",
        s=json.dumps(
            {"color": "#e03131", "position": "left", "greeting": "Bonjour !", "locale": "fr"}
        ),
    )
    causerie = start_causerie()
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    _, chat = visit(new_context, host.url("/"))  # an English browser: the website says fr

    assert chat.launcher.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(224, 49, 49)"
    box = chat.launcher.bounding_box()
    assert box is not None and box["x"] == 20  # bottom left
    expect(chat.launcher).to_have_attribute("aria-label", "Ouvrir la discussion")
    chat.open()
    expect(chat.launcher).to_have_attribute("aria-label", "Fermer la discussion")
    expect(chat.messages.locator(".greeting")).to_have_text("Bonjour !")
    expect(chat.composer).to_have_attribute("placeholder", "Écrivez un message…")
    expect(chat.send_button).to_have_attribute("aria-label", "Envoyer")
    expect(chat.status).to_have_text("Nous répondrons dès que possible", use_inner_text=True)
    header = chat.panel.locator("header")
    assert header.evaluate("h => getComputedStyle(h).backgroundColor") == "rgb(224, 49, 49)"

    # No agent online: after the first message, the chatbox asks for an email.
    email_form = chat.messages.locator("form.email")
    expect(email_form).to_have_count(0)
    sent = chat.send_and_wait("Bonjour, une question")
    assert sent["who"] == "Vous"
    expect(chat.items.last.locator("[data-state]")).to_have_text("Envoyé")
    expect(email_form).to_be_visible()
    expect(email_form.locator("p")).to_have_text(
        "Personne n'est en ligne pour le moment. Laissez votre e-mail, nous vous répondrons."
    )
    email_form.locator("input[type=email]").fill("ada@example.org")
    email_form.locator("button").click()
    expect(email_form).to_have_text("Merci, nous répondrons à ada@example.org.")
    assert harness.scalar("SELECT email FROM sessions") == "ada@example.org"
    chat.send_and_wait("Une autre")
    expect(email_form).to_have_count(1)  # asked once

    # `email_prompt: false`: never asked.
    harness.execute(
        "UPDATE websites SET settings = :s", s=json.dumps({"locale": "fr", "email_prompt": False})
    )
    _, other = visit(new_context, host.url("/"))
    other.open()
    other.send_and_wait("Sans e-mail")
    other.page.wait_for_timeout(200)
    expect(other.messages.locator("form.email")).to_have_count(0)


# -- how it looks --------------------------------------------------------------------------------

SHOWCASE = """<style>
  body { margin: 0; font: 16px/1.5 Georgia, serif; color: #222; background: #faf7f2; }
  header { padding: 18px 32px; background: #222; color: #faf7f2; font: 700 20px sans-serif; }
  main { padding: 24px 32px; }
  .cards { display: flex; flex-wrap: wrap; gap: 18px; }
  .card { width: 220px; padding: 14px; border-radius: 10px; background: #fff;
          box-shadow: 0 1px 4px rgb(0 0 0 / 12%); }
  .shoe { height: 120px; border-radius: 8px; margin-bottom: 10px; }
</style>"""
SHOWCASE_BODY = """<header>Demo shop</header><main><h1>Shoes</h1><div class="cards">
<div class="card"><div class="shoe" style="background:#c92a2a"></div>Red shoes · 89 €</div>
<div class="card"><div class="shoe" style="background:#1864ab"></div>Blue shoes · 79 €</div>
<div class="card"><div class="shoe" style="background:#2b8a3e"></div>Green shoes · 84 €</div>
</div></main>"""


def _save(path: Path, png: bytes) -> None:
    """Written only when it changed, so that a re-run leaves the working tree clean."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != png:
        path.write_bytes(png)


def test_screenshots_of_the_open_chatbox_on_a_desktop_and_a_phone(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    desks: list[Live],
) -> None:
    desk = Desk(causerie.url, shop, desks)
    opened = '<script>window.$causerie = [["do", "chat:open"]];</script>'
    host.pages["/"] = host_page(
        causerie.url, shop.website_id, title="Shoes", head=SHOWCASE, body=SHOWCASE_BODY
    )
    host.pages["/open"] = host_page(
        causerie.url,
        shop.website_id,
        title="Shoes",
        head=SHOWCASE,
        body=SHOWCASE_BODY,
        before=opened,
    )
    page, chat = visit(new_context, host.url("/"))
    chat.open()
    chat.send_and_wait("Hi! Do the red shoes come in size 42?")
    seen = desk.wait_message("Hi! Do the red shoes come in size 42?")
    desk.reply(
        "They do! Shall I keep a pair for you? Sizes: https://shop.example/sizes",
        conversation_id=seen["conversation_id"],
    )
    expect(chat.items).to_have_count(2)
    state = page.context.storage_state()

    shots = {}
    for name, options in {
        "widget-desktop.png": {"viewport": {"width": 1280, "height": 800}},
        "widget-phone.png": {
            "viewport": {"width": 360, "height": 740},
            "is_mobile": True,
            "has_touch": True,
            "device_scale_factor": 1,
        },
    }.items():
        shot_page, shot = visit(new_context, host.url("/open"), storage_state=state, **options)
        expect(shot.panel).to_be_visible()
        expect(shot.items).to_have_count(2)
        expect(shot.status).to_have_text("We're online", use_inner_text=True)
        shot_page.evaluate("() => document.fonts.ready")
        # Steady: two screenshots in a row alike (a late layout step on a loaded machine may
        # still move a pixel after the checks above; the page must settle within a few tries).
        png = shot_page.screenshot(animations="disabled", caret="hide")
        for _ in range(10):
            again = shot_page.screenshot(animations="disabled", caret="hide")
            if again == png:
                break
            png = again
        else:
            pytest.fail(f"{name}: the page never held still for two screenshots in a row")
        shots[name] = png
    for name, png in shots.items():
        _save(SCREENSHOTS / name, png)


def test_on_a_phone_the_open_panel_fills_the_screen_and_nothing_covers_its_send_button(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
) -> None:
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    phone = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
    _, chat = visit(new_context, host.url("/"), **phone)
    chat.launcher.tap()
    expect(chat.panel).to_be_visible()
    assert chat.panel.bounding_box() == {"x": 0, "y": 0, "width": 360, "height": 740}
    chat.composer.fill("Sent from a phone")
    chat.send_button.tap(timeout=3000)  # Playwright checks that the tap reaches the button
    chat.wait_sent("Sent from a phone")


# -- weight --------------------------------------------------------------------------------------


def test_the_chatbox_loads_under_30_kib_before_it_is_opened(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
) -> None:
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    context = new_context()
    page = context.new_page()
    responses: list[Any] = []
    page.on("response", lambda response: responses.append(response))
    page.goto(host.url("/"))
    chat = Chatbox(page).wait_started()
    expect(chat.panel).to_be_hidden()

    files = {
        urlsplit(r.url).path: len(r.body())
        for r in responses
        if r.url.startswith(causerie.url) and r.request.method == "GET"
    }
    names = sorted(path.rsplit("/", 1)[-1] for path in files)
    assert names == sorted([*BEFORE_OPENING, "widget.js"]), files
    total = sum(files.values())
    print(f"\nchatbox bytes before opening: {total} ({files})")
    assert total < SIZE_BUDGET, f"the chatbox loads {total} bytes before opening: {files}"


# -- typing, read marks, a message that could not be sent ----------------------------------------


def test_typing_both_ways_read_marks_and_a_failed_message_retried(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    desks: list[Live],
    harness: ThreadedHarness,
) -> None:
    desk = Desk(causerie.url, shop, desks)
    host.pages["/"] = host_page(causerie.url, shop.website_id, title="Home")
    page, chat = visit(new_context, host.url("/"))
    chat.open()
    first = chat.send_and_wait("Is anyone there?")
    conversation_id = desk.wait_message("Is anyone there?")["conversation_id"]

    chat.composer.press_sequentially("Hel")
    typing = desk.live.expect("typing", on=True)
    assert (typing["from"], typing["on"], typing["conversation_id"]) == (
        "visitor",
        True,
        conversation_id,
    )
    chat.composer.fill("")

    indicator = chat.panel.locator(".typing")
    desk.live.send({"type": "typing", "on": True, "conversation_id": conversation_id})
    expect(indicator).to_be_visible()
    expect(indicator).to_have_text("Camille is typing…")
    desk.reply("Yes, I am here.", conversation_id=conversation_id)
    expect(indicator).to_be_hidden()

    seen = chat.messages.locator(".seen")
    expect(seen).to_have_count(0)
    desk.live.send({"type": "read", "up_to": first["id"], "conversation_id": conversation_id})
    expect(seen).to_have_text(["Seen"])

    # No network: the message waits, is marked as not sent, and the Retry button resends it.
    page.context.set_offline(True)
    chat.send("Sent while offline")
    item = chat.items.filter(has_text="Sent while offline")
    expect(item.locator("[data-state]")).to_have_attribute("data-state", "failed", timeout=20_000)
    expect(item.locator(".state")).to_contain_text("Not sent.")
    item.locator("button.retry").click()
    expect(item.locator("[data-state]")).to_have_attribute("data-state", "sending")
    page.context.set_offline(False)
    chat.wait_sent("Sent while offline")
    assert harness.scalar("SELECT count(*) FROM messages WHERE body = 'Sent while offline'") == 1


def test_the_chatbox_respects_prefers_reduced_motion(
    new_context: NewContext, host: HostSite, causerie: CauserieServer, shop: Shop
) -> None:
    host.pages["/"] = host_page(causerie.url, shop.website_id, title="Home")
    durations = {}
    for motion in ("no-preference", "reduce"):
        page, _ = visit(new_context, host.url("/"), reduced_motion=motion)
        durations[motion] = page.evaluate(
            """() => getComputedStyle(document.querySelector("causerie-chatbox").shadowRoot
                .querySelector('[part="launcher"]')).transitionDuration"""
        )
    assert durations == {"no-preference": "0.15s", "reduce": "0s"}
