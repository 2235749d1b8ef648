"""uvicorn's WebSocket protocol (`websockets-sansio`), except for messages over the size limit.

websockets fails a connection with close 1009 as soon as a frame announces more than its
`max_size`; SPEC.md wants a too-large frame answered with an `error` frame and the socket kept.
Here a data message over the limit (`ws_max_size`) is read past instead: its payload is dropped
as it arrives, a chunk at a time (never held whole), and the application receives one
`websocket.receive` carrying `DROPPED_KEY` (the size announced) in its place. Memory stays
bounded by the limit whatever a client sends; a client trickling an endless frame is closed by
the idle sweeper, as one that sends nothing. Messages within the limit go through websockets
and uvicorn untouched.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import PayloadTooBig, ProtocolError
from websockets.frames import CloseCode, Frame, Opcode
from websockets.protocol import Protocol
from websockets.server import ServerProtocol

from causerie.web.dropped import DROPPED_KEY

# A dropped payload is read and forgotten this many bytes at a time.
DROP_CHUNK = 64 * 1024

_DATA = (Opcode.TEXT.value, Opcode.BINARY.value)


@dataclasses.dataclass
class Dropped(Frame):
    """Stands, among websockets' events, for a data message dropped for its size."""

    size: int = 0


class _LimitedFrames(Protocol):
    """websockets' frame parser with data messages over `limit` bytes dropped, not fatal.

    Sits between `ServerProtocol` (which parses the opening handshake, then calls this) and
    `Protocol` in the method order. A message is dropped from the frame that takes it over the
    limit to its last frame; the fragments before were already handed on (uvicorn forgets them
    on `Dropped`). Control frames and messages within the limit are parsed by websockets."""

    limit: int
    dropping: bool

    def parse(self) -> Generator[None]:
        try:
            while True:
                if (yield from self.reader.at_eof()):
                    raise EOFError("unexpected end of stream")
                # The header is looked at, not read: websockets reads the frames kept.
                buffer = self.reader.buffer
                if len(buffer) < 2:
                    yield from self._peek(2)
                size, length = 2, buffer[1] & 0x7F
                if length >= 126:
                    size = 4 if length == 126 else 10
                    if len(buffer) < size:
                        yield from self._peek(size)
                    length = int.from_bytes(buffer[2:size], "big")
                room = self.limit - (self.current_size or 0)
                if (self.dropping or length > room) and (
                    yield from self._dropped(bytes(buffer[:size]), size)
                ):
                    continue
                control = buffer[0] & 0x08  # control frames are short (Frame.parse checks)
                frame = yield from Frame.parse(
                    self.reader.read_exact,
                    mask=True,
                    max_size=None if control else room,
                    extensions=self.extensions,
                )
                self.recv_frame(frame)
        except ProtocolError as exc:
            self.fail(CloseCode.PROTOCOL_ERROR, str(exc))
            self.parser_exc = exc
        except EOFError as exc:
            self.fail(CloseCode.ABNORMAL_CLOSURE, str(exc))
            self.parser_exc = exc
        except UnicodeDecodeError as exc:
            self.fail(CloseCode.INVALID_DATA, f"{exc.reason} at position {exc.start}")
            self.parser_exc = exc
        except PayloadTooBig as exc:  # a compressed frame inflating past the limit
            exc.set_current_size(self.current_size)
            self.fail(CloseCode.MESSAGE_TOO_BIG, str(exc))
            self.parser_exc = exc
        except Exception as exc:
            self.logger.error("parser failed", exc_info=True)
            self.fail(CloseCode.INTERNAL_ERROR)
            self.parser_exc = exc
        yield  # fail() replaced this parser by discard()
        raise AssertionError("parse() shouldn't step after error")

    def _peek(self, n: int) -> Generator[None, None, bytes]:
        """The next `n` bytes of the stream, left in it."""
        reader = self.reader
        while len(reader.buffer) < n:
            if reader.eof:
                raise EOFError(f"stream ends after {len(reader.buffer)} bytes, expected {n} bytes")
            yield
        return bytes(reader.buffer[:n])

    def _dropped(self, head: bytes, size: int) -> Generator[None, None, bool]:
        """Whether this frame (`head`: its header, `size` bytes) belongs to a message dropped for
        its size; then the frame is read past, and the message's first one reported as
        `Dropped`. Otherwise nothing is read."""
        fin, opcode = bool(head[0] & 0x80), head[0] & 0x0F
        length = int.from_bytes(head[2:size], "big") if size > 2 else head[1] & 0x7F
        if opcode in _DATA and self.dropping:
            raise ProtocolError("expected a continuation frame")
        starts = (opcode in _DATA and self.current_size is None and length > self.limit) or (
            opcode == Opcode.CONT.value
            and self.current_size is not None
            and self.current_size + length > self.limit
        )
        if not (starts or (opcode == Opcode.CONT.value and self.dropping)):
            return False
        if not head[1] & 0x80:
            raise ProtocolError("incorrect masking")
        if head[0] & 0x70:
            raise ProtocolError("reserved bits must be 0")
        if starts:
            self.events.append(Dropped(Opcode.TEXT, b"", size=(self.current_size or 0) + length))
            self.current_size = None  # websockets' message state: this message is no longer its
        self.dropping = not fin
        left = size + 4 + length  # the header, the masking key, then the payload
        while left:
            left -= len((yield from self.reader.read_exact(min(left, DROP_CHUNK))))
        return True


class LimitedServerProtocol(ServerProtocol, _LimitedFrames):
    """websockets' server side with `_LimitedFrames` for the frames after the handshake."""

    def __init__(self, *, limit: int, **kwargs: Any) -> None:
        self.limit = limit
        self.dropping = False
        super().__init__(max_size=limit, **kwargs)


class LimitedWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's `websockets-sansio` protocol on `LimitedServerProtocol`: a dropped message
    reaches the application as a `websocket.receive` with `DROPPED_KEY` and no content."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn = LimitedServerProtocol(
            limit=self.config.ws_max_size,
            extensions=self.conn.available_extensions,
            logger=self.conn.logger,
        )

    def handle_text(self, event: Frame) -> None:
        if not isinstance(event, Dropped):
            super().handle_text(event)
            return
        self.frames = []  # the message's fragments before the limit
        if not self.close_sent:
            dropped: Any = {"type": "websocket.receive", "bytes": None, "text": None}
            dropped[DROPPED_KEY] = event.size  # a key of Causerie's own, beside ASGI's
            self.queue.put_nowait(dropped)
