"""A small synchronous WebSocket client for tests, over the `websockets` library."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from websockets.sync.client import ClientConnection, connect

from tests.conftest import ORIGIN

STORED = {"message.created", "conversation.updated", "session.updated", "read"}
PATIENCE = 10.0  # seconds: how long a wait may take before it fails (a bound, never a window)


class Live:
    def __init__(
        self, url: str, origin: str | None = ORIGIN, headers: dict[str, str] | None = None
    ) -> None:
        self._stack = ExitStack()
        self.conn: ClientConnection = self._stack.enter_context(
            connect(
                url,
                origin=origin,  # type: ignore[arg-type]
                additional_headers=headers,
                compression=None,
                open_timeout=5,
            )
        )
        self.seen: list[dict[str, Any]] = []

    def send(self, frame: dict[str, Any] | str) -> None:
        self.conn.send(frame if isinstance(frame, str) else json.dumps(frame))

    def recv(self, timeout: float = PATIENCE) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(self.conn.recv(timeout=timeout))
        self.seen.append(frame)
        return frame

    def until(
        self, done: Callable[[list[dict[str, Any]]], bool], what: str, timeout: float = PATIENCE
    ) -> list[dict[str, Any]]:
        """The frames from now until `done(those frames)` holds (none if it holds at once).

        Fails naming `what` after `timeout`: a bound on failure only, never a window to wait out.
        """
        frames: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while not done(frames):
            try:
                frames.append(self.recv(max(deadline - time.monotonic(), 0)))
            except TimeoutError:
                raise AssertionError(f"no {what} in {timeout} s; seen {self.seen[-10:]}") from None
        return frames

    def expect(self, type_: str, timeout: float = PATIENCE, **match: Any) -> dict[str, Any]:
        """The next frame of `type_` (matching `match`), skipping others; fails after `timeout`."""
        return self.until(
            lambda frames: bool(frames) and _matches(frames[-1], type_, match),
            f"{type_} {match} frame",
            timeout,
        )[-1]

    def seen_or_next(self, type_: str, timeout: float = PATIENCE, **match: Any) -> dict[str, Any]:
        """A frame of `type_` (matching `match`) already received, or else the next one (fails
        after `timeout`)."""
        for frame in self.seen:
            if _matches(frame, type_, match):
                return frame
        return self.expect(type_, timeout, **match)

    def until_seq(self, seq: int, timeout: float = PATIENCE) -> list[dict[str, Any]]:
        """The frames from now until this socket has received the stored frame `seq` (none if it
        already has). Stored frames come in seq order, so all those before it have come too."""
        if any(_is_stored(f, seq) for f in self.seen):
            return []
        return self.until(
            lambda frames: bool(frames) and _is_stored(frames[-1], seq),
            f"stored frame with seq {seq}",
            timeout,
        )

    def barrier(self, timeout: float = PATIENCE) -> list[dict[str, Any]]:
        """Ping, and the frames up to the pong.

        Every frame leaves a socket through one queue, so the pong comes after every frame the
        server had handed to this socket when it read the ping: a frame not seen by then was not
        on its way. Events still between a commit and the socket (the hub's outbox, Redis) are
        not covered: for those, wait for a later event of the same stream instead.
        """
        self.send({"type": "ping"})
        return self.until(
            lambda frames: bool(frames) and frames[-1]["type"] == "pong", "pong", timeout
        )

    def stored(self, frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [f for f in frames if f.get("type") in STORED]

    def close(self) -> None:
        self._stack.close()


def _matches(frame: dict[str, Any], type_: str, match: dict[str, Any]) -> bool:
    return frame.get("type") == type_ and all(frame.get(k) == v for k, v in match.items())


def _is_stored(frame: dict[str, Any], seq: int) -> bool:
    """Ephemeral frames carry the stream's position as their seq too: only a stored one is it."""
    return frame.get("type") in STORED and frame.get("seq") == seq


def ws_url(http_url: str, path: str) -> str:
    return "ws" + http_url.removeprefix("http") + path


def visitor(
    server_url: str,
    token: str,
    after: int | None = None,
    website_id: str | None = None,
    origin: str = ORIGIN,
) -> tuple[Live, dict[str, Any]]:
    query = f"?website_id={website_id}" if website_id else ""
    live = Live(ws_url(server_url, "/ws/visitor" + query), origin)
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
