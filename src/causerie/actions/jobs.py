"""Background work that runs once across all nodes sharing a database."""

from __future__ import annotations

from datetime import timedelta

from causerie.runtime import Runtime


async def claim_job(rt: Runtime, name: str, interval: timedelta) -> bool:
    """True when this node is to run `name` now; the next run is due `interval` later."""
    now = rt.clock.now()
    async with rt.store.transaction() as tx:
        return await tx.claim_job(name, now, now + interval)
