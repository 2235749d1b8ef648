"""The inbox's privacy tools (docs/inbox.md "Privacy tools") in a real browser: headless Chromium
against a real server, as tests/test_inbox.py does.

Data-subject requests (find, export, erase: P9), the processing register (P2), the audit log
(P4), the data-processing agreement (P10), consent and retention in the website's settings (P9,
P6), the legal export from the conversation's panel (P12) and deleting a website. One server for
the module; each test works on visitors and websites of its own, or checks only what it changed.
Every wait is on a DOM condition, never on time.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from causerie.actions.websites import do_create_website
from causerie.clock import ManualClock
from causerie.domain.models import Actor, Role
from causerie.domain.personal_data import PERSONAL
from causerie.domain.privacy import DPA_VERSION
from causerie.settings import load_settings
from tests.browser_support import (
    CauserieServer,
    HostSite,
    NewContext,
    Operator,
    ThreadedHarness,
    add_operator,
    log_in,
    screenshots_folder,
)
from tests.limits import RELAXED_LIMITS
from tests.support import free_port

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = screenshots_folder()
HOSTILE = '<img src=x onerror="window.__xss=1">Café <b>Lune</b>'


# -- one server for the module ---------------------------------------------------------------------


@dataclass
class Env:
    url: str
    host: HostSite
    harness: ThreadedHarness
    shop_id: str  # Ada owner, Bruno admin, Camille agent
    studio_id: str  # Ada owner: consent is switched on there
    hostile_id: str  # Ada owner: a name made of markup, for the register
    owner: Operator
    admin: Operator
    agent: Operator
    server: CauserieServer
    http: httpx.Client  # the visitors' side, over the widget API


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, host_site: HostSite) -> Iterator[Env]:
    folder = tmp_path_factory.mktemp("inbox-privacy")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
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
    studio = harness.run(do_create_website(rt, cli, "Atelier Lune", [host_site.origin]))
    hostile = harness.run(do_create_website(rt, cli, HOSTILE, [host_site.origin]))
    owner = add_operator(
        harness,
        "ada@shop.example",
        "Ada Lovelace",
        [(shop.id, Role.OWNER), (studio.id, Role.OWNER), (hostile.id, Role.OWNER)],
    )
    admin = add_operator(harness, "bruno@shop.example", "Bruno Costa", [(shop.id, Role.ADMIN)])
    agent = add_operator(harness, "camille@shop.example", "Camille Martin", [(shop.id, Role.AGENT)])
    server = CauserieServer(settings, clock, port=port)
    assert server.url == url
    with httpx.Client(base_url=url, timeout=10) as http:
        yield Env(
            url,
            host_site,
            harness,
            shop.id,
            studio.id,
            hostile.id,
            owner,
            admin,
            agent,
            server,
            http,
        )
    server.stop()
    harness.close()


# -- visitors, through the widget API (as the chatbox does) ---------------------------------------


@dataclass
class Visitor:
    env: Env
    token: str
    session_id: str

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Origin": self.env.host.origin}

    def say(self, body: str) -> httpx.Response:
        return self.env.http.post(
            "/api/widget/v1/session/messages",
            json={"client_id": secrets.token_hex(8), "type": "text", "body": body},
            headers=self._headers(),
        )

    def profile(self, **fields: Any) -> None:
        response = self.env.http.patch(
            "/api/widget/v1/session/profile", json=fields, headers=self._headers()
        )
        assert response.status_code == 200, response.text


def open_session(env: Env, website_id: str) -> httpx.Response:
    return env.http.post(
        f"/api/widget/v1/websites/{website_id}/session",
        json={"page": {"url": "https://shop.example/", "title": "Home", "referrer": ""}},
        headers={"Origin": env.host.origin},
    )


def new_visitor(env: Env, website_id: str | None = None) -> Visitor:
    response = open_session(env, website_id or env.shop_id)
    assert response.status_code == 201, response.text
    data = response.json()
    return Visitor(env, data["token"], data["session"]["id"])


def chatting(env: Env, *lines: str, **profile: Any) -> Visitor:
    """A visitor of the shop who wrote `lines` (so their session is permanent)."""
    visitor = new_visitor(env)
    for line in lines:
        response = visitor.say(line)
        assert response.status_code in (200, 201), response.text
    if profile:
        visitor.profile(**profile)
    return visitor


def conversation_of(env: Env, session_id: str) -> str:
    found = env.harness.scalar("SELECT id FROM conversations WHERE session_id = :s", s=session_id)
    assert found, f"no conversation for session {session_id}"
    return str(found)


def later(env: Env) -> None:
    """The server's clock moves on: what a test does comes after what the tests before did."""
    env.harness.clock.advance(timedelta(minutes=3))


