"""`web/client.py` `agent_and_origin`: the chatbox load's user agent and origin, read in one pass,
are what Starlette's `request.headers.get` gives."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request

from causerie.web.client import agent_and_origin

NAMES = [b"user-agent", b"origin", b"host", b"content-type", b"User-Agent", b"ORIGIN", b"x-origin"]


def _scope(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "method": "POST", "path": "/", "headers": headers}


def _starlette(headers: list[tuple[bytes, bytes]]) -> tuple[str | None, str | None]:
    request = Request(_scope(headers))
    return request.headers.get("user-agent"), request.headers.get("origin")


@given(st.lists(st.tuples(st.sampled_from(NAMES), st.binary(max_size=12)), max_size=8))
def test_the_headers_are_starlettes(headers: list[tuple[bytes, bytes]]) -> None:
    assert agent_and_origin(_scope(headers)) == _starlette(headers)


def test_the_first_of_each_and_none_without() -> None:
    headers = [
        (b"origin", b"https://shop.example"),
        (b"user-agent", b"Mozilla/5.0 \xe9"),
        (b"origin", b"https://other.example"),
        (b"user-agent", b"second"),
    ]
    assert agent_and_origin(_scope(headers)) == ("Mozilla/5.0 \xe9", "https://shop.example")
    assert agent_and_origin(_scope(headers)) == _starlette(headers)
    assert agent_and_origin(_scope([(b"host", b"x")])) == (None, None)
    assert agent_and_origin(_scope([])) == (None, None)
