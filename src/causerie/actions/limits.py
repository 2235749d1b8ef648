"""Rate limits on what HTTP clients send, counted through the `Counters` port: per process, or
across nodes when Redis holds the counters (docs/security.md, "Rate limits").

A socket has its own token bucket per connection (`realtime/limits.py`); these limits hold the
HTTP routes that do the same work to the same pace, so that they are no way around it.
"""

from __future__ import annotations

import logging
import math
from datetime import timedelta

from causerie.domain.errors import RateLimited, Unavailable
from causerie.domain.networks import network_of
from causerie.domain.windows import window_end
from causerie.runtime import Runtime
from causerie.tokens import derive

log = logging.getLogger("causerie.limits")

SEND_WINDOW = timedelta(seconds=1)
NEW_SESSION_WINDOW = timedelta(minutes=1)


def _key(rt: Runtime, kind: str, who: str) -> str:
    """A counter's name that holds no credential and no address: a keyed hash of `who`."""
    return f"{kind}:{derive(rt.settings.secret_key, 'limit:' + kind, who)[:32]}"


async def _hit(rt: Runtime, key: str, limit: int, window: timedelta, what: str) -> None:
    """Count one more; refuse past `limit`. While the counters cannot be reached (Redis is
    restarting), nothing is refused: the chatbox goes on working, unlimited for that while."""
    now = rt.clock.now()
    try:
        count = await rt.counters.hit(key, now, window)
    except Unavailable as exc:
        log.warning("rate limits not counted while the counters are unreachable: %s", exc)
        return
    if count > limit:
        wait = math.ceil(window_end(now, window))
        raise RateLimited(f"too many {what}; try again in {wait} seconds", wait)


async def check_send_rate(rt: Runtime, who: str) -> None:
    """Messages sent over HTTP by one sender (a visitor's session token, an operator): at most as
    many as a socket takes, `CAUSERIE_FRAME_RATE` per second with bursts of twice that."""
    limit = max(1, math.floor(2 * rt.settings.frame_rate))
    await _hit(rt, _key(rt, "send", who), limit, SEND_WINDOW, "messages")


async def check_new_session_rate(rt: Runtime, ip: str) -> None:
    """New chatbox sessions from the network of `ip`: `CAUSERIE_NEW_SESSION_RATE` a minute. A
    flood of page loads without a cookie stops here, a busy office's visitors do not."""
    limit = max(1, math.floor(rt.settings.new_session_rate * 60))
    key = _key(rt, "sessions", network_of(ip))
    await _hit(rt, key, limit, NEW_SESSION_WINDOW, "new chat sessions from this network")