def screenshot(page: Page, name: str) -> None:
    """docs/screenshots/NAME.png, without the passing toast."""
    page.evaluate("() => document.getElementById('toasts').replaceChildren()")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def stored_settings(env: Env, website_id: str) -> dict[str, Any]:
    raw = env.harness.scalar("SELECT settings FROM websites WHERE id = :id", id=website_id)
    found: dict[str, Any] = json.loads(raw) if isinstance(raw, str) else raw
    return found


# -- the inbox in a browser ------------------------------------------------------------------------


def watch_errors(page: Page) -> list[str]:
    """Console errors (CSP violations included) and dialogs (alert, confirm): none may come."""
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))

    def on_dialog(dialog: Any) -> None:
        errors.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return errors


def sign_in(new_context: NewContext, env: Env, who: Operator, hash_: str = "#/") -> Page:
    """Logged in through the API (tests/test_inbox.py tests the login screen), the website
    remembered (as the switcher does), then the inbox opened at `hash_`."""
    context: BrowserContext = new_context()
    log_in(context, env.url, who)
    page = context.new_page()
    page.goto(f"{env.url}/app{hash_}")
    expect(page.locator("#availability")).to_be_visible()
    return page


def on_website(page: Page, env: Env, website_id: str, hash_: str) -> None:
    """Choose the website in the switcher, then go to `hash_`."""
    page.select_option("#website", website_id)
    expect(page.locator("#website")).to_have_value(website_id)
    page.evaluate("(h) => { location.hash = h; }", hash_)


def save_website_settings(page: Page) -> None:
    """Submit the website's settings and wait until the page is drawn again with what was stored
    (a saved form is replaced by a new one): the next change is made on that one, not on a form
    about to be replaced, which would lose it."""
    form = page.locator("form[aria-label='Website settings']")
    before = form.element_handle()
    form.locator("button[type=submit]").click()
    page.wait_for_function("form => !form.isConnected", arg=before)


def api_as(page: Page, env: Env, method: str, path: str, body: Any = None) -> Any:
    """An /api/v1 call with the page's login (cookie and CSRF header), as the inbox makes it."""
    context = page.context
    csrf = context.request.get(f"{env.url}/api/v1/me").json()["csrf_token"]
    response = context.request.fetch(
        f"{env.url}/api/v1{path}",
        method=method,
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"},
        data=json.dumps(body) if body is not None else None,
    )
    return response


# -- data-subject requests (P9) --------------------------------------------------------------------


