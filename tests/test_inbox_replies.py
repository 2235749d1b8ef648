"""Canned replies, labels and the command palette in the inbox (docs/inbox.md), in headless
Chromium against a real server: one server and one signed-in page (an admin's) for the module,
the tests in order, each working on visitors of its own. Every wait is on a DOM condition.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from causerie.actions.labels import do_create_label
from causerie.actions.websites import do_create_website
from causerie.clock import ManualClock
from causerie.domain.models import Actor, Role
from causerie.plugins import hookimpl
from tests.browser_support import (
    CauserieServer,
    Operator,
    ThreadedHarness,
    add_operator,
    inbox_page,
    log_in,
    open_context,
    screenshots_folder,
    served_settings,
)

pytest_plugins = ["tests.browser_support"]  # browser

ORIGIN = "https://shop.example"
SCREENSHOTS = screenshots_folder()


class Ticket:
    """A plugin's canned-reply variable, `{ticket}`, valued per conversation."""

    @hookimpl
    def causerie_reply_variable_names(self) -> list[str]:
        return ["ticket"]

    @hookimpl
    def causerie_reply_variables(self, conversation: Any) -> dict[str, str]:
        return {"ticket": f"T-{conversation.id[:6]}"}


@dataclass
class Env:
    url: str
    harness: ThreadedHarness
    shop_id: str
    admin: Operator
    http: httpx.Client

    def visitor(self, nickname: str | None, line: str) -> str:
        """A visitor of the shop who gave their name (unless None) and wrote `line`; their
        conversation id."""
        self.harness.clock.advance(timedelta(seconds=5))
        opened = self.http.post(
            f"/api/widget/v1/websites/{self.shop_id}/session",
            json={"page": {"url": f"{ORIGIN}/", "title": "Home", "referrer": ""}},
            headers={"Origin": ORIGIN},
        )
        assert opened.status_code == 201, opened.text
        headers = {"Authorization": f"Bearer {opened.json()['token']}", "Origin": ORIGIN}
        if nickname is not None:
            profile = self.http.patch(
                "/api/widget/v1/session/profile", json={"nickname": nickname}, headers=headers
            )
            assert profile.status_code == 200, profile.text
        sent = self.http.post(
            "/api/widget/v1/session/messages",
            json={"client_id": secrets.token_hex(8), "type": "text", "body": line},
            headers=headers,
        )
        assert sent.status_code == 201, sent.text
        return str(sent.json()["message"]["conversation_id"])


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    folder = tmp_path_factory.mktemp("inbox-replies")
    url, port, settings = served_settings(folder)
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    harness = ThreadedHarness(settings, clock)
    shop = harness.run(do_create_website(harness.rt, Actor.cli(), "Demo shop", [ORIGIN]))
    admin = add_operator(harness, "ada@shop.example", "Ada Lovelace", [(shop.id, Role.ADMIN)])
    harness.run(do_create_label(harness.rt, Actor.cli(), shop.id, name="Billing", color="#aa0011"))
    server = CauserieServer(settings, clock, port=port, plugins=[("ticket", Ticket())])
    with httpx.Client(base_url=url, timeout=10) as http:
        yield Env(url, harness, shop.id, admin, http)
    server.stop()
    harness.close()


@pytest.fixture(scope="module")
def page(browser: Browser, env: Env) -> Iterator[Page]:
    context = open_context(browser)
    log_in(context, env.url, env.admin)
    with inbox_page(context, env.url) as opened:
        yield opened
    context.close()


def screenshot(page: Page, name: str) -> None:
    """docs/screenshots/NAME.png with CAUSERIE_UPDATE_SCREENSHOTS=1 (browser_support.py)."""
    page.evaluate("() => document.getElementById('toasts').replaceChildren()")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def go(page: Page, hash_: str) -> None:
    page.evaluate("(h) => { location.hash = h; }", hash_)


