"""Frames too large for the socket: an `error` frame and the socket kept, whatever the size
(SPEC.md "WebSocket"; docs/realtime.md "Errors and limits"), and never held whole by the server."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator

import httpx
import pytest
from websockets.frames import Frame, Opcode

from causerie.server import UTF8_MAX_BYTES
from causerie.ws_protocol import DROP_CHUNK, Dropped, LimitedServerProtocol
from tests.conftest import Harness, ServerThread, Site
from tests.live import Live, visitor
from tests.test_session_endpoint import open_session

MIB = 1024 * 1024


@pytest.fixture
def chat(server: ServerThread, http: httpx.Client, site: Site) -> Iterator[Live]:
    token = open_session(http, site.website_id).json()["token"]
    live, _ = visitor(server.url, token)
    yield live
    live.close()


def _body(size: int) -> str:
    return '{"type": "message.send", "client_id": "big", "body": "' + "y" * size + '"}'


def _still_works(chat: Live, client_id: str) -> None:
    chat.send({"type": "ping"})
    chat.expect("pong")
    chat.send({"type": "message.send", "client_id": client_id, "body": "still here"})
    assert chat.expect("message.ack", client_id=client_id)["message"]["body"] == "still here"


@pytest.mark.parametrize("size", [2 * MIB, 5 * MIB], ids=["2MiB", "5MiB"])
def test_a_frame_over_a_mebibyte_gets_frame_too_large_and_the_socket_stays_open(
    chat: Live, harness: Harness, size: int
) -> None:
    chat.send(_body(size))
    error = chat.expect("error")
    assert error["code"] == "frame_too_large"
    assert "65536 characters" in error["message"]
    _still_works(chat, "after")
    assert harness.scalar("SELECT count(*) FROM messages") == 1


def test_a_message_in_fragments_over_the_limit_is_dropped_whole_and_the_next_one_is_read(
    chat: Live, harness: Harness
) -> None:
    """Fragments within the limit first, then one over it, then more of the same message: the
    whole message is refused once, and the frames after it are read as usual."""
    head, tail = _body(0)[:-2], '"}'
    chat.conn.send(iter([head, "y" * 100_000, "y" * 300_000, "y" * 2 * MIB, tail]))
    assert chat.expect("error")["code"] == "frame_too_large"
    chat.conn.send(iter([head, "y" * 1000, "y" * 1000, tail]))
    assert chat.expect("message.ack", client_id="big")["message"]["body"] == "y" * 2000
    _still_works(chat, "after")
    assert harness.scalar("SELECT count(*) FROM messages") == 2


def _masked(opcode: Opcode, payload: bytes, fin: bool = True) -> bytes:
    """A client's frame on the wire (RFC 6455 5.2), masked as clients must."""
    first = (0x80 if fin else 0) | opcode.value
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", first, 0x80 | n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", first, 0x80 | 126, n)
    else:
        header = struct.pack("!BBQ", first, 0x80 | 127, n)
    key = os.urandom(4)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload[:256])) + payload[256:]
    return header + key + masked


def test_a_dropped_frame_is_never_held_whole_by_the_protocol() -> None:
    """The protocol layer itself: a 3 MiB frame fed in 64 KiB pieces never buffers more than a
    drop chunk and a piece; the frames before and after it are parsed as websockets does."""
    limit = UTF8_MAX_BYTES * 64 * 1024
    conn = LimitedServerProtocol(limit=limit)
    request = (
        b"GET /ws/visitor HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    conn.receive_data(request)
    conn.send_response(conn.accept(conn.events_received()[0]))
    piece = 64 * 1024
    wire = (
        _masked(Opcode.TEXT, b"before")
        + _masked(Opcode.TEXT, b"z" * 3 * MIB)
        + _masked(Opcode.PING, b"p")
        + _masked(Opcode.TEXT, b"after")
    )
    events = []
    largest = 0
    for start in range(0, len(wire), piece):
        conn.receive_data(wire[start : start + piece])
        largest = max(largest, len(conn.reader.buffer))
        events += conn.events_received()
    assert largest <= DROP_CHUNK + piece
    assert conn.parser_exc is None
    kinds = [(type(e).__name__, e.opcode, bytes(e.data)) for e in events]
    assert kinds == [
        ("Frame", Opcode.TEXT, b"before"),
        ("Dropped", Opcode.TEXT, b""),
        ("Frame", Opcode.PING, b"p"),
        ("Frame", Opcode.TEXT, b"after"),
    ]
    dropped = events[1]
    assert isinstance(dropped, Dropped) and dropped.size == 3 * MIB
    assert not isinstance(events[0], Dropped) and isinstance(events[0], Frame)


def test_a_message_crossing_the_limit_in_fragments_is_dropped_around_a_ping() -> None:
    """Fragments: the one that takes the message over the limit and those after it are read
    past (a ping between them answered as usual), then the next message is parsed."""
    conn = LimitedServerProtocol(limit=UTF8_MAX_BYTES * 64 * 1024)  # 256 KiB
    request = (
        b"GET /ws/visitor HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    conn.receive_data(request)
    conn.send_response(conn.accept(conn.events_received()[0]))
    conn.data_to_send()
    conn.receive_data(
        _masked(Opcode.TEXT, b"a" * 100_000, fin=False)
        + _masked(Opcode.CONT, b"b" * 200_000, fin=False)
        + _masked(Opcode.PING, b"p")
        + _masked(Opcode.CONT, b"c" * 10)
        + _masked(Opcode.TEXT, b"after")
    )
    events = conn.events_received()
    assert [(type(e).__name__, e.opcode, len(e.data), e.fin) for e in events] == [
        ("Frame", Opcode.TEXT, 100_000, False),
        ("Dropped", Opcode.TEXT, 0, True),
        ("Frame", Opcode.PING, 1, True),
        ("Frame", Opcode.TEXT, 5, True),
    ]
    dropped = events[1]
    assert isinstance(dropped, Dropped) and dropped.size == 300_000
    assert conn.parser_exc is None and conn.data_to_send()  # the pong
    # An unmasked frame is a protocol error, dropped or not: closed with 1002.
    conn.receive_data(b"\x81\x7f" + (10 * MIB).to_bytes(8, "big"))
    assert conn.parser_exc is not None and conn.close_sent is not None
    assert conn.close_sent.code == 1002