def test_p9_admin_exports_and_erases_a_person_from_the_inbox(
    new_context: NewContext, env: Env
) -> None:
    later(env)
    email = "clara.rossi@example.org"
    first = chatting(env, "Hello, is the vase back?", "And the blue bowl?", email=email)
    second = chatting(env, "It's Clara again", nickname="Clara", email=email)
    bystander = chatting(env, "Someone else entirely", email="someone@example.org")
    ours = {first.session_id, second.session_id}
    conversations = [conversation_of(env, s) for s in ours]

    page = sign_in(new_context, env, env.admin)
    errors = watch_errors(page)
    expect(page.locator("#nav-privacy")).to_be_visible()  # an admin of the shop
    page.click("#nav-privacy")
    expect(page.get_by_role("heading", name="Data requests")).to_be_visible()
    expect(page.locator(".settings-nav a")).to_have_text(
        ["Data requests", "Processing register", "Processing agreement"]  # no audit: owners
    )

    # Nothing is held about an unknown address; an unknown session id says so too.
    page.fill("#subject-value", "nobody@example.org")
    page.click("form[aria-label='Find a person'] button[type=submit]")
    expect(page.locator("#subject-results")).to_contain_text(
        "Nothing is held about nobody@example.org"
    )
    page.select_option("#subject-kind", "session_id")
    page.fill("#subject-value", "no-such-session")
    page.click("form[aria-label='Find a person'] button[type=submit]")
    expect(page.get_by_role("alert")).to_have_text(
        "No session with this id on the websites you manage."
    )

    # The person, by email: both sessions, their message counts, a link to each conversation.
    page.select_option("#subject-kind", "email")
    page.fill("#subject-value", email)
    page.press("#subject-value", "Enter")
    rows = page.locator("#subject-results tbody tr")
    expect(rows).to_have_count(2)
    for visitor, count in ((first, "2"), (second, "1")):
        row = page.locator(f"#subject-results tr[data-session='{visitor.session_id}']")
        expect(row.locator(".messages-count")).to_have_text(count)
    expect(page.locator("#subject-results")).to_contain_text("Demo shop")
    for conversation_id in conversations:
        expect(page.locator(f"#subject-results a[href='#/c/{conversation_id}']")).to_have_count(1)
    screenshot(page, "inbox-privacy-requests")

    # Export: a JSON file, made in the browser from the API's document.
    with page.expect_download() as caught:
        page.click("#subject-export")
    download = caught.value
    assert download.suggested_filename.startswith("causerie-personal-data-")
    assert download.suggested_filename.endswith(".json")
    exported = json.loads(Path(download.path()).read_text("utf-8"))
    assert exported["format"] == "causerie.personal-data/1"
    assert {s["id"] for s in exported["sessions"]} == ours
    assert all(s["ip"]["address"] for s in exported["sessions"])
    expect(page.locator("#subject-outcome")).to_contain_text("recorded in the audit log")

    # Erase: the dialog says exactly what goes, and Cancel keeps everything.
    page.click("#subject-erase")
    dialog = page.get_by_role("dialog", name="Erase this person?")
    expect(dialog).to_be_visible()
    for words in (
        "2 sessions",
        "every message (3)",
        "profile",
        "IP addresses",
        "consent",
        "irreversible",
    ):
        expect(dialog).to_contain_text(words)
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    assert env.harness.scalar("SELECT count(*) FROM sessions WHERE id = :s", s=first.session_id)

    page.click("#subject-erase")
    page.get_by_role("dialog").get_by_role("button", name="Erase everything").click()
    expect(page.locator("#subject-outcome")).to_have_text(
        f"Erased {email}: 2 sessions and 3 messages destroyed."
    )
    for session_id in ours:
        assert env.harness.scalar("SELECT count(*) FROM sessions WHERE id = :s", s=session_id) == 0
    for conversation_id in conversations:
        for table in ("conversations WHERE id", "messages WHERE conversation_id"):
            assert env.harness.scalar(f"SELECT count(*) FROM {table} = :c", c=conversation_id) == 0
    assert env.harness.scalar("SELECT count(*) FROM sessions WHERE id = :s", s=bystander.session_id)
    actions = {
        row[0]
        for row in env.harness.rows(
            "SELECT action FROM audit_log WHERE actor_id = :a", a=env.admin.id
        )
    }
    assert {"privacy.export", "privacy.erase"} <= actions

    # Searching again finds nothing.
    page.press("#subject-value", "Enter")
    expect(page.locator("#subject-results")).to_contain_text(f"Nothing is held about {email}")
    assert errors == []


# -- the record of processing activities (P2) ------------------------------------------------------


