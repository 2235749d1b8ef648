"""The inbox's reports page (docs/inbox.md "Reports"), in headless Chromium against a real
server: charts as inline SVG each with its data table, the period picker, the CSV export. One
server and one signed-in page (an admin's) for the module; every wait is on a DOM condition."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, FloatRect, Locator, Page, expect

from causerie.actions.inbox import do_set_state
from causerie.actions.labels import do_create_label, do_set_labels
from causerie.actions.messages import do_send_operator_message, do_send_visitor_message
from causerie.actions.reports import do_flush_counts
from causerie.actions.sessions import do_open_session
from causerie.actions.websites import do_create_website
from causerie.clock import ManualClock
from causerie.domain.models import Actor, ConversationState, PageView, Role
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


def _seed(harness: ThreadedHarness, website_id: str, admin: Operator, days: int) -> int:
    """Visitors over the last `days` days, most answered and resolved, those labelled
    "Billing"; how many."""
    rt, clock = harness.rt, harness.clock
    agent = Actor("operator", admin.id)
    billing = harness.run(do_create_label(rt, agent, website_id, name="Billing", color="#aa3300"))
    count = 0
    for day in range(days):
        visitors = 1 + (day * 7) % 3
        for n in range(visitors):
            clock.advance(timedelta(hours=3))
            opened = harness.run(
                do_open_session(
                    rt,
                    website_id=website_id,
                    token=None,
                    page=PageView(url=f"{ORIGIN}/"),
                    ip="203.0.113.5",
                    origin=ORIGIN,
                )
            )
            sent = harness.run(
                do_send_visitor_message(
                    rt, token=opened.token, origin=ORIGIN, client_id=f"v{day}-{n}", body="Hello"
                )
            )
            count += 1
            if (day + n) % 3:
                clock.advance(timedelta(seconds=20 + 40 * n))
                conversation = sent.message.conversation_id
                harness.run(
                    do_send_operator_message(
                        rt, agent, client_id=f"o{day}-{n}", body="Hi!", conversation_id=conversation
                    )
                )
                clock.advance(timedelta(minutes=5))
                harness.run(do_set_labels(rt, agent, conversation, [billing.id]))
                harness.run(do_set_state(rt, agent, conversation, ConversationState.RESOLVED))
        clock.advance(
            timedelta(days=1) - timedelta(hours=sum(3 + n for n in range(1 + (day * 7) % 4)))
        )
    harness.run(do_flush_counts(rt))
    return count


@pytest.fixture(scope="module")
def env(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, ThreadedHarness, str, Operator, int]]:
    folder = tmp_path_factory.mktemp("inbox-reports")
    url, port, settings = served_settings(folder)
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    clock = ManualClock(start - timedelta(days=10))
    harness = ThreadedHarness(settings, clock)
    shop = harness.run(do_create_website(harness.rt, Actor.cli(), "Demo shop", [ORIGIN]))
    admin = add_operator(harness, "ada@shop.example", "Ada Lovelace", [(shop.id, Role.ADMIN)])
    count = _seed(harness, shop.id, admin, 10)
    server = CauserieServer(settings, clock, port=port)
    yield url, harness, shop.id, admin, count
    server.stop()
    harness.close()


@pytest.fixture(scope="module")
def page(browser: Browser, env: tuple[str, ThreadedHarness, str, Operator, int]) -> Iterator[Page]:
    url, _, _, admin, _ = env
    context = open_context(browser, viewport={"width": 1280, "height": 1100}, accept_downloads=True)
    log_in(context, url, admin)
    with inbox_page(context, url) as opened:
        yield opened
    context.close()


def _box(locator: Locator) -> FloatRect:
    box = locator.bounding_box()
    assert box is not None
    return box


def _middle(locator: Locator) -> float:
    """The vertical middle of what `locator` shows on the page."""
    box = _box(locator)
    return box["y"] + box["height"] / 2


def test_reports_page_charts_with_tables_period_and_csv(
    page: Page, env: tuple[str, ThreadedHarness, str, Operator, int]
) -> None:
    count = env[4]
    page.locator("#nav-reports").click()
    expect(page.locator("#reports-title")).to_contain_text("Reports")
    cards = page.locator(".report-card")
    expect(cards.first).to_contain_text(f"Conversations{count}")
    charts = page.locator("figure.report-chart")
    expect(charts).to_have_count(3)
    for at in range(3):  # every chart: an SVG hidden from screen readers, and its data table
        chart = charts.nth(at)
        expect(chart.locator("svg[aria-hidden=true] rect").first).to_be_attached()
        expect(chart.locator("details table")).to_be_attached()
    days_table = charts.nth(0).locator("tbody tr")
    expect(days_table).to_have_count(30)
    expect(page.locator(".report-agents tbody tr")).to_contain_text("Ada Lovelace")
    # Laid out: the breakdown's menu beside its label, the results spaced (both once touched:
    # the menu alone on a row of its own, the figures stuck to the cards above them).
    label, menu = page.locator("label[for=report-by]"), page.locator("#report-by")
    assert abs(_middle(label) - _middle(menu)) < 8
    cards_box, times_box = _box(cards.first), _box(page.locator(".report-times"))
    assert times_box["y"] >= cards_box["y"] + cards_box["height"] + 8
    page.evaluate("() => document.getElementById('toasts')?.replaceChildren()")
    page.screenshot(path=str(SCREENSHOTS / "inbox-reports.png"), full_page=True)

    page.get_by_role("button", name="7 days").click()
    expect(days_table).to_have_count(7)
    page.fill("#report-tz", "Nowhere/Atlantis")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".report-results [role=alert]")).to_contain_text("IANA time zone")
    page.fill("#report-tz", "Europe/Paris")
    page.get_by_role("button", name="Show").click()
    expect(days_table).to_have_count(7)

    with page.expect_download() as downloading:
        page.locator("#report-csv").click()
    csv = downloading.value
    assert csv.suggested_filename.startswith("report-")
    lines = csv.path().read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("date,chatbox_loads,")
    assert len(lines) == 8

    page.select_option("#report-by", "label")  # the figures of each label, by its name
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".report-labels tbody tr")).to_have_count(1)
    expect(page.locator(".report-labels tbody tr")).to_contain_text("Billing")
    with page.expect_download() as downloading:
        page.locator("#report-csv").click()
    lines = downloading.value.path().read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("label_id,chatbox_loads,") and len(lines) == 2
