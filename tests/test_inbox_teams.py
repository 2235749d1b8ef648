"""Teams, transfers, business hours and ratings in the inbox, in real headless Chromium
(docs/inbox.md "Teams", "Business hours", "Ratings"): the settings pages an owner uses, the
Transfer control of the header and its event line, and a visitor's rating arriving live.

Uses tests/test_inbox.py's module server (SQLite) and helpers.
"""

from __future__ import annotations

import json

from playwright.sync_api import expect

from tests import test_inbox
from tests.browser_support import NewContext
from tests.test_inbox import (
    Env,
    choose_website,
    conversation_of,
    inbox,
    new_visitor,
    thread_bodies,
)

env = test_inbox.env

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site


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
