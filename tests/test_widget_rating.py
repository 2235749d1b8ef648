"""What the team tells the visitor in the chatbox, in real headless Chromium (docs/widget.md
"Business hours and ratings"): the away notice outside business hours, and the rating asked
once the conversation is resolved, given, shown to the agent, kept across a reload.

Same set-up as tests/test_widget.py (tests/widget_support.py): a host page on another origin than
the Causerie server, SQLite, a real agent socket.
"""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from tests import widget_support
from tests.browser_support import CauserieServer, HostSite, NewContext, host_page
from tests.live import Live
from tests.test_widget_privacy import set_settings
from tests.widget_support import Desk, Shop, visit

database_url = widget_support.database_url
harness = widget_support.harness
shop = widget_support.shop
start_causerie = widget_support.start_causerie
causerie = widget_support.causerie
desks = widget_support.desks

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site, host

# The test clock starts on Thursday 1 January 2026 at 12:00 UTC: outside these hours.
HOURS = {
    "timezone": "Europe/Paris",
    "week": {"mon": [["09:00", "17:00"]]},
    "away_message": "We answer on Mondays.",
}


def test_the_visitor_sees_the_away_notice_then_rates_the_resolved_conversation(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    desks: list[Live],
    harness: widget_support.ThreadedHarness,
) -> None:
    set_settings(harness, shop, business_hours=HOURS)
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    page, chat = visit(new_context, host.url("/"))
    chat.open()
    away = chat.host.locator('[part="away"]')
    expect(away).to_be_visible()
    expect(away).to_contain_text("We're away. Back")
    expect(away).to_contain_text("We answer on Mondays.")

    # An agent comes online: the chatbox is available whatever the schedule says.
    desk = Desk(causerie.url, shop, desks)
    expect(away).to_be_hidden()
    sent = chat.send_and_wait("Can I return shoes?")
    desk.wait_message("Can I return shoes?")
    rating = chat.host.locator('[part="rating"]')
    expect(rating).to_be_hidden()  # open: nothing to rate yet

    resolved = httpx.post(
        f"{causerie.url}/api/v1/conversations/{sent_conversation(harness, sent['id'])}/resolve",
        headers={"Authorization": f"Bearer {shop.agent_token}"},
    )
    assert resolved.status_code == 200, resolved.text
    expect(rating).to_be_visible()
    expect(rating).to_contain_text("How was this conversation?")
    send = rating.locator("button.send-rating")
    # Named apart from the message's Send button beside it (both were "Send").
    expect(chat.panel.get_by_role("button", name="Send", exact=True)).to_have_count(1)
    expect(send).to_have_accessible_name("Send my rating")
    expect(send).to_be_disabled()  # no stars chosen yet
    rating.get_by_role("radio", name="4 out of 5").click()
    expect(rating.get_by_role("radio", name="4 out of 5")).to_have_attribute("aria-checked", "true")
    rating.locator("textarea").fill("Quick and kind")
    send.click()
    thanks = rating.locator(".thanks")
    # The stars are for the eye; screen readers hear the rating in words (and the focus, on the
    # button that was replaced, goes to the one that takes its place).
    expect(thanks.locator('[aria-hidden="true"]')).to_have_text("★★★★")
    expect(thanks).to_have_text("★★★★4 out of 5. Thanks for your rating!")
    assert "4 out of 5. Thanks for your rating!" in chat.panel.aria_snapshot()
    expect(rating.get_by_role("button", name="Change my rating")).to_be_focused()
    rated = desk.live.expect("conversation.rated")
    assert (rated["rating"], rated["comment"]) == (4, "Quick and kind")
    assert harness.scalar("SELECT rating FROM ratings") == 4

    # Rated again: it replaces the first (one rating per resolution).
    rating.get_by_role("button", name="Change my rating").click()
    rating.get_by_role("radio", name="5 out of 5").click()
    rating.locator("button.send-rating").click()
    expect(thanks).to_contain_text("★★★★★5 out of 5. Thanks")
    assert harness.rows("SELECT rating, comment FROM ratings") == [(5, None)]

    # A reload: the chatbox knows it is rated and does not ask again.
    page.reload()
    chat = widget_support.Chatbox(page).wait_started()
    chat.open()
    expect(chat.host.locator('[part="rating"] .thanks')).to_contain_text("5 out of 5. Thanks")


def test_the_rating_is_a_radio_group_the_keyboard_moves_through(
    new_context: NewContext,
    host: HostSite,
    causerie: CauserieServer,
    shop: Shop,
    desks: list[Live],
    harness: widget_support.ThreadedHarness,
) -> None:
    host.pages["/"] = host_page(causerie.url, shop.website_id)
    page, chat = visit(new_context, host.url("/"), locale="fr-FR")
    desk = Desk(causerie.url, shop, desks)
    chat.open()
    sent = chat.send_and_wait("Merci !")
    desk.wait_message("Merci !")
    resolved = httpx.post(
        f"{causerie.url}/api/v1/conversations/{sent_conversation(harness, sent['id'])}/resolve",
        headers={"Authorization": f"Bearer {shop.agent_token}"},
    )
    assert resolved.status_code == 200, resolved.text
    rating = chat.host.locator('[part="rating"]')
    expect(rating).to_contain_text("Comment s'est passée cette conversation ?")
    stars = rating.get_by_role("radio")
    # One Tab stop for the group (the first star while none is chosen), as radio buttons have.
    expect(rating.locator('[role="radio"][tabindex="0"]')).to_have_count(1)
    stars.first.focus()
    page.keyboard.press("ArrowRight")  # 2
    page.keyboard.press("ArrowRight")  # 3
    page.keyboard.press("ArrowRight")  # 4
    # Each choice draws the stars again: the focus follows the chosen one (it used to fall to
    # the top of the page).
    chosen = rating.get_by_role("radio", name="4 sur 5")
    expect(chosen).to_be_focused()
    expect(chosen).to_have_attribute("aria-checked", "true")
    page.keyboard.press("End")
    expect(rating.get_by_role("radio", name="5 sur 5")).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(rating.get_by_role("radio", name="4 sur 5")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.type("Rapide")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # "Envoyer ma note"
    expect(rating.get_by_role("button", name="Modifier ma note")).to_be_focused()
    expect(rating.locator(".thanks")).to_contain_text("4 sur 5. Merci pour votre note !")
    assert harness.rows("SELECT rating, comment FROM ratings") == [(4, "Rapide")]
    page.keyboard.press("Enter")  # change it: the focus goes to the chosen star
    expect(rating.get_by_role("radio", name="4 sur 5")).to_be_focused()


def sent_conversation(harness: widget_support.ThreadedHarness, message_id: str) -> str:
    value: str = harness.scalar("SELECT conversation_id FROM messages WHERE id = :m", m=message_id)
    return value
