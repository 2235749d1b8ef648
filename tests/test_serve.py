"""`causerie serve` on a fresh install prints a one-time link that creates the first owner."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support import cli_env, free_port, run_cli
from tests.test_demo import _wait_healthy


def _serve(tmp_path: Path, port: int, lines: int) -> tuple[subprocess.Popen[str], str]:
    """Start `causerie serve`; return it and the first `lines` lines it printed."""
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
    return process, "".join(process.stdout.readline() for _ in range(lines))


def _stop(process: subprocess.Popen[str]) -> str:
    """Stop the server; return what else it printed."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    assert process.stdout is not None
    with process.stdout:
        return process.stdout.read()


def test_a_fresh_install_prints_a_setup_link_that_makes_the_first_owner(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process, text = _serve(tmp_path, port, 4)
    try:
        assert f"Inbox: {base}/app/" in text
        match = re.search(rf"{re.escape(base)}/app/#/setup\?token=(\S+)", text)
        assert match, text
        _wait_healthy(base, process)
        with httpx.Client(base_url=base, timeout=5) as http:
            accepted = http.post(
                "/api/v1/auth/accept",
                json={
                    "token": match.group(1),
                    "name": "First Owner",
                    "password": "a long enough password",
                    "email": "owner@example.org",
                },
            )
            assert accepted.status_code == 200, accepted.text
            assert http.get("/api/v1/me").json()["operator"]["name"] == "First Owner"
    finally:
        _stop(process)
    # Once someone owns the server, a restart prints no link.
    process, text = _serve(tmp_path, port, 2)
    try:
        _wait_healthy(base, process)
    finally:
        rest = _stop(process)
    assert "/app/#/setup" not in text + rest


def test_a_port_in_use_is_one_line_and_exit_2_before_anything_is_printed(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for command in (
            ("serve", "--port", str(port)),
            ("demo", "--port", str(port), "--shop-port", str(free_port())),
            ("demo", "--port", str(free_port()), "--shop-port", str(port)),
        ):
            result = run_cli(*command, env=cli_env(tmp_path / "data"), cwd=tmp_path)
            assert result.returncode == 2, result.stderr
            assert result.stdout == ""
            (line,) = result.stderr.strip().splitlines()
            assert f"cannot listen on 127.0.0.1:{port}" in line and "in use" in line
            assert (
                "--shop-port" if command[-2:] == ("--shop-port", str(port)) else "--port"
            ) in line


def test_ctrl_c_ends_serve_quietly_with_130(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "causerie", "serve", "--port", str(port)],
        env=cli_env(tmp_path / "data"),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", process)
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=15)
    assert process.returncode == 130, err
    assert "Aborted" not in err and "Traceback" not in err


def test_the_root_sends_people_to_the_inbox_at_the_public_url(tmp_path: Path) -> None:
    """Not to the address in the Host header, which whoever sends the request chooses."""
    port = free_port()
    public = "https://chat.example.org"
    process = subprocess.Popen(
        [sys.executable, "-m", "causerie", "serve", "--port", str(port)],
        env=cli_env(tmp_path / "data", CAUSERIE_PUBLIC_URL=public),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", process)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            response = http.get("/", headers={"Host": "evil.example"})
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
    assert response.status_code == 302
    assert response.headers["location"] == f"{public}/app/"


def test_a_second_serve_on_one_data_folder_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """Without Redis the broker lives in the process: a second server on the same folder would
    split the chat (a visitor on one, the agent on the other, neither sees the other's messages)
    and print a second setup link."""
    port = free_port()
    process, _ = _serve(tmp_path, port, 4)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", process)
        lock = tmp_path / "data" / "serve.lock"
        assert lock.stat().st_mode & 0o077 == 0  # the owner's only, as the whole folder
        other = free_port()
        result = run_cli(
            "serve", "--port", str(other), env=cli_env(tmp_path / "data"), cwd=tmp_path
        )
        assert result.returncode == 2, result.stdout + result.stderr
        assert result.stdout == ""
        (line,) = result.stderr.strip().splitlines()
        assert "already serves the data folder" in line and str(tmp_path / "data") in line
        assert "CAUSERIE_DATA_DIR" in line
        with socket.socket() as probe:  # it let the port go
            probe.bind(("127.0.0.1", other))
        # The demo on that folder too, naming its own option.
        ports = ("--port", str(free_port()), "--shop-port", str(free_port()))
        data = ("--data-dir", str(tmp_path / "data"))
        result = run_cli("demo", *ports, *data, env=cli_env(tmp_path / "data"), cwd=tmp_path)
        assert result.returncode == 2, result.stdout + result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert "already serves the data folder" in line and "--data-dir" in line
    finally:
        _stop(process)
    # Once the first has stopped, the folder is free again.
    process, text = _serve(tmp_path, port, 2)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", process)
    finally:
        _stop(process)
    assert "Causerie serving on" in text


def test_website_add_gives_the_snippet_of_the_server_running_on_its_folder(
    tmp_path: Path,
) -> None:
    """`serve --port P` without CAUSERIE_PUBLIC_URL serves at port P: the snippet `website add`
    printed meanwhile pointed at 8000, where nothing answers."""
    port = free_port()
    env = cli_env(tmp_path / "data")
    add = ("website", "add", "Shop", "--origin", "https://shop.example")
    process, _ = _serve(tmp_path, port, 4)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", process)
        result = run_cli(*add, env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert f'src="http://127.0.0.1:{port}/widget.js"' in result.stdout
        # A public URL someone set wins over where the server listens.
        public = {**env, "CAUSERIE_PUBLIC_URL": "https://chat.example.org"}
        result = run_cli(*add, env=public, cwd=tmp_path)
        assert 'src="https://chat.example.org/widget.js"' in result.stdout
    finally:
        _stop(process)
    # No server running: the default public URL, as before.
    result = run_cli(*add, env=env, cwd=tmp_path)
    assert 'src="http://127.0.0.1:8000/widget.js"' in result.stdout, result.stdout


def test_a_data_folder_that_cannot_be_one_is_one_line_saying_what_it_must_be(
    tmp_path: Path,
) -> None:
    """A file where the folder should be, or a folder under a file: one line, exit 2, saying
    what the folder must be (it said 'cannot create X: File exists', naming no remedy)."""
    taken = tmp_path / "a-file"
    taken.write_text("")
    for folder in (taken, taken / "data"):
        result = run_cli("serve", "--port", str(free_port()), env=cli_env(folder), cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert result.stdout == ""
        (line,) = result.stderr.strip().splitlines()
        assert f"CAUSERIE_DATA_DIR: cannot use {folder}" in line
        assert "it must be a folder this account can read and write" in line
