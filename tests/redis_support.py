"""Redis for the contract tests: the shared server, and private servers a test may kill.

The shared server (`CAUSERIE_TEST_REDIS`, default 127.0.0.1:6379) is never stopped; tests keep
apart on it by using uuid channel and website names. A test that must stop Redis starts its own
`redis-server` on a free port, keeping nothing on disk. Either one missing skips the test with a
reason, except under CI (`CI` set), where it fails: CI has them all.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis

from tests.support import free_port

REDIS_URL = os.environ.get("CAUSERIE_TEST_REDIS", "redis://127.0.0.1:6379/0")
REDIS_SERVER = "redis-server"


def unavailable(reason: str) -> None:
    """Skip the test, or fail it under CI."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must provide it")
    pytest.skip(reason)


def shared_redis_url() -> str:
    """The shared server's URL, once it answers PING."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        unavailable(f"Redis unreachable at {REDIS_URL}: {exc}")
    finally:
        client.close()
    return REDIS_URL


def own_database(index: int) -> str:
    """The shared server's database `index`, emptied first, for a test that reads what every
    other test would write there too (the shield's overview ranks every network it holds, and
    other tests flood with many): no other test of the suite uses that index."""
    own = urlunsplit(urlsplit(shared_redis_url())._replace(path=f"/{index}"))
    client = redis.Redis.from_url(own, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.flushdb()
    finally:
        client.close()
    return own


def unique(prefix: str) -> str:
    return f"{prefix}:{uuid.uuid4().hex}"


class PrivateRedis:
    """A `redis-server` of this test's own, on a fixed free port, that it may stop and restart."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._directory = directory
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self._process is None, "already running"
        self._process = subprocess.Popen(
            [
                REDIS_SERVER,
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self._directory)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while not self._answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop(signal.SIGKILL)
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.01)

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        if self._process is None:
            return
        process, self._process = self._process, None
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)  # a paused server would not act on SIGTERM
            process.send_signal(sig)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def pause(self) -> None:
        """Freeze the server: connections stay open and nothing answers."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def private_redis(tmp_path: Path) -> PrivateRedis:
    """A started private server; the caller stops it (the fixtures do, in their teardown)."""
    if shutil.which(REDIS_SERVER) is None:
        unavailable(f"{REDIS_SERVER} is not installed")
    server = PrivateRedis(tmp_path)
    server.start()
    return server
