"""`causerie demo`: Causerie and a sample shop on a second origin, ready to chat."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from playwright.sync_api import expect

from tests.browser_support import chromium_browser, screenshots_folder
from tests.live import agent
from tests.support import cli_env, free_port


def _wait_healthy(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    with httpx.Client(timeout=2) as http:
        while True:
            try:
                if http.get(f"{url}/api/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "demo did not start"
            time.sleep(0.1)


def test_demo_serves_a_shop_whose_chatbox_talks_to_causerie(tmp_path: Path) -> None:
    port, shop_port = free_port(), free_port()
    causerie, shop = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{shop_port}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "causerie",
            "demo",
            "--port",
            str(port),
            "--shop-port",
            str(shop_port),
        ],
        env=cli_env(tmp_path / "data"),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        printed = [process.stdout.readline() for _ in range(7)]
        assert printed[0].strip() == f"Causerie:  {causerie}"
        assert printed[1].startswith(f"Demo shop: {shop}")
        assert printed[2].startswith(f"Inbox:     {causerie}/app/")
        login = re.fullmatch(r"\s*log in as (\S+) with the password (\S+)\s*", printed[3])
        assert login, printed[3]
        website_id = printed[4].split(":", 1)[1].strip()
        token = printed[6].strip()
        _wait_healthy(causerie, process)
        with httpx.Client(timeout=5) as inbox:
            logged_in = inbox.post(
                f"{causerie}/api/v1/auth/login",
                json={"email": login.group(1), "password": login.group(2)},
            )
            assert logged_in.status_code == 200, logged_in.text
            assert inbox.get(f"{causerie}/api/v1/me").json()["websites"][0]["id"] == website_id
        with httpx.Client(timeout=5) as http:
            page = http.get(f"{shop}/shoes").text
            assert f'window.CAUSERIE_WEBSITE_ID = "{website_id}"' in page
            assert f'<script src="{causerie}/widget.js" async></script>' in page
            opened = http.post(
                f"{causerie}/api/widget/v1/websites/{website_id}/session",
                json={"page": {"url": f"{shop}/shoes"}},
                headers={"Origin": shop},
            )
        assert opened.status_code == 201
        assert opened.headers["access-control-allow-origin"] == shop
        desk, ready = agent(causerie, token, website_id)
        try:
            assert ready["operator"]["name"] == "Demo agent"
        finally:
            desk.close()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()
    assert re.fullmatch(r"[\w-]{43}", token)


@contextmanager
def _running_demo(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`causerie demo` in a subprocess, healthy: (Causerie's address, the shop's)."""
    port, shop_port = free_port(), free_port()
    command = [sys.executable, "-m", "causerie", "demo", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--shop-port", str(shop_port)],
        env=cli_env(tmp_path / "data"),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    causerie = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(causerie, process)
        yield causerie, f"http://127.0.0.1:{shop_port}"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_demo_shop_looks_like_a_shop_and_requests_nothing_from_elsewhere(
    tmp_path: Path,
) -> None:
    with _running_demo(tmp_path) as (causerie, shop), chromium_browser() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
        page = context.new_page()
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{shop}/")

        # A header with the shop's navigation, products with prices, a footer: a believable page.
        expect(page.locator("header.top .logo")).to_have_text("Demo.shop")
        nav = page.get_by_role("navigation", name="Shop")
        expect(nav.get_by_role("link")).to_have_text(["Home", "Shoes", "Delivery & returns"])
        expect(page.locator(".hero h1")).to_be_visible()
        expect(page.locator(".product h3")).to_have_text(
            ["Lune sneaker", "Harbour loafer", "Trail runner"]
        )
        expect(page.locator(".product .price")).to_have_text(["€89", "€120", "€135"])
        expect(page.get_by_role("contentinfo")).to_contain_text("Demo shop")
        # Styled, not the browser's defaults (the style is inline in the page).
        assert page.evaluate("() => getComputedStyle(document.body).backgroundColor") == (
            "rgb(250, 248, 245)"
        )
        assert page.locator(".grid").evaluate("(n) => getComputedStyle(n).display") == "grid"

        # The chatbox is on it, and a product's button opens it through the SDK.
        chat = page.locator("causerie-chatbox")
        expect(chat.locator('[part="launcher"]')).to_be_visible()
        page.locator(".product").first.get_by_role("button", name="Ask us about it").click()
        expect(chat.locator('[part="panel"]')).to_be_visible()
        page.screenshot(path=str(screenshots_folder() / "demo-shop.png"))

        nav.get_by_role("link", name="Shoes").click()
        expect(page.locator(".product")).to_have_count(6)
        expect(nav.get_by_role("link", name="Shoes")).to_have_attribute("aria-current", "page")
        nav.get_by_role("link", name="Delivery & returns").click()
        expect(page.locator("main h2")).to_have_text("Delivery and returns")
        expect(chat.locator('[part="launcher"]')).to_be_visible()

        # Nothing but the shop and Causerie (P1, P16): no font, image or script from elsewhere.
        ours = (shop, causerie, causerie.replace("http", "ws", 1), "data:")
        assert [url for url in requested if not url.startswith(ours)] == []
        assert errors == []
        context.close()


def test_the_demo_keeps_its_own_data_folder_and_ctrl_c_ends_it_quietly(tmp_path: Path) -> None:
    """A newcomer runs the demo, then `causerie serve`: the real install must still be fresh
    (no demo owner, a setup link), so the demo stays out of `./causerie-data`, even when the
    environment names a data folder or a database."""
    port, shop_port = free_port(), free_port()
    env = cli_env(tmp_path / "causerie-data")  # what `serve` uses here
    env["CAUSERIE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'causerie-data' / 'causerie.db'}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "causerie",
            "demo",
            "--port",
            f"{port}",
            "--shop-port",
            f"{shop_port}",
        ],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        printed = [process.stdout.readline() for _ in range(8)]
        _wait_healthy(f"http://127.0.0.1:{port}", process)
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=15)
    folder = (tmp_path / "causerie-demo").resolve()
    assert printed[7].startswith(f"Demo data: {folder} ")
    assert (folder / "causerie.db").is_file()
    assert not (tmp_path / "causerie-data").exists()
    assert process.returncode == 130, err
    assert "Aborted" not in err and "Traceback" not in err
