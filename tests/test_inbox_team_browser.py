"""An agent's day in the inbox, in headless Chromium against a real server, as a team of two
works (docs/inbox.md): what one teammate does reaches the other live, and a connection that
drops loses nothing and sends nothing twice.

One server for the module (tests/inbox_support.py), SQLite.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from causerie.actions.labels import do_create_label
from causerie.domain.models import Actor
from tests import inbox_support
from tests.browser_support import NewContext
from tests.inbox_support import Env, conversation_of, inbox, item, new_visitor, thread_bodies

env = inbox_support.env

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site

NOT_SENT = "Not sent: The server cannot be reached. Check your connection."


def _reply(page: Page, text: str) -> None:
    page.fill("#composer", text)
    page.press("#composer", "Enter")


def test_a_label_made_while_a_teammate_works_shows_on_their_conversations(
    new_context: NewContext, env: Env
) -> None:
    """The labels are read once per page: one an admin made meanwhile was an id the teammate's
    inbox did not know, and no chip showed (nor in the label filter) until they reloaded."""
    visitor = new_visitor(env)
    visitor.say("The parcel came open")
    conversation_id = conversation_of(env, visitor.session_id)
    teammate = inbox(new_context, env, env.agent)
    expect(item(teammate, conversation_id)).to_be_visible()
    label = env.harness.run(
        do_create_label(env.harness.rt, Actor.cli(), env.shop_id, name="Damaged", color="#c2255c")
    )
    admin = inbox(new_context, env, env.owner)
    admin.goto(f"{env.url}/app#/c/{conversation_id}")
    expect(thread_bodies(admin)).to_have_text(["The parcel came open"])
    admin.click("#labels-button")
    admin.get_by_role("dialog").get_by_role("checkbox", name="Damaged").check()
    admin.get_by_role("dialog").get_by_role("button", name="Done").click()

    expect(item(teammate, conversation_id).locator(".label-chip")).to_have_text("Damaged")
    expect(teammate.locator("#label-filter option")).to_have_text(["Any label", "Damaged"])
    teammate.select_option("#label-filter", label.id)
    expect(item(teammate, conversation_id)).to_be_visible()


def test_replies_written_offline_go_once_back_online_and_stay_across_conversations(
    new_context: NewContext, env: Env
) -> None:
    first, second = new_visitor(env), new_visitor(env)
    first.say("Are you open on Sunday?")
    second.say("Do you ship to Norway?")
    first_id = conversation_of(env, first.session_id)
    second_id = conversation_of(env, second.session_id)
    agent = inbox(new_context, env, env.agent)
    agent.goto(f"{env.url}/app#/c/{first_id}")
    expect(thread_bodies(agent)).to_have_text(["Are you open on Sunday?"])

    # The connection drops while the conversation is open: the visitor writes, the agent too.
    agent.context.set_offline(True)
    first.say("Or on Monday?")
    _reply(agent, "We are, from ten.")
    failed = agent.locator(".log article [data-state=failed]")
    expect(failed).to_have_text([NOT_SENT], use_inner_text=True)  # one full stop, not two
    # Back: the reply goes by itself (it stayed "Not sent" until Retry), once; what the visitor
    # wrote meanwhile is read at once: no unread count is left on it, nor counted on the Inbox link.
    agent.context.set_offline(False)
    expect(thread_bodies(agent)).to_have_text(
        ["Are you open on Sunday?", "Or on Monday?", "We are, from ten."]
    )
    expect(failed).to_have_count(0)
    expect(item(agent, first_id)).not_to_have_class(re.compile(r"\bunread\b"))
    expect(agent.locator("#nav-unread")).to_have_text("1")  # the other visitor's only

    # Offline again: a reply fails, the agent moves to another conversation (which cannot load
    # yet) and back. The reply used to be dropped then; it stays, and goes once back online.
    agent.context.set_offline(True)
    _reply(agent, "And on Monday from nine.")
    expect(failed).to_have_count(1)
    item(agent, second_id).click()
    expect(agent.locator(".thread .form-error, .thread-error, [role=alert]").first).to_be_visible()
    item(agent, first_id).click()
    agent.context.set_offline(False)
    expect(thread_bodies(agent)).to_have_text(
        [
            "Are you open on Sunday?",
            "Or on Monday?",
            "We are, from ten.",
            "And on Monday from nine.",
        ]
    )
    expect(failed).to_have_count(0)
    # The visitor got each reply once.
    bodies = [m["body"] for m in first.messages()]
    assert bodies.count("We are, from ten.") == 1 and bodies.count("And on Monday from nine.") == 1


def test_on_a_phone_a_long_name_and_a_long_message_stay_inside_the_screen(
    new_context: NewContext, env: Env
) -> None:
    """The thread's title did not wrap a long word: on a phone the page grew wider than the
    screen (439 px for 390), and the name was cut at its edge."""
    name = "Maximiliana Konstantinopolskaya-Wolfeschlegelsteinhausenbergerdorff"
    visitor = new_visitor(env)
    visitor.profile(nickname=name)
    visitor.say("See " + "https://shop.example/orders/" + "a" * 200 + " please")
    conversation_id = conversation_of(env, visitor.session_id)
    phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
    page = inbox(new_context, env, env.agent, **phone)
    item(page, conversation_id).click()
    expect(page.locator(".thread-title")).to_have_text(name)
    expect(thread_bodies(page)).to_have_count(1)
    widths = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert widths == [390, 390], widths
    title = page.locator(".thread-title").bounding_box()
    assert title is not None and title["x"] + title["width"] <= 390, title


def test_what_a_teammate_reads_is_read_for_the_whole_team_live(
    new_context: NewContext, env: Env
) -> None:
    """The unread count is the conversation's, not each agent's: once one agent read it, the
    other's list, Inbox link and tab title kept counting it until they reloaded."""
    visitor = new_visitor(env)
    visitor.say("Is the shop open today?")
    conversation_id = conversation_of(env, visitor.session_id)
    teammate = inbox(new_context, env, env.agent)
    row = item(teammate, conversation_id)
    expect(row).to_have_attribute("aria-label", re.compile(r", 1 unread$"))
    unread_before = int(teammate.locator("#nav-unread").inner_text())
    reader = inbox(new_context, env, env.owner)
    reader.goto(f"{env.url}/app#/c/{conversation_id}")
    expect(thread_bodies(reader)).to_have_text(["Is the shop open today?"])

    expect(row).not_to_have_attribute("aria-label", re.compile("unread"))
    expect(row).not_to_have_class(re.compile(r"\bunread\b"))
    left = unread_before - 1
    if left:
        expect(teammate.locator("#nav-unread")).to_have_text(str(left))
    else:
        expect(teammate.locator("#nav-unread")).to_be_hidden()


