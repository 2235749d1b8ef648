"""Moving through the inbox in a real browser (headless Chromium) against a real server: the
keyboard, long lists and long threads, the screenshots of docs/inbox.md, a server restart it
resumes from, seen marks across reloads, and the navigation on a phone.

One server for the module (tests/inbox_support.py), SQLite.
"""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import WebSocketRoute, expect

from causerie.actions.websites import do_create_website
from causerie.domain.models import Actor, Role
from tests import inbox_support
from tests.browser_support import (
    NewContext,
    add_operator,
    host_page,
)
from tests.inbox_support import (
    SCREENSHOTS,
    Env,
    Visitor,
    choose_website,
    conversation_of,
    inbox,
    item,
    new_visitor,
    thread_bodies,
)

# tests/inbox_support.py's fixtures, for this module's tests
env = inbox_support.env

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site


# -- the keyboard --------------------------------------------------------------------------------


def test_the_keyboard_moves_through_conversations(new_context: NewContext, env: Env) -> None:
    names = ["Kim Keys", "Lou Letters", "Max Mouse"]
    ids = []
    for name in names:
        visitor = new_visitor(env, env.blog_id)
        visitor.profile(nickname=name)
        visitor.say(f"Hello from {name}")
        env.harness.clock.advance(timedelta(seconds=1))  # the newest activity comes first
        ids.append(conversation_of(env, visitor.session_id))
    page = inbox(new_context, env, env.owner)
    choose_website(page, env.blog_id)
    rows = page.locator("#conversations [role=option]")
    expect(rows.locator(".name")).to_have_text(list(reversed(names)))  # newest first

    # Nothing open, nothing focused: the first `j` lands on the newest conversation.
    page.evaluate("() => document.activeElement.blur()")
    page.keyboard.press("j")
    expect(item(page, ids[2])).to_be_focused()
    page.keyboard.press("j")
    expect(item(page, ids[1])).to_be_focused()

    page.keyboard.press("/")
    expect(page.locator("#search")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(item(page, ids[2])).to_be_focused()
    page.keyboard.press("j")
    expect(item(page, ids[1])).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(item(page, ids[0])).to_be_focused()
    page.keyboard.press("k")
    expect(item(page, ids[1])).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".thread-title")).to_have_text("Lou Letters")
    expect(item(page, ids[1])).to_have_attribute("aria-selected", "true")
    page.locator("#composer").focus()
    page.keyboard.press("Escape")
    expect(item(page, ids[1])).to_be_focused()
    page.keyboard.press("j")
    expect(item(page, ids[0])).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".thread-title")).to_have_text("Kim Keys")
    # j/k also work from outside the list, when no text field has the focus.
    page.locator(".log").focus()
    page.keyboard.press("Escape")
    page.locator("body").focus()
    page.evaluate("() => document.activeElement.blur()")
    page.keyboard.press("k")
    expect(item(page, ids[1])).to_be_focused()
    assert page.locator("#conversations").get_attribute("role") == "listbox"
    assert page.locator("#conversations").get_attribute("aria-label") == "Conversations"


# -- long lists and long threads -----------------------------------------------------------------


def test_load_more_conversations_and_older_messages(new_context: NewContext, env: Env) -> None:
    rt, cli = env.harness.rt, Actor.cli()
    paged = env.harness.run(do_create_website(rt, cli, "Paged", [env.host.origin]))
    add_operator(env.harness, env.owner.email, env.owner.name, [(paged.id, Role.OWNER)])
    for n in range(27):
        visitor = new_visitor(env, paged.id)
        visitor.profile(nickname=f"Reader {n:02d}")
        visitor.say(f"Question {n:02d}")
        env.harness.clock.advance(timedelta(seconds=1))
    for n in range(53):
        visitor.say(f"Line {n:02d}")  # the last visitor: 54 messages in all
    conversation_id = conversation_of(env, visitor.session_id)

    page = inbox(new_context, env, env.owner)
    choose_website(page, paged.id)
    rows = page.locator("#conversations [role=option]")
    expect(rows).to_have_count(25)
    page.click(".load-more")
    expect(rows).to_have_count(27)
    expect(page.locator(".load-more")).to_be_hidden()
    expect(rows.last.locator(".name")).to_have_text("Reader 00")

    rows.first.click()
    bodies = thread_bodies(page)
    expect(bodies).to_have_count(50)
    expect(bodies.last).to_have_text("Line 52")
    page.click(".load-older")
    expect(bodies).to_have_count(54)
    expect(bodies.first).to_have_text("Question 26")
    expect(page.locator(".load-older")).to_have_count(0)
    assert page.evaluate("() => location.hash") == f"#/c/{conversation_id}"


