"""A local S3-compatible server for the file store tests: moto's server, started as a process
on a free port of 127.0.0.1, so no request of these tests leaves the machine and the server's
memory is not the test's (the streaming tests measure the test process's). Like S3, it refuses
a multipart upload whose parts but the last are under 5 MiB.

Missing moto skips the tests with a reason, except under CI (`CI` set), where they fail.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.redis_support import unavailable
from tests.support import free_port, wait_until

# The usual AWS variables, as an operator would set them; moto accepts any key.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "causerie-test",
    "AWS_SECRET_ACCESS_KEY": "causerie-test-secret",
    "AWS_REGION": "us-east-1",
}


class MotoServer:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def new_bucket(self) -> str:
        """A bucket of the test's own (moto takes unsigned requests)."""
        name = f"causerie-{secrets.token_hex(6)}"
        httpx.put(f"{self.endpoint}/{name}", timeout=5).raise_for_status()
        return name

    def keys(self, bucket: str) -> list[str]:
        """Every object key in `bucket`."""
        answer = httpx.get(f"{self.endpoint}/{bucket}?list-type=2", timeout=5)
        answer.raise_for_status()
        return re.findall(r"<Key>([^<]*)</Key>", answer.text)

    def unfinished_uploads(self, bucket: str) -> list[str]:
        """The keys of multipart uploads begun and neither completed nor aborted."""
        answer = httpx.get(f"{self.endpoint}/{bucket}?uploads", timeout=5)
        answer.raise_for_status()
        return re.findall(r"<Upload>.*?<Key>([^<]*)</Key>", answer.text, flags=re.S)


@contextmanager
def moto_server() -> Iterator[MotoServer]:
    if shutil.which("moto_server", path=os.path.dirname(sys.executable)) is None:
        unavailable("moto's server is not installed (pip install 'moto[server]')")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def answers() -> bool:
            try:
                httpx.get(f"{endpoint}/moto-api/", timeout=1)
            except httpx.TransportError:
                assert process.poll() is None, f"moto's server stopped on port {port}"
                return False
            return True

        wait_until(answers, 30, lambda: f"moto's server did not start on port {port}")
        yield MotoServer(endpoint)
    finally:
        process.terminate()
        process.wait(timeout=10)
