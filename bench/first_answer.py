"""A server's start in process, to its first answer: `python -m bench.first_answer KIND`.

What `python -m bench.serve KIND` does before uvicorn listens (the same imports, the app built
with the collector paused), then the app's lifespan started and one `GET /api/health` called on
the ASGI app, on uvloop; it prints the CPU time used (user and system) and VmRSS then, and
stops. Without sockets and uvicorn's own start, it can be run under callgrind, whose count of
instructions a loaded machine does not disturb (docs/performance.md, "Lighter at rest, a
third time"):

    valgrind --tool=callgrind --callgrind-out-file=/dev/null python -m bench.first_answer causerie

KIND is `bare`, `stack` or `causerie` (bench/serve.py); the latter two read CAUSERIE_* variables
as the servers do (a data folder made by `causerie website add`, as bench/startup.py makes one).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
from typing import Any

import uvloop
from starlette.types import ASGIApp, Message

from bench.serve import bare_app, causerie_app, stack_app
from causerie.server import collector_paused

APPS = {"bare": bare_app, "stack": stack_app, "causerie": lambda: causerie_app(False)}


async def first_answer(app: ASGIApp) -> int:
    """Start `app`'s lifespan, answer one GET /api/health, stop; the answer's status."""
    startup: asyncio.Queue[Message] = asyncio.Queue()
    started: asyncio.Queue[Message] = asyncio.Queue()
    for message in ({"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}):
        startup.put_nowait(message)
    scope: dict[str, Any] = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    lifespan = asyncio.create_task(app(scope, startup.get, started.put))
    ready = await started.get()
    if ready["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"the app did not start: {ready}")
    answers: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        answers.append(message)

    request: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/api/health",
        "raw_path": b"/api/health",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": dict(scope["state"]),
    }
    await app(request, receive, send)
    await lifespan  # the shutdown message is already queued
    return int(answers[0]["status"])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.first_answer")
    parser.add_argument("kind", choices=sorted(APPS))
    args = parser.parse_args()
    with collector_paused():  # as bench/serve.py builds its app
        app = APPS[args.kind]()
    status = uvloop.run(first_answer(app))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with open(f"/proc/{os.getpid()}/status") as process:
        rss = next(line.split()[1] for line in process if line.startswith("VmRSS:"))
    print(
        f"{args.kind}: status {status}, CPU {usage.ru_utime + usage.ru_stime:.3f} s, "
        f"VmRSS {int(rss) / 1024:.1f} MiB"
    )


if __name__ == "__main__":
    main()
