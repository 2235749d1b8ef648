"""The agents' inbox (`/app`) in a real browser: headless Chromium against a real server, with
visitors on a host page of another origin (the real chatbox) or over the widget HTTP API
(docs/inbox.md).

One server per module: every test works on conversations of its own visitors, so the tests do
not depend on each other's order. Only SQLite: what the browser sees does not depend on the
database. Every wait is on a DOM condition, never on time.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from causerie.actions.members import do_invite
from causerie.actions.websites import do_create_website
from causerie.clock import ManualClock
from causerie.domain.models import Actor, Role
from causerie.settings import load_settings
from tests.browser_support import (
    CauserieServer,
    HostSite,
    NewContext,
    Operator,
    ThreadedHarness,
    add_operator,
    host_page,
    log_in,
    screenshots_folder,
)
from tests.limits import RELAXED_LIMITS
from tests.support import free_port

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = screenshots_folder()
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Safari/605.1.15"
)


# -- one server for the module ---------------------------------------------------------------------


@dataclass
class Env:
    url: str
    host: HostSite
    harness: ThreadedHarness
    shop_id: str
    blog_id: str
    studio_id: str
    owner: Operator
    agent: Operator
    server: CauserieServer
    http: httpx.Client  # the visitors' side, over the widget API


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, host_site: HostSite) -> Iterator[Env]:
    folder = tmp_path_factory.mktemp("inbox")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # The inbox's socket and API trust the server's own origin only: it must be the real one.
    settings = load_settings(
        environ={},
        data_dir=str(folder / "data"),
        database_url=f"sqlite:///{folder / 'causerie.db'}",
        purge_interval="1h",
        public_url=url,
        # The clock stands still: the HTTP limits, counted on it, would meet the tests' load.
        **RELAXED_LIMITS,
    )
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    harness = ThreadedHarness(settings, clock)
    rt, cli = harness.rt, Actor.cli()
    shop = harness.run(do_create_website(rt, cli, "Demo shop", [host_site.origin]))
    blog = harness.run(do_create_website(rt, cli, "Blog", [host_site.origin]))
    studio = harness.run(do_create_website(rt, cli, "Atelier Lune", [host_site.origin]))
    owner = add_operator(
        harness,
        "ada@shop.example",
        "Ada Lovelace",
        [(shop.id, Role.OWNER), (blog.id, Role.OWNER), (studio.id, Role.OWNER)],
    )
    agent = add_operator(harness, "camille@shop.example", "Camille Martin", [(shop.id, Role.AGENT)])
    add_operator(harness, "noor@shop.example", "Noor Haddad", [(studio.id, Role.AGENT)])
    server = CauserieServer(settings, clock, port=port)
    assert server.url == url
    with httpx.Client(base_url=url, timeout=10) as http:
        yield Env(url, host_site, harness, shop.id, blog.id, studio.id, owner, agent, server, http)
    server.stop()
    harness.close()


# -- visitors, through the widget API (as the chatbox does) -------------------------------------


@dataclass
class Visitor:
    env: Env
    token: str
    session_id: str

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Origin": self.env.host.origin}

    def say(self, body: str) -> dict[str, Any]:
        response = self.env.http.post(
            "/api/widget/v1/session/messages",
            json={"client_id": secrets.token_hex(8), "type": "text", "body": body},
            headers=self._headers(),
        )
        assert response.status_code in (200, 201), response.text
        message: dict[str, Any] = response.json()["message"]
        return message

    def profile(self, **fields: Any) -> None:
        response = self.env.http.patch(
            "/api/widget/v1/session/profile", json=fields, headers=self._headers()
        )
        assert response.status_code == 200, response.text

    def messages(self) -> list[dict[str, Any]]:
        response = self.env.http.get("/api/widget/v1/session/messages", headers=self._headers())
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["messages"]
        return found


def new_visitor(
    env: Env,
    website_id: str | None = None,
    *,
    url: str = "https://shop.example/",
    title: str = "Home",
    locale: str = "fr-FR",
    timezone: str = "Europe/Paris",
) -> Visitor:
    response = env.http.post(
        f"/api/widget/v1/websites/{website_id or env.shop_id}/session",
        json={
            "page": {"url": url, "title": title, "referrer": ""},
            "locale": locale,
            "timezone": timezone,
        },
        headers={"Origin": env.host.origin, "User-Agent": UA},
    )
    assert response.status_code == 201, response.text
    data = response.json()
    return Visitor(env, data["token"], data["session"]["id"])


def conversation_of(env: Env, session_id: str) -> str:
    found = env.harness.scalar("SELECT id FROM conversations WHERE session_id = :s", s=session_id)
    assert found, f"no conversation for session {session_id}"
    return str(found)


# -- the inbox in a browser ------------------------------------------------------------------------


def fail_on_dialogs(page: Page) -> list[str]:
    """alert/confirm/prompt are recorded and dismissed; the tests assert none came."""
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


def watch_csp(page: Page) -> list[str]:
    """Console errors, CSP violations included: the inbox must run under its own policy."""
    errors: list[str] = []
    # A refused request (401 before signing in, 429) is logged by Chromium: not an app error.
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def sign_in(context: BrowserContext, env: Env, who: Operator, path: str = "/app") -> Page:
    """Logged in through the API (the login screen has its own test), then the inbox opened."""
    log_in(context, env.url, who)
    page = context.new_page()
    page.goto(env.url + path)
    expect(page.locator("#availability")).to_be_visible()
    return page


def inbox(new_context: NewContext, env: Env, who: Operator, **options: Any) -> Page:
    return sign_in(new_context(**options), env, who)


def choose_website(page: Page, website_id: str) -> None:
    page.select_option("#website", website_id)
    expect(page.locator("#website")).to_have_value(website_id)


def item(page: Page, conversation_id: str) -> Any:
    return page.locator(f"#conv-{conversation_id}")


def thread_bodies(page: Page) -> Any:
    return page.locator(".log article.message .body")


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
        timezone="<script>window.__xss=1</script>"[:64],
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
    # Nothing became markup: no image, script, svg or javascript: link anywhere in the app.
    assert (
        page.evaluate(
            """() => document.querySelectorAll(
            '#app img, #app script, #app svg, #app iframe, a[href^="javascript"]').length"""
        )
        == 0
    )
    # Only http(s) URLs are links; the message's https URL is one.
    links = page.locator(".log a")
    expect(links).to_have_count(1)
    expect(links).to_have_attribute("href", "https://ok.example/?q=")  # a link ends at "<"
    expect(links).to_have_attribute("rel", "noopener noreferrer nofollow")


RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: what follows it is laid out reversed


def test_a_right_to_left_override_in_user_text_stays_inside_it(
    new_context: NewContext, env: Env
) -> None:
    """Every element showing a nickname, a message or a page title isolates it (bidi): an
    override in it cannot reverse the time, the preview or the words beside it."""
    visitor = new_visitor(env, title=f"{RLO}Shoes page")
    visitor.profile(nickname=f"{RLO}Mallory")
    visitor.say(f"{RLO}gnp.exe see attached")
    conversation_id = conversation_of(env, visitor.session_id)

    page = inbox(new_context, env, env.owner)
    choose_website(page, env.shop_id)
    row = item(page, conversation_id)
    expect(row.locator(".name")).to_have_text(f"{RLO}Mallory")
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


# -- settings, invitations, tokens ------------------------------------------------------------


def test_settings_website_operators_tokens_and_an_invitation_accepted(
    new_context: NewContext, env: Env
) -> None:
    page = inbox(new_context, env, env.owner)
    choose_website(page, env.studio_id)
    page.click("a[href='#/settings/website']")
    expect(page.get_by_role("heading", name="Atelier Lune")).to_be_visible()
    page.fill("#s-greeting", "Bonjour ! Une question sur nos céramiques ?")
    page.select_option("#s-position", "left")
    page.click("form[aria-label='Website settings'] button[type=submit]")
    expect(page.locator(".toast")).to_have_text("Website saved.")
    settings = env.harness.scalar("SELECT settings FROM websites WHERE id = :id", id=env.studio_id)
    stored = json.loads(settings) if isinstance(settings, str) else settings
    assert stored["greeting"] == "Bonjour ! Une question sur nos céramiques ?"
    assert stored["position"] == "left"
    page.screenshot(path=str(SCREENSHOTS / "inbox-settings.png"))

    # The embed code, ready to copy.
    page.click("a[href='#/settings/embed']")
    snippet = page.locator("[data-copy=snippet]")
    expect(snippet).to_have_value(re.compile(f'CAUSERIE_WEBSITE_ID = "{env.studio_id}"'))
    expect(snippet).to_have_value(re.compile(r"/widget\.js"))

    # Operators: invite someone new; the link is shown once.
    page.click("a[href='#/settings/operators']")
    expect(page.get_by_role("table", name="Operators")).to_contain_text("Noor Haddad")
    page.fill("#invite-email", "sam@studio.example")
    page.select_option("#invite-role", "admin")
    page.click("form[aria-label='Invite an operator'] button[type=submit]")
    link = page.locator("[data-copy=invitation]")
    expect(link).to_have_value(re.compile(r"#/invite\?token="))
    invitation = link.input_value()
    expect(page.get_by_role("table", name="Operators")).to_contain_text("sam@studio.example")
    expect(page.get_by_role("table", name="Operators")).to_contain_text("Invited")

    # Change Noor's role.
    page.get_by_label("Role of Noor Haddad").select_option("admin")
    expect(page.locator(".toast")).to_contain_text("Noor Haddad is now admin")

    # API tokens: the secret once, then listed, then revoked.
    page.click("a[href='#/settings/tokens']")
    page.fill("#token-name", "CRM sync")
    page.check("#scope-write")
    page.click("form[aria-label='New API token'] button[type=submit]")
    secret = page.locator("[data-copy=secret]")
    expect(secret).to_have_value(re.compile(r"^\S{20,}$"))
    token = secret.input_value()
    response = httpx.get(f"{env.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json()["via"] == "token"
    table = page.get_by_role("table", name="API tokens")
    expect(table).to_contain_text("CRM sync")
    table.get_by_role("row", name=re.compile("CRM sync")).get_by_role(
        "button", name="Revoke"
    ).click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("No API token yet.")).to_be_visible()
    response = httpx.get(f"{env.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401

    # The invited person opens the link, chooses a name and a password, and is in.
    newcomer = new_context().new_page()
    newcomer.goto(invitation.replace("http://127.0.0.1:8000", env.url))
    expect(newcomer.get_by_role("heading", name="Join your team on Causerie")).to_be_visible()
    expect(newcomer.locator("#f-email")).to_have_value("sam@studio.example")
    newcomer.fill("#f-name", "Sam Rivera")
    newcomer.fill("#f-password", "short")
    newcomer.click("button[type=submit]")
    expect(newcomer.get_by_role("alert")).to_contain_text("10")
    newcomer.fill("#f-password", "a long enough password")
    newcomer.click("button[type=submit]")
    expect(newcomer.locator(".me-name")).to_have_text("Sam Rivera")
    assert "token" not in newcomer.url  # the used token left the address bar
    # A used link cannot be used again.
    again = new_context().new_page()
    again.goto(invitation.replace("http://127.0.0.1:8000", env.url))
    expect(again.get_by_role("alert")).to_contain_text("cannot be used any more")


def test_an_invitation_for_someone_with_an_account_asks_for_their_password(
    new_context: NewContext, env: Env
) -> None:
    """The link never sets the password of an existing account: its owner signs in to join."""
    who = add_operator(env.harness, "rae@shop.example", "Rae Kim", [(env.blog_id, Role.AGENT)])
    invited = env.harness.run(
        do_invite(env.harness.rt, Actor.cli(), env.studio_id, who.email, Role.ADMIN)
    )
    page = new_context().new_page()
    page.goto(invited.invitation_url)
    expect(page.get_by_role("heading", name="Join your team on Causerie")).to_be_visible()
    expect(page.get_by_role("form", name="Accept the invitation")).to_contain_text("Atelier Lune")
    expect(page.locator("#f-email")).to_have_value(who.email)
    expect(page.locator("#f-name")).to_have_count(0)
    page.fill("#f-password", "a password that is not hers")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_have_text("Wrong password.")
    page.fill("#f-password", who.password)
    page.click("button[type=submit]")
    expect(page.locator(".me-name")).to_have_text("Rae Kim")
    assert "token" not in page.url
    roles = env.harness.rows(
        "SELECT website_id, role FROM memberships WHERE operator_id = :o", o=who.id
    )
    assert sorted(roles) == sorted([(env.blog_id, "agent"), (env.studio_id, "admin")])


def test_changing_the_password(new_context: NewContext, env: Env) -> None:
    who = add_operator(env.harness, "pat@shop.example", "Pat Lee", [(env.blog_id, Role.AGENT)])
    page = inbox(new_context, env, who)
    page.click("a[href='#/settings/website']")
    page.click("a[href='#/settings/account']")
    page.fill("#current-password", "wrong")
    page.fill("#new-password", "a brand new password")
    page.click("form[aria-label='Change your password'] button[type=submit]")
    expect(page.locator("form[aria-label='Change your password'] [role=alert]")).to_have_text(
        "The current password is wrong."
    )
    page.fill("#current-password", who.password)
    page.fill("#new-password", "a brand new password")
    page.click("form[aria-label='Change your password'] button[type=submit]")
    expect(page.locator(".toast")).to_contain_text("Password changed")
    with httpx.Client(base_url=env.url) as http:
        assert (
            http.post(
                "/api/v1/auth/login", json={"email": who.email, "password": who.password}
            ).status_code
            == 401
        )
        assert (
            http.post(
                "/api/v1/auth/login", json={"email": who.email, "password": "a brand new password"}
            ).status_code
            == 200
        )

    # The account's Mail section: the notification preferences (docs/notifications.md).
    mail = page.locator("section[aria-label='Mail']")
    expect(mail).to_contain_text("None: every mail was accepted.")
    expect(page.locator("#pref-mail_mentions")).to_be_checked()
    page.uncheck("#pref-mail_mentions")
    expect(page.locator(".toast").last).to_contain_text("Mail preferences saved")
    with httpx.Client(base_url=env.url) as http:
        http.post(
            "/api/v1/auth/login", json={"email": who.email, "password": "a brand new password"}
        )
        prefs = http.get("/api/v1/me").json()["notification_preferences"]
    assert prefs["mail_mentions"] is False and prefs["mail_new_conversation"] is True


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


# -- teams, transfers, business hours and ratings (docs/inbox.md "Teams", "Ratings") ----------


def test_an_owner_makes_a_team_transfers_to_it_sets_hours_and_sees_the_rating(
    new_context: NewContext, env: Env
) -> None:
    page = inbox(new_context, env, env.owner)
    choose_website(page, env.shop_id)
    page.goto(f"{env.url}/app/#/settings/teams")
    expect(page.locator("#settings-title")).to_have_text("Teams")
    page.fill("#team-name", "Billing")
    page.select_option("#team-mode", "manual")
    page.get_by_label("Camille Martin").check()
    page.get_by_role("button", name="Create team").click()
    row = page.locator("tr[data-team]", has_text="Billing")
    expect(row).to_contain_text("Manual")
    expect(row).to_contain_text("Camille Martin")

    page.goto(f"{env.url}/app/#/settings/hours")
    expect(page.locator("#settings-title")).to_have_text("Business hours")
    page.check("#hours-enabled")
    page.fill("#hours-timezone", "Europe/Paris")
    page.fill("#hours-mon", "09:00-12:00, 13:00-17:00")
    page.fill("#hours-away", "Back on Monday.")
    page.fill("#auto-resolve", "120")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#hours-mon")).to_have_value("09:00-12:00, 13:00-17:00")  # read back
    stored = json.loads(
        env.harness.scalar("SELECT settings FROM websites WHERE id = :w", w=env.shop_id)
    )
    assert stored["auto_resolve_minutes"] == 120
    assert stored["business_hours"]["week"]["mon"] == [["09:00", "12:00"], ["13:00", "17:00"]]
    assert stored["business_hours"]["away_message"] == "Back on Monday."

    visitor = new_visitor(env)
    visitor.say("Where is my invoice?")
    conversation = conversation_of(env, visitor.session_id)
    page.goto(f"{env.url}/app/#/c/{conversation}")
    expect(thread_bodies(page)).to_have_text(["Where is my invoice?"])
    transfer = page.locator("#transfer")
    expect(transfer.locator("option", has_text="Billing")).to_have_count(1)
    transfer.select_option(label="Billing")
    expect(
        page.locator(".log .event", has_text="Transferred to Billing by Ada Lovelace")
    ).to_be_visible()

    page.locator("#resolve").click()
    expect(page.locator("#reopen")).to_be_visible()
    rated = env.http.post(
        f"/api/widget/v1/session/conversations/{conversation}/rating",
        json={"rating": 4, "comment": "Clear answer"},
        headers={"Authorization": f"Bearer {visitor.token}", "Origin": env.host.origin},
    )
    assert rated.status_code == 200, rated.text
    line = page.locator(".log .rating-line")
    expect(line).to_contain_text("Rated 4/5 by the visitor")
    expect(line).to_contain_text("Clear answer")
    page.reload()  # and from the API when the thread is read again
    expect(page.locator(".log .rating-line")).to_contain_text("★★★★☆")
