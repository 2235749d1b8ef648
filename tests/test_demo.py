"""`causerie demo`: Causerie and a sample shop on a second origin, ready to chat."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

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
