"""The one place adapters are chosen: builds the `Runtime` from the settings, for the server
(`app.py`), every command of the CLI (`cli.py`) and the tests. See docs/architecture.md.

With `CAUSERIE_REDIS_URL` set, events go through Redis whoever publishes them, so a change made
from the shell (`causerie conversation delete`) reaches the inboxes open on every node.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from causerie.broker import open_broker
from causerie.clock import Clock
from causerie.counters import open_counters
from causerie.files import open_file_store
from causerie.presence import open_presence
from causerie.realtime.hub import Hub
from causerie.runtime import Runtime
from causerie.settings import Settings
from causerie.store.database import open_store
from causerie.store.migrate import upgrade


def build_runtime(settings: Settings, clock: Clock) -> Runtime:
    """Open every adapter the settings name; nothing connects until `start_runtime`."""
    return Runtime(
        settings=settings,
        store=open_store(settings.database_url),
        clock=clock,
        files=open_file_store(settings),
        hub=Hub(open_broker(settings.redis_url)),
        presence=open_presence(settings.redis_url),
        counters=open_counters(settings.redis_url),
    )


async def start_runtime(rt: Runtime) -> None:
    """Connect to the broker and start publishing (events queued before this wait for it)."""
    await rt.hub.start()


async def close_runtime(rt: Runtime) -> None:
    """Let published events leave, then close every adapter (each even if another fails)."""
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(rt.store.close)
        stack.push_async_callback(rt.files.close)
        stack.push_async_callback(rt.counters.close)
        stack.push_async_callback(rt.presence.close)
        stack.push_async_callback(rt.hub.close)


@asynccontextmanager
async def running(settings: Settings, clock: Clock) -> AsyncIterator[Runtime]:
    """The schema brought up to date, then a started runtime, closed on the way out."""
    await upgrade(settings.database_url)
    rt = build_runtime(settings, clock)
    try:
        await start_runtime(rt)
        yield rt
    finally:
        await close_runtime(rt)
