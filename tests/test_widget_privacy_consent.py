"""The visitor's consent and the privacy notice in the chatbox, in real headless Chromium
(docs/widget.md): the consent gate before the first message (P9), in French too, withdrawing it,
and the link to the notice (P8). Same set-up as tests/test_widget_privacy.py, whose helpers it
uses.
"""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from tests import widget_support
from tests.browser_support import CauserieServer, HostSite, NewContext, ThreadedHarness, host_page
from tests.test_widget_privacy import MENU, counts, opened, session_cookies, set_settings
from tests.widget_support import Chatbox, Shop, StartServer, visit

# tests/widget_support.py's fixtures: SQLite, the harness off Playwright's loop, a shop, a server.
database_url = widget_support.database_url
harness = widget_support.harness
shop = widget_support.shop
start_causerie = widget_support.start_causerie
causerie = widget_support.causerie
desks = widget_support.desks

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site, host


# -- consent (P9) ---------------------------------------------------------------------------------


def test_p9_consent_is_asked_before_the_first_message_and_recorded_with_its_version(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    harness: ThreadedHarness,
) -> None:
    settings = set_settings(harness, shop, consent_required=True, consent_notice="Version one.")
    assert settings["consent_version"] == 1
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    page, chat = visit(new_context, host.url("/"))
    privacy = opened(chat)

    # The composer is replaced by the notice, a link to the full notice and "Accept".
    expect(privacy.sheet).to_be_visible()
    expect(privacy.form).to_be_hidden()
    expect(privacy.sheet.locator(".notice-text")).to_have_text("Version one.")
    link = privacy.sheet.get_by_role("link", name="Read the privacy notice")
    expect(link).to_have_attribute("href", f"{causerie.url}/privacy/{shop.website_id}?lang=en")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    accept = privacy.sheet.get_by_role("button", name="Accept")
    expect(accept).to_be_focused()

    # The website changes its notice while the visitor reads version one. (Changed first: the
    # server checks messages against a website cached for up to 5 s, see docs/widget.md.)
    settings = set_settings(harness, shop, consent_notice="Version two.")
    assert settings["consent_version"] == 2
    # No message can be sent meanwhile, not even through the SDK, nor a profile saved.
    page.evaluate("""() => {
      $causerie.push(["do", "message:send", "sneaky"]);
      $causerie.push(["set", "user:email", "ada@example.org"]);
    }""")
    page.wait_for_timeout(300)
    expect(chat.items).to_have_count(0)
    assert harness.scalar("SELECT count(*) FROM messages") == 0
    assert harness.scalar("SELECT email FROM sessions") is None

    # Accepting version one is refused as stale; the chatbox shows version two, to accept in turn.
    accept.click()
    expect(privacy.sheet.locator(".notice-text")).to_have_text("Version two.")
    assert harness.scalar("SELECT consent_version FROM sessions") is None
    privacy.sheet.get_by_role("button", name="Accept").click()
    expect(privacy.sheet).to_be_hidden()
    expect(privacy.form).to_be_visible()
    expect(chat.composer).to_be_focused()
    [(version, accepted_at)] = harness.rows("SELECT consent_version, consent_at FROM sessions")
    assert version == 2
    assert accepted_at is not None

    chat.send_and_wait("Now I may write")
    assert harness.rows("SELECT body FROM messages") == [("Now I may write",)]

    # The same visitor on another page: consent is remembered, no gate.
    page.reload()
    chat = Chatbox(page).wait_started()
    privacy = opened(chat)
    expect(privacy.form).to_be_visible()
    expect(privacy.sheet).to_be_hidden()


def test_p9_consent_gate_in_french_with_the_default_sentence(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    harness: ThreadedHarness,
) -> None:
    set_settings(harness, shop, consent_required=True, locale="fr")
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    _, chat = visit(new_context, host.url("/"))
    privacy = opened(chat)
    expect(privacy.sheet.locator(".notice-text")).to_contain_text("Avant d'écrire")
    link = privacy.sheet.get_by_role("link", name="Lire l'information sur la confidentialité")
    expect(link).to_have_attribute("href", f"{causerie.url}/privacy/{shop.website_id}?lang=fr")
    expect(privacy.sheet.get_by_role("button", name="J'accepte")).to_be_visible()
    expect(privacy.toggle).to_have_accessible_name("Options de la discussion")


