"""Statistics: aggregates only, never an id, a text or an address (P3, P18)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol


class Stats(Protocol):
    async def count_network(self, network: str, day: date, *, sessions: int, messages: int) -> None:
        """Add to the network's counts of the day (P18)."""
        ...

    async def daily_counts(self, website_id: str, since: datetime) -> list[tuple[str, str, int]]:
        """(day, what, count) since `since`: conversations started, and messages by author."""
        ...