# -- the main screens, for docs/inbox.md ---------------------------------------------------------


def _studio_day(env: Env) -> tuple[Visitor, str]:
    """A few conversations of the studio's visitors, the last one open in the screenshots."""
    people = [
        ("Hugo Petit", "hugo@example.com", "Do you deliver to Belgium?", "/livraison", "Livraison"),
        ("Mina Sato", None, "Can I pick up my order at the workshop?", "/atelier", "L'atelier"),
        (
            "Clara Rossi",
            "clara.rossi@example.com",
            "Hello! Is the large moon vase back in stock?",
            "/boutique/vase-lune",
            "Vase Lune, grand modèle",
        ),
    ]
    last: Visitor | None = None
    for name, email, text, path, title in people:
        last = new_visitor(
            env, env.studio_id, url=f"https://atelier-lune.example{path}", title=title
        )
        last.profile(nickname=name, email=email, data={"plan": "Club", "orders": 3})
        last.say(text)
        env.harness.clock.advance(timedelta(minutes=7))
    assert last is not None
    return last, conversation_of(env, last.session_id)


def test_screenshots_of_the_inbox_at_1280_and_on_a_tablet(
    new_context: NewContext, env: Env
) -> None:
    clara, conversation_id = _studio_day(env)
    page = inbox(new_context, env, env.owner)
    choose_website(page, env.studio_id)
    page.goto(f"{env.url}/app#/c/{conversation_id}")
    expect(thread_bodies(page)).to_have_count(1)
    page.fill("#composer", "Hello Clara! Yes, it came back from the kiln this morning.")
    page.press("#composer", "Enter")
    clara.say("Wonderful, I'll take one. Can you gift-wrap it?")
    page.locator("label.mode-note").click()
    page.fill("#composer", "Clara is a Club member: gift wrapping is free.")
    page.press("#composer", "Enter")
    expect(thread_bodies(page)).to_have_count(4)
    expect(page.locator(".log article.message.sending")).to_have_count(0)
    page.locator("label.mode:not(.mode-note)").click()
    page.fill("#composer", "Of course, with pleasure")
    page.select_option("#assignee", env.owner.id)
    expect(page.locator(".toast")).to_be_visible()
    page.locator("#composer").focus()
    page.screenshot(path=str(SCREENSHOTS / "inbox-conversation.png"))
    assert page.locator(".panel").is_visible()

    tablet = inbox(new_context, env, env.owner, viewport={"width": 820, "height": 1180})
    choose_website(tablet, env.studio_id)
    tablet.goto(f"{env.url}/app#/c/{conversation_id}")
    expect(thread_bodies(tablet)).to_have_count(4)
    expect(tablet.locator(".panel")).to_be_hidden()  # the panel collapses on a tablet
    tablet.click("#panel-toggle")
    expect(tablet.locator(".panel")).to_be_visible()
    expect(tablet.locator("#panel-toggle")).to_have_attribute("aria-expanded", "true")
    tablet.keyboard.press("Escape")
    expect(tablet.locator(".panel")).to_be_hidden()
    tablet.screenshot(path=str(SCREENSHOTS / "inbox-tablet.png"))


# -- a server restart: the inbox reconnects and resumes from the last seq ------------------------


