"""Rate limits on what HTTP clients send, counted through the `Counters` port: per process, or
across nodes when Redis holds the counters (docs/security.md, "Rate limits").

A socket has its own token bucket per connection (`realtime/limits.py`); these limits hold the
HTTP routes that do the same work to the same pace, so that they are no way around it.
"""

from __future__ import annotations

import hashlib
import math
from datetime import timedelta

from causerie.domain.errors import RateLimited
from causerie.domain.windows import window_end
from causerie.runtime import Runtime

SEND_WINDOW = timedelta(seconds=1)


def _key(kind: str, who: str) -> str:
    """A counter's name that holds no credential and no address: a hash of `who`."""
    return f"{kind}:{hashlib.sha256(who.encode()).hexdigest()[:32]}"


async def check_send_rate(rt: Runtime, who: str) -> None:
    """Messages sent over HTTP by one sender (a visitor's session token, an operator): at most as
    many as a socket takes, `CAUSERIE_FRAME_RATE` per second with bursts of twice that."""
    now = rt.clock.now()
    limit = max(1, math.floor(2 * rt.settings.frame_rate))
    if await rt.counters.hit(_key("send", who), now, SEND_WINDOW) > limit:
        wait = math.ceil(window_end(now, SEND_WINDOW))
        raise RateLimited(f"too many messages; send this one again in {wait} seconds", wait)
