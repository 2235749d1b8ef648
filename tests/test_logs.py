"""No raw IP address in the logs (P17): the redaction filter, then a real server's whole output."""

from __future__ import annotations

import contextlib
import io
import logging
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from causerie.logs import RedactIPs, logging_config, redact_ips
from tests.conftest import ORIGIN
from tests.support import cli_env, free_port, invoke_cli, query, wait_until


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("from 203.0.113.77 at noon", "from [ip] at noon"),
        ("client=('127.0.0.1', 51234)", "client=('[ip]', 51234)"),
        ("10.0.0.1:8080 closed", "[ip]:8080 closed"),
        ("203.0.113.77,198.51.100.1", "[ip],[ip]"),
        ("peer 2001:db8::1 gone", "peer [ip] gone"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "[ip]"),
        ("loopback ::1 closed", "loopback [ip] closed"),
        ("closed by 203.0.113.77.", "closed by [ip]."),
        ("closed by 2001:db8::77.", "closed by [ip]."),
        ("mapped ::ffff:203.0.113.77 here", "mapped [ip] here"),
        ("MAPPED ::FFFF:CB00:714D", "MAPPED [ip]"),
        ("http://[2001:db8::1]:8080/path", "http://[[ip]]:8080/path"),
        ("X-Forwarded-For: 203.0.113.77, 10.0.0.1", "X-Forwarded-For: [ip], [ip]"),
        # IPv6 with a port, unbracketed, as uvicorn writes a WebSocket client (issue 12)
        (
            '::1:34242 - "WebSocket /ws/visitor" [accepted]',
            '[ip]:34242 - "WebSocket /ws/visitor" [accepted]',
        ),
        ("2001:db8:0:0:0:0:0:1:8080 left", "[ip]:8080 left"),
        ("::ffff:203.0.113.77:5555 left", "[ip]:5555 left"),
        ("[2001:db8::77]:443", "[[ip]]:443"),
        ("link-local fe80::1%eth0 here", "link-local [ip] here"),
        ("client ('::1', 34242, 0, 0)", "client ('[ip]', 34242, 0, 0)"),
    ],
)
def test_p17_redact_ips_replaces_addresses(text: str, expected: str) -> None:
    assert redact_ips(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-26 06:14:24,123 INFO causerie: started",
        "took 06:14:24.5",
        "uvicorn 0.30.1, Python 3.11.9",
        "version 1.2.3 build 4",
        "sha256 dead:beef",
        "ratio 3:2 at 12:30",
        "999.1.1.1 is not an address",
        "at 2026-11-26 06:14:24.5, 12:30:00 and 1:2",
        '"GET /api/health" 200 0.4ms',
    ],
)
def test_p17_redact_ips_leaves_other_text_alone(text: str) -> None:
    assert redact_ips(text) == text


def _filtered_logger(name: str) -> tuple[logging.Logger, io.StringIO]:
    """A logger writing through a handler configured as `logging_config` configures them."""
    config = logging_config("DEBUG")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(config["formatters"]["plain"]["format"]))
    handler.addFilter(RedactIPs())
    logger = logging.getLogger(name)
    logger.handlers = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return logger, stream


def test_filter_redacts_messages_and_their_arguments() -> None:
    logger, stream = _filtered_logger("tests.logs.args")
    logger.info("peer %s said %r", "203.0.113.77", {"ip": "2001:db8::77"})
    logger.warning("raw 198.51.100.4")
    output = stream.getvalue()
    assert "203.0.113.77" not in output
    assert "2001:db8::77" not in output
    assert "198.51.100.4" not in output
    assert output.count("[ip]") == 3


def test_filter_redacts_exception_text() -> None:
    """A traceback is part of the line written: an address in an exception must not pass."""
    logger, stream = _filtered_logger("tests.logs.exc")
    try:
        raise ConnectionError("connection from 203.0.113.77 reset")
    except ConnectionError:
        logger.exception("request failed")
    output = stream.getvalue()
    assert "request failed" in output
    assert "ConnectionError" in output
    assert "203.0.113.77" not in output


