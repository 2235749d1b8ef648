"""The inbox's privacy tools in a real browser (docs/inbox.md "Privacy tools"): a person's data
found, exported and erased by an admin (P9), and an owner's legal export of one conversation
from its panel (P12). Headless Chromium against a real server; the set-up:
tests/inbox_privacy_support.py.
"""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import expect

from tests import inbox_privacy_support
from tests.browser_support import NewContext
from tests.inbox_privacy_support import (
    Env,
    api_as,
    chatting,
    conversation_of,
    later,
    on_website,
    screenshot,
    sign_in,
    watch_errors,
)

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site

env = inbox_privacy_support.env  # one server for the module


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
