"""Libraries an adapter imports at its first use, imported off the event loop.

An adapter whose library weighs a few hundred milliseconds of imports (aiohttp and pywebpush for
a push, httpx for a webhook) loads it here before its first call: in a worker thread, so that
the event loop keeps serving meanwhile (the two take turns on the interpreter's lock, a few
milliseconds at a time) instead of stopping for the whole import. See docs/architecture.md,
"Routes".
"""

from __future__ import annotations

import asyncio
import importlib
import sys


def _import_all(modules: tuple[str, ...]) -> None:
    for module in modules:
        importlib.import_module(module)


async def import_off_loop(*modules: str) -> None:
    """Import `modules` in a worker thread unless they are imported already."""
    missing = tuple(module for module in modules if module not in sys.modules)
    if missing:
        await asyncio.to_thread(_import_all, missing)