def test_p9_withdrawing_consent_stops_collection_and_offers_erasure(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    harness: ThreadedHarness,
) -> None:
    set_settings(harness, shop, consent_required=True, consent_notice="We keep chats a year.")
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    page, chat = visit(new_context, host.url("/"))
    privacy = opened(chat)
    privacy.sheet.get_by_role("button", name="Accept").click()
    expect(privacy.form).to_be_visible()
    chat.send_and_wait("Hello")
    assert privacy.item_names() == [*MENU, "Withdraw consent"]

    privacy.choose("Withdraw consent")
    expect(privacy.sheet).to_contain_text("nothing more is collected")
    expect(privacy.form).to_be_hidden()
    assert harness.rows("SELECT consent_version, consent_at FROM sessions") == [(None, None)]
    assert privacy.item_names() == MENU  # nothing left to withdraw

    # Nothing more is collected: neither from the chatbox nor by calling the API directly.
    page.evaluate("() => $causerie.push(['do', 'message:send', 'after withdrawal'])")
    [cookie] = session_cookies(page)
    refused = httpx.post(
        f"{causerie.url}/api/widget/v1/session/messages",
        headers={"Authorization": f"Bearer {cookie['value']}"},
        json={"client_id": "after-withdrawal", "type": "text", "body": "direct"},
        timeout=5,
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "consent_required"
    page.wait_for_timeout(300)
    assert harness.rows("SELECT body FROM messages") == [("Hello",)]

    # Erasure is offered right there.
    privacy.sheet.get_by_role("button", name="Delete this conversation").click()
    expect(privacy.sheet).to_contain_text("IP address")
    privacy.sheet.get_by_role("button", name="Delete for good").click()
    expect(privacy.sheet).to_contain_text("nothing of it is left")
    assert counts(harness) == (0, 0, 0)
    assert session_cookies(page) == []


# -- the privacy notice (P8) -----------------------------------------------------------------------


def test_p8_chatbox_links_to_the_privacy_notice(
    new_context: NewContext,
    host: HostSite,
    start_causerie: StartServer,
    shop: Shop,
) -> None:
    causerie = start_causerie(chat_ip_retention="90d", temporary_session_ttl="20m")
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    for locale, lang, label, title, retention in (
        ("en-US", "en", "Privacy notice", "Privacy of Demo shop's chat", "90 days"),
        ("fr-FR", "fr", "Information sur la confidentialité", "Confidentialité", "90 jours"),
    ):
        page, chat = visit(new_context, host.url("/"), locale=locale)
        privacy = opened(chat)
        privacy.open_menu()
        link = privacy.item(label)
        expect(link).to_have_attribute(
            "href", f"{causerie.url}/privacy/{shop.website_id}?lang={lang}"
        )
        expect(link).to_have_attribute("target", "_blank")
        expect(link).to_have_attribute("rel", "noopener noreferrer")
        with page.context.expect_page() as info:
            link.click()
        notice = info.value
        notice.wait_for_load_state()
        assert notice.url == f"{causerie.url}/privacy/{shop.website_id}?lang={lang}"
        expect(notice.locator("html")).to_have_attribute("lang", lang)
        expect(notice.locator("h1")).to_contain_text(title)
        body = notice.locator("body")
        expect(body).to_contain_text(retention)  # the live chat_ip_retention
        expect(body).to_contain_text("20 minutes")  # the live temporary_session_ttl
        assert notice.evaluate("() => window.opener") is None
        assert notice.evaluate("() => document.referrer") == ""
        expect(privacy.menu).to_be_hidden()
        expect(chat.panel).to_be_visible()