def test_the_inbox_reconnects_after_a_restart_and_shows_what_it_missed_once(
    new_context: NewContext, env: Env
) -> None:
    visitor = new_visitor(env, env.blog_id)
    visitor.profile(nickname="Rex Restart")
    visitor.say("Before the restart")
    conversation_id = conversation_of(env, visitor.session_id)
    page = inbox(new_context, env, env.owner)
    choose_website(page, env.blog_id)
    page.goto(f"{env.url}/app#/c/{conversation_id}")
    expect(thread_bodies(page)).to_have_text(["Before the restart"])

    dot = page.locator("#availability .dot")
    green = "rgb(47, 179, 68)"
    expect(page.locator("#availability")).to_have_attribute("aria-checked", "true")
    expect(dot).to_have_css("background-color", green)  # once the socket is up

    env.server.stop()
    expect(page.locator(".connection")).to_have_text("Reconnecting…")
    # The dot shows the connection, not only the choice: no green while no visitor can see us.
    expect(page.locator("#availability")).to_have_class(re.compile(r"\bdisconnected\b"))
    expect(dot).not_to_have_css("background-color", green)
    env.server.start_again()
    # Written while the inbox is (most likely) still away: replayed with `after`, or live.
    visitor.say("While you were away")
    expect(page.locator(".connection")).to_have_text("")
    expect(page.locator("#availability")).not_to_have_class(re.compile(r"\bdisconnected\b"))
    expect(dot).to_have_css("background-color", green)
    expect(thread_bodies(page)).to_have_text(["Before the restart", "While you were away"])
    expect(item(page, conversation_id).locator(".preview")).to_have_text("While you were away")
    visitor.say("After the restart")
    expect(thread_bodies(page)).to_have_text(
        ["Before the restart", "While you were away", "After the restart"]
    )
    page.fill("#composer", "Welcome back")
    page.press("#composer", "Enter")
    expect(page.locator(".log article.message.operator[data-id] .body")).to_have_text(
        ["Welcome back"]
    )
    assert [m["body"] for m in visitor.messages()][-1] == "Welcome back"


# -- what a newcomer trips on first (issue 12) -------------------------------------------------


def test_seen_marks_survive_a_reload_of_the_inbox_and_of_the_chatbox(
    new_context: NewContext, env: Env
) -> None:
    env.host.pages["/seen"] = host_page(env.url, env.shop_id, title="Seen")
    visitor = new_context().new_page()
    visitor.goto(env.host.url("/seen"))
    chat = visitor.locator("causerie-chatbox")
    chat.locator('[part="launcher"]').click()
    chat.locator('[part="composer"]').fill("Is my parcel on its way?")
    chat.locator('[part="composer"]').press("Enter")
    expect(chat.locator("article.message [data-state=sent]")).to_have_count(1)
    session_id = visitor.evaluate("() => window.$causerie.get('session:id')")
    conversation_id = conversation_of(env, session_id)

    agent = inbox(new_context, env, env.owner)
    agent.goto(f"{env.url}/app#/c/{conversation_id}")
    expect(thread_bodies(agent)).to_have_text(["Is my parcel on its way?"])
    agent.fill("#composer", "It left this morning.")
    agent.press("#composer", "Enter")
    # The chatbox is open: the visitor reads the reply, the agent read the question.
    seen_by_visitor = agent.locator(".log article.message.operator [data-state=seen]")
    expect(seen_by_visitor).to_have_count(1)
    seen_by_agent = chat.locator("article.message .seen")
    expect(seen_by_agent).to_have_count(1)

    # Reloaded, both sides rebuild the marks from what the server knows.
    agent.reload()
    expect(thread_bodies(agent)).to_have_count(2)
    expect(seen_by_visitor).to_have_count(1)
    visitor.reload()
    expect(chat.locator("article.message .body")).to_have_count(2)
    expect(seen_by_agent).to_have_text(["Seen"])


def test_a_thread_read_before_its_stream_began_gets_what_was_said_in_between(
    new_context: NewContext, env: Env
) -> None:
    """The open thread is read over HTTP; its website's socket may become ready only later (a
    loaded machine), and its stream starts at that first `ready`: what was said in between was
    lost (the seen marks' test flaked so). The agent's sockets are held unanswered (the page
    sees them open, with no `ready`) while the visitor writes, then let through."""
    visitor = new_visitor(env, env.shop_id)
    visitor.say("Is my parcel on its way?")
    conversation_id = conversation_of(env, visitor.session_id)
    context = new_context()
    held: list[WebSocketRoute] = []
    let_through: list[bool] = []

    def hold_then_pass(ws: WebSocketRoute) -> None:
        if let_through:
            ws.connect_to_server()
        else:
            held.append(ws)  # never connected to the server: no `ready` comes

    context.route_web_socket(re.compile(r"/ws/agent$"), hold_then_pass)
    agent = inbox_support.sign_in(context, env, env.owner)
    agent.goto(f"{env.url}/app#/c/{conversation_id}")
    expect(thread_bodies(agent)).to_have_text(["Is my parcel on its way?"])
    visitor.say("Hello?")  # the stream has not begun: this event reaches no socket
    let_through.append(True)
    for ws in held:  # they reconnect, through to the server: their first `ready`
        ws.close()
    expect(thread_bodies(agent)).to_have_text(["Is my parcel on its way?", "Hello?"])


