"""The event log: each stream's events in order of their `seq` (docs/realtime.md)."""

from __future__ import annotations

from typing import Protocol

from causerie.domain.events import NewEvent, StoredEvent


class Events(Protocol):
    async def append(self, new: list[NewEvent]) -> list[int]:
        """Append the events in order; each gets its stream's next seq (returned in order)."""
        ...

    async def list_after(self, stream: str, after: int, limit: int) -> list[StoredEvent]: ...
    async def last_seq(self, stream: str) -> int: ...
