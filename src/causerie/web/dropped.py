"""The key of a `websocket.receive` that stands for a message over the protocol's limit, dropped
unread by causerie.ws_protocol (its value: the size announced, in bytes); web/sockets.py answers
it with `frame_too_large`. A module of its own, without the frames' models: a bare benchmark
server runs that protocol without loading pydantic (docs/performance.md, "lighter4")."""

DROPPED_KEY = "causerie.dropped_size"
