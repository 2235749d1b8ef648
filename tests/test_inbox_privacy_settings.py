"""The website's privacy settings in the inbox, in a real browser (docs/inbox.md "Privacy
tools"): consent asked by the chatbox (P9), a shorter retention (P6), and deleting a website.
Headless Chromium against a real server; the set-up: tests/inbox_privacy_support.py.
"""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from causerie.actions.websites import do_create_website
from causerie.domain.models import Actor, Role
from tests import inbox_privacy_support
from tests.browser_support import (
    NewContext,
    add_operator,
)
from tests.inbox_privacy_support import (
    Env,
    Visitor,
    later,
    new_visitor,
    on_website,
    open_session,
    save_website_settings,
    screenshot,
    sign_in,
    stored_settings,
    watch_errors,
)

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site

env = inbox_privacy_support.env  # one server for the module


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
