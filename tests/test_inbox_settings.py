"""The inbox's settings in a real browser (headless Chromium) against a real server: a website,
its operators, API tokens, invitations, the password, and teams, transfers, business hours
and ratings (docs/inbox.md).

One server for the module (tests/inbox_support.py), SQLite.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import httpx
from playwright.sync_api import expect

from causerie.actions.members import do_invite
from causerie.actions.websites import do_create_website
from causerie.domain.models import Actor, Role
from tests import inbox_support
from tests.browser_support import (
    NewContext,
    add_operator,
)
from tests.inbox_support import (
    SCREENSHOTS,
    Env,
    choose_website,
    conversation_of,
    inbox,
    new_visitor,
    thread_bodies,
)
from tests.support import wait_until

# tests/inbox_support.py's fixtures, for this module's tests
env = inbox_support.env

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site


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
    # Its field is labelled for what it asks (it once read "Email: {email}").
    expect(page.get_by_label("Their email", exact=True)).to_have_id("invite-email")
    expect(page.get_by_role("main")).not_to_contain_text("{")
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
    # Off, the schedule cannot be filled in (Save said "saved" and dropped what was typed).
    expect(page.locator("#hours-enabled")).not_to_be_checked()
    expect(page.locator("#hours-mon")).to_be_disabled()
    page.check("#hours-enabled")
    expect(page.locator("#hours-mon")).to_be_enabled()
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


def _website_of_ada(env: Env, name: str) -> str:
    """A website of its own (its teams and hours touch no other test), Ada its owner."""
    website = env.harness.run(
        do_create_website(env.harness.rt, Actor.cli(), name, [env.host.origin])
    )
    add_operator(env.harness, env.owner.email, env.owner.name, [(website.id, Role.OWNER)])
    return website.id


def test_business_hours_that_cannot_be_saved_are_said_in_the_inbox_language(
    new_context: NewContext, env: Env
) -> None:
    website_id = _website_of_ada(env, "Hours")
    page = inbox(new_context, env, env.owner)
    choose_website(page, website_id)
    page.goto(f"{env.url}/app/#/settings/hours")
    page.check("#hours-enabled")
    page.fill("#hours-timezone", "Europe/Paris")
    error = page.locator("form[aria-label='Business hours'] .form-error")
    save = page.get_by_role("button", name="Save")
    # Each mistake is named in a sentence, with its day; the field is focused; nothing saved.
    for typed, said in (
        ("9 till 5", "Monday: “9 till 5” is not a period."),
        ("09:00-25:00", "Monday: “25:00” is not a time."),
        ("17:00-09:00", "Monday: the period from 17:00 to 09:00 does not end after it starts."),
        ("09:00-13:00, 12:00-17:00", "Monday: 09:00-13:00 and 12:00-17:00 overlap."),
    ):
        page.fill("#hours-mon", typed)
        save.click()
        expect(error).to_contain_text(said)
        expect(page.locator("#hours-mon")).to_be_focused()
        assert "settings.business_hours" not in error.inner_text()
    page.fill("#hours-mon", "")
    page.fill("#hours-timezone", "Mars/Olympus")
    save.click()
    expect(error).to_have_text(
        "“Mars/Olympus” is not a time zone we know. Write its IANA name, such as Europe/Paris"
        " or America/New_York."
    )
    stored = env.harness.scalar("SELECT settings FROM websites WHERE id = :w", w=website_id)
    assert json.loads(stored).get("business_hours") is None
    # What only the API refuses (more than 100 holidays) is said in words too, by its field.
    page.fill("#hours-timezone", "Europe/Paris")
    many = [f"2030-{m:02d}-{d:02d}" for m in range(1, 5) for d in range(1, 27)]  # 104
    page.fill("#hours-holidays", "\n".join(many))
    save.click()
    expect(error).to_have_text(
        "The holidays could not be saved: at most 100 dates, one per line, such as 2026-12-25."
    )
    # Times written loosely are read as the API wants them.
    page.fill("#hours-holidays", "2030-12-25")
    page.fill("#hours-mon", "9-12h, 13h30 - 17")
    save.click()
    expect(page.locator(".toast")).to_have_text("Business hours saved.")
    expect(page.locator("#hours-mon")).to_have_value("09:00-12:00, 13:30-17:00")

    # In French, in French.
    french = inbox(new_context, env, env.owner, locale="fr-FR")
    choose_website(french, website_id)
    french.goto(f"{env.url}/app/#/settings/hours")
    french.fill("#hours-tue", "18:00-08:00")
    french.get_by_role("button", name="Enregistrer").click()
    expect(french.locator("form .form-error")).to_have_text(
        "Mardi : la plage de 18:00 à 08:00 ne finit pas après son début. Écrivez d'abord le"
        " début, comme 09:00-17:00."
    )


def test_a_round_robin_team_without_members_is_warned_about_and_what_waits_is_said(
    new_context: NewContext, env: Env
) -> None:
    website_id = _website_of_ada(env, "Front")
    page = inbox(new_context, env, env.owner)
    choose_website(page, website_id)
    page.goto(f"{env.url}/app/#/settings/teams")
    page.fill("#team-name", "Front desk")
    page.select_option("#team-mode", "round_robin")
    page.get_by_role("button", name="Create team").click()
    row = page.locator("tr[data-team]", has_text="Front desk")
    expect(row).to_contain_text("Receives new conversations")
    expect(row).to_contain_text("No members")
    team = row.get_attribute("data-team")
    warning = page.get_by_role("note")
    expect(warning).to_have_text(
        "Front desk receives every new conversation but has no members, so nobody is given"
        " them: they wait unassigned, in the inbox's Unassigned list where any agent can take"
        " one, until members are added to the team; its members online are then given them in"
        " turn."
    )
    # As it says: a visitor's conversation joins the team, unassigned, while Ada is online.
    visitor = new_visitor(env, website_id)
    visitor.say("Hello?")
    conversation = conversation_of(env, visitor.session_id)
    page.goto(f"{env.url}/app/#/")
    page.locator("[data-filter='unassigned']").click()
    expect(page.locator(f"#conv-{conversation}")).to_have_count(1)
    team_id, assignee = env.harness.rows(
        "SELECT team_id, assignee_id FROM conversations WHERE id = :c", c=conversation
    )[0]
    assert team_id == team and assignee is None

    # A second team with a member: no warning for it; in French, the first's warning.
    env.harness.clock.advance(timedelta(seconds=1))  # the older team stays the first
    page.goto(f"{env.url}/app/#/settings/teams")
    page.fill("#team-name", "Night shift")
    page.get_by_label("Ada Lovelace").check()
    page.get_by_role("button", name="Create team").click()
    expect(page.locator("tr[data-team]", has_text="Night shift")).to_contain_text("Ada Lovelace")
    expect(page.get_by_role("note")).to_have_count(1)
    french = inbox(new_context, env, env.owner, locale="fr-FR")
    choose_website(french, website_id)
    french.goto(f"{env.url}/app/#/settings/teams")
    expect(french.get_by_role("note")).to_contain_text(
        "Front desk reçoit chaque nouvelle conversation mais n'a aucun membre"
    )
    french.context.close()

    # Members are added from the page (a dialog; Escape first closes it with the focus back):
    # the warning goes, and the waiting conversation is given to Ada, online.
    members = page.get_by_role("button", name="Change the members of Front desk")
    members.click()
    dialog = page.get_by_role("dialog", name="Members of Front desk")
    expect(dialog.get_by_label("Ada Lovelace")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(members).to_be_focused()
    members.click()
    dialog.get_by_label("Ada Lovelace").check()
    dialog.get_by_role("button", name="Save").click()
    expect(page.locator(".toast")).to_have_text("Members of Front desk saved.")
    expect(page.locator(f"tr[data-team='{team}']")).to_contain_text("Ada Lovelace")
    expect(page.get_by_role("note")).to_have_count(0)
    expect(page.get_by_role("button", name="Change the members of Front desk")).to_be_focused()
    wait_until(
        lambda: env.harness.scalar(
            "SELECT assignee_id FROM conversations WHERE id = :c", c=conversation
        ) is not None,
        10,
        lambda: "the waiting conversation was not assigned",
    )  # fmt: skip
