"""The inbox in English and French (docs/inbox.md, "Languages"), in headless Chromium against a
real server: the browser's language, then the operator's own choice, which wins and switches the
page at once; dates written the language's way; event lines worded in the reader's language
(a line stored before they carried their kind shows its English body). One server and one
browser for the module; each test has its own browser context (its own language).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from causerie.actions.operators import do_create_api_token
from causerie.actions.websites import do_create_website
from causerie.clock import ManualClock
from causerie.domain.models import Actor, Role, Scope
from tests.browser_support import (
    CauserieServer,
    Operator,
    ThreadedHarness,
    add_operator,
    log_in,
    open_context,
    served_settings,
)

pytest_plugins = ["tests.browser_support"]  # browser

ORIGIN = "https://shop.example"
# A Tuesday, long before the browser's today: the list shows the date, the thread its weekday.
WHEN = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


@dataclass
class Env:
    url: str
    harness: ThreadedHarness
    ada: Operator  # admin; transfers the conversation to Bob
    bob: Operator  # agent
    conversation_id: str


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    folder = tmp_path_factory.mktemp("inbox-languages")
    url, port, settings = served_settings(folder)
    harness = ThreadedHarness(settings, ManualClock(WHEN))
    shop = harness.run(do_create_website(harness.rt, Actor.cli(), "Shop", [ORIGIN]))
    ada = add_operator(harness, "ada@shop.example", "Ada Lovelace", [(shop.id, Role.ADMIN)])
    bob = add_operator(harness, "bob@shop.example", "Bob", [(shop.id, Role.AGENT)])
    _, token = harness.run(
        do_create_api_token(harness.rt, Actor.cli(), ada.email, name="t", scopes=frozenset(Scope))
    )
    server = CauserieServer(settings, harness.clock, port=port)
    with httpx.Client(base_url=url, timeout=10) as http:
        opened = http.post(
            f"/api/widget/v1/websites/{shop.id}/session",
            json={"page": {"url": f"{ORIGIN}/", "title": "Home", "referrer": ""}},
            headers={"Origin": ORIGIN},
        )
        assert opened.status_code == 201, opened.text
        visitor = {"Authorization": f"Bearer {opened.json()['token']}", "Origin": ORIGIN}
        sent = http.post(
            "/api/widget/v1/session/messages",
            json={"client_id": secrets.token_hex(8), "type": "text", "body": "Bonjour"},
            headers=visitor,
        )
        assert sent.status_code == 201, sent.text
        conversation_id = str(sent.json()["message"]["conversation_id"])
        auth = {"Authorization": f"Bearer {token}"}
        for _ in range(2):
            moved = http.post(
                f"/api/v1/conversations/{conversation_id}/transfer",
                json={"operator_id": bob.id},
                headers=auth,
            )
            assert moved.status_code == 200, moved.text
        # The first line as a server before 0017 stored it: an English body, no kind.
        harness.execute(
            "UPDATE messages SET event = NULL, body = 'Transferred to Bob by Ada (stored before)'"
            " WHERE seq = (SELECT MIN(seq) FROM messages WHERE type = 'event')"
        )
        yield Env(url, harness, ada, bob, conversation_id)
    server.stop()
    harness.close()


def _signed_in(browser: Browser, env: Env, operator: Operator, locale: str) -> BrowserContext:
    context = open_context(browser, locale=locale)
    log_in(context, env.url, operator)
    return context


@pytest.fixture
def errors() -> list[str]:
    return []


def _open(context: BrowserContext, url: str, errors: list[str]) -> Page:
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return page


def _me(page: Page, env: Env) -> dict[str, Any]:
    answer = page.request.get(f"{env.url}/api/v1/me")
    assert answer.ok, answer.text()
    me: dict[str, Any] = answer.json()
    return me


INBOX_FR = re.compile(r"^Boîte de réception\d*$")  # then the count of unread conversations


def test_a_french_browser_gets_the_inbox_in_french_and_the_preference_wins(
    browser: Browser, env: Env, errors: list[str]
) -> None:
    context = _signed_in(browser, env, env.bob, "fr-FR")
    page = _open(context, f"{env.url}/app#/c/{env.conversation_id}", errors)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator(".topnav a[href='#/']")).to_have_text(INBOX_FR)
    expect(page.locator("#logout")).to_have_text("Se déconnecter")
    expect(page.locator(".chip[data-filter=open]")).to_have_text("Ouvertes")
    # The unread count comes first once the list has loaded: "(1) Boîte de réception · ...".
    expect(page).to_have_title(re.compile(r"^(\(\d+\) )?Boîte de réception · Causerie$"))
    # Dates the French way: the weekday in the thread, the day in the list.
    expect(page.locator(".log .day").first).to_have_text("mardi 3 mars")
    expect(page.locator(".conversation time").first).to_have_text("3 mars")
    # Event lines worded in French from their kind; an older one keeps its English body.
    events = page.locator(".log .event")
    expect(events).to_have_text(
        ["Transferred to Bob by Ada (stored before)", "Transférée à Bob par Ada Lovelace"]
    )
    # Bob chooses English: it wins over the browser's French, from the next page on too.
    csrf = {"X-CSRF-Token": _me(page, env)["csrf_token"]}
    answer = page.request.patch(f"{env.url}/api/v1/me", data={"language": "en"}, headers=csrf)
    assert answer.ok, answer.text()
    page.reload()
    expect(page.locator(".topnav a[href='#/']")).to_have_text("Inbox")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".log .day").first).to_have_text("Tuesday, March 3")
    expect(events.last).to_have_text("Transferred to Bob by Ada Lovelace")
    context.close()
    assert errors == [], errors


def test_an_operator_switches_the_language_in_my_account(
    browser: Browser, env: Env, errors: list[str]
) -> None:
    context = _signed_in(browser, env, env.ada, "en-US")
    page = _open(context, f"{env.url}/app#/c/{env.conversation_id}", errors)
    expect(page.locator(".log .day").first).to_have_text("Tuesday, March 3")
    expect(page.locator(".conversation time").first).to_have_text("Mar 3")
    page.evaluate("() => { location.hash = '#/settings/account'; }")
    expect(page.locator("#settings-title")).to_have_text("My account")
    language = page.locator("#my-language")
    expect(language).to_have_value("")  # the browser's
    language.select_option("fr")
    # The page is built again in French at once, without a reload.
    expect(page.locator("#settings-title")).to_have_text("Mon compte")
    expect(page.locator(".topnav a[href='#/']")).to_have_text(INBOX_FR)
    expect(page.locator("#toasts")).to_have_text("Langue enregistrée.")
    expect(page.locator("#my-language")).to_have_value("fr")
    assert _me(page, env)["language"] == "fr"
    page.evaluate(f"() => {{ location.hash = '#/c/{env.conversation_id}'; }}")
    expect(page.locator(".log .day").first).to_have_text("mardi 3 mars")
    expect(page.locator(".log .event").last).to_have_text("Transférée à Bob par Ada Lovelace")
    # Kept for the next visit, whatever the browser says.
    page.reload()
    expect(page.locator(".log .day").first).to_have_text("mardi 3 mars")
    # Back to the browser's language.
    page.evaluate("() => { location.hash = '#/settings/account'; }")
    page.locator("#my-language").select_option("")
    expect(page.locator("#settings-title")).to_have_text("My account")
    assert _me(page, env)["language"] is None
    context.close()
    assert errors == [], errors
