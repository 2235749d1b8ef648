"""The Redis client both `RedisBroker` and `RedisPresence` use: quick to fail, never retrying.

redis-py retries a failed command up to ten times with a backoff by default; here a command fails
at once (connection refused) or within `timeout` seconds (no answer), and the caller decides what
to do. A connection that Redis closed meanwhile (a restart) is replaced when it is taken from the
pool, before anything is sent on it, so a command is never sent twice.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

KEY_PREFIX = "causerie:"
"""Every key and channel Causerie uses in Redis starts with this, so deployments can share one."""

REDIS_DOWN: tuple[type[BaseException], ...] = (RedisConnectionError, RedisTimeoutError, OSError)
"""What an unreachable Redis raises (`OSError` covers the built-in `TimeoutError` too)."""


def open_client(url: str, timeout: float) -> Redis:
    """A client for `url` (redis://, rediss://, unix://) with `timeout` seconds to connect and to
    answer. RESP2 unless the URL asks otherwise (`?protocol=3`): plain pub/sub replies."""
    return Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        protocol=2,
    )


def shown_url(url: str) -> str:
    """`url` without its password, to print."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else "***@"
    return urlunsplit(parts._replace(netloc=user + netloc))


async def why_silent(url: str, within: float) -> str | None:
    """None when Redis at `url` answers a PING within `within` seconds; else why not."""
    client = open_client(url, within)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        return str(exc) or type(exc).__name__
    finally:
        await client.aclose()
    return None
