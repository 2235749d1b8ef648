"""Reports' storage: hourly rollups (aggregates only, P3) and each conversation's facts."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from causerie.domain.report_days import OffsetDay
from causerie.domain.reports import (
    ConversationFacts,
    Dimension,
    HourRow,
    MessageSource,
    Rating,
    Summary,
)


class Reports(Protocol):
    async def add(self, website_id: str, row: HourRow) -> None:
        """Add `row`'s counts and histogram entries (negative ones take away) to its hour."""
        ...

    async def hours(
        self,
        website_id: str,
        start: datetime,
        end: datetime,
        dimensions: Collection[Dimension] | None = None,
    ) -> list[HourRow]:
        """The rollup rows of hours in [start, end), of those dimensions (default: all)."""
        ...

    async def summary(
        self,
        website_id: str,
        start: datetime,
        end: datetime,
        offsets: list[tuple[int, int]],
        *,
        full: bool = True,
        breakdown: Dimension | None = None,
    ) -> Summary:
        """A period's rollups summed per local day (by `offsets`: `Period.offsets()`), per agent
        and per local hour of the week, with their percentiles; `full=False`: the period's
        totals only (`Summary.totals`). Whole UTC days and months are read from the daily and
        monthly layers where that gives the same sums. `breakdown`
        (label or team): also per key of that dimension (`Summary.breakdown`)."""
        ...

    async def keep_days(self, website_id: str, days: list[OffsetDay]) -> None:
        """Keep local days (their offsets one of `CLASSES`), replacing those kept before: a
        later `summary` reads them while their stamps hold."""
        ...

    async def days_to_keep(
        self, website_id: str, start: datetime, end: datetime, until: datetime
    ) -> list[OffsetDay]:
        """The local days at every offset of `CLASSES` that hold an hour of [start, end) (UTC
        midnights) and are over by `until`, whose UTC days have rollup rows and that are not
        kept at their UTC days' versions now, computed from the hours."""
        ...

    async def websites_active_since(self, since: datetime) -> list[str]:
        """The websites with a rollup row on a UTC day from `since` (a UTC midnight) on."""
        ...

    async def pending_days(self, limit: int) -> dict[str, list[tuple[str, int, int]]]:
        """Website -> (table, UTC day's epoch, version) of the website's days changed since
        the local days they lie in were last kept; at most `limit` per table."""
        ...

    async def clear_pending(self, website_id: str, seen: list[tuple[str, int, int]]) -> None:
        """Mark the days `pending_days` gave as kept, those changed since left pending."""
        ...

    async def rebuild(self, website_id: str) -> None:
        """Recompute the website's rollups and its conversations' facts from the source rows
        (docs/reports.md "Rebuilding"), every earlier row gone, the local days kept too; the
        hours' chatbox loads, which have no source row, are carried over."""
        ...

    async def refresh_statistics(self) -> None:
        """After a rebuild: have the database's planner see the rollups as they are now
        (`ANALYZE` on PostgreSQL; nothing on SQLite)."""
        ...

    async def has_days_to_rank(self) -> bool:
        """Whether `rank_days` would find a day to rank: a read, so that a pass with nothing to
        rank opens no write transaction."""
        ...

    async def rank_days(self) -> int:
        """Keep the ranks (median, 90th percentile) of the days changed since the last call, so
        that reports need not rank them; how many. Reports are exact without it. With several
        nodes one ranks at a time: a call finding another one ranking returns 0 at once."""
        ...

    async def forget(self, website_id: str, dimension: Dimension, key: str) -> None:
        """Remove every row of one label or team (it was deleted: its conversations left it)."""
        ...

    async def facts(self, conversation_id: str) -> ConversationFacts | None: ...

    async def save_facts(self, facts: ConversationFacts) -> None: ...

    async def website_ids(self) -> list[str]: ...

    async def conversation_sources(
        self, conversation_id: str
    ) -> tuple[list[MessageSource], list[Rating]]:
        """One conversation's messages, (conversation id, author, operator id, type, created
        at) in `seq` order, and ratings."""
        ...
