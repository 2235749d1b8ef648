"""Causerie used as its people use it, in real headless Chromium, against SPEC.md ("The chatbox",
"Daily work in the inbox", "Files", "Notifications": the installable inbox) and docs/inbox.md,
docs/widget.md (audit 11): a visitor's day in the chatbox on a host page, the unread count from
page to page and tab to tab, an agent's day in the inbox with a teammate on the same
conversation, a server restart and a phone, and the installed inbox opened without a network.
Every page is watched for console errors.

What this audit found and fixed, each checked here:
- an operator of several websites who switched to one with labels saw no chips in its list and
  no label filter (its labels were never loaded) until a reload;
- the chatbox's messages did not keep their newest line in sight when the rating form took room
  under them, nor always showed the email prompt added under the last message;
- the chatbox's unread count started from nothing on each page: a reply not read yet was no
  longer counted on the next page of the site or after a reload, and a reply read in one tab
  stayed counted in the others;
- the installed inbox opened offline neither sent by itself the reply written meanwhile (it said
  it would) nor showed the conversations started before its stream began, once back online.

One server for the module (tests/inbox_support.py), SQLite.
"""

from __future__ import annotations

import io
import re

from PIL import Image
from playwright.sync_api import Locator, Page, expect

from causerie.actions.labels import do_create_label
from causerie.actions.replies import do_create_reply
from causerie.actions.websites import do_update_website
from causerie.domain.models import Actor
from tests import inbox_support
from tests.browser_support import NewContext, host_page, log_in
from tests.inbox_support import (
    Env,
    choose_website,
    conversation_of,
    fail_on_dialogs,
    inbox,
    item,
    new_visitor,
    thread_bodies,
    watch_csp,
)

env = inbox_support.env

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site

# How far the newest line of the chatbox's messages is below what the visitor sees (pixels).
_HIDDEN_BELOW = """() => {
  const box = document.querySelector("causerie-chatbox").shadowRoot
    .querySelector('[part="messages"]');
  return box.scrollHeight - box.scrollTop - box.clientHeight;
}"""

# Every visible control without an accessible name (text, aria-label, a <label>, a title).
_NAMELESS = """() => [...document.querySelectorAll(
    "button, select, input, textarea, a[href], [role=button], [role=option], [role=switch]")]
  .filter((e) => e.offsetParent !== null)
  .filter((e) => !(e.getAttribute("aria-label") || e.getAttribute("aria-labelledby")
    || e.textContent.trim() || e.labels?.length || e.getAttribute("title")))
  .map((e) => e.outerHTML.slice(0, 120))"""


def _png(width: int = 40, height: int = 30) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def _in_sight(page: Page) -> None:
    """The chatbox's newest line (message, prompt) is in the visitor's sight."""
    page.wait_for_function(f"() => ({_HIDDEN_BELOW})() <= 2")


def _chatbox(page: Page) -> tuple[Locator, Locator]:
    chat = page.locator("causerie-chatbox")
    return chat, chat.locator('[part="composer"]')