def test_an_admin_manages_canned_replies_and_labels_in_settings(page: Page, env: Env) -> None:
    go(page, "#/settings/replies")
    expect(page.locator("#settings-title")).to_have_text("Canned replies")
    page.fill("#reply-shortcut", "hello")
    page.fill("#reply-title", "Greeting")
    page.fill("#reply-body", "Hi {visitor}!")
    page.click("text=Add the reply")
    expect(page.locator(".settings-form .form-error")).to_contain_text("unknown variable {visitor}")
    page.fill("#reply-body", "Hi {visitor_name}, {agent_name} of {website} here ({ticket}).")
    page.click("text=Add the reply")
    expect(page.locator("#replies-list")).to_contain_text("/hello")
    page.fill("#reply-shortcut", "bye")
    page.fill("#reply-title", "Goodbye")
    page.fill("#reply-body", "Have a nice day!")
    page.click("text=Add the reply")
    expect(page.locator("#replies-list li")).to_have_count(2)

    go(page, "#/settings/labels")
    expect(page.locator("#settings-title")).to_have_text("Labels")
    page.fill("#label-name", "VIP")
    page.click("text=Add the label")
    expect(page.locator("#labels-list")).to_contain_text("VIP")
    expect(page.locator("#labels-list li")).to_have_count(2)  # Billing, VIP
    stored = env.harness.scalar(
        "SELECT count(*) FROM canned_replies WHERE website_id = :w", w=env.shop_id
    )
    assert stored == 2


def test_slash_opens_the_replies_searched_as_you_type_and_inserts_one_expanded(
    page: Page, env: Env
) -> None:
    conversation_id = env.visitor("Zoé", "Hello, where is my parcel?")
    go(page, f"#/c/{conversation_id}")
    composer = page.locator("#composer")
    expect(composer).to_be_visible()
    composer.click()
    composer.press_sequentially("/")
    menu = page.locator("#slash-menu")
    expect(menu).to_be_visible()
    expect(menu.locator("[role=option]")).to_have_count(2)
    expect(composer).to_have_attribute("aria-expanded", "true")
    composer.press_sequentially("he")
    expect(menu.locator("[role=option]")).to_have_count(1)
    expect(menu.locator("[aria-selected=true]")).to_have_attribute("data-shortcut", "hello")
    composer.press("Escape")  # closes the menu, keeps the text and the focus
    expect(menu).to_be_hidden()
    expect(composer).to_be_focused()
    expect(composer).to_have_value("/he")
    composer.fill("")
    composer.press_sequentially("/")
    expect(menu.locator("[role=option]")).to_have_count(2)
    composer.press("ArrowDown")  # bye, hello (by shortcut): down to hello
    expect(menu.locator("[aria-selected=true]")).to_have_attribute("data-shortcut", "hello")
    screenshot(page, "inbox-slash-menu")
    composer.press("Enter")
    expect(menu).to_be_hidden()
    # {ticket} is the plugin's, valued by the server for this conversation.
    expanded = f"Hi Zoé, Ada Lovelace of Demo shop here (T-{conversation_id[:6]})."
    expect(composer).to_have_value(expanded)
    composer.press_sequentially(" Let me look.")
    composer.press("Enter")  # the menu is closed: Enter sends
    expect(page.locator(".log .message.operator .body").last).to_have_text(
        f"{expanded} Let me look."
    )


def test_a_variable_left_without_a_value_is_never_sent_to_the_visitor(page: Page, env: Env) -> None:
    conversation_id = env.visitor(None, "Hello?")  # a visitor who gave no name
    go(page, f"#/c/{conversation_id}")
    composer = page.locator("#composer")
    composer.click()
    composer.press_sequentially("/hello")
    # The menu offers it first (before, Enter would send "/hello" as written).
    chosen = page.locator("#slash-menu [aria-selected=true]")
    expect(chosen).to_have_attribute("data-shortcut", "hello")
    composer.press("Enter")  # inserts the reply: {visitor_name} has no value here
    left = f"Hi {{visitor_name}}, Ada Lovelace of Demo shop here (T-{conversation_id[:6]})."
    expect(composer).to_have_value(left)
    composer.press("Enter")  # it once went out as written
    expect(page.get_by_role("alert")).to_contain_text("Replace {visitor_name} before sending")
    assert composer.evaluate("(el) => el.value.slice(el.selectionStart, el.selectionEnd)") == (
        "{visitor_name}"
    )
    sent = "SELECT count(*) FROM messages WHERE conversation_id = :c AND author = 'operator'"
    assert env.harness.scalar(sent, c=conversation_id) == 0
    composer.press_sequentially("there")  # typed over the selected variable
    expect(page.locator("form.composer .form-error")).to_have_text("")
    composer.press("Enter")
    expect(page.locator(".log .message.operator .body").last).to_have_text(
        f"Hi there, Ada Lovelace of Demo shop here (T-{conversation_id[:6]})."
    )


