"""A page on an origin its website does not allow: no chatbox, and the console says why."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from causerie.actions.websites import do_create_website
from causerie.clock import ManualClock
from causerie.domain.models import Actor
from causerie.settings import Settings
from tests.browser_support import (
    CauserieServer,
    HostSite,
    NewContext,
    ThreadedHarness,
    host_page,
)

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site, host

WAIT_MS = 10_000


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'causerie.db'}"


@pytest.fixture
def harness(settings: Settings, clock: ManualClock) -> Iterator[ThreadedHarness]:
    h = ThreadedHarness(settings, clock)
    yield h
    h.close()


@pytest.fixture
def causerie(
    make_settings: Callable[..., Settings], clock: ManualClock, harness: ThreadedHarness
) -> Iterator[CauserieServer]:
    server = CauserieServer(make_settings(), clock)
    yield server
    server.stop()


def test_a_page_on_an_origin_the_website_does_not_allow_says_so_in_the_console(
    new_context: NewContext, host: HostSite, causerie: CauserieServer, harness: ThreadedHarness
) -> None:
    website = harness.run(
        do_create_website(harness.rt, Actor.cli(), "Shop", ["https://www.shop.example"])
    )
    host.pages["/"] = host_page(causerie.url, website.id)
    page = new_context().new_page()
    with page.expect_console_message(
        lambda message: message.text.startswith("Causerie: no chatbox"), timeout=WAIT_MS
    ) as said:
        page.goto(host.url("/"))
    warning = said.value
    assert warning.type == "warning"
    assert host.origin in warning.text and website.id in warning.text
    assert "Allowed origins" in warning.text
    assert page.locator("causerie-chatbox").count() == 0
