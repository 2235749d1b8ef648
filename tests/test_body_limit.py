"""Body limits are the route's: a tiny app on a real socket with a JSON route (the default,
CAUSERIE_MAX_BODY) and upload routes that declare a file (CAUSERIE_MAX_FILE plus the multipart
framing). The real upload routes come with the files feature; this proves the mechanism."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from causerie.settings import Settings, load_settings
from causerie.web import errors
from causerie.web.limits import MULTIPART_FRAMING, BodyLimit, body_limits, takes_body

KiB = 1024
MAX_BODY = 64 * KiB
MAX_FILE = 256 * KiB
FILE_LIMIT = MAX_FILE + MULTIPART_FRAMING


class Seen:
    """What the routes read of each body: proof that a refused body was not read whole."""

    def __init__(self) -> None:
        self.bytes: dict[str, int] = {}


def tiny_app(settings: Settings, seen: Seen) -> FastAPI:
    app = FastAPI()
    errors.install(app)

    async def count(request: Request, name: str) -> int:
        seen.bytes[name] = 0
        async for chunk in request.stream():
            seen.bytes[name] += len(chunk)
        return seen.bytes[name]

    @app.post("/json")
    async def json_route(request: Request) -> JSONResponse:
        return JSONResponse({"size": await count(request, "json")})

    @app.post("/upload", openapi_extra=takes_body("file"))
    async def upload(request: Request) -> JSONResponse:
        return JSONResponse({"size": await count(request, "upload")})

    @app.post("/upload-swallowing", openapi_extra=takes_body("file"))
    async def swallowing(request: Request) -> JSONResponse:
        # As FastAPI does around the form it parses for an `UploadFile` parameter.
        try:
            size = await count(request, "upload-swallowing")
        except Exception:
            return JSONResponse({"error": {"code": "bad_request", "message": "?"}}, 400)
        return JSONResponse({"size": size})

    app.add_middleware(BodyLimit, limits=body_limits(settings))
    return app


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = threading.Event()
    while not server.started and thread.is_alive():
        started.wait(0.01)
    assert server.started, "the test server did not start"
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def url(tmp_path: Path, seen: Seen) -> Iterator[str]:
    settings = load_settings(
        environ={}, data_dir=str(tmp_path), max_body=f"{MAX_BODY}", max_file="256KiB"
    )
    with serving(tiny_app(settings, seen)) as base:
        yield base


def error_of(response: httpx.Response) -> str:
    assert response.status_code == 413, response.text
    body = response.json()
    assert body["error"]["code"] == "body_too_large"
    message: str = body["error"]["message"]
    return message


def chunks(total: int, size: int = 16 * KiB) -> Iterator[bytes]:
    for start in range(0, total, size):
        yield b"x" * min(size, total - start)


def test_a_route_that_declares_nothing_keeps_the_json_limit(url: str, seen: Seen) -> None:
    assert httpx.post(f"{url}/json", content=b"x" * MAX_BODY).json() == {"size": MAX_BODY}
    message = error_of(httpx.post(f"{url}/json", content=b"x" * (MAX_BODY + 1)))
    assert message == (
        f"the body is larger than {MAX_BODY} bytes, the limit of this route (CAUSERIE_MAX_BODY)"
    )
    assert seen.bytes == {"json": 0}  # the refused body: not a byte of it read


def test_an_upload_route_takes_more_up_to_its_own_limit(url: str, seen: Seen) -> None:
    answer = httpx.post(f"{url}/upload", content=b"x" * FILE_LIMIT)
    assert answer.json() == {"size": FILE_LIMIT}
    message = error_of(httpx.post(f"{url}/upload", content=b"x" * (FILE_LIMIT + 1)))
    assert f"larger than {FILE_LIMIT} bytes" in message
    assert "(CAUSERIE_MAX_FILE)" in message
    assert seen.bytes == {"upload": 0}  # the second body: refused before its first byte


@pytest.mark.parametrize(
    ("path", "limit"), [("/json", MAX_BODY), ("/upload", FILE_LIMIT)], ids=["json", "upload"]
)
def test_a_chunked_body_is_refused_once_it_passes_the_limit(
    url: str, seen: Seen, path: str, limit: int
) -> None:
    error_of(httpx.post(f"{url}{path}", content=chunks(limit + 40 * KiB)))
    assert seen.bytes[path.lstrip("/")] <= limit  # counted as it came, never past the limit
    answer = httpx.post(f"{url}{path}", content=chunks(limit))
    assert answer.json() == {"size": limit}


def test_a_declared_length_is_refused_before_the_body_is_sent(url: str, seen: Seen) -> None:
    """Headers only, announcing 10 MiB: the answer comes without waiting for a byte of it."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(
            b"POST /upload HTTP/1.1\r\nHost: test\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Length: 10485760\r\n\r\n"
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += conn.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert seen.bytes == {"upload": 0}


def test_an_app_that_answers_the_refusal_itself_still_gives_413(url: str) -> None:
    error_of(httpx.post(f"{url}/upload-swallowing", content=b"x" * (FILE_LIMIT + 1)))
    error_of(httpx.post(f"{url}/upload-swallowing", content=chunks(FILE_LIMIT + 40 * KiB)))


def test_the_declaration_is_published_in_openapi(url: str) -> None:
    paths = httpx.get(f"{url}/openapi.json").json()["paths"]
    assert paths["/upload"]["post"]["x-causerie-body"] == "file"
    assert "x-causerie-body" not in paths["/json"]["post"]


def test_an_upload_limit_below_the_json_limit_is_raised_to_it(tmp_path: Path) -> None:
    settings = load_settings(environ={}, data_dir=str(tmp_path), max_body="1MiB", max_file="64KiB")
    limits = BodyLimit(FastAPI(), body_limits(settings)).limits
    assert limits["file"].size == limits["json"].size == 1024 * KiB