def test_p2_register_page_shows_every_declared_field(new_context: NewContext, env: Env) -> None:
    later(env)
    page = sign_in(new_context, env, env.owner)
    errors = watch_errors(page)
    on_website(page, env, env.shop_id, "#/privacy/register")  # the register covers all of hers
    register = page.locator("#register")
    expect(register.get_by_role("heading", name="Record of processing activities")).to_be_visible()
    expect(register.locator("table").first).to_be_visible()
    shown = set(register.locator("td code").all_text_contents())
    declared = {field.key for field in PERSONAL}
    assert declared <= shown, f"not on the page: {sorted(declared - shown)}"
    # Every declared purpose is there too, as text.
    for field in PERSONAL:
        expect(register).to_contain_text(field.purpose.split(";")[0])

    # A website's name made of markup is text: no element is made of it, nothing runs.
    expect(register.locator("h4", has_text=HOSTILE)).to_have_count(1)
    expect(register.locator("img, b, script")).to_have_count(0)
    assert page.evaluate("() => window.__xss") is None

    # Download .md: exactly what the API gave.
    markdown = page.context.request.get(f"{env.url}/api/v1/privacy/register").json()["markdown"]
    with page.expect_download() as caught:
        page.click("#register-download")
    assert caught.value.suggested_filename.endswith(".md")
    assert Path(caught.value.path()).read_text("utf-8") == markdown
    screenshot(page, "inbox-privacy-register")

    # An agent neither sees the tab nor gets the page.
    agent = sign_in(new_context, env, env.agent)
    expect(agent.locator("#nav-privacy")).to_be_hidden()
    agent.evaluate("() => { location.hash = '#/privacy/register'; }")
    expect(agent.locator(".settings-content")).to_contain_text(
        "Only the owners and admins of Demo shop use the privacy tools"
    )
    assert agent.context.request.get(f"{env.url}/api/v1/privacy/register").status == 403
    assert errors == []


# -- the audit log (P4) ----------------------------------------------------------------------------


def test_p4_owner_reads_the_audit_log_and_an_agent_cannot_see_it(
    new_context: NewContext, env: Env
) -> None:
    later(env)
    # Bruno (admin) changes the shop's greeting 55 times: more than one page of the log.
    bruno = sign_in(new_context, env, env.admin)
    for n in range(55):
        response = api_as(
            bruno, env, "PATCH", f"/websites/{env.shop_id}", {"settings": {"greeting": f"Hi {n}"}}
        )
        assert response.ok, response.text()
    # An admin has no audit page: the link is not there, and the address falls back.
    bruno.evaluate("() => { location.hash = '#/privacy/audit'; }")
    expect(bruno.get_by_role("heading", name="Data requests")).to_be_visible()
    expect(bruno.locator(".settings-nav a[href='#/privacy/audit']")).to_have_count(0)
    assert api_as(bruno, env, "GET", f"/websites/{env.shop_id}/audit").status == 403

    page = sign_in(new_context, env, env.owner)
    errors = watch_errors(page)
    on_website(page, env, env.shop_id, "#/privacy/audit")
    table = page.locator("#audit")
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    expect(table.locator("tbody tr").first).to_be_visible()

    # Filtered by action and by who: names resolved from the website's operators.
    page.fill("#audit-action", "website.update")
    page.select_option("#audit-actor", env.admin.id)
    page.click("form[aria-label='Filter the audit log'] button[type=submit]")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(50)
    expect(page.locator("#audit-more")).to_be_visible()
    page.click("#audit-more")
    expect(rows).to_have_count(55)
    expect(page.locator("#audit-more")).to_be_hidden()
    assert set(rows.locator("td:nth-child(2)").all_text_contents()) == {"Bruno Costa"}
    assert set(rows.locator("code.action").all_text_contents()) == {"website.update"}
    expect(rows.first).to_contain_text(f"website {env.shop_id}")

    # No match: said so.
    page.fill("#audit-action", "no.such.action")
    page.click("form[aria-label='Filter the audit log'] button[type=submit]")
    expect(rows).to_have_count(0)
    expect(page.locator(".settings-content [role=status]")).to_have_text("No entry matches.")

    # Unfiltered: the latest entries, whoever made them.
    page.fill("#audit-action", "")
    page.select_option("#audit-actor", "")
    page.click("form[aria-label='Filter the audit log'] button[type=submit]")
    expect(rows).to_have_count(50)

    # An agent: no Privacy tab, no audit page, and the API refuses.
    agent = sign_in(new_context, env, env.agent)
    expect(agent.locator("#nav-privacy")).to_be_hidden()
    agent.evaluate("() => { location.hash = '#/privacy/audit'; }")
    expect(agent.locator(".settings-content")).to_contain_text("use the privacy tools")
    expect(agent.locator("#audit")).to_have_count(0)
    assert agent.context.request.get(f"{env.url}/api/v1/websites/{env.shop_id}/audit").status == 403
    assert errors == []


