"""The inbox's Settings > Webhooks (docs/inbox.md) in a real browser against a real server: an
owner adds a webhook (its secret shown once), a visitor's message is delivered to a real receiver
on loopback, the delivery log shows it, and Redeliver sends it again under the same id; an agent
is told that only owners and admins manage webhooks. Every wait is on a DOM or a receiver
condition, never on time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from causerie.actions.websites import do_create_website
from causerie.clock import ManualClock
from causerie.domain.models import Actor, Role
from tests.browser_support import (
    CauserieServer,
    HostSite,
    NewContext,
    Operator,
    ThreadedHarness,
    add_operator,
    log_in,
    served_settings,
)
from tests.support import wait_until
from tests.webhook_receiver import Receiver

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site

PAGE = {"url": "https://shop.example/", "title": "Shop", "referrer": ""}


class Env:
    def __init__(
        self, url: str, website_id: str, owner: Operator, agent: Operator, origin: str
    ) -> None:
        self.url, self.website_id, self.owner, self.agent = url, website_id, owner, agent
        self.origin = origin


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, host_site: HostSite) -> Iterator[Env]:
    folder = tmp_path_factory.mktemp("inbox-webhooks")
    url, port, settings = served_settings(folder, webhook_allow_private="true")
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    harness = ThreadedHarness(settings, clock)
    shop = harness.run(do_create_website(harness.rt, Actor.cli(), "Shop", [host_site.origin]))
    owner = add_operator(harness, "ada@shop.example", "Ada", [(shop.id, Role.OWNER)])
    agent = add_operator(harness, "camille@shop.example", "Camille", [(shop.id, Role.AGENT)])
    server = CauserieServer(settings, clock, port=port)
    yield Env(url, shop.id, owner, agent, host_site.origin)
    server.stop()
    harness.close()


def sign_in(new_context: NewContext, env: Env, who: Operator, hash_: str) -> Page:
    context: BrowserContext = new_context()
    log_in(context, env.url, who)
    page = context.new_page()
    page.goto(f"{env.url}/app{hash_}")
    return page


def test_an_owner_adds_a_webhook_reads_its_log_and_redelivers(
    new_context: NewContext, env: Env, receiver: Receiver
) -> None:
    page = sign_in(new_context, env, env.owner, "#/settings/webhooks")
    expect(page.get_by_text("No webhook yet.")).to_be_visible()
    page.fill("#webhook-url", receiver.url)
    page.get_by_label("conversation.created").check()
    page.get_by_role("button", name="Add the webhook").click()
    secret = page.locator('[data-copy="webhook-secret"]')
    expect(secret).to_be_visible()
    assert secret.input_value().startswith("whsec_")
    hook = page.locator("li.webhook")
    expect(hook).to_have_count(1)
    expect(hook).to_contain_text("message.created, conversation.created · Enabled")

    with httpx.Client(base_url=env.url, timeout=10) as http:
        opened = http.post(
            f"/api/widget/v1/websites/{env.website_id}/session",
            json={"page": PAGE},
            headers={"Origin": env.origin},
        ).json()
        sent = http.post(
            "/api/widget/v1/session/messages",
            json={"client_id": "v1", "type": "text", "body": "Hello from the chatbox"},
            headers={"Authorization": f"Bearer {opened['token']}", "Origin": env.origin},
        )
        assert sent.status_code == 201, sent.text
    wait_until(lambda: len(receiver.requests) == 2, 10, lambda: f"{receiver.requests}")

    hook.get_by_role("button", name="Deliveries").click()
    rows = hook.locator("tr[data-delivery]")
    expect(rows).to_have_count(2)
    message_row = rows.filter(has_text="message.created")
    expect(message_row).to_contain_text("delivered")
    expect(message_row).to_contain_text("200")
    delivery_id = message_row.get_attribute("data-delivery")
    message_row.get_by_role("button", name="Redeliver").click()
    wait_until(lambda: len(receiver.requests) == 3, 10, lambda: f"{receiver.requests}")
    assert receiver.requests[-1][0]["webhook-id"] == delivery_id
    hook.get_by_role("button", name="Deliveries").click()
    again = hook.locator("tr[data-delivery]").filter(has_text="message.created")
    expect(again).to_contain_text("delivered")
    expect(again.locator("td").nth(3)).to_have_text("2")  # attempts, the redelivery counted


def test_an_agent_is_told_that_webhooks_are_for_admins(new_context: NewContext, env: Env) -> None:
    page = sign_in(new_context, env, env.agent, "#/settings/webhooks")
    expect(page.get_by_text("Only owners and admins manage webhooks.")).to_be_visible()
