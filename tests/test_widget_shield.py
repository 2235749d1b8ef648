"""The chatbox under the shield's challenge (P16, P18): a load answered 429 with a proof of work
fetches challenge.js, solves it in the browser (SHA-256 of the server's nonce, no third party)
and loads again with its proof; the visitor never sees it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Route

from causerie.actions.websites import do_create_website
from causerie.clock import ManualClock
from causerie.domain.models import Actor
from causerie.settings import Settings
from tests.browser_support import CauserieServer, HostSite, NewContext, ThreadedHarness, host_page

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site, host


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
    settings = make_settings(
        trusted_proxies="127.0.0.1", shield_challenge_rate="1/m", shield_challenge_bits="10"
    )
    server = CauserieServer(settings, clock)
    yield server
    server.stop()


def test_p18_a_challenged_chatbox_solves_the_proof_of_work_and_opens_its_session(
    new_context: NewContext, host: HostSite, causerie: CauserieServer, harness: ThreadedHarness
) -> None:
    website = harness.run(do_create_website(harness.rt, Actor.cli(), "Shop", [host.origin]))
    host.pages["/"] = host_page(causerie.url, website.id)
    statuses: list[int] = []
    fetched: list[str] = []

    def visit() -> None:
        """A new visitor (no cookie) of one office network, through the trusted proxy."""
        context = new_context()
        page = context.new_page()

        def proxied(route: Route) -> None:
            headers = {**route.request.headers, "x-forwarded-for": "198.51.100.7"}
            route.continue_(headers=headers)

        page.route("**/api/widget/v1/**", proxied)
        page.on("response", lambda r: statuses.append(r.status) if "/session" in r.url else None)
        page.on("request", lambda r: fetched.append(r.url))
        page.goto(host.url("/"))
        # Playwright handles the routes while it waits: wait in the page, not with sleeps.
        page.wait_for_function("() => !!window.$causerie?.get?.('session:id')", timeout=20_000)
        context.close()

    def sessions() -> int:
        return int(harness.scalar("SELECT count(*) FROM sessions"))

    visit()  # within the challenge rate's burst: no challenge
    assert sessions() == 1
    assert not any(url.endswith("/challenge.js") for url in fetched)
    visit()  # over it: challenged, solved, loaded again
    assert sessions() == 2
    assert 429 in statuses and statuses.count(201) == 2
    assert any(url.endswith("/challenge.js") for url in fetched)
    assert all(url.startswith((causerie.url, host.origin)) for url in fetched), fetched  # P16
