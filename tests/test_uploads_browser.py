"""The upload queue (client/uploads.js) in Chromium: one upload stalled (a server that never
answers, a network that stops) fails after `STALL_MS` with Retry, and the ones after it go."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.browser_support import TIMEOUT_MS
from tests.test_files_browser import (  # noqa: F401 (env: the files' server, a fixture)
    Env,
    env,
    file_messages,
    png,
)

pytest_plugins = ["tests.browser_support"]  # browser, host_site

STALL_MS = 30_000  # client/uploads.js
STALLED, NEXT = "stalled.png", "next.png"


def _stall_ms_of_the_client() -> int:
    source = (Path(__file__).parents[1] / "src/causerie/client/uploads.js").read_text()
    found = re.search(r"export const STALL_MS = ([\d_]+);", source)
    assert found is not None
    return int(found.group(1).replace("_", ""))


@pytest.fixture
def chat(browser: Browser, env: Env) -> Iterator[Page]:  # noqa: F811
    """A chatbox of its own, on a fake clock that the test moves forward."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.clock.install()
    page.goto(env.host.url("/"))
    page.wait_for_function("() => !!window.$causerie?.get?.('session:id')")
    page.locator("causerie-chatbox").locator('[part="launcher"]').click()
    expect(page.locator("causerie-chatbox").locator('[part="attach"]')).to_be_visible()
    yield page
    context.close()


def test_a_stalled_upload_fails_with_retry_and_the_next_one_goes(
    chat: Page,
    env: Env,  # noqa: F811
) -> None:
    assert _stall_ms_of_the_client() == STALL_MS
    root = chat.locator("causerie-chatbox")
    url = "**/api/widget/v1/session/files"
    held: list[Route] = []

    def stall_the_first(route: Route) -> None:
        body = route.request.post_data_buffer or b""
        if f'filename="{STALLED}"'.encode() in body and not held:
            held.append(route)  # never answered: the server is silent, the network stalled
        else:
            route.continue_()

    before = len(file_messages(env.harness))
    chat.route(url, stall_the_first)
    try:
        root.locator('input[type="file"]').set_input_files(
            [
                {"name": n, "mimeType": "image/png", "buffer": png(20 + i, 20)}
                for i, n in enumerate((STALLED, NEXT))
            ]
        )
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while not held:  # Playwright hands routes over while the page is asked something
            assert time.monotonic() < deadline, "the first upload never came"
            chat.evaluate("0")
        expect(root.locator('.upload[data-state="sending"]')).to_have_count(1)
        expect(root.locator('.upload[data-state="waiting"]')).to_have_count(1)

        # Well before the stall limit, it still waits: a slow answer is not cut.
        chat.clock.fast_forward(STALL_MS - 5_000)
        chat.evaluate("0")
        expect(root.locator('.upload[data-state="sending"]')).to_have_count(1)
        assert len(held) == 1 and len(file_messages(env.harness)) == before

        # Past it: the stalled one fails with Retry, and the next one is sent and shown.
        chat.clock.fast_forward(10_000)
        failed = root.locator('.upload[data-state="failed"]')
        expect(failed).to_have_count(1)
        expect(failed).to_contain_text(STALLED)
        expect(failed.get_by_role("button", name="Retry")).to_be_visible()
        expect(root.locator('.preview[aria-label="Open the image next.png"]')).to_have_count(1)
        assert [body for _, body in file_messages(env.harness)][before:] == [NEXT]

        failed.get_by_role("button", name="Retry").click()
        expect(root.locator('.preview[aria-label="Open the image stalled.png"]')).to_have_count(1)
        expect(root.locator(".upload")).to_have_count(0)
    finally:
        chat.unroute(url)
    assert [body for _, body in file_messages(env.harness)][before:] == [NEXT, STALLED]