# -- the data-processing agreement (P10) -----------------------------------------------------------


def test_p10_owner_accepts_the_dpa(new_context: NewContext, env: Env) -> None:
    later(env)
    admin = sign_in(new_context, env, env.admin, "#/privacy/dpa")
    expect(admin.locator("#dpa-version")).to_have_text(DPA_VERSION)
    expect(admin.locator("#dpa-status")).to_contain_text("Not accepted")
    expect(admin.locator("#dpa-accept")).to_have_count(0)  # owners accept
    expect(admin.locator(".settings-content")).to_contain_text("Only an owner")

    page = sign_in(new_context, env, env.owner)
    errors = watch_errors(page)
    on_website(page, env, env.shop_id, "#/privacy/dpa")
    accept = page.locator("#dpa-accept")
    expect(accept).to_have_text(f"Accept version {DPA_VERSION}")
    accept.click()
    status = page.locator("#dpa-status")
    expect(status).to_contain_text("Accepted")
    expect(status).to_contain_text(f"Version {DPA_VERSION} was accepted on")
    expect(status).to_contain_text("by Ada Lovelace")
    expect(page.locator("#dpa-accept")).to_have_count(0)
    expect(page.get_by_role("table", name="Acceptances")).to_contain_text(DPA_VERSION)
    assert env.harness.rows(
        "SELECT version, operator_id FROM dpa_acceptances WHERE website_id = :w", w=env.shop_id
    ) == [(DPA_VERSION, env.owner.id)]
    screenshot(page, "inbox-privacy-dpa")

    # The admin now reads who accepted it, and when.
    admin.reload()
    expect(admin.locator("#dpa-status")).to_contain_text("by Ada Lovelace")
    assert errors == []


# -- the website's settings: consent (P9), retention (P6), deletion --------------------------------


def test_p9_consent_setting_makes_the_chatbox_ask(new_context: NewContext, env: Env) -> None:
    later(env)
    before = open_session(env, env.studio_id).json()["website"]["settings"]
    assert before["consent_required"] is False
    page = sign_in(new_context, env, env.owner)
    errors = watch_errors(page)
    on_website(page, env, env.studio_id, "#/settings/website")
    expect(page.get_by_role("heading", name="Atelier Lune")).to_be_visible()
    expect(page.locator("#consent-version")).to_have_text("0")
    link = page.locator("#privacy-notice-link")
    expect(link).to_have_attribute("href", f"/privacy/{env.studio_id}")
    expect(link).to_have_attribute("target", "_blank")
    assert httpx.get(f"{env.url}/privacy/{env.studio_id}").status_code == 200

    notice = "We keep your messages to answer you. Read our notice before chatting."
    page.check("#s-consent_required")
    page.fill("#s-consent_notice", notice)
    save_website_settings(page)
    expect(page.locator(".toast")).to_have_text("Website saved.")
    expect(page.locator("#consent-version")).to_have_text("1")
    expect(page.locator("#s-consent_required")).to_be_checked()
    page.locator("#s-consent_notice").scroll_into_view_if_needed()
    screenshot(page, "inbox-privacy-settings")

    # The chatbox's session endpoint now asks, with the notice and its version...
    session = open_session(env, env.studio_id)
    settings = session.json()["website"]["settings"]
    assert settings["consent_required"] is True
    assert settings["consent_notice"] == notice
    assert settings["consent_version"] == 1
    # ... and a visitor who has not accepted cannot write.
    visitor = Visitor(env, session.json()["token"], session.json()["session"]["id"])
    refused = visitor.say("Hello?")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "consent_required"

    # Saving something else keeps the version; switching it off stops asking.
    page.fill("#s-greeting", "Bonjour !")
    save_website_settings(page)
    expect(page.locator("#s-greeting")).to_have_value("Bonjour !")
    expect(page.locator("#consent-version")).to_have_text("1")
    page.uncheck("#s-consent_required")
    save_website_settings(page)
    expect(page.locator("#s-consent_required")).not_to_be_checked()
    assert open_session(env, env.studio_id).json()["website"]["settings"]["consent_required"] is (
        False
    )
    assert errors == []


