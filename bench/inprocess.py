"""CPU per chatbox renewal in process: `python -m bench.inprocess`.

The ASGI apps are called directly, without uvicorn or sockets, on uvloop, and each case is timed
with `time.process_time` (the CPU this process used, so other processes on a shared machine
disturb it far less than a rate). Cases alternate (bare, renewal, bare, renewal...) and the best
and median of the rounds are printed, in microseconds per request, with the ratio bare ÷ renewal
(the bench's renewal target reads it as a rate: renewals/s ÷ bare req/s). A third case,
`framework`, is FastAPI's floor: an ordinary FastAPI route with a body model at the same path
(bench/serve.py, `framework_app`), what any FastAPI route costs before Causerie does anything;
a fourth, `stack`, is Causerie's app with an empty lean route that reads the body as the chatbox
load does and gives the bare endpoint's answer: the renewal less its action.
Requests are called one at a time: a cost that only comes with many requests under way at once
(a queue for a lock, docs/performance.md "renewal4") does not show here; the uvicorn bench
(`python -m bench --only chatbox`, 32 connections) has it.
A Causerie data folder is made with the CLI, as `python -m bench` does; run it pinned
(`taskset -c 0`) for steadier figures, and on an export of another commit with
`PYTHONPATH=/tmp/x/src` to compare trees.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message

from bench.databases import Databases
from bench.serve import BARE_ANSWER
from bench.servers import ORIGIN, PAGE, USER_AGENT, install_causerie, session_path
from causerie.web.body import parse_body
from causerie.web.lean_route import LeanRoute
from causerie.web.responses import JSONResponse
from causerie.web.schemas import SessionIn

Call = Callable[[], Coroutine[Any, Any, list[Message]]]


def _scope(path: str, body: bytes, content_type: bytes) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"user-agent", USER_AGENT.encode()),
            (b"origin", ORIGIN.encode()),
            (b"content-type", content_type),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


def _caller(app: ASGIApp, path: str, body: bytes, content_type: bytes = b"text/plain") -> Call:
    """One request through `app` (a fresh scope each time, as a server makes): its messages."""

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def call() -> list[Message]:
        sent: list[Message] = []

        async def send(message: Message) -> None:
            sent.append(message)

        await app(_scope(path, body, content_type), receive, send)
        return sent

    return call


async def _lifespan(app: ASGIApp) -> Callable[[], Coroutine[Any, Any, None]]:
    """Start `app`'s lifespan; the coroutine that ends it."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()
    task = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, outbox.put)
    )
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"the app did not start: {started}")

    async def stop() -> None:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task

    return stop


async def _time(call: Call, count: int) -> float:
    """Microseconds of this process's CPU per request."""
    start = time.process_time()
    for _ in range(count):
        await call()
    return (time.process_time() - start) / count * 1e6


STACK_PATH = "/bench/stack"


async def _stack(request: Request) -> JSONResponse:
    await parse_body(request, SessionIn)
    return JSONResponse(BARE_ANSWER)


def _add_stack_route(app: Any) -> None:
    """An empty lean route on Causerie's app, first in its routes as the chatbox load is."""
    route = LeanRoute(STACK_PATH, _stack, methods=["POST"])
    assert route.lean
    app.router.routes.insert(0, route)


async def measure(website_id: str, rounds: int, count: int) -> dict[str, list[float]]:
    from bench.serve import bare_app, framework_app
    from causerie.app import create_app
    from causerie.settings import load_settings

    app = create_app(load_settings())
    _add_stack_route(app)
    stop = await _lifespan(app)
    try:
        path = session_path(website_id)
        first = await _answer(app, path, {"page": PAGE})
        body = json.dumps({"token": first["token"], "page": PAGE}).encode()
        cases = {
            "bare": _caller(bare_app(), path, body),
            # FastAPI's own floor: an ordinary route with a body model (which reads JSON only
            # when the request says it is JSON; the chatbox sends text/plain, Causerie reads it).
            "framework": _caller(framework_app(), path, body, b"application/json"),
            # Causerie's own stack with an empty endpoint: its middlewares, a lean route, the
            # body read into `SessionIn`, the bare endpoint's answer; no action, no database.
            "stack": _caller(app, STACK_PATH, body),
            "renewal": _caller(app, path, body),
        }
        for name, call in cases.items():
            status = (await call())[0]["status"]
            if status != 200:
                raise RuntimeError(f"{name} answered {status}")
            await _time(call, count)  # warm-up
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(rounds):
            for name, call in cases.items():
                times[name].append(await _time(call, count))
        return times
    finally:
        await stop()


async def _answer(app: ASGIApp, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    sent = await _caller(app, path, json.dumps(payload).encode())()
    answer: dict[str, Any] = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    return answer


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--count", type=int, default=2000, help="requests per round and case")
    parser.add_argument("--database", default=None, help="a PostgreSQL URL (default SQLite)")
    args = parser.parse_args()
    import uvloop

    with tempfile.TemporaryDirectory(prefix="causerie-inprocess-") as work:
        databases = Databases(args.database)
        try:
            site = install_causerie(Path(work), "causerie", databases)
            os.environ.update(site.env())
            times = uvloop.run(measure(site.website_id, args.rounds, args.count))
        finally:
            databases.drop_all()
    bare, framework, stack, renewal = (times[n] for n in ("bare", "framework", "stack", "renewal"))
    print(f"causerie measured: {Path(sys.modules['causerie'].__file__ or '').parent}")
    for name, values in times.items():
        shown = ", ".join(f"{v:.1f}" for v in values)
        best, median = min(values), statistics.median(values)
        print(f"{name:8} best {best:6.1f} µs  median {median:6.1f} µs  [{shown}]")
    for name, values in (("renewal", renewal), ("framework", framework), ("stack", stack)):
        print(
            f"ratio (bare ÷ {name}): best {min(bare) / min(values):.1%}, "
            f"median {statistics.median(bare) / statistics.median(values):.1%}"
        )
    median = statistics.median
    print(
        f"of a renewal's {median(renewal):.1f} µs (medians): Causerie's stack with an empty "
        f"endpoint {median(stack):.1f}, the action and its answer "
        f"{median(renewal) - median(stack):.1f}; FastAPI's floor {median(framework):.1f}"
    )


if __name__ == "__main__":
    main()
