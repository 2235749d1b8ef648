"""The event log: each stream's events in order of their `seq` (docs/realtime.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from causerie.domain.events import NewEvent, StoredEvent


class Events(Protocol):
    async def append(self, new: list[NewEvent]) -> list[int]:
        """Append the events in order; each gets its stream's next seq (returned in order)."""
        ...

    async def append_later(self, new: list[NewEvent]) -> Callable[[], list[int]]:
        """`append`, held back until just before the transaction commits, with the other events
        it holds back (one statement for their streams, one for their rows). The seqs, in order,
        from the returned function once the transaction committed (in `Tx.on_commit` callbacks).
        """
        ...

    async def list_after(self, stream: str, after: int, limit: int) -> list[StoredEvent]: ...
    async def last_seq(self, stream: str) -> int: ...
