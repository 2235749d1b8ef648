"""Presence: which agents and visitors are connected now (docs/realtime.md).

`memory` serves one process; `redis` shares presence between nodes with expiring entries. Both pass
the same contract tests (tests/test_presence_contract.py).
"""

from __future__ import annotations

from causerie.broker import BrokerUnavailable
from causerie.domain.ports import Presence


class PresenceUnavailable(BrokerUnavailable):
    """Redis could not be reached; raised promptly. A `BrokerUnavailable`, so one `except` serves
    both. The entry being set is kept by this process and written by the next `refresh()`."""


def open_presence(redis_url: str | None) -> Presence:
    if redis_url is None:
        from causerie.presence.memory import MemoryPresence

        return MemoryPresence()
    from causerie.presence.redis import RedisPresence

    return RedisPresence(redis_url)
