"""The inbox in a real browser (headless Chromium) against a real server: the shell and its
files, signing in, a live chat with replies, notes and typing, assignment, state and the
filters, deleting a conversation, and hostile data that never runs (docs/inbox.md).

One server for the module (tests/inbox_support.py), SQLite.
"""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect

from causerie.domain.models import Role
from tests import inbox_support
from tests.browser_support import (
    NewContext,
    add_operator,
    host_page,
)
from tests.inbox_support import (
    CSP,
    SCREENSHOTS,
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

# tests/inbox_support.py's fixtures, for this module's tests
env = inbox_support.env

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site


# -- the shell and its files ---------------------------------------------------------------------


def test_the_shell_is_served_with_a_strict_policy_and_versioned_immutable_files(env: Env) -> None:
    with httpx.Client(base_url=env.url) as http:
        for path in ("/app", "/app/", "/app/c/whatever"):
            shell = http.get(path)
            assert shell.status_code == 200
            assert shell.headers["content-type"].startswith("text/html")
            assert shell.headers["content-security-policy"] == CSP
            assert shell.headers["x-content-type-options"] == "nosniff"
            assert shell.headers["referrer-policy"] == "no-referrer"
            assert shell.headers["cache-control"] == "no-store"
        files = re.findall(r'(?:src|href)="(/app/static/[^"]+)"', shell.text)
        assert sorted(f.rsplit("/", 1)[1] for f in files) == ["app.js", "inbox.css"]
        version = files[0].split("/")[3]
        for name in ("app.js", "api.js", "socket.js", "thread.js", "inbox.css"):
            found = http.get(f"/app/static/{version}/{name}")
            assert found.status_code == 200, name
            assert found.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert found.headers["x-content-type-options"] == "nosniff"
        assert (
            http.get(f"/app/static/{version}/app.js")
            .headers["content-type"]
            .startswith("text/javascript")
        )
        # An old version is answered with today's file, cached briefly; unknown names are not.
        assert http.get("/app/static/0ld/app.js").headers["cache-control"] == (
            "public, max-age=300"
        )
        for bad in ("index.html", "inbox.py", "..%2Finbox.py", "app.js.map", "__init__.py"):
            assert http.get(f"/app/static/{version}/{bad}").status_code == 404, bad


# -- signing in ----------------------------------------------------------------------------------


def test_the_login_screen_shows_errors_signs_in_and_out(new_context: NewContext, env: Env) -> None:
    page = new_context().new_page()
    errors = watch_csp(page)
    page.goto(env.url + "/app")
    expect(page.get_by_role("heading", name="Sign in to your inbox")).to_be_visible()
    expect(page.locator("#f-email")).to_be_focused()
    page.screenshot(path=str(SCREENSHOTS / "inbox-login.png"))

    page.fill("#f-email", env.agent.email)
    page.fill("#f-password", "not the password")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")

    page.fill("#f-password", env.agent.password)
    page.press("#f-password", "Enter")
    expect(page.locator(".me-name")).to_have_text("Camille Martin")
    expect(page.locator(".website-name")).to_have_text("Demo shop")  # one website: no switcher
    expect(page.locator("#website")).to_be_hidden()
    assert page.evaluate("() => location.hash") == "#/"
    cookie = next(c for c in page.context.cookies() if c["name"] == "causerie_login")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"

    # A reload keeps the login (the cookie), then signing out ends it.
    page.reload()
    expect(page.locator(".me-name")).to_have_text("Camille Martin")
    page.click("#logout")
    expect(page.get_by_role("heading", name="Sign in to your inbox")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Sign in to your inbox")).to_be_visible()
    assert errors == []


def test_a_newcomer_signs_in_without_a_failed_request_and_lands_on_the_link_followed(
    new_context: NewContext, env: Env
) -> None:
    """No login cookie: the shell says so, and the sign-in form shows without asking /me first
    (its 401 was an error in the console before anyone had done anything)."""
    visitor = new_visitor(env)
    visitor.say("A link shared in the team's chat")
    conversation_id = conversation_of(env, visitor.session_id)
    page = new_context().new_page()
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("console", lambda m: failed.append(m.text) if m.type == "error" else None)
    page.goto(f"{env.url}/app#/c/{conversation_id}")
    expect(page.get_by_role("heading", name="Sign in to your inbox")).to_be_visible()
    page.fill("#f-email", env.agent.email)
    page.fill("#f-password", env.agent.password)
    page.press("#f-password", "Enter")
    expect(thread_bodies(page)).to_have_text(["A link shared in the team's chat"])
    assert page.evaluate("() => location.hash") == f"#/c/{conversation_id}"
    assert failed == []
    # A cookie that no longer signs in anyone still gets its answer: the login ended.
    context = new_context()
    context.add_cookies([{"name": "causerie_login", "value": "ended", "url": env.url}])
    stale = context.new_page()
    stale.goto(env.url + "/app")
    expect(stale.get_by_role("heading", name="Sign in to your inbox")).to_be_visible()


def test_too_many_failed_logins_show_the_wait(new_context: NewContext, env: Env) -> None:
    victim = add_operator(
        env.harness, "locked@shop.example", "Locked Out", [(env.blog_id, Role.AGENT)]
    )
    page = new_context().new_page()
    page.goto(env.url + "/app")
    alert = page.get_by_role("alert")
    for attempt in range(6):
        page.fill("#f-email", victim.email)
        page.fill("#f-password", f"wrong password {attempt}")
        page.click("button[type=submit]")
        if attempt < 5:
            expect(alert).to_have_text("Wrong email or password.")
            page.evaluate("() => { document.querySelector('[role=alert]').textContent = ''; }")
    # The wait comes from Retry-After, in seconds or minutes.
    expect(alert).to_have_text(
        re.compile(r"^Too many attempts\. Try again in \d+ (second|minute)s?\.$")
    )


# -- a chat: live message, reply, note, typing, availability -----------------------------------


def test_a_visitor_writes_live_the_agent_replies_and_notes_stay_private(
    new_context: NewContext, env: Env
) -> None:
    env.host.pages["/pricing"] = host_page(env.url, env.shop_id, title="Pricing")
    agent = inbox(new_context, env, env.agent)
    dialogs = fail_on_dialogs(agent)
    errors = watch_csp(agent)
    outside: list[str] = []
    agent.on(
        "request",
        lambda r: (
            outside.append(r.url)
            if not r.url.startswith((env.url, env.url.replace("http", "ws"), "data:"))
            else None
        ),
    )
    expect(agent.locator(".connection")).to_have_text("")  # the socket is up

    visitor = new_context().new_page()
    visitor.goto(env.host.url("/pricing"))
    chat = visitor.locator("causerie-chatbox")
    expect(chat.locator('[part="launcher"]')).to_be_visible()
    status = chat.locator('[part="panel"] .status')
    expect(status).to_have_text("We're online", use_inner_text=True)  # the agent's socket
    chat.locator('[part="launcher"]').click()
    chat.locator('[part="composer"]').fill("Hello, do you ship to Lyon?")
    chat.locator('[part="composer"]').press("Enter")

    # The conversation appears in the list without a reload, unread, with its preview.
    row = agent.locator("[role=option]", has_text="Hello, do you ship to Lyon?")
    expect(row).to_be_visible()
    expect(row.locator(".badge")).to_have_text("1")
    row.click()
    expect(thread_bodies(agent)).to_have_text(["Hello, do you ship to Lyon?"])
    expect(row.locator(".badge")).to_have_count(0)  # read on opening
    expect(agent.locator(".panel .page-title")).to_have_text("Pricing")
    expect(agent.locator(".panel")).to_contain_text("en-US")  # the visitor's locale
    expect(agent.locator(".visitors summary")).to_have_text("Visitors online now (1)")
    expect(agent.locator(".visitors .visitor-page")).to_have_text(["Pricing"])

    # Typing, both ways.
    chat.locator('[part="composer"]').fill("One more")
    expect(agent.locator(".typing")).to_contain_text("is typing…")
    agent.fill("#composer", "Yes, we")
    expect(chat.locator('[part="panel"] .typing')).to_have_text("Camille Martin is typing…")

    # A reply: Enter sends, and the visitor sees it.
    agent.fill("#composer", "Yes, we ship to Lyon\nin 2 days.")
    agent.press("#composer", "Enter")
    expect(chat.locator("article.message .body")).to_have_text(
        ["Hello, do you ship to Lyon?", "Yes, we ship to Lyon\nin 2 days."]
    )
    expect(agent.locator("#composer")).to_have_value("")

    # Shift+Enter is a new line, not a send.
    agent.locator("#composer").press("Shift+Enter")
    expect(agent.locator("#composer")).to_have_value("\n")

    # A private note: set apart, labelled, never shown to the visitor.
    agent.locator("label.mode-note").click()
    expect(agent.locator("form.composer")).to_have_class(re.compile("note-mode"))
    agent.fill("#composer", "VIP customer: offer free shipping")
    agent.press("#composer", "Enter")
    note = agent.locator(".log article.message.note")
    expect(note).to_have_count(1)
    expect(note.locator(".note-label")).to_have_text("Note")
    expect(note.locator(".body")).to_have_text("VIP customer: offer free shipping")
    expect(note).to_have_attribute("data-id", re.compile(".+"))  # stored
    agent.locator("label.mode:not(.mode-note)").click()
    agent.fill("#composer", "Anything else?")
    agent.press("#composer", "Enter")
    # Events arrive in order: once the later reply is there, the note would have been too.
    expect(chat.locator("article.message .body")).to_have_text(
        ["Hello, do you ship to Lyon?", "Yes, we ship to Lyon\nin 2 days.", "Anything else?"]
    )
    session_id = visitor.evaluate("() => window.$causerie.get('session:id')")
    kinds = env.harness.rows(
        "SELECT m.type, m.body FROM messages m JOIN conversations c ON c.id = m.conversation_id"
        " WHERE c.session_id = :s ORDER BY m.seq",
        s=session_id,
    )
    assert ("note", "VIP customer: offer free shipping") in kinds

    # The read mark: the visitor's chatbox is open, so the reply is seen.
    expect(agent.locator(".log article.message.operator [data-state=seen]")).to_have_count(1)

    # Availability: "Away" tells the chatbox no one is online.
    agent.click("#availability")
    expect(agent.locator("#availability")).to_have_attribute("aria-checked", "false")
    expect(status).to_have_text("We'll reply as soon as we can", use_inner_text=True)
    agent.click("#availability")
    expect(status).to_have_text("We're online", use_inner_text=True)

    assert dialogs == []
    assert errors == []
    assert outside == []


def test_a_note_is_never_in_what_the_visitor_can_read(new_context: NewContext, env: Env) -> None:
    visitor = new_visitor(env)
    visitor.say("Is the blue one in stock?")
    conversation_id = conversation_of(env, visitor.session_id)
    agent = inbox(new_context, env, env.owner)
    agent.goto(f"{env.url}/app#/c/{conversation_id}")
    expect(thread_bodies(agent)).to_have_text(["Is the blue one in stock?"])
    agent.locator("label.mode-note").click()
    agent.fill("#composer", "Check with the warehouse first")
    agent.press("#composer", "Enter")
    expect(agent.locator(".log article.message.note[data-id]")).to_have_count(1)
    assert [m["body"] for m in visitor.messages()] == ["Is the blue one in stock?"]


# -- assign, resolve, reopen, filters ----------------------------------------------------------


def test_assign_resolve_reopen_and_the_filters(new_context: NewContext, env: Env) -> None:
    visitor = new_visitor(env)
    visitor.profile(nickname="Jonas Weber")
    visitor.say("My order has not arrived")
    conversation_id = conversation_of(env, visitor.session_id)
    page = inbox(new_context, env, env.owner)
    choose_website(page, env.shop_id)
    row = item(page, conversation_id)
    expect(row.locator(".name")).to_have_text("Jonas Weber")
    row.click()
    expect(page.locator(".thread-title")).to_have_text("Jonas Weber")

    # Assign to Camille, then to me.
    page.select_option("#assignee", label="Camille Martin")
    expect(row.locator(".assignee")).to_have_text("→ Camille Martin")
    assert env.harness.scalar(
        "SELECT assignee_id FROM conversations WHERE id = :id", id=conversation_id
    ) == (env.agent.id)
    page.select_option("#assignee", env.owner.id)
    expect(row.locator(".assignee")).to_have_text("→ Ada Lovelace")
    page.click("button[data-filter=mine]")
    expect(row).to_be_visible()
    page.click("button[data-filter=unassigned]")
    expect(row).to_have_count(0)
    page.click("button[data-filter=open]")
    expect(row).to_be_visible()

    # Resolve: it leaves the open list, and shows under Resolved.
    page.click("#resolve")
    expect(page.locator(".thread-head .state")).to_have_text("Resolved")
    expect(row).to_have_count(0)
    assert env.harness.scalar(
        "SELECT state FROM conversations WHERE id = :id", id=conversation_id
    ) == ("resolved")
    page.click("button[data-filter=resolved]")
    expect(row).to_be_visible()
    page.click("#reopen")
    expect(page.locator(".thread-head .state")).to_have_text("Open")
    expect(row).to_have_count(0)
    page.click("button[data-filter=open]")
    expect(row).to_be_visible()

    # A new message of a resolved conversation's visitor brings it back live.
    page.click("#resolve")
    expect(row).to_have_count(0)
    visitor.say("Any news?")
    expect(row).to_be_visible()

    # Search finds it by nickname.
    page.fill("#search", "Jonas")
    page.press("#search", "Enter")
    expect(page.locator("#conversations [role=option]")).to_have_count(1)
    expect(row).to_be_visible()


def test_deleting_a_conversation_asks_first_and_says_what_is_destroyed(
    new_context: NewContext, env: Env
) -> None:
    visitor = new_visitor(env)
    visitor.profile(nickname="Delete Me", email="delete.me@example.com")
    visitor.say("Please forget me")
    conversation_id = conversation_of(env, visitor.session_id)
    page = inbox(new_context, env, env.owner)
    choose_website(page, env.shop_id)
    dialogs = fail_on_dialogs(page)
    page.goto(f"{env.url}/app#/c/{conversation_id}")
    expect(thread_bodies(page)).to_have_text(["Please forget me"])

    page.click("#delete")
    dialog = page.get_by_role("dialog", name="Delete this conversation?")
    expect(dialog).to_be_visible()
    for words in ("the conversation with Delete Me", "every message", "profile", "IP address"):
        expect(dialog).to_contain_text(words)
    expect(dialog).to_contain_text("cannot be undone")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    assert env.harness.scalar("SELECT count(*) FROM sessions WHERE id = :s", s=visitor.session_id)

    page.click("#delete")
    page.get_by_role("dialog").get_by_role("button", name="Delete forever").click()
    expect(page.locator(".empty-thread")).to_contain_text("No conversation open")
    expect(item(page, conversation_id)).to_have_count(0)
    gone = env.harness.scalar("SELECT count(*) FROM sessions WHERE id = :s", s=visitor.session_id)
    assert gone == 0
    assert (
        env.harness.scalar(
            "SELECT count(*) FROM messages WHERE conversation_id = :c", c=conversation_id
        )
        == 0
    )
    assert dialogs == []


def test_an_agent_cannot_delete_and_edits_the_visitors_profile(
    new_context: NewContext, env: Env
) -> None:
    visitor = new_visitor(env)
    visitor.say("Hi, I'm Lea")
    conversation_id = conversation_of(env, visitor.session_id)
    page = inbox(new_context, env, env.agent)
    page.goto(f"{env.url}/app#/c/{conversation_id}")
    expect(thread_bodies(page)).to_have_text(["Hi, I'm Lea"])
    expect(page.locator("#delete")).to_have_count(0)  # agents do not delete (P20: admins)

    page.fill("#profile-nickname", "Léa Dubois")
    page.fill("#profile-email", "lea@example.com")
    page.fill("#profile-phone", "+33 6 12 34 56 78")
    page.click("form.profile button[type=submit]")
    expect(page.locator(".thread-title")).to_have_text("Léa Dubois")
    expect(item(page, conversation_id).locator(".name")).to_have_text("Léa Dubois")
    assert env.harness.rows(
        "SELECT nickname, email, phone FROM sessions WHERE id = :s", s=visitor.session_id
    ) == [("Léa Dubois", "lea@example.com", "+33 6 12 34 56 78")]


# -- hostile data never runs ---------------------------------------------------------------------

XSS = [
    "<img src=x onerror=window.__xss=1>",
    "<script>window.__xss=1</script>",
    '"><svg onload=window.__xss=1>',
    "javascript:window.__xss=1",
    '<a href="javascript:window.__xss=1">click</a> https://ok.example/?q=<b>x</b>',
]


def test_hostile_messages_names_pages_and_data_are_shown_as_text_and_never_run(
    new_context: NewContext, env: Env
) -> None:
    visitor = new_visitor(
        env,
        url="javascript:window.__xss=1//https://shop.example/",
        title="<img src=x onerror=window.__xss=1>",
        locale="en",
    )
    visitor.profile(
        nickname='"><svg onload=window.__xss=1>',
        email="<svg/onload=window.__xss=1>@x.example",
        data={
            "<script>window.__xss=1</script>": "<img src=x onerror=window.__xss=1>",
            "url": "javascript:window.__xss=1",
        },
    )
    for body in XSS:
        visitor.say(body)
    conversation_id = conversation_of(env, visitor.session_id)

    page = inbox(new_context, env, env.owner)
    choose_website(page, env.shop_id)
    dialogs = fail_on_dialogs(page)
    row = item(page, conversation_id)
    expect(row.locator(".name")).to_have_text('"><svg onload=window.__xss=1>')
    expect(row.locator(".preview")).to_have_text(XSS[-1])
    row.click()
    expect(thread_bodies(page)).to_have_text(XSS)
    expect(page.locator(".thread-title")).to_have_text('"><svg onload=window.__xss=1>')
    panel = page.locator(".panel")
    expect(panel.locator(".page-title")).to_have_text("<img src=x onerror=window.__xss=1>")
    expect(panel).to_contain_text("javascript:window.__xss=1//https://shop.example/")
    expect(page.locator("#profile-email")).to_have_value("<svg/onload=window.__xss=1>@x.example")
    expect(panel.locator(".data dt")).to_have_text(["<script>window.__xss=1</script>", "url"])
    expect(panel.locator(".data dd")).to_have_text(
        ["<img src=x onerror=window.__xss=1>", "javascript:window.__xss=1"]
    )

    # Live too: a hostile message and nickname arriving over the socket.
    visitor.profile(nickname="<img src=y onerror=window.__xss=2>")
    visitor.say("<img src=z onerror=window.__xss=3>")
    expect(thread_bodies(page).last).to_have_text("<img src=z onerror=window.__xss=3>")
    expect(page.locator(".thread-title")).to_have_text("<img src=y onerror=window.__xss=2>")

    assert page.evaluate("() => window.__xss") is None
    assert dialogs == []
    # Nothing became markup: no image, script, svg or javascript: link anywhere in the app, but
    # the inbox's own icon (the attach button's paper clip).
    assert (
        page.evaluate(
            """() => document.querySelectorAll(
            '#app img, #app script, #app svg:not(#attach > svg.icon), #app iframe,'
            + ' a[href^="javascript"]').length"""
        )
        == 0
    )
    assert page.locator("#attach > svg.icon").count() == 1
    # Only http(s) URLs are links; the message's https URL is one.
    links = page.locator(".log a")
    expect(links).to_have_count(1)
    expect(links).to_have_attribute("href", "https://ok.example/?q=")  # a link ends at "<"
    expect(links).to_have_attribute("rel", "noopener noreferrer nofollow")


RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: what follows it is laid out reversed


def test_a_right_to_left_override_in_user_text_stays_inside_it(
    new_context: NewContext, env: Env
) -> None:
    """Every element showing a message or a page title isolates it (bidi): an override in it
    cannot reverse the time, the preview or the words beside it."""
    visitor = new_visitor(env, title=f"{RLO}Shoes page")
    visitor.profile(nickname=f"{RLO}Mallory")
    visitor.say(f"{RLO}gnp.exe see attached")
    conversation_id = conversation_of(env, visitor.session_id)

    page = inbox(new_context, env, env.owner)
    choose_website(page, env.shop_id)
    row = item(page, conversation_id)
    # A nickname loses bidi controls when it is set (docs/api.md "Visitor texts"); the
    # message and the page title keep theirs, which the inbox isolates.
    expect(row.locator(".name")).to_have_text("Mallory")
    row.click()
    expect(thread_bodies(page)).to_have_text([f"{RLO}gnp.exe see attached"])
    expect(page.locator(".panel .page-title")).to_have_text(f"{RLO}Shoes page")
    # Every rendered text holding the override sits in an element that isolates it.
    leaks = page.evaluate(
        """() => {
            const leaks = [];
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                if (!node.data.includes("\u202e")) continue;
                const parent = node.parentElement;
                const bidi = getComputedStyle(parent).unicodeBidi;
                if (!["isolate", "plaintext", "isolate-override"].includes(bidi)) {
                    leaks.push(`${parent.tagName}.${parent.className}: ${bidi}`);
                }
            }
            return leaks;
        }"""
    )
    assert leaks == []
