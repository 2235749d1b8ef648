"""A small synchronous WebSocket client for tests, over the `websockets` library."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from typing import Any

from websockets.sync.client import ClientConnection, connect

from tests.conftest import ORIGIN

STORED = {"message.created", "conversation.updated", "session.updated", "read"}


class Live:
    def __init__(self, url: str, origin: str | None = ORIGIN) -> None:
        self._stack = ExitStack()
        self.conn: ClientConnection = self._stack.enter_context(
            connect(url, origin=origin, compression=None, open_timeout=5)  # type: ignore[arg-type]
        )
        self.seen: list[dict[str, Any]] = []

    def send(self, frame: dict[str, Any] | str) -> None:
        self.conn.send(frame if isinstance(frame, str) else json.dumps(frame))

    def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(self.conn.recv(timeout=timeout))
        self.seen.append(frame)
        return frame

    def expect(self, type_: str, timeout: float = 5.0, **match: Any) -> dict[str, Any]:
        """The next frame of `type_` (matching `match`), skipping others; fails after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {type_} {match} frame; seen {self.seen[-10:]}")
            frame = self.recv(left)
            if frame.get("type") == type_ and all(frame.get(k) == v for k, v in match.items()):
                return frame

    def seen_or_next(self, type_: str, timeout: float = 5.0) -> dict[str, Any]:
        """A frame of `type_` already received, or else the next one (fails after `timeout`)."""
        for frame in self.seen:
            if frame.get("type") == type_:
                return frame
        return self.expect(type_, timeout)

    def until_seq(self, seq: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The frames from now until a stored one carries `seq` (fails after `timeout`)."""
        frames: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while not any(f.get("seq") == seq for f in self.stored(frames)):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no stored frame with seq {seq}; seen {self.seen[-10:]}")
            frames.append(self.recv(left))
        return frames

    def quiet(self, seconds: float = 0.3) -> list[dict[str, Any]]:
        """Every frame that arrives within `seconds`."""
        frames = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                frames.append(self.recv(left))
            except TimeoutError:
                break
        return frames

    def stored(self, frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [f for f in frames if f.get("type") in STORED]

    def close(self) -> None:
        self._stack.close()


def ws_url(http_url: str, path: str) -> str:
    return "ws" + http_url.removeprefix("http") + path


def visitor(
    server_url: str, token: str, after: int | None = None, website_id: str | None = None
) -> tuple[Live, dict[str, Any]]:
    query = f"?website_id={website_id}" if website_id else ""
    live = Live(ws_url(server_url, "/ws/visitor" + query))
    frame: dict[str, Any] = {"type": "auth", "token": token}
    if after is not None:
        frame["after"] = after
    live.send(frame)
    return live, live.expect("ready")


def agent(
    server_url: str, token: str, website_id: str, after: int | None = None, status: str = "online"
) -> tuple[Live, dict[str, Any]]:
    live = Live(ws_url(server_url, "/ws/agent"), origin=None)
    frame: dict[str, Any] = {
        "type": "auth",
        "token": token,
        "website_id": website_id,
        "status": status,
    }
    if after is not None:
        frame["after"] = after
    live.send(frame)
    return live, live.expect("ready")
