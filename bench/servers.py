"""Starting and stopping the servers under test, and setting up a Causerie installation.

Each server is a `python -m bench.serve` subprocess on a loopback port, pinned to core 0 with
`taskset` (the load generator gets core 1). Only the processes started here are ever stopped.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from bench.databases import Databases

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parent.parent
ORIGIN = "https://shop.example"
USER_AGENT = "causerie-bench"
PAGE = {"url": "https://shop.example/products/42", "title": "A product"}
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0

SERVER_CORE = "0"
LOAD_CORE = "1"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def has_children(pid: int) -> bool:
    """Whether the process `pid` has a child process running (any of its threads started it)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            if (task / "children").read_text().strip():
                return True
        except OSError:  # the thread ended meanwhile
            continue
    return False


def can_pin() -> bool:
    return shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2


def pinned(core: str, command: list[str]) -> list[str]:
    """`command` run on one core, when the machine has two and taskset is there."""
    return ["taskset", "-c", core, *command] if can_pin() else command


def session_path(website_id: str) -> str:
    return f"/api/widget/v1/websites/{website_id}/session"


@dataclass(frozen=True)
class Installation:
    """A Causerie data folder and database, with one website allowing ORIGIN."""

    data_dir: Path
    database_url: str
    website_id: str

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "CAUSERIE_DATA_DIR": str(self.data_dir),
            "CAUSERIE_DATABASE_URL": self.database_url,
            "CAUSERIE_ACCESS_LOG": "false",
            # The load comes from one address: the limit is still counted, never reached.
            "CAUSERIE_NEW_SESSION_RATE": "100000000/m",
            **extra,
        }


def install_causerie(workdir: Path, name: str, databases: Databases) -> Installation:
    """Create a data folder and database, and a website with the CLI, as an administrator would."""
    data_dir = workdir / name
    data_dir.mkdir(parents=True)
    env = {
        **os.environ,
        "CAUSERIE_DATA_DIR": str(data_dir),
        "CAUSERIE_DATABASE_URL": databases.new(data_dir),
    }
    done = subprocess.run(
        [sys.executable, "-m", "causerie", "website", "add", "Bench shop", "--origin", ORIGIN],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    match = re.search(r"website id: (\S+)", done.stdout)
    if match is None:
        raise RuntimeError(f"causerie website add printed no id:\n{done.stdout}{done.stderr}")
    return Installation(data_dir, env["CAUSERIE_DATABASE_URL"], match.group(1))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def request(
    port: int,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    timeout: float = 10.0,
) -> tuple[int, dict[str, Any]]:
    """One HTTP request to the loopback server; the status and the JSON answer."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Origin": ORIGIN, "User-Agent": USER_AGENT, "Content-Type": "application/json"}
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else {}
    finally:
        conn.close()


class Server:
    """A `bench.serve` subprocess: `with Server(...) as server:` starts it and waits until it
    answers, and stops it (SIGINT, then SIGKILL after STOP_TIMEOUT) on the way out."""

    def __init__(
        self,
        kind: str,
        log: Path,
        env: dict[str, str] | None = None,
        hooks: bool = False,
        core: str = SERVER_CORE,
    ) -> None:
        self.kind = kind
        self.core = core
        self.log = log
        self.env = env or {}
        self.hooks = hooks
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._started = 0.0  # time.monotonic() when it was started

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def __enter__(self) -> Server:
        command = [sys.executable, "-m", "bench.serve", self.kind, "--port", str(self.port)]
        if self.hooks:
            command.append("--hooks")
        with self.log.open("ab") as log:
            # taskset execs the command, so the pid is the server's own.
            self._process = subprocess.Popen(
                pinned(self.core, command),
                cwd=REPO,
                env={**os.environ, **self.env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        self._started = time.monotonic()
        self._wait_ready()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.kind} server exited at start; see {self.log}")
            try:
                status, _ = request(self.port, "GET", "/api/health", timeout=1.0)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.kind} server did not answer within {START_TIMEOUT}s")

    def settle(self, after: float, idle: float = 0.05, timeout: float = 60.0) -> None:
        """Until the server, at least `after` seconds past its start, used less than `idle` of
        its core over half a second and has no child process: what it does once in the
        background after it starts (Causerie compresses its static files, most of a second of
        CPU, from `COMPRESS_DELAY` seconds on, in a child process) is over before a load is
        measured. At most `timeout` seconds."""
        started = time.monotonic()
        while time.monotonic() - self._started < after and time.monotonic() - started < timeout:
            time.sleep(0.1)
        while time.monotonic() - started < timeout:
            cpu = cpu_seconds(self.pid)
            time.sleep(0.5)
            if cpu_seconds(self.pid) - cpu < idle * 0.5 and not has_children(self.pid):
                return

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(signal.SIGINT)
        try:
            self._process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(STOP_TIMEOUT)

    def open_session(self, website_id: str, token: str | None = None) -> dict[str, Any]:
        """One chatbox load, as the widget makes it; the answer (holding the token)."""
        body: dict[str, Any] = {"page": PAGE}
        if token is not None:
            body["token"] = token
        status, answer = request(self.port, "POST", session_path(website_id), body)
        if status not in (200, 201):
            raise RuntimeError(f"chatbox load answered {status}: {answer}")
        return answer
