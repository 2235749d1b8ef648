"""Brokers: how events reach the sockets of every node (docs/realtime.md).

`memory` serves one process; `redis` connects several processes through Redis pub/sub. Both pass
the same contract tests (tests/test_broker_contract.py).
"""

from __future__ import annotations

from causerie.domain.errors import Unavailable
from causerie.domain.ports import Broker


class BrokerUnavailable(Unavailable):
    """Redis could not be reached (refused, timed out, connection lost) within a short timeout.

    Raised promptly, never after a long hang. The event log stays the source of truth: the caller
    logs it and relies on the catch-up that follows the broker's reconnection.
    """


def open_broker(redis_url: str | None) -> Broker:
    if redis_url is None:
        from causerie.broker.memory import MemoryBroker

        return MemoryBroker()
    from causerie.broker.redis import RedisBroker

    return RedisBroker(redis_url)
