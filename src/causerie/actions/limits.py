"""Rate limits: token buckets per session, per client address, per network and per website,
counted through the `Counters` port: per process, or across nodes when Redis holds the counters
(docs/security.md, "Rate limits").

Each `Limit` names its setting (a rate) and how long a burst it takes (a window's worth of the
rate: `120/m` lets 120 through at once, then 2 a second; the new sessions of a network, a bound
on every minute, half of that). Over a limit the caller gets
`RateLimited` (HTTP 429 with `Retry-After`, or an `error` frame `rate_limited` with
`retry_after`), the network's aggregate counts the refusal and its bot score rises (P18) by the
limit's `sign`: most by a session writing faster than a person types.
A socket also has its own bucket per connection (`realtime/limits.py`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from causerie.actions.shield import SCORE_FLOOD, SCORE_LIMITED, note_limited
from causerie.domain.errors import RateLimited, Unavailable, try_again_in
from causerie.domain.networks import network_of
from causerie.runtime import Runtime
from causerie.settings import Settings
from causerie.tokens import derive

log = logging.getLogger("causerie.limits")


@dataclass(frozen=True)
class Limit:
    name: str  # the counters' key family
    rate: Callable[[Settings], float]  # tokens a second
    burst_seconds: float  # the bucket holds this long's worth of the rate
    what: str  # "too many <what>"
    setting: str  # the setting that changes it, named in docs/settings.md
    sign: float = SCORE_LIMITED  # how much a refusal raises the network's bot score


SEND = Limit("send", lambda s: 2 * s.frame_rate, 1, "messages", "CAUSERIE_FRAME_RATE")
# "No network creates more than 120 chatbox sessions a minute" (SPEC.md) is a bound on every
# minute: a bucket holding a burst B refilled at r a second lets B + 60r through in one, so it
# holds half the setting and refills at half its rate (120/m: 60 at once, then one a second).
SESSIONS_BY_NETWORK = Limit(
    "sessions",
    lambda s: s.new_session_rate / 2,
    60,
    "new chat sessions from this network",
    "CAUSERIE_NEW_SESSION_RATE",
)
SESSIONS_BY_ADDRESS = Limit(
    "sessions:address",
    lambda s: s.address_session_rate,
    60,
    "new chat sessions from this address",
    "CAUSERIE_ADDRESS_SESSION_RATE",
)
SESSIONS_BY_WEBSITE = Limit(
    "sessions:website",
    lambda s: s.website_session_rate,
    60,
    "new chat sessions on this website",
    "CAUSERIE_WEBSITE_SESSION_RATE",
)
# A person writes a few messages in a row, not a screenful: bursts of 20 seconds' worth. Past
# that, the session writes faster than anyone types: a strong sign of a bot (SCORE_FLOOD).
MESSAGES_BY_SESSION = Limit(
    "messages:session",
    lambda s: s.message_rate,
    20,
    "messages",
    "CAUSERIE_MESSAGE_RATE",
    SCORE_FLOOD,
)
MESSAGES_BY_NETWORK = Limit(
    "messages:network",
    lambda s: s.network_message_rate,
    60,
    "messages from this network",
    "CAUSERIE_NETWORK_MESSAGE_RATE",
)
PROFILES_BY_SESSION = Limit(
    "profiles:session", lambda s: s.profile_rate, 60, "profile updates", "CAUSERIE_PROFILE_RATE"
)
UPLOADS_BY_SESSION = Limit(
    "uploads:session", lambda s: s.upload_rate, 60, "uploads", "CAUSERIE_UPLOAD_RATE"
)
UPLOADS_BY_NETWORK = Limit(
    "uploads:network",
    lambda s: s.network_upload_rate,
    60,
    "uploads from this network",
    "CAUSERIE_NETWORK_UPLOAD_RATE",
)
LOGINS_BY_ADDRESS = Limit(
    "logins:address", lambda s: s.login_rate, 60, "login attempts", "CAUSERIE_LOGIN_RATE"
)


def _key(rt: Runtime, kind: str, who: str) -> str:
    """A counter's name that holds no credential and no address: a keyed hash of `who`."""
    return _hashed(rt.settings.secret_key, kind, who)


