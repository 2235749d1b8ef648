"""The JSON answers' encoder (web/responses.py, orjson) writes the bytes Starlette's did."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.responses import JSONResponse as StarletteJSONResponse

from causerie.web.responses import JSONResponse


@pytest.mark.parametrize(
    "content",
    [
        {"error": {"code": "not_found", "message": "no website 'x'"}},
        {"text": 'é ü 日本 😀 " \\ \n \t \u2028', "none": None, "yes": True, "no": False},
        {"n": [0, -1, 2**53, 1.5, 0.1, 123456789.125, 1e16], "empty": {}, "list": []},
        {1: "integer keys become strings", "nested": {"a": [{"b": [None]}]}},
        [1, "two", {"three": 3}],
        "plain",
        None,
    ],
)
def test_the_same_bytes_as_starlette(content: Any) -> None:
    assert JSONResponse(content).body == StarletteJSONResponse(content).body


def test_floats_in_exponent_form_may_be_written_otherwise_but_read_back_alike() -> None:
    content = {"small": [1e-7, 1e-5, 2.5e-300], "large": [1e22, 1.7976931348623157e308]}
    ours, theirs = JSONResponse(content).body, StarletteJSONResponse(content).body
    assert ours != theirs  # 1e-7 against 1e-07: the same number
    assert json.loads(ours) == json.loads(theirs) == content


@pytest.mark.parametrize("status", [100, 200, 201, 204, 304, 400, 429])
@pytest.mark.parametrize("headers", [None, {"Retry-After": "3"}, {"Content-Length": "2"}])
def test_the_same_headers_as_starlette(status: int, headers: dict[str, str] | None) -> None:
    content = {"a": "é"}
    ours = JSONResponse(content, status_code=status, headers=headers)
    theirs = StarletteJSONResponse(content, status_code=status, headers=headers)
    assert ours.raw_headers == theirs.raw_headers
    media = JSONResponse(content, status_code=status, media_type="application/problem+json")
    assert (
        media.raw_headers
        == StarletteJSONResponse(
            content, status_code=status, media_type="application/problem+json"
        ).raw_headers
    )
