"""A lean HTTP/1.1 client for load generators: one kept-alive connection on raw asyncio streams,
JSON bodies, answers with a Content-Length (uvicorn's). On the same machine as the server, a
general client's own CPU (httpx spends several times the server's parsing per request) competes
with the server and the bench measures the load generator; this one spends little.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit


class _Stale(Exception):
    """The connection was closed before any of the answer came."""


class LeanConnection:
    """Requests one after another on one connection, reopened after an error or a close."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.timeout = timeout
        self._host_header = f"Host: {self.host}:{self.port}\r\n"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(
        self, path: str, body: object, headers: dict[str, str]
    ) -> tuple[int, dict[str, object]]:
        """(status, JSON body); status 0 when the connection failed or timed out."""
        payload = json.dumps(body, separators=(",", ":")).encode()
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        request = (
            f"POST {path} HTTP/1.1\r\n{self._host_header}{head}"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        ).encode("latin-1") + payload
        for attempt in (1, 2):
            reused = self._writer is not None
            try:
                return await asyncio.wait_for(self._exchange(request), self.timeout)
            except _Stale:
                self.close()
                if not reused or attempt == 2:
                    return 0, {}
                # The server closed the idle connection (uvicorn after 5 s): as a browser, again
                # on a new one; nothing of the request was answered.
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                self.close()
                return 0, {}
        return 0, {}

    async def _exchange(self, request: bytes) -> tuple[int, dict[str, object]]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._reader, self._writer
        assert reader is not None
        try:
            writer.write(request)
            status_line = await reader.readline()
        except ConnectionError as exc:
            raise _Stale from exc
        if not status_line:
            raise _Stale
        status = int(status_line.split(b" ", 2)[1])
        length, keep = 0, True
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            lowered = name.strip().lower()
            if lowered == b"content-length":
                length = int(value)
            elif lowered == b"connection" and value.strip().lower() == b"close":
                keep = False
        data = await reader.readexactly(length) if length else b""
        if not keep:
            self.close()
        answer = json.loads(data) if data[:1] == b"{" else {}
        return status, answer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None
