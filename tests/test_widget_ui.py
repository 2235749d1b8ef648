"""The chatbox's interface in real headless Chromium (docs/widget.md): the keyboard and
accessibility, the SDK, a website's settings, how it looks on a desktop and a phone (the
screenshots in the docs), its weight before it is opened, typing and read marks, and reduced
motion.

Only SQLite here; the set-up: tests/widget_support.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from causerie.web.assets import BEFORE_OPENING
from tests import widget_support
from tests.browser_support import (
    CauserieServer,
    HostSite,
    NewContext,
    ThreadedHarness,
    host_page,
    screenshots_folder,
)
from tests.live import Live
from tests.widget_support import (
    Chatbox,
    Desk,
    Shop,
    StartServer,
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

SCREENSHOTS = screenshots_folder()
SIZE_BUDGET = 30 * 1024  # bytes the chatbox loads before it is opened, uncompressed

_RECORD_STATES = """() => {
  const root = document.querySelector("causerie-chatbox").shadowRoot;
  const log = (window.__states = []);
  new MutationObserver(() => {
    const items = root.querySelectorAll("article.message.visitor");
    const state = items[items.length - 1]?.querySelector("[data-state]")?.dataset.state;
    if (state && log[log.length - 1] !== state) log.push(state);
  }).observe(root.querySelector('[part="messages"]'), { childList: true, subtree: true });
}"""


_FOCUS_RING = """() => {
  const root = document.querySelector("causerie-chatbox").shadowRoot;
  const style = getComputedStyle(root.activeElement);
  return {
    style: style.outlineStyle,
    width: parseFloat(style.outlineWidth),
    colour: style.outlineColor,
    background: getComputedStyle(root.querySelector("header")).backgroundColor,
  };
}"""


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

    # The header's buttons, reached by the keyboard, show a ring that stands out from the
    # header's accent background (an accent ring on it was invisible).
    for _ in range(6):
        if chat.shadow_focus() == "close":
            break
        page.keyboard.press("Shift+Tab")
    assert chat.shadow_focus() == "close"
    ring = page.evaluate(_FOCUS_RING)
    assert ring["style"] == "solid" and ring["width"] >= 2, ring
    assert ring["colour"] != ring["background"], ring


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
    # A field under 16px makes Safari on iOS zoom the page into it when it takes the focus.
    size = chat.composer.evaluate("(el) => parseFloat(getComputedStyle(el).fontSize)")
    assert size >= 16, size
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


_CONTRASTS = """(selectors) => {
  const root = document.querySelector("causerie-chatbox").shadowRoot;
  const luminance = (colour) => {
    const [r, g, b] = colour.match(/[\\d.]+/g).slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  return Object.fromEntries(selectors.map((selector) => {
    const style = getComputedStyle(root.querySelector(selector));
    const [a, b] = [luminance(style.color), luminance(style.backgroundColor)];
    return [selector, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
  }));
}"""


def test_on_a_dark_page_the_fields_keep_readable_text(
    new_context: NewContext, host: HostSite, causerie: CauserieServer, shop: Shop
) -> None:
    """A page that says it is dark (`color-scheme`) gave the chatbox's fields dark backgrounds
    under its dark text: the chatbox is light whatever the page's scheme."""
    dark = (
        '<meta name="color-scheme" content="dark"><style>body{background:#111;color:#eee}</style>'
    )
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    host.pages["/dark"] = host_page(causerie.url, shop.website_id, head=dark)
    for path, scheme in (("/", "light"), ("/dark", "dark")):
        page, chat = visit(new_context, host.url(path), color_scheme=scheme)
        chat.open()
        chat.send_and_wait("Is anyone there?")
        # No one is online: the chatbox asks for an email, in a field of its own.
        expect(chat.messages.locator('input[type="email"]')).to_be_visible()
        chat.composer.fill("A second question")
        contrasts = page.evaluate(_CONTRASTS, [".composer", ".email input", ".messages", ".panel"])
        assert all(ratio >= 4.5 for ratio in contrasts.values()), (scheme, contrasts)
        page.screenshot(path=str(SCREENSHOTS / f"widget-on-a-{scheme}-page.png"))