def test_every_configured_handler_is_filtered() -> None:
    config = logging_config("INFO")
    assert config["handlers"]
    for handler in config["handlers"].values():
        assert "redact_ips" in handler["filters"]
    assert config["loggers"]["uvicorn.access"]["handlers"] == []


# -- a real server, its whole output ----------------------------------------------------------


def _wait_until_up(base: str, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"causerie serve exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail("causerie serve did not answer in time")


def test_p17_no_raw_ip_in_server_logs(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = cli_env(data_dir, CAUSERIE_TRUSTED_PROXIES="127.0.0.1", CAUSERIE_LOG_LEVEL="debug")
    # The website in this process (tests/support.py invoke_cli): the logs checked are the server's.
    added = invoke_cli("website", "add", "Shop", "--origin", ORIGIN, env=env, cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    match = re.search(r"website id: (\w+)", added.stdout)
    assert match
    website_id = match.group(1)

    port = free_port()
    stdout_path, stderr_path = tmp_path / "serve.out", tmp_path / "serve.err"
    # `localhost`, not 127.0.0.1: the banner prints the listening address, which is not a
    # client's, and would otherwise be indistinguishable from one in the check below.
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "causerie", "serve", "--host", "localhost", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base, process, time.monotonic() + 30)
        forwarded = {"Origin": ORIGIN, "X-Forwarded-For": "203.0.113.77"}
        with httpx.Client(base_url=base, headers=forwarded, timeout=10) as http:
            opened = http.post(
                f"/api/widget/v1/websites/{website_id}/session",
                json={"page": {"url": "https://shop.example/", "title": "Home", "referrer": ""}},
            )
            assert opened.status_code == 201, opened.text
            bad = http.post(
                f"/api/widget/v1/websites/{website_id}/session",
                content=b"{not json",
                headers={"Content-Type": "application/json"},
            )
            assert 400 <= bad.status_code < 500
            assert http.get("/no/such/page").status_code == 404
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail("causerie serve did not stop on SIGINT")

    database = f"sqlite:///{data_dir / 'causerie.db'}"
    session_id = opened.json()["session"]["id"]
    # The header did reach the application: the session holds the forwarded address.
    assert query(database, "SELECT ip FROM sessions WHERE id = ?", session_id) == [
        ("203.0.113.77",)
    ]

    output = stdout_path.read_text("utf-8") + stderr_path.read_text("utf-8")
    assert "causerie.access" in output
    assert f'"POST /api/widget/v1/websites/{website_id}/session" 201' in output
    assert '"GET /no/such/page" 404' in output
    assert "203.0.113.77" not in output
    assert "127.0.0.1" not in output


def test_p17_no_ipv6_client_in_server_logs(tmp_path: Path) -> None:
    """A server on ::1, an IPv6 client over HTTP and a WebSocket: uvicorn's own lines
    (`uvicorn.error` writes `::1:PORT - "WebSocket /ws/visitor" 403`) are redacted too."""
    import socket

    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    data_dir = tmp_path / "data"
    env = cli_env(data_dir, CAUSERIE_LOG_LEVEL="debug")
    port = free_port()
    err_path = tmp_path / "serve.err"
    with (tmp_path / "serve.out").open("wb") as out, err_path.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "causerie", "serve", "--host", "::1", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
    try:
        base = f"http://[::1]:{port}"
        _wait_until_up(base, process, time.monotonic() + 30)
        assert httpx.get(f"{base}/no/such/page", timeout=10).status_code == 404
        # Refused (no website given) or accepted, uvicorn logs the handshake with the client.
        with (
            contextlib.suppress(InvalidStatus),
            connect(f"ws://[::1]:{port}/ws/visitor", open_timeout=10),
        ):
            pass
        wait_until(
            lambda: "WebSocket /ws/visitor" in err_path.read_text("utf-8"),
            10,
            lambda: err_path.read_text("utf-8"),
        )
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
    # The log lines (stdout only holds the banner, with the address the server listens on).
    logged = err_path.read_text("utf-8")
    assert '"GET /no/such/page" 404' in logged
    assert "[ip]:" in logged and '"WebSocket /ws/visitor"' in logged
    assert "::1" not in logged
