"""The inbox's privacy records in a real browser (docs/inbox.md "Privacy tools"): the record of
processing activities (P2), the audit log (P4) and the data-processing agreement (P10).
Headless Chromium against a real server; the set-up: tests/inbox_privacy_support.py.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from causerie.domain.personal_data import PERSONAL
from causerie.domain.privacy import DPA_VERSION
from tests import inbox_privacy_support
from tests.browser_support import NewContext
from tests.inbox_privacy_support import (
    HOSTILE,
    Env,
    api_as,
    later,
    on_website,
    screenshot,
    sign_in,
    watch_errors,
)

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site

env = inbox_privacy_support.env  # one server for the module


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