def test_a_visitors_day_in_the_chatbox_keeps_the_newest_line_in_sight(
    new_context: NewContext, env: Env
) -> None:
    rt = env.harness.rt
    hours = {
        "timezone": "Europe/Paris",
        "week": {"sat": [["09:00", "09:30"]]},  # the test clock is never then for long
        "away_message": "We answer on Saturdays.",
    }
    env.harness.run(
        do_update_website(
            rt, Actor.cli(), env.studio_id, name=None, origins=None,
            settings={"business_hours": hours},
        )
    )  # fmt: skip
    env.host.pages["/studio"] = host_page(env.url, env.studio_id, title="Studio")
    # An Arabic browser: the chatbox has no right-to-left language, it speaks English, left to
    # right, and the visitor's words keep their own direction.
    page = new_context(locale="ar-EG", viewport={"width": 1280, "height": 640}).new_page()
    errors = watch_csp(page)
    dialogs = fail_on_dialogs(page)
    page.goto(env.host.url("/studio"))
    chat, composer = _chatbox(page)
    chat.locator('[part="launcher"]').click()
    expect(chat.locator(".frame")).to_have_attribute("lang", "en")
    expect(chat.locator(".frame")).to_have_attribute("dir", "ltr")
    away = chat.locator('[part="away"]')
    expect(away).to_contain_text("We're away. Back Saturday")
    expect(away).to_contain_text("We answer on Saturdays.")
    lines = ["مرحبا، هل أنتم هنا؟", *(f"Line {n}\nof my question\nabout a lamp" for n in range(4))]
    for line in lines:
        composer.fill(line)
        composer.press("Enter")
        expect(composer).to_be_focused()
    sent = chat.locator("article.message.visitor [data-state=sent]")
    expect(sent).to_have_count(len(lines))
    expect(chat.locator("article.message .body").first).to_have_attribute("dir", "auto")
    session_id = page.evaluate("() => $causerie.get('session:id')")

    # A reload: the same session, its history; the email prompt comes under the next message,
    # in sight (it was added below the fold of a long conversation).
    page.reload()
    chat, composer = _chatbox(page)
    chat.locator('[part="launcher"]').click()
    expect(chat.locator("article.message")).to_have_count(len(lines))
    assert page.evaluate("() => $causerie.get('session:id')") == session_id
    composer.fill("After the reload")
    composer.press("Enter")
    expect(sent).to_have_count(len(lines) + 1)
    prompt = chat.locator("form.email")
    expect(prompt).to_contain_text("No one is online right now")
    _in_sight(page)

    # An agent comes online: the away notice goes. Files both ways, fetched and shown.
    owner = inbox(new_context, env, env.owner)
    owner_errors = watch_csp(owner)
    choose_website(owner, env.studio_id)
    expect(away).to_be_hidden()
    conversation_id = conversation_of(env, session_id)
    item(owner, conversation_id).click()
    expect(thread_bodies(owner)).to_have_count(len(lines) + 1)
    chat.locator('input[type="file"]').set_input_files(
        {"name": "lamp.png", "mimeType": "image/png", "buffer": _png()}
    )
    expect(owner.locator(".log .message.visitor .preview img")).to_have_attribute(
        "src", re.compile("^blob:")
    )
    owner.locator("#attach-input").set_input_files(
        {"name": "manual.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}
    )
    expect(chat.locator("article.message.operator .card")).to_contain_text("manual.pdf")
    expect(chat.locator("article.message.visitor .preview img")).to_have_attribute(
        "src", re.compile("^blob:")
    )
    owner.fill("#composer", "It ships on Monday.")
    owner.press("#composer", "Enter")
    expect(chat.locator("article.message.operator .body").last).to_have_text("It ships on Monday.")
    _in_sight(page)

    # Resolved: the rating takes room under the messages, which keep the reply in sight.
    owner.click("#resolve")
    rating = chat.locator('[part="rating"]')
    expect(rating).to_be_visible()
    _in_sight(page)
    rating.get_by_role("radio", name="4 out of 5").click()
    rating.locator("textarea").fill("Quick and kind")
    rating.locator("button.send-rating").click()
    expect(rating).to_contain_text("Thanks for your rating!")
    expect(owner.locator(".log")).to_contain_text("Quick and kind")
    _in_sight(page)

    # The visitor ends it: nothing left on either side.
    chat.locator('[part="menu-button"]').click()
    chat.locator('[part="menu"]').get_by_role("menuitem", name="Delete this conversation").click()
    chat.get_by_role("button", name="Delete for good").click()
    expect(chat.locator("article.message")).to_have_count(0)
    expect(item(owner, conversation_id)).to_have_count(0)
    expect(owner.locator(".thread")).to_contain_text("This conversation was deleted.")
    assert env.harness.scalar("SELECT count(*) FROM sessions WHERE id = :s", s=session_id) == 0
    assert errors == [] and owner_errors == [] and dialogs == []


def test_the_chatbox_unread_count_follows_the_visitor_from_page_to_page_and_tab_to_tab(
    new_context: NewContext, env: Env
) -> None:
    env.host.pages["/"] = host_page(env.url, env.shop_id)
    env.host.pages["/lamps"] = host_page(env.url, env.shop_id, title="Lamps")
    context = new_context()
    home = context.new_page()
    errors = watch_csp(home)
    home.goto(env.host.url("/"))
    chat, composer = _chatbox(home)
    chat.locator('[part="launcher"]').click()
    composer.fill("Do you have desk lamps?")
    composer.press("Enter")
    expect(chat.locator("article.message [data-state=sent]")).to_have_count(1)
    chat.locator('[part="launcher"]').click()  # closed: replies are counted
    conversation_id = conversation_of(env, home.evaluate("() => $causerie.get('session:id')"))
    owner = inbox(new_context, env, env.owner)
    owner.goto(f"{env.url}/app#/c/{conversation_id}")
    expect(thread_bodies(owner)).to_have_text(["Do you have desk lamps?"])
    for reply in ("Yes, three models.", "Want the links?"):
        owner.fill("#composer", reply)
        owner.press("#composer", "Enter")
    badge = chat.locator('[part="badge"]')
    expect(badge).to_have_text("2")

    # Another page of the site, in another tab: the replies not read yet are still counted.
    lamps = context.new_page()
    errors += watch_csp(lamps)
    lamps.goto(env.host.url("/lamps"))
    other, _ = _chatbox(lamps)
    expect(other.locator('[part="badge"]')).to_have_text("2")
    expect(other.locator('[part="launcher"]')).to_have_attribute(
        "aria-label", "Open chat (2 unread)"
    )
    assert lamps.evaluate("() => $causerie.get('chat:unread:count')") == 2
    home.reload()
    chat, _ = _chatbox(home)
    expect(chat.locator('[part="badge"]')).to_have_text("2")

    # Read in one tab: the other's badge goes, and stays gone on the next page.
    other.locator('[part="launcher"]').click()
    expect(other.locator('[part="badge"]')).to_be_hidden()
    expect(chat.locator('[part="badge"]')).to_be_hidden()
    home.reload()
    chat, _ = _chatbox(home)
    expect(chat.locator('[part="launcher"]')).to_have_attribute("aria-label", "Open chat")
    expect(chat.locator('[part="badge"]')).to_be_hidden()
    assert errors == []


def test_an_agents_day_with_a_teammate_labels_shown_after_switching_websites(
    new_context: NewContext, env: Env
) -> None:
    h, cli = env.harness, Actor.cli()
    h.run(
        do_create_reply(
            h.rt, cli, env.shop_id, shortcut="ship", title="Shipping",
            body="We ship in 2 days. {agent_name}",
        )
    )  # fmt: skip
    vip = h.run(do_create_label(h.rt, cli, env.shop_id, name="VIP", color="#e03131"))
    h.run(do_create_label(h.rt, cli, env.shop_id, name="Billing", color="#1971c2"))
    env.host.pages["/"] = host_page(env.url, env.shop_id)
    agent = inbox(new_context, env, env.agent)
    owner = inbox(new_context, env, env.owner)
    errors = {"agent": watch_csp(agent), "owner": watch_csp(owner)}
    # The owner of three websites looks at another one, then at the shop.
    choose_website(owner, env.blog_id)
    choose_website(owner, env.shop_id)
    expect(owner.locator("#label-filter")).to_be_visible()
    expect(owner.locator("#label-filter option")).to_have_text(["Any label", "Billing", "VIP"])

    visitor = new_context().new_page()
    errors["visitor"] = watch_csp(visitor)
    visitor.goto(env.host.url("/"))
    chat, composer = _chatbox(visitor)
    chat.locator('[part="launcher"]').click()
    composer.fill("Is the lamp in stock?")
    composer.press("Enter")
    row = agent.locator("#conversations [role=option]", has_text="Is the lamp in stock?")
    expect(row).to_be_visible()  # live, without a reload
    expect(row.locator(".badge")).to_have_text("1")
    expect(agent).to_have_title(re.compile(r"^\(1\) "))
    row.click()
    expect(thread_bodies(agent)).to_have_text(["Is the lamp in stock?"])
    expect(agent).not_to_have_title(re.compile(r"^\(\d+\) "))
    conversation_id = conversation_of(env, visitor.evaluate("() => $causerie.get('session:id')"))
    mine, theirs = item(agent, conversation_id), item(owner, conversation_id)

    # A canned reply by its shortcut, edited, sent with Enter; the focus stays in the composer.
    agent.locator("#composer").fill("/shi")
    expect(agent.locator("#slash-menu [role=option]")).to_have_text(["/shipShipping"])
    agent.locator("#composer").press("Enter")
    expect(agent.locator("#composer")).to_have_value("We ship in 2 days. Camille Martin")
    agent.locator("#composer").press("Shift+Enter")
    agent.locator("#composer").type("Anything else?")
    agent.locator("#composer").press("Enter")
    expect(chat.locator("article.message.operator .body")).to_have_text(
        ["We ship in 2 days. Camille Martin\nAnything else?"]
    )
    expect(agent.locator("#composer")).to_be_focused()
    expect(agent.locator("#composer")).to_have_value("")

    # Labels set from the keyboard, seen in both agents' lists, filtered, then removed.
    agent.keyboard.press("Escape")
    agent.keyboard.press("l")
    agent.locator("#label-filter-input").fill("VIP")
    agent.locator("#label-filter-input").press("Enter")
    agent.keyboard.press("Escape")
    expect(agent.locator("#labels-button")).to_be_focused()
    expect(mine.locator(".label-chip")).to_have_text(["VIP"])
    expect(theirs.locator(".label-chip")).to_have_text(["VIP"])
    owner.select_option("#label-filter", vip.id)
    expect(owner.locator("#conversations [role=option]")).to_have_count(1)
    theirs.click()
    expect(thread_bodies(owner)).to_have_count(2)
    agent.locator("#labels-button").click()
    agent.locator(".label-option", has_text="VIP").locator("input").uncheck()
    agent.keyboard.press("Escape")
    expect(mine.locator(".label-chip")).to_have_count(0)
    expect(theirs).to_have_count(0)  # out of the owner's VIP list, live
    owner.select_option("#label-filter", "")
    expect(theirs).to_be_visible()

    # The teammate on the same conversation: a note the visitor never sees, an assignment.
    owner.locator("label.mode-note").click()
    owner.fill("#composer", "Offer free shipping")
    owner.press("#composer", "Enter")
    expect(agent.locator(".log article.message.note .body")).to_have_text(["Offer free shipping"])
    owner.select_option("#assignee", label="Camille Martin")
    expect(agent.locator("#assignee")).to_have_value(env.agent.id)
    expect(mine.locator(".assignee")).to_have_text("→ Camille Martin")
    agent.click("button[data-filter=mine]")
    expect(mine).to_be_visible()

    # Resolved; the visitor's rating reaches both agents live.
    agent.click("#resolve")
    rating = chat.locator('[part="rating"]')
    rating.get_by_role("radio", name="5 out of 5").click()
    rating.locator("button.send-rating").click()
    for page in (agent, owner):
        expect(page.locator(".log")).to_contain_text("Rated 5/5 by the visitor")
    expect(chat.locator("article.message .body")).to_have_text(
        ["Is the lamp in stock?", "We ship in 2 days. Camille Martin\nAnything else?"]
    )
    # Search finds it among the resolved ones.
    agent.click("button[data-filter=resolved]")
    agent.fill("#search", "lamp")
    agent.press("#search", "Enter")
    expect(agent.locator("#conversations [role=option]")).to_have_count(1)

    for page in (agent, owner, visitor):
        assert page.evaluate(_NAMELESS) == []
    assert agent.locator(".log").get_attribute("role") == "log"
    assert errors == {"agent": [], "owner": [], "visitor": []}


def test_a_restart_loses_and_doubles_nothing_and_a_phone_answers(
    new_context: NewContext, env: Env
) -> None:
    first = new_visitor(env, env.shop_id)
    first.say("Before the restart")
    first_id = conversation_of(env, first.session_id)
    agent = inbox(new_context, env, env.agent)
    errors = watch_csp(agent)
    expect(item(agent, first_id).locator(".badge")).to_have_text("1")
    env.server.stop()
    expect(agent.locator(".connection")).to_have_text("Reconnecting…")
    env.server.start_again()
    first.say("During the restart")
    second = new_visitor(env, env.shop_id)
    second.say("A new one")
    second_id = conversation_of(env, second.session_id)
    expect(agent.locator(".connection")).to_have_text("")
    expect(item(agent, second_id).locator(".badge")).to_have_text("1")
    expect(item(agent, first_id).locator(".badge")).to_have_text("2")
    expect(agent.locator("#nav-unread")).to_have_text("2")

    # A reply written while the server is down goes once it is back, once.
    item(agent, first_id).click()
    expect(thread_bodies(agent)).to_have_text(["Before the restart", "During the restart"])
    env.server.stop()
    expect(agent.locator(".connection")).to_have_text("Reconnecting…")
    agent.fill("#composer", "Written while you were down")
    agent.press("#composer", "Enter")
    env.server.start_again()
    expect(agent.locator(".log article.message.operator[data-id] .body")).to_have_text(
        ["Written while you were down"], timeout=20_000
    )
    expect(thread_bodies(agent)).to_have_count(3)
    assert [m["body"] for m in first.messages()] == [
        "Before the restart",
        "During the restart",
        "Written while you were down",
    ]

    # On a phone: the conversation, the composer and Send on the screen, nothing wider.
    phone = inbox(new_context, env, env.agent, viewport={"width": 390, "height": 844})
    errors += watch_csp(phone)
    item(phone, second_id).click()
    expect(thread_bodies(phone)).to_have_text(["A new one"])
    expect(phone.locator("#send")).to_be_in_viewport()
    phone.fill("#composer", "From my phone")
    phone.locator("#send").click()
    expect(phone.locator(".log article.message.operator[data-id] .body")).to_have_text(
        ["From my phone"]
    )
    assert phone.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
    # Chromium's own lines for a socket refused while the server was down are not the app's.
    assert [e for e in errors if "WebSocket connection to" not in e] == []


def test_the_installed_inbox_opened_offline_catches_up_when_the_network_returns(
    new_context: NewContext, env: Env
) -> None:
    known = new_visitor(env, env.blog_id)
    known.profile(nickname="Olga")
    known.say("Read before the network went")
    known_id = conversation_of(env, known.session_id)
    context = new_context(service_workers="allow")
    log_in(context, env.url, env.owner)
    page = context.new_page()
    errors = watch_csp(page)
    page.goto(env.url + "/app/")
    expect(page.locator("#availability")).to_be_visible()
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()  # under the worker's control
    choose_website(page, env.blog_id)
    item(page, known_id).click()
    expect(thread_bodies(page)).to_have_text(["Read before the network went"])

    context.set_offline(True)
    page.reload()
    expect(thread_bodies(page)).to_have_text(["Read before the network went"])  # from the cache
    expect(item(page, known_id)).to_be_visible()  # the list too, read before the stream began
    page.fill("#composer", "Written offline")
    page.press("#composer", "Enter")
    expect(page.locator(".log article.message.operator")).to_contain_text("Not sent")
    newcomer = new_visitor(env, env.blog_id)
    newcomer.say("Started while the inbox was offline")
    newcomer_id = conversation_of(env, newcomer.session_id)

    context.set_offline(False)
    # The reply goes by itself, once; the conversation started meanwhile is listed.
    expect(page.locator(".log article.message.operator[data-id] .body")).to_have_text(
        ["Written offline"], timeout=20_000
    )
    expect(item(page, newcomer_id)).to_be_visible()
    known.say("Back online")
    expect(thread_bodies(page)).to_have_text(
        ["Read before the network went", "Written offline", "Back online"]
    )
    assert [m["body"] for m in known.messages()] == [
        "Read before the network went",
        "Written offline",
        "Back online",
    ]
    # Chromium's own lines for a socket that could not connect offline are not the app's.
    assert [e for e in errors if "WebSocket connection to" not in e] == []