@lru_cache(maxsize=8192)  # a visitor's every message takes two: hashed once per sender
def _hashed(secret_key: str, kind: str, who: str) -> str:
    return f"{kind}:{derive(secret_key, 'limit:' + kind, who)[:32]}"


def _bucket(rt: Runtime, limit: Limit, who: str) -> tuple[str, float, float]:
    rate = limit.rate(rt.settings)
    return _key(rt, limit.name, who), rate, max(1.0, math.floor(rate * limit.burst_seconds))


async def take(rt: Runtime, limit: Limit, who: str, ip: str | None = None) -> None:
    """One token of `limit` for `who` (a session id, an address, a network, a website id);
    `RateLimited` when there is none. `ip`: the client's, whose network is told of a refusal.
    While the counters cannot be reached (Redis is restarting), nothing is refused: the chatbox
    goes on working, unlimited for that while."""
    await take_each(rt, ((limit, who),), ip)


async def take_each(rt: Runtime, limits: Sequence[tuple[Limit, str]], ip: str | None) -> None:
    """`take` for each (limit, who) in turn, in one call to the counters (one round trip with
    Redis): the first one without a token refuses, and those after it are not counted."""
    buckets = [_bucket(rt, limit, who) for limit, who in limits]
    try:
        index, wait = await rt.counters.take_each(buckets, rt.clock.now())
    except Unavailable as exc:
        log.warning("rate limits not counted while the counters are unreachable: %s", exc)
        return
    if index >= 0:
        limit = limits[index][0]
        seconds = max(1, math.ceil(wait))
        if ip is not None:
            await note_limited(rt, ip, limit.sign)
        raise RateLimited(f"too many {limit.what}; {try_again_in(seconds)}", seconds)


async def check_send_rate(rt: Runtime, who: str) -> None:
    """Messages sent over HTTP by one sender (a visitor's session token, an operator): at most as
    many as a socket takes, `CAUSERIE_FRAME_RATE` per second with bursts of twice that."""
    await take(rt, SEND, who)


async def check_new_session_rate(rt: Runtime, ip: str, website_id: str | None = None) -> None:
    """New chatbox sessions: per address, per network (`CAUSERIE_NEW_SESSION_RATE`) and per
    website. A flood of page loads without a cookie stops here, a busy office's visitors do not."""
    limits = [(SESSIONS_BY_ADDRESS, ip), (SESSIONS_BY_NETWORK, network_of(ip))]
    if website_id is not None:
        limits.append((SESSIONS_BY_WEBSITE, website_id))
    await take_each(rt, limits, ip)


async def check_visitor_message_rate(rt: Runtime, session_id: str, ip: str | None) -> None:
    """A visitor's message, over HTTP or a socket: per session and per network."""
    limits = [(MESSAGES_BY_SESSION, session_id)]
    if ip:
        limits.append((MESSAGES_BY_NETWORK, network_of(ip)))
    await take_each(rt, limits, ip)


async def check_profile_rate(rt: Runtime, session_id: str, ip: str | None) -> None:
    await take(rt, PROFILES_BY_SESSION, session_id, ip)


async def check_upload_rate(rt: Runtime, session_id: str, ip: str | None) -> None:
    """A visitor's upload (the files feature calls it before storing one): per session and per
    network. The upload is counted in the network's aggregates by `shield.count_upload`."""
    limits = [(UPLOADS_BY_SESSION, session_id)]
    if ip:
        limits.append((UPLOADS_BY_NETWORK, network_of(ip)))
    await take_each(rt, limits, ip)


async def check_login_rate(rt: Runtime, ip: str) -> None:
    """Agent login attempts from one address, right or wrong (the failures have their own,
    stricter limits per email and per network in `accounts.py`)."""
    await take(rt, LOGINS_BY_ADDRESS, ip)
