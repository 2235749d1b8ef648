"""The one place adapters are chosen: builds the `Runtime` from the settings, for the server
(`app.py`), every command of the CLI (`cli/`) and the tests. See docs/architecture.md.

With `CAUSERIE_REDIS_URL` set, events go through Redis whoever publishes them, so a change made
from the shell (`causerie conversation delete`) reaches the inboxes open on every node.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from causerie.actions.batches import Batcher
from causerie.actions.shield import flushed
from causerie.aggregates import open_aggregates
from causerie.broker import open_broker
from causerie.clock import Clock
from causerie.counters import open_counters
from causerie.domain.progress import QUIET, Progress
from causerie.files import open_file_store
from causerie.mail import open_mailer
from causerie.outbound import open_outbound
from causerie.plugins import Plugins, load_plugins
from causerie.presence import open_presence
from causerie.push import open_push_sender
from causerie.realtime.hub import Hub
from causerie.runtime import Runtime
from causerie.settings import Settings
from causerie.store.database import open_store
from causerie.store.migrate import upgrade
from causerie.store.open_errors import explain_open_error

REDIS_CHECK_TIMEOUT = 3.0  # seconds Redis has to answer a PING at start


class CannotStart(Exception):
    """A service the settings name cannot be used (the database cannot be opened, Redis does not
    answer). The message is one line: what failed and what to do."""


def _installed(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def check_extras(settings: Settings) -> None:
    """`CannotStart`, naming the extra to install, when a setting needs a driver that is not
    installed (PostgreSQL and Redis are optional: `pip install 'causerie[postgresql,redis]'`)."""
    needs = []
    if settings.database_url.startswith("postgres") and not _installed("asyncpg"):
        needs.append(("CAUSERIE_DATABASE_URL names a PostgreSQL database", "asyncpg", "postgresql"))
    if settings.redis_url is not None and not _installed("redis"):
        needs.append(("CAUSERIE_REDIS_URL is set", "redis", "redis"))
    if needs:
        what = " and ".join(reason for reason, _, _ in needs)
        modules = " and ".join(module for _, module, _ in needs)
        extras = ",".join(extra for _, _, extra in needs)
        raise CannotStart(
            f"{what}, but {modules} is not installed: pip install 'causerie[{extras}]'"
        )


def build_runtime(settings: Settings, clock: Clock, plugins: Plugins | None = None) -> Runtime:
    """Open every adapter the settings name; nothing connects until `start_runtime`. The
    plugins are those installed (entry points `causerie.plugins`) unless given."""
    check_extras(settings)
    store = open_store(settings.database_url)
    return Runtime(
        settings=settings,
        store=store,
        clock=clock,
        files=open_file_store(settings),
        hub=Hub(open_broker(settings.redis_url)),
        presence=open_presence(settings.redis_url),
        counters=open_counters(settings.redis_url),
        push=open_push_sender(settings),
        mailer=open_mailer(settings),
        outbound=open_outbound(settings),
        plugins=load_plugins() if plugins is None else plugins,
        aggregates=open_aggregates(settings.redis_url, store, settings.shield_retention, clock),
        batches=Batcher(),
    )


async def start_runtime(rt: Runtime) -> None:
    """Connect to the broker and start publishing (events queued before this wait for it)."""
    await rt.hub.start()


async def close_runtime(rt: Runtime) -> None:
    """Let published events leave, then close every adapter (each even if another fails)."""
    await flushed()  # the shield's counts under way
    await rt.batches.idle()  # the batches of messages under way commit (or fail) first
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(rt.store.close)
        stack.push_async_callback(rt.plugins.drain)
        stack.push_async_callback(rt.files.close)
        if rt.mailer is not None:
            stack.push_async_callback(rt.mailer.close)
        stack.push_async_callback(rt.outbound.close)
        stack.push_async_callback(rt.aggregates.close)
        stack.push_async_callback(rt.counters.close)
        stack.push_async_callback(rt.presence.close)
        stack.push_async_callback(rt.hub.close)


async def upgrade_schema(settings: Settings, progress: Progress = QUIET) -> bool:
    """Apply every missing migration (True when some were); `CannotStart` when the database
    cannot be reached or used at all, or its driver is not installed."""
    check_extras(settings)
    try:
        return await upgrade(settings.database_url, progress)
    except Exception as exc:
        reason = explain_open_error(exc, settings.database_url)
        if reason is None:
            raise
        raise CannotStart(reason) from None


async def check_redis(settings: Settings) -> None:
    """`CannotStart` unless the configured Redis answers. Only at start: once running, a node
    rides out Redis restarts (docs/realtime.md)."""
    if settings.redis_url is None:
        return
    from causerie.broker.redis_client import shown_url, why_silent

    reason = await why_silent(settings.redis_url, REDIS_CHECK_TIMEOUT)
    if reason is not None:
        raise CannotStart(
            f"Redis at {shown_url(settings.redis_url)} does not answer ({reason}); "
            "start it, or fix or unset CAUSERIE_REDIS_URL"
        )


@asynccontextmanager
async def running(
    settings: Settings, clock: Clock, plugins: Plugins | None = None
) -> AsyncIterator[Runtime]:
    """Redis checked, the schema brought up to date, then a started runtime, closed on the way
    out. Raises `CannotStart` when the database or Redis cannot be used."""
    check_extras(settings)
    await check_redis(settings)
    await upgrade_schema(settings)
    rt = build_runtime(settings, clock, plugins)
    try:
        await start_runtime(rt)
        yield rt
    finally:
        await close_runtime(rt)