def test_p6_retention_override_is_saved_and_a_longer_one_is_refused(
    new_context: NewContext, env: Env
) -> None:
    later(env)
    page = sign_in(new_context, env, env.owner)
    errors = watch_errors(page)
    on_website(page, env, env.shop_id, "#/settings/website")
    expect(page.get_by_role("heading", name="Demo shop")).to_be_visible()
    expect(page.locator("#s-retention_chat_ips")).to_have_value("")
    save = page.locator("form[aria-label='Website settings'] button[type=submit]")

    page.fill("#s-retention_chat_ips", "30")
    page.fill("#s-retention_resolved_conversations", "90")
    save.click()
    expect(page.locator(".toast")).to_have_text("Website saved.")
    assert stored_settings(env, env.shop_id)["retention"] == {
        "chat_ips": 30,
        "resolved_conversations": 90,
    }
    page.reload()
    expect(page.locator("#s-retention_chat_ips")).to_have_value("30")
    expect(page.locator("#s-retention_resolved_conversations")).to_have_value("90")

    # Longer than the server's setting (CAUSERIE_CHAT_IP_RETENTION, 365 days): the server's
    # own words, and nothing changes.
    page.fill("#s-retention_chat_ips", "400")
    save.click()
    alert = page.locator("form[aria-label='Website settings'] [role=alert]")
    expect(alert).to_contain_text("at most 365 days")
    assert stored_settings(env, env.shop_id)["retention"]["chat_ips"] == 30

    # Empty: back to the server's setting.
    page.fill("#s-retention_chat_ips", "")
    page.fill("#s-retention_resolved_conversations", "")
    save.click()
    expect(page.locator(".toast")).to_have_text("Website saved.")
    expect(page.locator("#s-retention_chat_ips")).to_have_value("")
    assert stored_settings(env, env.shop_id)["retention"] == {}

    # An agent sees the settings, cannot change them, and has no delete button.
    agent = sign_in(new_context, env, env.agent, "#/settings/website")
    expect(agent.locator("#s-retention_chat_ips")).to_be_disabled()
    expect(agent.locator("#s-consent_required")).to_be_disabled()
    expect(agent.locator("#delete-website")).to_have_count(0)
    assert errors == []


