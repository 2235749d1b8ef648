"""The relay's floor: the least that any relay keeping Causerie's WebSocket contract can do.

A bare Starlette app on the same uvicorn WebSocket options as the echo and as Causerie, speaking
just enough of the protocol for the relay bench's clients (`auth` -> `ready`, `message.send`):

- each `message.send` is parsed and checked (a client_id and a body, both strings),
- stored durably: one row in one SQLite table (WAL, synchronous=FULL) with a single unique index
  on (conversation, client_id) for idempotency; concurrent messages share one commit (group commit,
  the fsync in a worker thread, the loop serving sockets meanwhile),
- and only then answered with the frames SPEC.md asks for: `message.ack` to the sender, then
  `message.created` with its `seq` on the sender's own stream and on every agent socket.

No sessions, events, conversations, replay, presence, rate limits or checks of any kind beyond
that: what it costs is what the frames and one durable row cost on this stack. Its share of the
echo's rate is the most a relay with this contract can reach here (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY, conversation_id TEXT NOT NULL, "
    "client_id TEXT NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL, "
    "UNIQUE (conversation_id, client_id))"
)
_INSERT = (
    "INSERT INTO messages (conversation_id, client_id, body, created_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT DO NOTHING"
)

Pending = tuple[WebSocket, "_Stream", str, str, str]  # socket, its stream, conversation, id, body


class _Stream:
    __slots__ = ("seq",)

    def __init__(self) -> None:
        self.seq = 0

    def next(self) -> int:
        self.seq += 1
        return self.seq


class FloorRelay:
    """The state of one floor server: its database, its agent sockets, its write queue."""

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            path = Path(tempfile.mkdtemp(prefix="relay-floor-")) / "floor.db"
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"):
            self._db.execute(pragma)
        self._db.execute(_SCHEMA)
        self._agents: list[tuple[WebSocket, _Stream]] = []
        self._pending: list[Pending] = []
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None

    async def visitor(self, websocket: WebSocket) -> None:
        await websocket.accept()
        stream = _Stream()
        conversation = str(id(websocket))
        try:
            await websocket.receive_text()  # auth: any token
            await websocket.send_text('{"type":"ready"}')
            self._start()
            while True:
                frame = json.loads(await websocket.receive_text())
                client_id, body = frame.get("client_id"), frame.get("body")
                if not isinstance(client_id, str) or not isinstance(body, str):
                    await websocket.send_text('{"type":"error","code":"invalid_frame"}')
                    continue
                self._pending.append((websocket, stream, conversation, client_id, body))
                self._wake.set()
        except WebSocketDisconnect:
            pass

    async def agent(self, websocket: WebSocket) -> None:
        await websocket.accept()
        entry = (websocket, _Stream())
        try:
            await websocket.receive_text()
            await websocket.send_text('{"type":"ready"}')
            self._agents.append(entry)
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            if entry in self._agents:
                self._agents.remove(entry)

    def _start(self) -> None:
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write_forever())

    async def _write_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if not batch:
                continue
            now = datetime.now(UTC)
            stamp = now.isoformat().replace("+00:00", "Z")
            self._db.execute("BEGIN")
            self._db.executemany(_INSERT, [(c, cid, body, stamp) for _, _, c, cid, body in batch])
            await asyncio.to_thread(self._db.execute, "COMMIT")  # durable: then answer
            for websocket, stream, conversation, client_id, body in batch:
                message = {
                    "id": client_id,
                    "conversation_id": conversation,
                    "author": "visitor",
                    "type": "text",
                    "body": body,
                    "client_id": client_id,
                    "created_at": stamp,
                }
                ack = {"type": "message.ack", "client_id": client_id, "message": message}
                await _send(websocket, ack)
                created = {"type": "message.created", "seq": stream.next(), "message": message}
                await _send(websocket, created)
                for agent, agent_stream in list(self._agents):
                    await _send(agent, {**created, "seq": agent_stream.next()})


async def _send(websocket: WebSocket, frame: dict[str, Any]) -> None:
    # A socket that went away misses its frame; the others do not wait for it.
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        await websocket.send_text(json.dumps(frame, separators=(",", ":")))
