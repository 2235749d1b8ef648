"""A WebSocket frame's parse, websockets' own against Causerie's (`causerie/ws_protocol.py`),
for callgrind: `python -m bench.frame_parse websockets|causerie CHUNKS` feeds one server-side
protocol CHUNKS chunks of 20 masked `message.send` text frames (`BODY` characters of message
body, default 80) and takes their events. Run with 0 chunks too and subtract (docs/performance.md,
"Frames over the limit dropped, not fatal")."""

from __future__ import annotations

import os
import struct
import sys

from websockets.server import ServerProtocol

from causerie.server import UTF8_MAX_BYTES
from causerie.ws_protocol import LimitedServerProtocol

REQUEST = (
    b"GET /ws/visitor HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
KEY = b"\x01\x02\x03\x04"
FRAMES_PER_CHUNK = 20
LIMIT = UTF8_MAX_BYTES * 64 * 1024  # the default CAUSERIE_MAX_BODY's


def masked_text(payload: bytes) -> bytes:
    n = len(payload)
    head = (
        struct.pack("!BB", 0x81, 0x80 | n) if n < 126 else struct.pack("!BBH", 0x81, 0x80 | 126, n)
    )
    return head + KEY + bytes(b ^ KEY[i % 4] for i, b in enumerate(payload))


def main() -> None:
    which, chunks = sys.argv[1], int(sys.argv[2])
    body = b"x" * int(os.environ.get("BODY", "80"))
    frame = masked_text(b'{"type":"message.send","client_id":"c-000001","body":"' + body + b'"}')
    conn = (
        ServerProtocol(max_size=LIMIT)
        if which == "websockets"
        else LimitedServerProtocol(limit=LIMIT)
    )
    conn.receive_data(REQUEST)
    conn.send_response(conn.accept(conn.events_received()[0]))  # type: ignore[arg-type]
    chunk = frame * FRAMES_PER_CHUNK
    for _ in range(chunks):
        conn.receive_data(chunk)
        if len(conn.events_received()) != FRAMES_PER_CHUNK:
            raise RuntimeError("a frame was not parsed")


if __name__ == "__main__":
    main()