def test_on_a_phone_the_visitors_details_close_by_their_button_or_a_touch_outside(
    new_context: NewContext, env: Env
) -> None:
    """The details open as a drawer over the thread, which covers their own toggle: with no Esc
    key on a phone, nothing closed them."""
    visitor = new_visitor(env)
    visitor.say("Can I change my address?")
    conversation_id = conversation_of(env, visitor.session_id)
    phone = {"viewport": {"width": 375, "height": 667}, "is_mobile": True, "has_touch": True}
    page = inbox(new_context, env, env.agent, **phone)
    item(page, conversation_id).tap()
    expect(thread_bodies(page)).to_have_text(["Can I change my address?"])
    panel, toggle = page.locator("#panel"), page.locator("#panel-toggle")
    toggle.tap()
    expect(panel).to_be_visible()
    page.get_by_role("button", name="Close the visitor's details").tap()
    expect(panel).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
    toggle.tap()
    expect(panel).to_be_visible()
    page.touchscreen.tap(10, 400)  # on the thread, beside the drawer
    expect(panel).to_be_hidden()
    # On a desktop the details are a column of their own: no button to close them.
    desktop = inbox(new_context, env, env.agent)
    desktop.goto(f"{env.url}/app#/c/{conversation_id}")
    expect(desktop.locator("#panel .panel-title")).to_be_visible()
    expect(desktop.locator("#panel-close")).to_be_hidden()


def test_a_conversation_a_teammate_marks_as_spam_leaves_the_open_list_live_and_comes_back(
    new_context: NewContext, env: Env
) -> None:
    """Marking as spam told no other inbox: the conversation stayed in a teammate's Open list,
    "Mark as spam" still showing, until they reloaded."""
    spammer, other = new_visitor(env), new_visitor(env)
    spammer.say("Cheap watches, click here")
    other.say("Is the shop open on Sunday?")
    spam_id = conversation_of(env, spammer.session_id)
    other_id = conversation_of(env, other.session_id)
    teammate = inbox(new_context, env, env.agent)
    teammate.goto(f"{env.url}/app#/c/{spam_id}")
    expect(thread_bodies(teammate)).to_have_text(["Cheap watches, click here"])
    expect(teammate.get_by_role("button", name="Mark as spam")).to_be_visible()
    admin = inbox(new_context, env, env.owner)
    admin.goto(f"{env.url}/app#/c/{spam_id}")
    expect(thread_bodies(admin)).to_have_text(["Cheap watches, click here"])

    admin.get_by_role("button", name="Mark as spam").click()
    expect(item(teammate, spam_id)).to_have_count(0)  # out of the teammate's Open list
    expect(item(teammate, other_id)).to_be_visible()
    expect(teammate.get_by_role("button", name="Not spam")).to_be_visible()
    expect(teammate.get_by_role("button", name="Mark as spam")).to_have_count(0)

    admin.get_by_role("button", name="Not spam").click()
    expect(item(teammate, spam_id)).to_be_visible()  # back, with no reload
    expect(teammate.get_by_role("button", name="Mark as spam")).to_be_visible()
    # A teammate looking at the Spam folder sees it come and go too.
    teammate.locator("[data-filter='spam']").click()
    expect(item(teammate, other_id)).to_have_count(0)
    admin.get_by_role("button", name="Mark as spam").click()
    expect(item(teammate, spam_id)).to_be_visible()
    expect(item(teammate, other_id)).to_have_count(0)