def test_owner_deletes_a_website_after_typing_its_name(new_context: NewContext, env: Env) -> None:
    later(env)
    doomed = env.harness.run(
        do_create_website(env.harness.rt, Actor.cli(), "Old pop-up store", [env.host.origin])
    )
    add_operator(env.harness, env.owner.email, env.owner.name, [(doomed.id, Role.OWNER)])
    visitor = new_visitor(env, doomed.id)
    assert visitor.say("Are you still open?").status_code == 201

    # An admin of the shop has no delete button there.
    admin = sign_in(new_context, env, env.admin, "#/settings/website")
    expect(admin.get_by_role("heading", name="Demo shop")).to_be_visible()
    expect(admin.locator("#delete-website")).to_have_count(0)

    page = sign_in(new_context, env, env.owner)
    errors = watch_errors(page)
    on_website(page, env, doomed.id, "#/settings/website")
    expect(page.get_by_role("heading", name="Old pop-up store")).to_be_visible()
    page.click("#delete-website")
    dialog = page.get_by_role("dialog", name="Delete Old pop-up store?")
    expect(dialog).to_be_visible()
    for words in ("every conversation", "IP addresses", "cannot be undone"):
        expect(dialog).to_contain_text(words)
    confirm = page.locator("#delete-website-confirm")
    expect(confirm).to_be_disabled()
    page.fill("#delete-website-name", "Old pop-up")
    expect(confirm).to_be_disabled()
    page.press("#delete-website-name", "Enter")  # no implicit submission while disabled
    expect(dialog).to_be_visible()
    page.fill("#delete-website-name", "Old pop-up store")
    expect(confirm).to_be_enabled()
    confirm.click()
    expect(page.locator(".toast")).to_have_text(
        "Old pop-up store was deleted, with 1 conversation."
    )
    expect(page.locator(f"#website option[value='{doomed.id}']")).to_have_count(0)
    assert env.harness.scalar("SELECT count(*) FROM websites WHERE id = :w", w=doomed.id) == 0
    assert (
        env.harness.scalar("SELECT count(*) FROM sessions WHERE id = :s", s=visitor.session_id) == 0
    )
    assert errors == []


# -- the legal export (P12) ------------------------------------------------------------------------


def test_p12_owner_legal_export_from_the_panel(new_context: NewContext, env: Env) -> None:
    later(env)
    visitor = chatting(env, "I need my invoice", "Order 1042", nickname="Hugo Petit")
    conversation_id = conversation_of(env, visitor.session_id)

    # An admin opens the conversation: no legal export.
    admin = sign_in(new_context, env, env.admin, f"#/c/{conversation_id}")
    expect(admin.locator(".panel-title")).to_have_text("Hugo Petit")
    expect(admin.locator("#legal-export")).to_have_count(0)
    refused = api_as(admin, env, "POST", f"/conversations/{conversation_id}/legal-export", {})
    assert refused.status == 403

    page = sign_in(new_context, env, env.owner, f"#/c/{conversation_id}")
    errors = watch_errors(page)
    expect(page.locator(".panel-title")).to_have_text("Hugo Petit")
    section = page.locator(".panel section", has=page.locator("#legal-export"))
    expect(section).to_contain_text("IP address")
    expect(section).to_contain_text("recorded in the audit log")
    later(env)
    with page.expect_download() as caught:
        page.click("#legal-export")
    download = caught.value
    assert download.suggested_filename == f"causerie-legal-export-{conversation_id}.json"
    exported = json.loads(Path(download.path()).read_text("utf-8"))
    assert exported["format"] == "causerie.legal-export/1"
    assert exported["conversation"]["id"] == conversation_id
    assert exported["session"]["ip"]["address"] == "127.0.0.1"
    assert [m["body"] for m in exported["messages"]] == ["I need my invoice", "Order 1042"]
    expect(page.locator(".toast")).to_contain_text("recorded in the audit log")
    assert env.harness.rows(
        "SELECT actor_id, target_id FROM audit_log WHERE action = 'conversation.legal_export'"
    ) == [(env.owner.id, conversation_id)]

    # The export heads the shop's audit log (for docs/inbox.md: what the owners did lately).
    on_website(page, env, env.shop_id, "#/privacy/audit")
    first = page.locator("#audit tbody tr").first
    expect(first.locator("code.action")).to_have_text("conversation.legal_export")
    expect(first).to_contain_text("Ada Lovelace (you)")
    expect(first).to_contain_text("messages: 2")
    screenshot(page, "inbox-privacy-audit")
    assert errors == []
