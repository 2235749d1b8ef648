"""A newcomer's first hour, in real headless Chromium against `causerie serve` on an empty data
folder (docs/install.md): the setup link makes the owner, the inbox says what to do first, the
first website gets its embed code (which says where it works), the code pasted in a page of
another origin shows the chatbox, the visitor's first message reaches the inbox, a colour too
light for the chatbox's white text is pointed out, and the spent setup link says what to do.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser_support import HostSite, NewContext
from tests.support import cli_env, free_port
from tests.test_demo import _wait_healthy
from tests.widget_support import Chatbox

pytest_plugins = ["tests.browser_support"]  # browser, new_context, host_site, host


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`causerie serve` on an empty data folder: its address and the setup link it printed."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "causerie", "serve", "--port", str(port)],
        env=cli_env(tmp_path / "data"),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    printed = "".join(process.stdout.readline() for _ in range(4))
    base = f"http://127.0.0.1:{port}"
    link = re.search(rf"{re.escape(base)}/app/#/setup\?token=\S+", printed)
    assert link, printed
    try:
        _wait_healthy(base, process)
        yield base, link.group(0)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def test_from_the_setup_link_to_a_first_conversation(
    new_context: NewContext, host: HostSite, fresh_server: tuple[str, str]
) -> None:
    base, setup_link = fresh_server
    owner = new_context().new_page()
    errors: list[str] = []
    owner.on("pageerror", lambda e: errors.append(str(e)))
    owner.goto(setup_link)
    expect(owner.get_by_role("heading", name="Create the first owner")).to_be_visible()
    owner.get_by_label("Your name").fill("Ada Lovelace")
    owner.get_by_label("Email").fill("ada@shop.example")
    owner.get_by_label("Password").fill("short")
    owner.get_by_role("button", name="Create my account").click()
    expect(owner.get_by_role("alert")).to_have_text("Choose a password of 10 to 200 characters.")
    owner.get_by_label("Password").fill("a long enough password")
    owner.get_by_role("button", name="Create my account").click()

    # The new owner has no website: the inbox says what one is for, not "ask an admin" first.
    expect(owner.get_by_role("heading", name="No website yet")).to_be_visible()
    expect(owner.get_by_role("main")).to_contain_text(
        "Create your first website to get the code that puts the chatbox on its pages."
    )
    owner.get_by_role("link", name="Create a website").click()
    owner.get_by_label("Name").fill("My shop")
    # Pasted with a path, as a newcomer copies an address: its origin is kept.
    owner.get_by_label("Origin").fill(host.url("/shop/index.html"))
    owner.get_by_role("button", name="Create the website").click()

    # The embed code says where it works, and that this address is this computer's only.
    expect(owner.get_by_role("heading", name="Embed code")).to_be_visible()
    expect(owner.locator("#embed-origins")).to_contain_text(
        f"The chatbox shows only on pages of the website's allowed origins: {host.origin}."
    )
    expect(owner.locator("#embed-local")).to_contain_text(
        f"This code names {base}, an address only this computer reaches"
    )
    expect(owner.locator("#embed-local")).to_contain_text("CAUSERIE_PUBLIC_URL")
    code = owner.locator("[data-copy=snippet]").input_value()
    assert f'src="{base}/widget.js"' in code, code

    # Pasted before </body> of a page of that origin: the chatbox is there, and works.
    host.pages["/shop/index.html"] = (
        "<!doctype html><html><head><meta charset=utf-8><title>My shop</title></head>"
        f"<body><h1>My shop</h1>\n{code}\n</body></html>"
    )
    visitor = new_context().new_page()
    visitor.goto(host.url("/shop/index.html"))
    chat = Chatbox(visitor).wait_started()
    chat.open()
    chat.send_and_wait("Hello, is this thing on?")

    owner.get_by_role("link", name="Inbox").click()
    expect(owner.locator("#main")).to_contain_text("Hello, is this thing on?")

    # The website's colour: white is written on it, so a light one is said to read badly.
    owner.get_by_role("link", name="Settings").click()
    contrast = owner.locator("#s-color-contrast")
    expect(contrast).to_have_text("")  # the default blue reads well
    owner.get_by_label("Colour").fill("#ffd43b")
    expect(contrast).to_contain_text("White text is hard to read on this colour (contrast 1.4:1")
    owner.get_by_label("Colour").fill("#1864ab")
    expect(contrast).to_have_text("")
    assert errors == []

    # The setup link once more: said why it is spent, and what to use instead (it said "Ask for
    # a new one", and a fresh install has no one to ask).
    again = new_context().new_page()
    again.goto(setup_link)
    spent = again.get_by_role("alert")
    expect(spent).to_contain_text("This setup link cannot be used any more")
    expect(spent).to_contain_text("Use the newest link `causerie serve` printed")
