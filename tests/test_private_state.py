"""What Causerie reads or sets of other libraries' private state, checked by name against the
versions installed, so that an upgrade that renames it fails here, loudly and saying what,
rather than as a slower request, a hang or a 500 (docs/architecture.md, "Private state"):

- `ws_protocol.py` subclasses uvicorn's `WebSocketsSansIOProtocol` (its `conn`, `config`,
  `frames`, `queue`, `close_sent`, and `handle_text` as its handler of text messages) and
  websockets' `Protocol` (its `reader`, `current_size`, `events`, `parser_exc`, `recv_frame`,
  `fail`); tests/test_frame_limit.py tests what they do;
- `web/body.py` `read_body` keeps a body where Starlette's `Request` keeps it (`_body`,
  `_stream_consumed`, `_is_disconnected`); tests/test_body_read.py tests the reads;
- `web/text_bodies.py` builds a twin validator of a model without its scan by marking the
  model classes incomplete (`__pydantic_complete__`) while pydantic-core builds it, since
  pydantic-core reuses a complete class's own validator; tests/test_text_bodies.py tests that
  both ways answer alike;
- `web/lean_route.py` reads FastAPI's `_get_scope_effective_route_context`, and
  `web/app_stack.py` takes `ExceptionTelemetryMiddleware` (from `fastapi.telemetry._asgi`) and
  `AsyncExitStackMiddleware` out of FastAPI's stack; tests/test_app_stack.py tests the stack.
"""

from __future__ import annotations

import asyncio
import inspect

import pytest
from pydantic import ValidationError
from starlette.requests import ClientDisconnect, Request
from starlette.types import Message
from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState

from causerie.web.body import read_body
from causerie.web.schemas import SessionIn
from causerie.web.text_bodies import _twin
from causerie.ws_protocol import LimitedServerProtocol, LimitedWebSocketProtocol


async def _app(scope: object, receive: object, send: object) -> None:
    return None


def test_uvicorns_websocket_protocol_still_has_what_ws_protocol_reads() -> None:
    async def run() -> None:
        config = Config(_app, ws="websockets-sansio", ws_max_size=1024)
        config.load()
        protocol = LimitedWebSocketProtocol(config, ServerState(), {})
        state = vars(protocol)
        for name in ("conn", "config", "frames", "queue", "close_sent"):
            assert name in state, f"uvicorn's WebSocketsSansIOProtocol no longer sets {name}"
        assert isinstance(protocol.conn, LimitedServerProtocol)
        assert protocol.conn.limit == 1024
        handlers = inspect.getsource(WebSocketsSansIOProtocol)
        assert "self.handle_text(event)" in handlers, "uvicorn renamed handle_text"

    asyncio.run(run())


def test_websockets_protocol_still_has_what_the_frame_parser_reads() -> None:
    conn = LimitedServerProtocol(limit=1024)
    for name in ("reader", "current_size", "events", "parser_exc", "extensions", "logger"):
        assert hasattr(conn, name), f"websockets' Protocol no longer has {name}"
    for method in ("recv_frame", "fail"):
        assert callable(getattr(conn, method, None)), f"websockets' Protocol lost {method}()"
    for name in ("buffer", "eof", "at_eof", "read_exact"):
        assert hasattr(conn.reader, name), f"websockets' StreamReader no longer has {name}"


def _strict(messages: list[Message]) -> Request:
    """A Starlette request whose channel fails loudly when read past its messages."""

    async def receive() -> Message:
        if not messages:
            pytest.fail("the channel was read again: Starlette no longer finds the kept body")
        return messages.pop(0)

    return Request({"type": "http", "method": "POST", "headers": []}, receive)


@pytest.mark.parametrize("more", [False, True])
def test_starlette_gives_back_the_body_read_body_kept_without_reading_again(more: bool) -> None:
    async def run() -> None:
        parts = [b"ab", b"cd"] if more else [b"abcd"]
        request = _strict(
            [
                {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
                for i, part in enumerate(parts)
            ]
        )
        assert await read_body(request) == b"abcd"
        assert await request.body() == b"abcd"
        assert b"".join([chunk async for chunk in request.stream()]) == b"abcd"

    asyncio.run(run())


def test_starlette_still_reads_the_disconnect_read_body_met() -> None:
    async def run() -> None:
        request = _strict([{"type": "http.disconnect"}])
        with pytest.raises(ClientDisconnect):
            await read_body(request)
        assert await request.is_disconnected()

    asyncio.run(run())


def test_pydantic_still_builds_the_text_bodies_twin_without_the_models_scan() -> None:
    twin = _twin(SessionIn)
    assert twin is not None, "SessionIn no longer counts as a body of text alone"
    validator, _ = twin
    # The model's own validator refuses a NUL in its scan; a twin that still refused it would
    # be the model's validator reused: every chatbox load validated twice, silently slower.
    faulty = b'{"page": {"url": "https://shop.example/\\u0000"}}'
    with pytest.raises(ValidationError):
        SessionIn.model_validate_json(faulty)
    assert validator.validate_json(faulty).page.url == "https://shop.example/\x00", (
        "pydantic-core reused SessionIn's validator for its twin (web/text_bodies.py)"
    )
    assert SessionIn.__pydantic_complete__ is True


def test_fastapi_still_has_the_route_context_and_the_layers_app_stack_takes_out() -> None:
    """`web/lean_route.py` reads FastAPI's `_get_scope_effective_route_context` (None outside an
    included router) and `web/app_stack.py` takes `ExceptionTelemetryMiddleware` and
    `AsyncExitStackMiddleware` out of FastAPI's stack: both layers still there to take out."""
    from fastapi import FastAPI
    from fastapi.middleware.asyncexitstack import AsyncExitStackMiddleware
    from fastapi.routing import _get_scope_effective_route_context
    from fastapi.telemetry._asgi import ExceptionTelemetryMiddleware

    assert _get_scope_effective_route_context({"type": "http"}) is None
    layers: list[type] = []
    layer: object = FastAPI().build_middleware_stack()
    while layer is not None:
        layers.append(type(layer))
        layer = getattr(layer, "app", None)
    assert ExceptionTelemetryMiddleware in layers, layers
    assert AsyncExitStackMiddleware in layers, layers
