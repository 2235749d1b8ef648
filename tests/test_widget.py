"""The chatbox in a real browser: headless Chromium on a host page of ANOTHER origin than the
Causerie server, talking to a real server and a real agent socket (docs/widget.md): a chat, the
session and its cookie (P13, P14, P16), the host page's CSS, and hostile text that never runs
(P19).

Only SQLite here: what the browser sees does not depend on the database. The set-up:
tests/widget_support.py.
"""

from __future__ import annotations

import hashlib
import json
import time
from urllib.parse import urlsplit

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
    StartServer,
    fail_on_dialogs,
    make_shop,
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