def test_a_visitor_who_writes_while_the_agent_is_in_the_settings_shows_on_the_inbox_link(
    new_context: NewContext, env: Env
) -> None:
    rt, cli = env.harness.rt, Actor.cli()
    quiet = env.harness.run(do_create_website(rt, cli, "Quiet", [env.host.origin]))
    add_operator(env.harness, env.owner.email, env.owner.name, [(quiet.id, Role.OWNER)])
    page = inbox(new_context, env, env.owner)
    choose_website(page, quiet.id)
    badge = page.locator("#nav-inbox .nav-unread")
    expect(badge).to_be_hidden()
    page.locator("a[href='#/settings/website']").first.click()
    expect(page).to_have_url(re.compile(r"#/settings/website$"))

    new_visitor(env, quiet.id).say("Anyone there?")  # the list once showed it only back there
    expect(badge).to_have_text("1")
    expect(page).to_have_title("(1) Inbox · Causerie")
    new_visitor(env, quiet.id).say("Hello?")
    expect(badge).to_have_text("2")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
    expect(page.locator("#conversations [role=option]")).to_have_count(2)
    expect(badge).to_have_text("2")


def test_on_a_phone_the_navigation_is_reachable(new_context: NewContext, env: Env) -> None:
    visitor = new_visitor(env, env.blog_id)
    visitor.say("Hello from a phone")
    conversation_id = conversation_of(env, visitor.session_id)
    page = inbox(new_context, env, env.owner, viewport={"width": 390, "height": 844})
    nav = page.get_by_role("navigation", name="Main")
    width = 390

    def within_the_screen() -> None:
        for name in ("Inbox", "Settings", "Privacy"):
            link = nav.get_by_role("link", name=name)
            expect(link).to_be_visible()
            box = link.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, name
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width

    within_the_screen()
    page.goto(f"{env.url}/app#/c/{conversation_id}")
    expect(thread_bodies(page)).to_have_text(["Hello from a phone"])
    within_the_screen()
    nav.get_by_role("link", name="Settings").click()
    expect(page).to_have_url(re.compile(r"#/settings/website$"))
    within_the_screen()
    nav.get_by_role("link", name="Privacy").click()
    expect(page).to_have_url(re.compile(r"#/privacy$"))
    nav.get_by_role("link", name="Inbox").click()
    expect(page.locator("#conversations")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "inbox-phone.png"))


def test_on_a_small_phone_every_link_of_the_top_bar_is_on_the_screen_in_both_languages(
    new_context: NewContext, env: Env
) -> None:
    """375 x 667 (a small phone): the top bar wraps onto as many rows as it needs; no link is cut
    or scrolled out of sight, in English or in French (longer words)."""
    width = 375
    for locale, names in (
        ("en-US", ["Inbox", "Reports", "Settings", "Privacy", "Shield", "Sign out"]),
        ("fr-FR", ["Boîte de réception", "Rapports", "Réglages", "Confidentialité", "Bouclier",
                   "Se déconnecter"]),
    ):  # fmt: skip
        page = inbox(
            new_context, env, env.owner, viewport={"width": width, "height": 667}, locale=locale
        )
        top = page.locator("header.topbar")
        for name in names:
            link = top.get_by_role("link", name=name).or_(top.get_by_role("button", name=name))
            expect(link).to_be_visible()
            box = link.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (
                name,
                box,
            )
            # Not hidden by a scrolling box: the point at its middle is the link itself.
            middle = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            hit = page.evaluate(
                "([x, y]) => document.elementFromPoint(x, y)?.closest('a, button')?.textContent",
                middle,
            )
            assert hit is not None and name in hit, (name, hit)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
        top.get_by_role("link", name=names[4]).click()  # the last one, once cut, works
        expect(page).to_have_url(re.compile(r"#/shield$"))
        page.context.close()