def test_labels_are_set_from_the_header_by_keyboard_and_filter_the_list(
    page: Page, env: Env
) -> None:
    other = env.visitor("Yann", "Just looking")
    labelled = env.visitor("Xavier", "My invoice is wrong")
    go(page, f"#/c/{labelled}")
    expect(page.locator(".thread-title")).to_have_text("Xavier")
    page.locator(".log").focus()
    page.keyboard.press("l")
    dialog = page.locator("dialog.labels-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#label-filter-input")).to_be_focused()
    page.keyboard.type("bill")
    page.keyboard.press("Enter")  # toggles the first match
    head = page.locator(".thread-head")
    expect(head.locator(".label-chip")).to_have_text(["Billing"])
    screenshot(page, "inbox-labels")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(page.locator(".log")).to_be_focused()  # back where `l` was pressed
    row = page.locator(f"#conv-{labelled}")
    expect(row.locator(".label-chip")).to_have_text(["Billing"])

    billing = env.harness.scalar(
        "SELECT id FROM labels WHERE website_id = :w AND name = 'Billing'", w=env.shop_id
    )
    page.select_option("#label-filter", str(billing))
    expect(page.locator("#conversations [role=option]")).to_have_count(1)
    expect(row).to_be_visible()
    expect(page.locator(f"#conv-{other}")).to_have_count(0)
    page.select_option("#label-filter", "")
    expect(page.locator(f"#conv-{other}")).to_be_visible()


def test_the_command_palette_finds_conversations_replies_labels_and_settings(
    page: Page, env: Env
) -> None:
    target = env.visitor("Wilhelmina", "A question about sizes")
    go(page, "#/")
    expect(page.locator(f"#conv-{target}")).to_be_visible()
    page.locator("#search").focus()
    page.keyboard.press("Control+k")
    palette = page.get_by_role("dialog", name="Command palette")
    expect(palette).to_be_visible()
    field = palette.get_by_role("combobox")
    expect(field).to_be_focused()
    page.keyboard.type("wlhmn")  # letters in order: fuzzy
    first = palette.locator("[role=option][aria-selected=true]")
    expect(first).to_contain_text("Wilhelmina")
    screenshot(page, "inbox-palette")
    page.keyboard.press("Enter")
    expect(palette).to_have_count(0)
    expect(page).to_have_url(f"{env.url}/app#/c/{target}")
    expect(page.locator(".thread-title")).to_have_text("Wilhelmina")

    # A reply from the palette goes into the composer; Esc gives the focus back.
    page.locator("#composer").focus()
    page.keyboard.press("Control+k")
    expect(field).to_be_focused()  # typed before it opens, the letters went elsewhere
    page.keyboard.type("bye")
    expect(first).to_contain_text("/bye")
    page.keyboard.press("Enter")
    expect(page.locator("#composer")).to_have_value("Have a nice day!")
    expect(page.locator("#composer")).to_be_focused()
    page.keyboard.press("Control+k")
    expect(palette).to_be_visible()
    page.keyboard.press("Escape")
    expect(palette).to_have_count(0)
    expect(page.locator("#composer")).to_be_focused()

    page.keyboard.press("Control+k")
    expect(field).to_be_focused()
    page.keyboard.type("Billing")
    expect(first).to_contain_text("Label")
    page.keyboard.press("Enter")
    expect(page.locator("#label-filter")).not_to_have_value("")

    page.keyboard.press("Control+k")
    expect(field).to_be_focused()
    page.keyboard.type("canned")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    expect(first).to_contain_text("Canned replies")
    page.keyboard.press("Enter")
    expect(page.locator("#settings-title")).to_have_text("Canned replies")
