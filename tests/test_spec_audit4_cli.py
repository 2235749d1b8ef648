"""More of the fourth outside audit (tests/test_spec_audit4.py), from the shell: `causerie serve
--host 0.0.0.0` (as in a container) without `CAUSERIE_PUBLIC_URL` took `http://0.0.0.0:PORT` for
the server's address, an origin no browser sends, so that the inbox logged in and then every
change it asked for was 403 "this request comes from another site", naming neither origin;
`--host ""` was blamed on `CAUSERIE_PUBLIC_URL`; `causerie demo --host 0.0.0.0` embedded the
chatbox on a shop whose origin no browser sends. SQLite only."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support import cli_env, free_port, invoke_cli, run_cli
from tests.test_demo import _wait_healthy
from tests.test_serve import _stop


def _cli(tmp_path: Path, *args: str) -> str:
    """A set-up command, in this process (tests/support.py invoke_cli); `serve` and `demo` run as
    real processes."""
    result = invoke_cli(*args, env=cli_env(tmp_path / "data"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_serve_on_every_address_gives_the_inbox_an_origin_browsers_send(tmp_path: Path) -> None:
    website_id = re.search(
        r"website id: (\S+)",
        _cli(tmp_path, "website", "add", "Shop", "--origin", "https://shop.example"),
    )
    assert website_id
    added = _cli(
        tmp_path,
        "operator",
        "add",
        "owner@shop.example",
        "--website",
        website_id.group(1),
        "--role",
        "owner",
    )
    password = added.strip().split()[-1]
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "causerie", "serve", "--host", "0.0.0.0", "--port", str(port)],
        env=cli_env(tmp_path / "data"),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    base = f"http://127.0.0.1:{port}"
    try:
        note = process.stderr.readline()
        assert note.startswith("causerie: listening on every address: ")
        assert f"use {base};" in note and "set CAUSERIE_PUBLIC_URL" in note
        printed = process.stdout.readline() + process.stdout.readline()
        assert f"Causerie serving on http://0.0.0.0:{port}" in printed
        assert f"Inbox: {base}/app/" in printed
        _wait_healthy(base, process)
        with httpx.Client(base_url=base, timeout=5, headers={"Origin": base}) as inbox:
            logged_in = inbox.post(
                "/api/v1/auth/login", json={"email": "owner@shop.example", "password": password}
            )
            assert logged_in.status_code == 200, logged_in.text
            csrf = {"X-CSRF-Token": logged_in.json()["csrf_token"]}
            made = inbox.post(
                f"/api/v1/websites/{website_id.group(1)}/labels",
                json={"name": "VIP", "color": "#aabbcc"},
                headers=csrf,
            )
            assert made.status_code == 201, made.text
            elsewhere = inbox.post(
                f"/api/v1/websites/{website_id.group(1)}/labels",
                json={"name": "Other", "color": "#aabbcc"},
                headers=csrf | {"Origin": "http://192.0.2.7:8000"},
            )
            assert elsewhere.status_code == 403
            assert elsewhere.json()["error"] == {
                "code": "csrf_failed",
                "message": "this request comes from another site: its Origin "
                f"'http://192.0.2.7:8000' is not this server's ({base}, from CAUSERIE_PUBLIC_URL)",
            }
    finally:
        _stop(process)
        process.stderr.close()


def test_an_empty_host_is_a_usage_error_naming_host(tmp_path: Path) -> None:
    result = run_cli(
        "serve",
        "--host",
        "",
        "--port",
        str(free_port()),
        env=cli_env(tmp_path / "data"),
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    assert "--host" in result.stderr and "CAUSERIE_PUBLIC_URL" not in result.stderr
    assert "Traceback" not in result.stderr


def test_the_demo_on_every_address_embeds_the_chatbox_on_an_origin_browsers_send(
    tmp_path: Path,
) -> None:
    """`causerie demo --host 0.0.0.0` made the shop's origin `http://0.0.0.0:8001`: a browser at
    the shop sends another, and the chatbox was refused."""
    port, shop_port = free_port(), free_port()
    causerie, shop = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{shop_port}"
    ports = ["--port", str(port), "--shop-port", str(shop_port)]
    process = subprocess.Popen(
        [sys.executable, "-m", "causerie", "demo", "--host", "0.0.0.0", *ports],
        env=cli_env(tmp_path / "data"),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    try:
        printed = [process.stdout.readline() for _ in range(5)]
        assert printed[0].strip() == f"Causerie:  {causerie}"
        assert printed[1].startswith(f"Demo shop: {shop} ")
        website_id = printed[4].split(":", 1)[1].strip()
        _wait_healthy(causerie, process)
        opened = httpx.post(
            f"{causerie}/api/widget/v1/websites/{website_id}/session",
            json={"page": {"url": f"{shop}/"}},
            headers={"Origin": shop},
            timeout=5,
        )
        assert opened.status_code == 201, opened.text
    finally:
        _stop(process)
