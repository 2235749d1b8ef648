"""`read_body` (web/body.py) reads a body from the request's messages itself, in place of
Starlette's `request.body()`: the same bytes whatever the framing, the body kept as Starlette
keeps it, a disconnect and the body limit met as they are through Starlette's reader. On a real
socket (uvicorn), the body limit's layer in front, as in the app."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.requests import ClientDisconnect
from starlette.types import Message

from causerie.settings import load_settings
from causerie.web import errors
from causerie.web.body import parse_body, read_body
from causerie.web.limits import BodyLimit, body_limits
from tests.test_body_limit import MAX_BODY, KiB, chunks, error_of, serving


class Echo(BaseModel):
    text: str


def reading_app() -> FastAPI:
    app = FastAPI()
    errors.install(app)

    @app.post("/read")
    async def read(request: Request) -> JSONResponse:
        body = await read_body(request)
        # Read again, by Starlette's readers: the kept body, not the channel again.
        assert await request.body() == body
        assert b"".join([chunk async for chunk in request.stream()]) == body
        return JSONResponse({"size": len(body), "head": body[:16].decode()})

    @app.post("/parsed")
    async def parsed(request: Request) -> JSONResponse:
        return JSONResponse({"text": (await parse_body(request, Echo)).text})

    return app


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    settings = load_settings(
        environ={}, data_dir=str(tmp_path), max_body=f"{MAX_BODY}", max_file="256KiB"
    )
    app = reading_app()
    app.add_middleware(BodyLimit, limits=body_limits(settings))
    with serving(app) as base:
        yield base


def test_a_body_read_whole_or_in_chunks_is_the_same_bytes(url: str) -> None:
    whole = httpx.post(f"{url}/read", content=b"0123456789abcdef" * 1000)
    assert whole.json() == {"size": 16_000, "head": "0123456789abcdef"}
    # An iterator makes httpx send it chunked: several messages, `more_body` until the last.
    chunked = httpx.post(f"{url}/read", content=chunks(MAX_BODY, size=4 * KiB))
    assert chunked.json() == {"size": MAX_BODY, "head": "x" * 16}
    empty = httpx.post(f"{url}/read", content=b"")
    assert empty.json() == {"size": 0, "head": ""}


def test_a_parsed_body_in_chunks_is_read_whole(url: str) -> None:
    parts = iter([b'{"te', b'xt": "h', "é".encode(), b'"}'])
    assert httpx.post(f"{url}/parsed", content=parts).json() == {"text": "hé"}


def test_a_chunked_body_past_the_limit_is_refused_while_read(url: str) -> None:
    error_of(httpx.post(f"{url}/read", content=chunks(MAX_BODY + 40 * KiB)))
    error_of(httpx.post(f"{url}/read", content=b"x" * (MAX_BODY + 1)))


def _request(messages: list[Message]) -> Request:
    async def receive() -> Message:
        return messages.pop(0)

    return Request({"type": "http", "method": "POST", "headers": []}, receive)


def test_a_client_gone_before_its_body_ends_is_a_disconnect_as_in_starlette() -> None:
    async def run() -> None:
        for reader in (read_body, Request.body):
            request = _request(
                [
                    {"type": "http.request", "body": b"ab", "more_body": True},
                    {"type": "http.disconnect"},
                ]
            )
            with pytest.raises(ClientDisconnect):
                await reader(request)
            assert await request.is_disconnected()

    asyncio.run(run())


def test_a_body_starlette_read_first_is_given_back_without_reading_again() -> None:
    async def run() -> None:
        request = _request([{"type": "http.request", "body": b"once", "more_body": False}])
        assert await request.body() == b"once"
        assert await read_body(request) == b"once"  # the channel is empty: a read would fail

    asyncio.run(run())
